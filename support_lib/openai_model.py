"""The real ``openai`` SDK behind the kit's model seam (``llm.ChatModel``).

``OpenAIModel`` sends every LLM node's request through ``AsyncOpenAI`` to whichever
backend ``llm.resolve_backend`` chose: OpenAI, any OpenAI-compatible server, or the kit's
offline teaching model. Structured output is requested as a strict ``json_schema`` and
validated here with Pydantic (so an answer that does not fit is still counted in usage
before it is retried); a server without ``json_schema`` is asked in JSON mode instead.
Free text can stream, piece by piece, to ``request.on_token``. SDK errors become the
kit's: retryable (:class:`~support_lib.llm.ModelError`) or final (``RuntimeError``).
"""

from __future__ import annotations

import functools
import json
import re
import time
from typing import TYPE_CHECKING, Any

import pydantic

from .llm import LLM_TIMEOUT_S, Backend, Completion, ModelError, ModelRequest, make_usage

if TYPE_CHECKING:
    import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of this process. Building one loads the whole CA
    bundle (tens of milliseconds of CPU), which would otherwise happen for every run."""
    import httpx

    return httpx.create_ssl_context()


class OpenAIModel:
    """The real ``openai`` SDK's ``AsyncOpenAI`` client, shared by every node of a run."""

    def __init__(
        self, backend: Backend, *, timeout: float = LLM_TIMEOUT_S, http_client: Any = None
    ):
        """``http_client``: an ``httpx.AsyncClient`` to send through (tests give one with a
        fake transport); by default one with the process's shared TLS context."""
        import openai

        self.backend = backend
        self.model_name = backend.model
        self.json_mode = False  # True once the server refused the json_schema format
        self.client = openai.AsyncOpenAI(
            base_url=backend.base_url,
            api_key=backend.api_key,
            max_retries=0,
            timeout=timeout,
            http_client=http_client
            or openai.DefaultAsyncHttpxClient(verify=tls_context(), timeout=timeout),
        )

    def __repr__(self) -> str:
        return f"OpenAIModel({self.backend!r})"

    async def complete(self, request: ModelRequest) -> Completion:
        """One chat completion; structured output when the request has an output model.

        Transient failures (429, 5xx, timeouts, a dropped connection) and output that does
        not fit the schema raise :class:`ModelError` (retryable); other API errors are final.
        """
        import openai

        started = time.perf_counter()
        if request.on_token is not None and request.output_model is None:
            return await self._stream(request, started)
        try:
            response = await self._call(request)
        except openai.LengthFinishReasonError as exc:  # paid for, but cut off
            usage = self._usage(exc.completion, started)
            raise ModelError("the reply hit the token limit before it was complete", usage) from exc
        except openai.APIError as exc:
            raise _translate(exc, self.backend) from exc
        usage = self._usage(response, started)
        explanation = (getattr(response, "model_extra", None) or {}).get("x_explanation")
        return Completion(_answer(response, request, usage), usage, explanation)

    async def _stream(self, request: ModelRequest, started: float) -> Completion:
        """Free text, streamed: each piece goes to ``request.on_token`` as it arrives; the
        last chunk carries the usage (``stream_options.include_usage``)."""
        import openai

        pieces: list[str] = []
        finish, usage, model = None, None, None
        try:
            stream = await self._create(request, None, stream=True)
            async for chunk in stream:
                usage, model = chunk.usage or usage, chunk.model or model
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    if choice.delta.content:
                        pieces.append(choice.delta.content)
                        request.on_token(choice.delta.content)  # type: ignore[misc]
        except openai.APIError as exc:
            raise _translate(exc, self.backend) from exc
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        record = make_usage(
            model or self.model_name,  # the server's name for it, as for structured calls
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            latency_ms,
        )
        text = "".join(pieces).strip()
        if finish == "length":
            raise ModelError("the reply hit the token limit before it was complete", record)
        if not text:
            raise ModelError("the model returned an empty reply", record)
        return Completion(text, record)

    def _usage(self, response: Any, started: float) -> dict[str, Any]:
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        usage = response.usage
        return make_usage(
            response.model or self.model_name,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            latency_ms,
        )

    async def _call(self, request: ModelRequest) -> Any:
        """Structured output as a strict ``json_schema``; a server that refuses it (e.g.
        llama-cpp-python's) is asked once in JSON mode with the schema in the prompt, and
        from then on only in JSON mode. The answer is validated the same way either way."""
        import openai

        if request.output_model is None:
            return await self._create(request, None)
        if not self.json_mode:
            try:
                return await self._create(request, response_format(request.output_model))
            except openai.APIStatusError as exc:
                if self.backend.kind != "compatible" or not _refuses_format(exc):
                    raise
                self.json_mode = True  # this server does not take json_schema: JSON mode
        try:
            return await self._create(request, json_mode_format(request.output_model), True)
        except openai.APIStatusError as exc:
            if not _refuses_format(exc):
                raise
            raise RuntimeError(
                f"the server at {self.backend.base_url} refused structured output (both a "
                f"json_schema response format and JSON mode: {_short(exc)}). Use a server "
                "that supports response_format json_schema, such as llama.cpp's llama-server, "
                "vLLM, Ollama or OpenAI (see README, 'Which model answers')."
            ) from exc

    async def _create(
        self,
        request: ModelRequest,
        fmt: dict | None,
        schema_in_prompt: bool = False,
        stream: bool = False,
    ) -> Any:
        limit = "max_completion_tokens" if self.backend.kind == "openai" else "max_tokens"
        messages = request.messages
        if schema_in_prompt and request.output_model is not None:
            schema = json.dumps(strict_schema(request.output_model.model_json_schema()))
            note = f"Answer with one JSON object that follows this JSON schema: {schema}"
            messages = [{"role": "system", "content": note}, *messages]
        return await self.client.chat.completions.create(
            model=self.model_name,
            messages=messages,
            temperature=request.temperature,
            **{limit: request.max_tokens},
            **({"response_format": fmt} if fmt else {}),
            **({"stream": True, "stream_options": {"include_usage": True}} if stream else {}),
        )

    async def aclose(self) -> None:
        await self.client.close()


