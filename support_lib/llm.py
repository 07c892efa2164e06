"""LLM nodes, and the models they talk to: the real ``openai`` SDK, or a test double.

An :class:`LLMNode` fills its :class:`Prompt` from the state and asks the run's model
(``ctx.deps.llm``) for a completion. Anything with the :class:`ChatModel` shape can answer:

- :class:`OpenAIModel`, the ``AsyncOpenAI`` client, for every real backend. Three
  backends, one code path, chosen by :func:`resolve_backend` from the environment:
  ``OPENAI_API_KEY`` → OpenAI (``OPENAI_BASE_URL`` may point elsewhere); only
  ``OPENAI_BASE_URL`` → any OpenAI-compatible server (Ollama, vLLM, llama.cpp...);
  neither → the kit's offline teaching model, served at ``/v1`` by the mock server.
  ``SUPPORT_KIT_MODEL`` picks the model name.
- :class:`support_lib.testing.ScriptedModel`, in-process answers for unit tests.

The SDK's own retries are switched off (``max_retries=0``) so that the engine's retry
policy is the only one and every retry shows up in the trace. The SDK is imported when
the first client is made, so ``import support_lib`` stays fast.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pydantic

from .engine import Node, NodeContext, RetryableError, RetryPolicy
from .prices import (  # noqa: F401 - the price table is part of what llm offers
    OFFLINE_MODEL,
    PRICES,
    PRICES_AS_OF,
    Price,
    estimate_cost,
    price_for,
)
from .templates import escape_markup, placeholders, render_text

if TYPE_CHECKING:
    import ssl

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_LOCAL_MODEL = "llama3.2"
LLM_TIMEOUT_S = 20.0
"""How long one model call may take before the client gives up (a retryable error); the
kit passes its ``Timeouts.model_call_s`` (see ``kit.Timeouts``)."""


# --------------------------------------------------------------------------- backend


@dataclass(frozen=True)
class Backend:
    """Where LLM calls go. ``kind`` is "offline", "openai" or "compatible".
    The key is left out of ``repr`` so that showing a backend never leaks it."""

    kind: str
    base_url: str | None
    model: str
    api_key: str = field(repr=False)

    def describe(self) -> str:
        """One line that says which model answers (printed by the CLI and lesson 00)."""
        if self.kind == "offline":
            return (
                f"LLM backend: offline teaching model '{self.model}' served by the kit's mock "
                "server (no API key, no network)"
            )
        if self.kind == "openai":
            where = f" at {self.base_url}" if self.base_url else ""
            return f"LLM backend: OpenAI{where}, model '{self.model}' (OPENAI_API_KEY is set)"
        return f"LLM backend: OpenAI-compatible server at {self.base_url}, model '{self.model}'"


def resolve_backend(
    offline_base_url: str | None = None, env: Mapping[str, str] | None = None
) -> Backend:
    """Pick the backend from the environment (see the module docstring)."""
    env = os.environ if env is None else env
    key = env.get("OPENAI_API_KEY", "").strip()
    base = env.get("OPENAI_BASE_URL", "").strip() or None
    model = env.get("SUPPORT_KIT_MODEL", "").strip()
    if key:
        return Backend("openai", base, model or DEFAULT_OPENAI_MODEL, key)
    if base:
        return Backend("compatible", base, model or DEFAULT_LOCAL_MODEL, "not-needed")
    if not offline_base_url:
        raise ValueError("no OPENAI_API_KEY or OPENAI_BASE_URL, and no offline server URL given")
    return Backend("offline", offline_base_url, OFFLINE_MODEL, "offline")


# --------------------------------------------------------------------------- the model seam


@dataclass(frozen=True)
class ModelRequest:
    """One call an LLM node makes: who asks, the messages, and the answer's shape."""

    node: str
    messages: list[dict[str, str]]
    output_model: type[pydantic.BaseModel] | None = None
    temperature: float = 0.2
    max_tokens: int = 800


@dataclass
class Completion:
    """What one call returned: the value (a Pydantic object or text), its usage, and the
    model's own explanation when it gives one (the offline model does)."""

    value: Any
    usage: dict[str, Any]
    explanation: Any = None


class ModelError(RetryableError):
    """A model call failed in a way a retry may fix; ``usage`` holds the tokens it still
    cost (an answer that did not fit the schema was paid for all the same)."""

    def __init__(self, message: str, usage: dict[str, Any] | None = None):
        super().__init__(message)
        self.usage = usage


class ChatModel(Protocol):
    """What an LLM node needs from a model: a name and one async call."""

    model_name: str

    async def complete(self, request: ModelRequest) -> Completion: ...


