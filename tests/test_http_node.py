"""HTTP nodes: requests filled from the state, and every way a call can go wrong."""

from __future__ import annotations

from typing import Required

import httpx
import pytest
from typing_extensions import TypedDict

from support_lib.engine import START, RetryPolicy, Workflow
from support_lib.http_node import HTTPNode
from support_lib.workflow import SupportDeps

FAST = RetryPolicy(max_attempts=3, initial_delay=0.001)


class S(TypedDict, total=False):
    order: Required[str]
    note: Required[dict]
    reply: dict


def workflow(**node) -> Workflow:
    wf = Workflow("http", S)
    defaults = dict(method="GET", path="/accounts/{{order}}", writes=["reply"], retry=FAST)
    wf.add(HTTPNode("call", **{**defaults, **node}))
    wf.edge(START, "call")
    return wf


async def call(handler, order="42", **node):
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        deps = SupportDeps(llm=None, http=http, api_base_url="http://api.test/", api_token="tok")
        return await workflow(**node).arun(
            {"order": order, "note": {"n": 1}}, deps=deps, check=False
        )


async def test_the_request_is_filled_from_the_state_and_the_token_is_hidden():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    trace = await call(
        handler,
        order="a/b c",
        method="POST",
        body={"note": "{{note}}", "run": "{{run.id}}"},
        auth=True,
    )
    assert trace.state["reply"] == {"ok": True}
    assert seen[0].url.raw_path == b"/accounts/a%2Fb%20c"  # one path segment, quoted
    assert seen[0].headers["authorization"] == "Bearer tok"
    sent = trace.node("call").inputs
    assert sent["body"] == {"note": {"n": 1}, "run": trace.run_id}  # JSON types kept
    assert sent["headers"] == {"Authorization": "Bearer ***"}


async def test_server_errors_are_retried_then_succeed():
    answers = iter([503, 503, 200])

    def handler(request):
        return httpx.Response(next(answers), json={"ok": True})

    trace = await call(handler)
    assert trace.status == "completed" and trace.node("call").attempts == 3


async def test_a_client_error_is_final_and_named():
    trace = await call(lambda r: httpx.Response(404, json={"error": "no such account"}))
    assert trace.node("call").attempts == 1
    assert trace.error == (
        "node 'call' failed: RuntimeError: GET http://api.test/accounts/42 answered 404: "
        '{"error":"no such account"}'
    )


async def test_an_answer_that_is_not_json_is_an_error_retried_only_when_asking_again_is_safe():
    trace = await call(lambda r: httpx.Response(200, text="<html>"))
    assert "GET http://api.test/accounts/42 did not answer JSON" in trace.error
    assert trace.node("call").attempts == 3  # a read: asking again is safe
    posted = await call(lambda r: httpx.Response(200, text="<html>"), method="POST", body={})
    assert posted.node("call").attempts == 1  # might be done twice: not repeated
    keys = []

    def garbled_once(request):
        keys.append(request.headers["idempotency-key"])
        return httpx.Response(200, text='{"id": "M-' if len(keys) == 1 else '{"id": "M-1"}')

    sent = await call(garbled_once, method="POST", body={}, effect="sent")
    assert sent.status == "completed" and sent.state["reply"] == {"id": "M-1"}
    assert len(keys) == 2 and keys[0] == keys[1]  # the same key: the service does it once


async def test_a_dropped_connection_is_retried_and_reported():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    trace = await call(handler)
    assert trace.node("call").attempts == 3
    assert "ConnectError: connection refused (after 3 attempts)" in trace.error


@pytest.mark.parametrize("order", [".", "..", " "])
async def test_a_value_that_would_change_the_path_is_refused_before_sending(order):
    sent = []
    trace = await call(lambda r: sent.append(r) or httpx.Response(200, json={}), order=order)
    assert sent == [] and "cannot be used as a URL path segment" in trace.error
