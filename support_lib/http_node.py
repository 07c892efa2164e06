"""HTTP nodes: call a JSON API with a request filled from the state.

All HTTP nodes of a run share one ``httpx.AsyncClient`` (``ctx.deps.http``; a new client
per call costs tens of milliseconds, and tests give it a fake transport). The path is
filled as text with each value URL-quoted, and a value that would change the path's
shape (empty, ``.`` or ``..``) is refused; the body keeps JSON types
(``"{{quality_score}}"`` sends the object, not its string).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from .engine import Node, NodeContext, RetryableError, RetryPolicy
from .templates import placeholders, render_text, render_value

HTTP_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.3, backoff=2.0)
RUN_VALUES = "run"
"""``{{run.id}}`` and ``{{run.elapsed_ms}}`` come from the run, not from the state."""


class HasHTTP(Protocol):
    """The deps an HTTP node needs: a client, the API's base URL and its bearer token."""

    http: httpx.AsyncClient
    api_base_url: str
    api_token: str


def path_segment(value: str) -> str:
    """A state value made safe as one URL path segment."""
    if value.strip() in ("", ".", ".."):
        raise ValueError(f"{value!r} cannot be used as a URL path segment")
    return quote(value, safe="")


class HTTPNode(Node[HasHTTP]):
    """``method path`` against the run's API base URL; the JSON reply goes to ``writes[0]``.

    ``auth=True`` adds ``Authorization: Bearer <deps.api_token>`` (shown as ``***`` in
    the trace). A node with an ``effect`` ("sent", "logged"...) sends an
    ``Idempotency-Key`` that stays the same across retries and resumed runs, so a service
    that honours it (the kit's mock does) performs the effect once.
    """

    kind = "http"

    def __init__(
        self,
        name: str,
        *,
        method: str,
        path: str,
        writes: tuple[str, ...] | list[str],
        body: Mapping[str, Any] | None = None,
        auth: bool = False,
        retry: RetryPolicy = HTTP_RETRY,
        timeout: float | None = None,  # the client's own timeout limits each call
        **kwargs: Any,
    ):
        used = placeholders(path) | placeholders(body or {})
        state_paths = {p for p in used if p.split(".")[0] != RUN_VALUES}
        reads = sorted({p.split(".")[0] for p in state_paths} | set(kwargs.pop("reads", ())))
        super().__init__(name, reads=reads, writes=writes, retry=retry, timeout=timeout, **kwargs)
        self.placeholders = frozenset(state_paths)
        self.method = method.upper()
        self.path = path
        self.body = body
        self.auth = auth

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[HasHTTP]) -> dict[str, Any]:
        deps = ctx.deps
        values = {**inputs, RUN_VALUES: {"id": ctx.run_id, "elapsed_ms": ctx.elapsed_ms()}}
        url = deps.api_base_url.rstrip("/") + render_text(self.path, values, escape=path_segment)
        body = render_value(self.body, values) if self.body is not None else None
        once = {"Idempotency-Key": ctx.idempotency_key} if self.effect else {}
        headers = {**once, **({"Authorization": f"Bearer {deps.api_token}"} if self.auth else {})}
        shown_headers = {**once, **({"Authorization": "Bearer ***"} if self.auth else {})}
        ctx.record_inputs(method=self.method, url=url, headers=shown_headers, body=body)
        try:
            response = await deps.http.request(self.method, url, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise RetryableError(f"{self.method} {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            problem = f"{self.method} {url} answered {response.status_code}: {response.text[:300]}"
            if response.status_code == 429 or response.status_code >= 500:
                raise RetryableError(problem)
            raise RuntimeError(problem)
        try:
            return {self.writes[0]: response.json()}
        except ValueError as exc:  # a garbled answer: asking again is safe when the request
            problem = f"{self.method} {url} did not answer JSON"  # reads, or is done once
            if self.method == "GET" or once:
                raise RetryableError(problem) from exc
            raise RuntimeError(problem) from exc
