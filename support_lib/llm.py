"""LLM nodes on the real ``openai`` SDK, and the choice of which model answers.

Three backends, one code path (the SDK's ``AsyncOpenAI``):

- ``OPENAI_API_KEY`` set → OpenAI (``OPENAI_BASE_URL`` may point elsewhere);
- only ``OPENAI_BASE_URL`` set → any OpenAI-compatible server (Ollama, vLLM, ...);
- neither → the kit's offline teaching model, served at ``/v1`` by the mock server.

``SUPPORT_KIT_MODEL`` picks the model name. The SDK's own retries are switched off
(``max_retries=0``) so that the workflow engine's retry policy is the only one, and every
retry shows up in the trace.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pydantic
from openai import AsyncOpenAI

from .engine import Node, NodeContext, RetryableError, RetryPolicy
from .templates import render_text, root_names

OFFLINE_MODEL = "support-kit-offline-1"
DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_LOCAL_MODEL = "llama3.2"


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class Price:
    """US dollars per million prompt and completion tokens."""

    prompt: float
    completion: float
    note: str = ""


PRICES: dict[str, Price] = {
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4": Price(30.00, 60.00, "the Go demo priced every call like this"),
    OFFLINE_MODEL: Price(0.40, 1.60, "illustrative: priced like gpt-4.1-mini"),
}
"""Known prices; a dated model name (``gpt-4.1-mini-2025-04-14``) uses its family's price.
Unknown models (local ones) cost 0."""


def price_for(model: str) -> Price:
    """The price of ``model``, matching the longest known prefix."""
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return PRICES[name]
    return Price(0.0, 0.0, "unknown model: no price")


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price = price_for(model)
    cost = (prompt_tokens * price.prompt + completion_tokens * price.completion) / 1_000_000
    return round(cost, 8)


# --------------------------------------------------------------------------- backend


@dataclass(frozen=True)
class Backend:
    """Where LLM calls go. ``kind`` is "offline", "openai" or "compatible"."""

    kind: str
    base_url: str | None
    model: str
    api_key: str

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


# --------------------------------------------------------------------------- client


@dataclass
class Completion:
    """What one call returned: the value (a Pydantic object or text) and its usage."""

    value: Any
    usage: dict[str, Any]


RETRYABLE = (
    openai.RateLimitError,
    openai.APIConnectionError,  # includes APITimeoutError
    openai.InternalServerError,
)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of this process. Building one loads the whole CA
    bundle (tens of milliseconds of CPU), which would otherwise happen for every run."""
    return httpx.create_ssl_context()


class LLM:
    """A thin wrapper over one ``AsyncOpenAI`` client, shared by every node of a run."""

    def __init__(self, backend: Backend, *, timeout: float = 60.0):
        self.backend = backend
        self.model = backend.model
        self.client = AsyncOpenAI(
            base_url=backend.base_url,
            api_key=backend.api_key,
            max_retries=0,
            timeout=timeout,
            http_client=openai.DefaultAsyncHttpxClient(verify=tls_context(), timeout=timeout),
        )

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        output_model: type[pydantic.BaseModel] | None = None,
        temperature: float = 0.2,
        max_tokens: int = 800,
    ) -> Completion:
        """One chat completion. Structured output when ``output_model`` is given.

        Transient failures (429, 5xx, timeouts, a dropped connection) and output that does
        not fit the schema raise :class:`RetryableError`; other API errors are final.
        """
        limit = (
            {"max_completion_tokens": max_tokens}
            if self.backend.kind == "openai"
            else {"max_tokens": max_tokens}
        )
        started = time.perf_counter()
        try:
            if output_model is None:
                response = await self.client.chat.completions.create(
                    model=self.model, messages=messages, temperature=temperature, **limit
                )
                value: Any = (response.choices[0].message.content or "").strip()
                if not value:
                    raise RetryableError("the model returned an empty reply")
            else:
                response = await self.client.chat.completions.parse(
                    model=self.model,
                    messages=messages,
                    temperature=temperature,
                    response_format=output_model,
                    **limit,
                )
                message = response.choices[0].message
                if message.refusal:
                    raise RetryableError(f"the model refused: {message.refusal}")
                value = message.parsed
                if value is None:
                    raise RetryableError(f"the model returned no {output_model.__name__}")
        except RETRYABLE as exc:
            raise RetryableError(f"{type(exc).__name__}: {_short(exc)}") from exc
        except (pydantic.ValidationError, json.JSONDecodeError) as exc:
            name = output_model.__name__ if output_model else "text"
            raise RetryableError(
                f"the model's output is not a valid {name}: {_short(exc)}"
            ) from exc
        except openai.LengthFinishReasonError as exc:
            raise RetryableError(
                f"the reply hit the {max_tokens}-token limit before it was complete"
            ) from exc
        except openai.AuthenticationError as exc:
            raise RuntimeError(
                "the API key was rejected (check OPENAI_API_KEY, or unset it to use the "
                "offline model)"
            ) from exc
        except openai.APIStatusError as exc:
            raise RuntimeError(f"{type(exc).__name__} {exc.status_code}: {_short(exc)}") from exc
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        model = response.model or self.model
        return Completion(
            value,
            {
                "model": model,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "cost_usd": estimate_cost(model, prompt_tokens, completion_tokens),
                "latency_ms": latency_ms,
            },
        )

    async def aclose(self) -> None:
        await self.client.close()


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
    the model can tell instructions from data, and so can the offline model.
    """

    system: str
    user: str

    @property
    def variables(self) -> set[str]:
        return root_names(self.system) | root_names(self.user)

    def render(self, values: Mapping[str, Any]) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": render_text(self.system, values).strip()},
            {"role": "user", "content": render_text(self.user, values).strip()},
        ]


LLM_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.5, backoff=2.0)


class LLMNode(Node):
    """A node that fills its prompt from the state and asks the run's LLM.

    ``output_model`` (a Pydantic class) makes the answer structured; ``to_state`` turns
    the answer into state updates (by default ``{writes[0]: answer}``, with Pydantic
    objects dumped to plain dicts so the state stays JSON).
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
        to_state: Callable[[Any, Mapping[str, Any]], dict[str, Any]] | None = None,
        retry: RetryPolicy = LLM_RETRY,
        timeout: float | None = 90.0,
        **kwargs: Any,
    ):
        extra_reads = set(kwargs.pop("reads", ()))
        super().__init__(
            name,
            reads=sorted(prompt.variables | extra_reads),
            writes=writes,
            retry=retry,
            timeout=timeout,
            **kwargs,
        )
        self.prompt = prompt
        self.output_model = output_model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.to_state = to_state

    async def run(self, state: Mapping[str, Any], ctx: NodeContext) -> dict[str, Any]:
        llm: LLM = ctx.deps.llm
        messages = self.prompt.render(state)
        ctx.record_inputs(
            model=llm.model,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            response_format=self.output_model.__name__ if self.output_model else "text",
            messages=messages,
        )
        result = await llm.complete(
            messages,
            output_model=self.output_model,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )
        ctx.record_usage(**result.usage)
        value = result.value
        if isinstance(value, pydantic.BaseModel):
            value = value.model_dump(mode="json")
        if self.to_state:
            return self.to_state(value, state)
        return {self.writes[0]: value}
