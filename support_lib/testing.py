"""Test doubles for the two seams of a run: the model and the support APIs.

- :class:`ScriptedModel` answers LLM nodes in process, from a function or a script
  (in the spirit of Pydantic AI's ``FunctionModel``): unit tests of the engine and the
  workflow never depend on the offline teaching model's heuristics.
- :class:`FakeSupportAPI` serves the four support APIs through httpx's ``MockTransport``
  and records every request; tests can make any route fail.

    api = FakeSupportAPI()
    model = ScriptedModel(support_answers(inquiry_type="shipping"))
    async with api.deps(model) as deps:
        trace = await build_workflow().arun(inputs, deps=deps)
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pydantic

from .llm import Completion, ModelError, ModelRequest, make_usage
from .workflow import SupportDeps

Answer = Any | Callable[[ModelRequest], Any]


def tag(request: ModelRequest, name: str, *, raw: bool = False) -> str | None:
    """The data inside ``<name>...</name>`` in the request's messages, if any: unescaped
    (as it was in the state), or exactly as sent with ``raw=True``."""
    for message in request.messages:
        found = re.search(rf"<{name}>\n?(.*?)\n?</{name}>", message["content"], re.S)
        if found:
            return found.group(1) if raw else html.unescape(found.group(1))
    return None


class ScriptedModel:
    """A model whose answers you write. ``answers`` is a function of the request, or a
    mapping keyed by node name (or by output model name, or "text" for free text) whose
    values are an answer, a function of the request, or a list consumed one per call.
    An answer that is an exception is raised. Every request is kept in ``calls``."""

    def __init__(
        self,
        answers: Callable[[ModelRequest], Any] | Mapping[str, Answer],
        *,
        model_name: str = "scripted-model",
        latency_s: float = 0.0,
    ):
        self.answers = answers
        self.model_name = model_name
        self.latency_s = latency_s
        self.calls: list[ModelRequest] = []
        self._used: dict[str, int] = {}

    def _lookup(self, request: ModelRequest) -> Any:
        if callable(self.answers):
            return self.answers(request)
        schema = request.output_model.__name__ if request.output_model else "text"
        for key in (request.node, schema):
            if key in self.answers:
                answer = self.answers[key]
                if isinstance(answer, list):
                    answer = self._next_in_script(key, answer)
                return answer(request) if callable(answer) else answer
        raise LookupError(f"ScriptedModel has no answer for node {request.node!r} ({schema})")

    def _next_in_script(self, key: str, script: list[Any]) -> Any:
        used = self._used.get(key, 0)
        if used >= len(script):
            raise LookupError(
                f"the script for {key!r} has {len(script)} answers; call "
                f"{used + 1} asked for another"
            )
        self._used[key] = used + 1
        return script[used]

    async def complete(self, request: ModelRequest) -> Completion:
        """The scripted answer, after ``latency_s`` (so that concurrency can be seen)."""
        self.calls.append(request)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        value = self._lookup(request)
        if isinstance(value, BaseException):
            raise value
        text = value if isinstance(value, str) else json.dumps(_plain(value))
        usage = make_usage(self.model_name, _tokens(request.messages), len(text.split()), 0.0)
        if request.output_model is None:
            if not isinstance(value, str):
                raise TypeError(f"node {request.node!r} wants text, the script gave {value!r}")
            if request.on_token:  # streamed word by word, as a model would
                for piece in re.findall(r"\S+\s*", value):
                    request.on_token(piece)
            return Completion(value, usage)
        try:
            return Completion(request.output_model.model_validate(_plain(value)), usage)
        except pydantic.ValidationError as exc:
            name = request.output_model.__name__
            raise ModelError(f"the model's output is not a valid {name}: {exc}", usage) from exc

    def calls_of(self, node: str) -> list[ModelRequest]:
        return [call for call in self.calls if call.node == node]


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, pydantic.BaseModel) else value


def _tokens(messages: list[dict[str, str]]) -> int:
    """A rough, deterministic token count (words), enough for cost arithmetic in tests."""
    return sum(len(m["content"].split()) for m in messages)


def support_answers(**overrides: Any) -> dict[str, Answer]:
    """Answers for every LLM node of the support workflow: a calm shipping question that
    is answered, passes review and is sent. Override any node by name."""
    answers: dict[str, Answer] = {
        "extract_customer_info": {
            "customer_name": "Anna",
            "order_id": "50422",
            "product": None,
            "urgency": "low",
            "subject": "Delivery date for order #50422",
        },
        "classify_inquiry": {"inquiry_type": "shipping"},
        "analyze_sentiment": {"sentiment": "neutral"},
        "analyze_account_status": {"account_action": "subscription_active", "reason": "paid"},
        "check_escalation": {"decision": "generate_response", "reason": "a calm question"},
        "generate_response_context": {
            "key_points": ["delivery date"],
            "tone": "professional",
            "suggested_solutions": ["send the tracking link"],
            "additional_info_needed": [],
        },
        "generate_response": "Your order #50422 ships today; here is the tracking link.",
        "score_response": {"score": 9, "issues": []},
        "regenerate_response": "Hi Anna, order #50422 ships today: tracking link inside.",
        "personalize_response": lambda r: f"Hi Anna,\n\n{tag(r, 'draft')}\n\nBest regards,\nAlex",
        "generate_follow_up": {
            "schedule_follow_up": True,
            "follow_up_days": 3,
            "suggested_actions": ["check delivery"],
            "knowledge_base_update": None,
        },
    }
    answers.update(overrides)
    return answers


class FakeSupportAPI:
    """The support APIs in process. ``accounts`` maps an id to its ``GET /accounts`` reply;
    ``failures`` maps a path prefix to the status code it answers (or a list of codes,
    one per call, then 200). Requests are kept in ``requests`` as (method, path, body)."""

    base_url = "http://support.test"

    def __init__(
        self,
        accounts: Mapping[str, dict[str, Any]] | None = None,
        failures: Mapping[str, int | list[int]] | None = None,
    ):
        self.accounts = dict(accounts or {})
        self.failures = {
            k: list(v) if isinstance(v, list) else v for k, v in (failures or {}).items()
        }
        self.requests: list[tuple[str, str, Any]] = []
        self.answered: dict[tuple[str, str], Any] = {}  # (path, idempotency key) -> answer
        self._ids = itertools.count(1)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the transport calls this); an ``Idempotency-Key`` seen
        before on the same path gets its first answer again, as a real service would."""
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, path, body))
        key = request.headers.get("idempotency-key")
        if key and (path, key) in self.answered:
            return httpx.Response(200, json=self.answered[(path, key)])
        response = self._answer(path)
        if key and response.status_code < 300:
            self.answered[(path, key)] = response.json()
        return response

    def performed(self, path: str) -> int:
        """How many times the effect behind ``path`` really happened: the distinct
        idempotency keys it answered (a repeat of a key is not a second effect)."""
        return sum(p == path for p, _ in self.answered)

    def _answer(self, path: str) -> httpx.Response:
        for prefix, status in self.failures.items():
            if path.startswith(prefix):
                code = status.pop(0) if isinstance(status, list) and status else status
                if isinstance(code, int):
                    return httpx.Response(code, json={"error": {"message": f"failing {prefix}"}})
        n = next(self._ids)
        if path.startswith("/accounts/"):
            account_id = path.removeprefix("/accounts/")
            reply = self.accounts.get(account_id, {"account_id": account_id, "status": "active"})
            return httpx.Response(200, json=reply)
        replies = {
            "/support/escalate": {
                "ticket_id": f"ESC-{n}",
                "status": "escalated",
                "estimated_response": "2 hours",
            },
            "/support/send": {"message_id": f"MSG-{n}", "status": "sent"},
            "/analytics/log": {"log_id": f"LOG-{n}", "status": "logged"},
        }
        if path in replies:
            return httpx.Response(200, json=replies[path])
        return httpx.Response(404, json={"error": {"message": f"no route {path}"}})

    def paths(self, method: str | None = None) -> list[str]:
        return [path for m, path, _ in self.requests if method in (None, m)]

    @asynccontextmanager
    async def deps(self, llm: Any) -> AsyncIterator[SupportDeps]:
        """``SupportDeps`` wired to this fake API and the given model."""
        transport = httpx.MockTransport(self.handle)
        async with httpx.AsyncClient(transport=transport) as http:
            yield SupportDeps(llm=llm, http=http, api_base_url=self.base_url)