def make_usage(model: str, prompt_tokens: int, completion_tokens: int, latency_ms: float) -> dict:
    """The usage record of one call, priced from the table above."""
    return {
        "model": model,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost_usd": estimate_cost(model, prompt_tokens, completion_tokens),
        "latency_ms": latency_ms,
    }


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
        self, request: ModelRequest, fmt: dict | None, schema_in_prompt: bool = False
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


# --------------------------------------------------------------------------- prompts & nodes


@dataclass(frozen=True)
class Prompt:
    """A system and a user template. Placeholders are ``{{state_key}}`` or dotted paths.

    By convention every value sits in its own tagged block (``<customer_message>...``) so
    the model can tell instructions from data. Values are escaped as they are filled in
    (``<`` → ``&lt;``, see ``templates.escape_markup``): the tags are the prompt's, and
    no value can close one and open another. ``escape=False`` shows what a naive prompt
    would send (lesson 07 attacks one).
    """

    system: str
    user: str
    escape: bool = True

    @property
    def placeholders(self) -> frozenset[str]:
        """Every dotted ``{{name}}`` the prompt uses."""
        return frozenset(placeholders(self.system) | placeholders(self.user))

    @property
    def variables(self) -> set[str]:
        """The state keys the prompt reads (``customer_info.urgency`` reads ``customer_info``)."""
        return {name.split(".")[0] for name in self.placeholders}

    def render(self, values: Mapping[str, Any]) -> list[dict[str, str]]:
        escape = escape_markup if self.escape else None
        return [
            {"role": "system", "content": render_text(self.system, values, escape=escape).strip()},
            {"role": "user", "content": render_text(self.user, values, escape=escape).strip()},
        ]


LLM_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.5, backoff=2.0)


class HasLLM(Protocol):
    """The deps an LLM node needs: a model to ask."""

    llm: ChatModel


ToState = Callable[[Any, Mapping[str, Any]], dict[str, Any]]
TextCheck = Callable[[str], "str | None"]
"""Says what is wrong with a free-text answer (or None): ``check=`` of an LLMNode."""


class LLMNode(Node[HasLLM]):
    """A node that fills its prompt from the state and asks the run's model.

    ``output_model`` (a Pydantic class) makes the answer structured; ``to_state`` turns
    the answer into the node's writes (by default ``{writes[0]: answer}``; Pydantic
    objects reach ``to_state`` and the state as plain dicts, so the state stays JSON).
    Its reads are the prompt's variables plus any ``reads`` given (for ``to_state``).
    ``check`` does for free text what Pydantic does for structured answers: a text it
    finds wrong (cut off, empty, too long...) is a retryable error, never a write.
    """

    kind = "llm"

    def __init__(
        self,
        name: str,
        *,
        prompt: Prompt,
        writes: tuple[str, ...] | list[str],
        output_model: type[pydantic.BaseModel] | None = None,
        temperature: float = 0.2,
        max_tokens: int = 800,
        to_state: ToState | None = None,
        retry: RetryPolicy = LLM_RETRY,
        timeout: float | None = None,  # the client's own timeout limits each call
        reads: tuple[str, ...] | list[str] = (),
        check: TextCheck | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            name,
            reads=sorted(prompt.variables | set(reads)),
            writes=writes,
            retry=retry,
            timeout=timeout,
            **kwargs,
        )
        self.prompt = prompt
        self.placeholders = prompt.placeholders
        self.output_model = output_model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.to_state = to_state
        self.check = check

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[HasLLM]) -> dict[str, Any]:
        llm = ctx.deps.llm
        request = ModelRequest(
            self.name,
            self.prompt.render(inputs),
            self.output_model,
            self.temperature,
            self.max_tokens,
        )
        ctx.record_inputs(
            model=llm.model_name,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            response_format=self.output_model.__name__ if self.output_model else "text",
            messages=request.messages,
        )
        try:
            result = await llm.complete(request)
        except ModelError as exc:
            if exc.usage:
                ctx.record_usage(**exc.usage)
            raise
        ctx.record_usage(**result.usage)
        if result.explanation is not None:
            ctx.record_explanation(result.explanation)
        value = result.value
        problem = self.check(value) if self.check and isinstance(value, str) else None
        if problem:
            raise ModelError(f"the model's text was refused: {problem}")
        if isinstance(value, pydantic.BaseModel):
            value = value.model_dump(mode="json")
        return self.to_state(value, inputs) if self.to_state else {self.writes[0]: value}
