"""Lesson 00's exercises: the backend, the mock server, the support APIs, the graph."""

from __future__ import annotations

from typing import Any

from . import as_names, as_pair, exercise, expect


@exercise(
    "00.1",
    "ask something else",
    hint="Send 'What is 17 * 3?' with client.chat.completions.create and keep "
    "reply.choices[0].message.content.",
    solution="""
from openai import OpenAI
from support_lib.kit import local_mock
from support_lib.llm import resolve_backend

backend = resolve_backend(local_mock().openai_base_url)
client = OpenAI(base_url=backend.base_url, api_key=backend.api_key)
reply = client.chat.completions.create(
    model=backend.model, messages=[{"role": "user", "content": "What is 17 * 3?"}]
)
answer = reply.choices[0].message.content
""",
    wrong=(
        'answer = "Hello! Nice to meet you."',
        "answer = 51",
        # the whole response as JSON text, not the content of its first choice
        'answer = \'{"id": "chatcmpl-1", "choices": [{"message": {"content": "51"}}]}\'',
    ),
)
def _ask_something_else(answer: Any) -> None:
    import json

    expect(isinstance(answer, str), "give the reply's text (a string), not the whole response")
    try:
        whole = json.loads(answer)
    except ValueError:
        whole = None
    expect(
        not (isinstance(whole, dict) and "choices" in whole),
        "that is the whole response as text: keep only reply.choices[0].message.content",
    )
    expect("51" in answer, f"the reply should contain 51 (17 × 3); yours is {answer[:80]!r}")


@exercise(
    "00.2",
    "one order id per account status",
    hint="Ask GET /accounts/<id> for a few numbers (with the bearer token) and note the "
    "'status' of each: you need one id that is active, one refund_eligible, one suspended.",
    solution="""
import httpx
from support_lib.kit import local_mock

answer = {}
auth = {"Authorization": "Bearer demo"}
with httpx.Client(base_url=local_mock().url, headers=auth) as http:
    for n in range(10000, 10100):
        status = http.get(f"/accounts/{n}").json()["status"]
        answer.setdefault(status, str(n))
""",
    wrong=(
        'answer = {"active": "10000", "refund_eligible": "10000", "suspended": "10000"}',
        'answer = {"active": "10000"}',
    ),
)
def _account_statuses(answer: Any) -> None:
    from mock_server.accounts import status_for

    expect(isinstance(answer, dict), "give a dict: status -> an order id with that status")
    for status in ("active", "refund_eligible", "suspended"):
        expect(status in answer, f"no order id for status {status!r} yet")
        got = status_for(str(answer[status]))
        expect(got == status, f"order {answer[status]} is {got}, not {status}")


@exercise(
    "00.3",
    "clear errors",
    hint="Send GET /support/send (a route that only takes POST), then POST /support/escalate "
    "with content='not json'; keep the two status codes.",
    solution="""
import httpx
from support_lib.kit import local_mock

with httpx.Client(base_url=local_mock().url) as http:
    wrong_method = http.get("/support/send").status_code
    not_json = http.post("/support/escalate", content="not json",
                         headers={"content-type": "application/json"}).status_code
answer = (wrong_method, not_json)
""",
    wrong=("answer = (404, 422)", "answer = (405, 422)"),
)
def _clear_errors(answer: Any) -> None:
    answer = as_pair(answer)
    expect(answer is not None, "give a pair: (status, status)")
    expect(answer[0] == 405, f"a wrong method gets 405 Method Not Allowed, not {answer[0]}")
    expect(answer[1] == 400, f"a body that is not JSON gets 400 Bad Request, not {answer[1]}")


@exercise(
    "00.4",
    "the nodes that choose routes",
    hint="In build_workflow().describe()['edges'], the edges with a 'when' leave a node "
    "that chooses a route: collect their 'source'.",
    solution="""
from support_lib.workflow import build_workflow

edges = build_workflow().describe()["edges"]
answer = {edge["source"] for edge in edges if edge["when"]}
""",
    wrong=(
        # only the nodes of kind "router": the LLM node that also routes is missing
        'answer = {"check_billing", "quality_gate"}',
        # every node an edge leaves, conditional or not
        """
from support_lib.workflow import build_workflow

answer = {edge["source"] for edge in build_workflow().describe()["edges"]}
""",
    ),
)
def _routers(answer: Any) -> None:
    from support_lib.workflow import build_workflow

    names = as_names(answer)
    expect(names is not None, f"give the node names as a set, not a {type(answer).__name__}")
    routers = {n.name for n in build_workflow().nodes.values() if n.routes}
    missing, extra = routers - names, names - routers
    expect(not extra, f"{len(extra)} of your nodes do not choose routes, e.g. {sorted(extra)[:3]}")
    expect(not missing, f"{len(missing)} node(s) that choose routes are missing")


OPENAI_URL = "https://api.openai.com/v1"
"""OpenAI's own API: a base URL set to it still sends the requests to OpenAI."""


@exercise(
    "00.5",
    "choose OpenAI's smallest model",
    hint="Read the table of section 2 row by row: which variable makes the kit talk to "
    "OpenAI, which one names the model, and which one would send the requests elsewhere?",
    solution="""
answer = {"OPENAI_API_KEY": "sk-your-key-here", "SUPPORT_KIT_MODEL": "gpt-4.1-nano"}
# resolve_backend(server.openai_base_url, env=answer).describe() says what the kit would use
""",
    wrong=(
        # no key: the model name alone does not leave the offline model
        'answer = {"SUPPORT_KIT_MODEL": "gpt-4.1-nano"}',
        # the kit does not read OPENAI_MODEL
        'answer = {"OPENAI_API_KEY": "sk-your-key-here", "OPENAI_MODEL": "gpt-4.1-nano"}',
        # a base URL sends the requests to that server instead of OpenAI
        'answer = {"OPENAI_BASE_URL": "http://localhost:11434/v1", '
        '"SUPPORT_KIT_MODEL": "gpt-4.1-nano"}',
    ),
)
def _backend(answer: Any) -> None:
    from support_lib.llm import resolve_backend

    expect(isinstance(answer, dict), "give a dict of environment variables (name -> value)")
    backend = resolve_backend("http://127.0.0.1:1/v1", env=answer)
    described = backend.describe()
    expect(backend.kind == "openai", f"with these variables the kit picks: {described}")
    own = (backend.base_url or OPENAI_URL).rstrip("/") == OPENAI_URL
    expect(own, f"the requests would not go to OpenAI itself: {described}")
    expect(backend.model == "gpt-4.1-nano", f"the model would be {backend.model!r}: {described}")
