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

import os
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
    pass

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
    on_token: Callable[[str], None] | None = None
    """For free text: called with each piece as the model writes it (the answer streams)."""
    attempt: int = 1
    attempts: int = 1
    """Which try of its node this call is, of how many: a model wrapper can treat the last
    one differently (lesson 10 lets the offline stand-in answer a small model's last try)."""


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
TextCheck = Callable[[str, Mapping[str, Any]], "str | None"]
"""Says what is wrong with a free-text answer (or None), given the node's inputs (what the
model was told): ``check=`` of an LLMNode."""


class LLMNode(Node[HasLLM]):
    """A node that fills its prompt from the state and asks the run's model.

    ``output_model`` (a Pydantic class) makes the answer structured; ``to_state`` turns
    the answer into the node's writes (by default ``{writes[0]: answer}``; Pydantic
    objects reach ``to_state`` and the state as plain dicts, so the state stays JSON).
    Its reads are the prompt's variables plus any ``reads`` given (for ``to_state``).
    ``check`` does for free text what Pydantic does for structured answers: a text it
    finds wrong (cut off, empty, too long, a fact the inputs lack...) is a retryable
    error, never a write.
    ``stream=True`` (free text only) passes each piece on as the model writes it
    (``ctx.stream``: observers see "node_token" events).
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
        stream: bool = False,
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
        self.stream = stream

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[HasLLM]) -> dict[str, Any]:
        llm = ctx.deps.llm
        ctx.record.streamed = None  # a retry streams its answer from the start
        request = ModelRequest(
            self.name,
            self.prompt.render(inputs),
            self.output_model,
            self.temperature,
            self.max_tokens,
            on_token=ctx.stream if self.stream and self.output_model is None else None,
            attempt=ctx.record.attempts,
            attempts=self.retry.max_attempts,
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
        problem = self.check(value, inputs) if self.check and isinstance(value, str) else None
        if problem:
            raise ModelError(f"the model's text was refused: {problem}")
        if isinstance(value, pydantic.BaseModel):
            value = value.model_dump(mode="json")
        return self.to_state(value, inputs) if self.to_state else {self.writes[0]: value}


# The real SDK's client lives in openai_model.py; it is offered here too, beside the seam.
from .openai_model import (  # noqa: E402
    OpenAIModel,
    json_mode_format,
    response_format,
    strict_schema,
    tls_context,
)

__all__ = [
    "Backend",
    "ChatModel",
    "Completion",
    "LLMNode",
    "ModelError",
    "ModelRequest",
    "OpenAIModel",
    "Prompt",
    "json_mode_format",
    "make_usage",
    "resolve_backend",
    "response_format",
    "strict_schema",
    "tls_context",
]