def _answer(response: Any, request: ModelRequest, usage: dict[str, Any]) -> Any:
    """The value of a response: text, or a validated instance of the output model. When
    there is none, a ModelError that carries the usage (the call was paid for anyway)."""
    choice = response.choices[0]
    if choice.finish_reason == "length":
        raise ModelError("the reply hit the token limit before it was complete", usage)
    message = choice.message
    if getattr(message, "refusal", None):
        raise ModelError(f"the model refused: {message.refusal}", usage)
    text = (message.content or "").strip()
    if request.output_model is None:
        if not text:
            raise ModelError("the model returned an empty reply", usage)
        return text
    try:
        return request.output_model.model_validate_json(text)
    except pydantic.ValidationError as exc:
        name = request.output_model.__name__
        raise ModelError(f"the model's output is not a valid {name}: {_short(exc)}", usage) from exc


def response_format(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """Structured output for ``model``: the ``json_schema`` response format, named after
    the class, in OpenAI's strict form (what the SDK's ``parse()`` sends). The kit calls
    ``create()`` and validates the answer itself, so that an answer that does not fit
    is still counted in the usage before it is retried."""
    schema = strict_schema(model.model_json_schema())
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": schema, "strict": True},
    }


def json_mode_format(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """JSON mode, for servers without ``json_schema``: ``json_object``, plus the schema in
    the field llama-cpp-python reads (others ignore it; the prompt carries it too)."""
    return {"type": "json_object", "schema": strict_schema(model.model_json_schema())}


def strict_schema(node: Any) -> Any:
    """A JSON schema in strict form: every object closed (``additionalProperties: false``)
    with every property required, no ``null`` defaults, and no ``$ref`` with siblings."""
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: strict_schema(value) for key, value in node.items()}
    if node.get("type") == "object":
        node.setdefault("additionalProperties", False)
        node["required"] = list(node.get("properties", {}))
    if "default" in node and node["default"] is None:
        del node["default"]
    if "$ref" in node and len(node) > 1:  # {"$ref": ..., "description": ...}
        node = {"allOf": [{"$ref": node.pop("$ref")}], **node}
    return node


def _refuses_format(exc: Any) -> bool:
    """Did the server refuse the response format (rather than fail for a passing reason)?"""
    status = getattr(exc, "status_code", 0)
    said = re.search(r"response_format|json_schema|schema|grammar", str(exc), re.IGNORECASE)
    return status == 501 or (status in (400, 422, 500) and said is not None)


def _translate(exc: Exception, backend: Backend) -> Exception:
    """An SDK error as the kit's: retryable (ModelError) or final (RuntimeError)."""
    import openai

    where = backend.base_url or "api.openai.com"
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return ModelError(f"{type(exc).__name__} talking to {where}: {_short(exc)}")
    if isinstance(exc, (openai.RateLimitError, openai.InternalServerError)):
        return ModelError(f"{type(exc).__name__}: {_short(exc)}")
    if isinstance(exc, openai.AuthenticationError):
        return RuntimeError(
            "the API key was rejected (check OPENAI_API_KEY, or unset it to use the offline model)"
        )
    status = getattr(exc, "status_code", "")
    return RuntimeError(f"{type(exc).__name__} {status} from {where}: {_short(exc)}".strip())


def _short(exc: BaseException, limit: int = 300) -> str:
    if isinstance(exc, pydantic.ValidationError):
        problems = [
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()[:4]
        ]
        return f"{exc.error_count()} problem(s): " + "; ".join(problems)
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
