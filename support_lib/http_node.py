"""HTTP nodes: call a JSON API with a request filled from the state.

All HTTP nodes of a run share one ``httpx.AsyncClient`` (a new client per call costs
tens of milliseconds). The path is filled as text with each value URL-quoted; the body
keeps JSON types (``"{{quality_score}}"`` sends the object, not its string).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from .engine import Node, NodeContext, RetryableError, RetryPolicy
from .templates import render_text, render_value, root_names

HTTP_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.3, backoff=2.0)


class HTTPNode(Node):
    """``method path`` against the run's API base URL; the JSON reply goes to ``writes[0]``.

    ``auth=True`` adds ``Authorization: Bearer <deps.api_token>`` (shown as ``***`` in
    the trace). The run's id and elapsed time are available to templates as
    ``{{run.id}}`` and ``{{run.elapsed_ms}}``.
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
        timeout: float | None = 15.0,
        **kwargs: Any,
    ):
        reads = sorted((root_names(path) | root_names(body or {})) - {"run"})
        super().__init__(name, reads=reads, writes=writes, retry=retry, timeout=timeout, **kwargs)
        self.method = method.upper()
        self.path = path
        self.body = body
        self.auth = auth

    async def run(self, state: Mapping[str, Any], ctx: NodeContext) -> dict[str, Any]:
        deps = ctx.deps
        values = {**state, "run": {"id": ctx.run_id, "elapsed_ms": ctx.elapsed_ms()}}
        url = deps.api_base_url.rstrip("/") + render_text(
            self.path, values, escape=lambda v: quote(v, safe="")
        )
        body = render_value(self.body, values) if self.body is not None else None
        headers = {"Authorization": f"Bearer {deps.api_token}"} if self.auth else {}
        shown_headers = {"Authorization": "Bearer ***"} if self.auth else {}
        ctx.record_inputs(method=self.method, url=url, headers=shown_headers, body=body)
        http: httpx.AsyncClient = deps.http
        try:
            response = await http.request(self.method, url, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise RetryableError(f"{self.method} {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            problem = f"{self.method} {url} answered {response.status_code}: {response.text[:300]}"
            if response.status_code == 429 or response.status_code >= 500:
                raise RetryableError(problem)
            raise RuntimeError(problem)
        try:
            return {self.writes[0]: response.json()}
        except ValueError as exc:
            raise RuntimeError(f"{self.method} {url} did not answer JSON") from exc
