"""The model seam: how the real SDK's answers and errors become the kit's.

``OpenAIModel`` is given an httpx client with a fake transport, so each case sends a real
SDK request and gets exactly the HTTP answer under test: no server, no network."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Required

import httpx
import pytest
from typing_extensions import TypedDict

from support_lib.llm import (
    Backend,
    LLMNode,
    ModelError,
    ModelRequest,
    OpenAIModel,
    Prompt,
    estimate_cost,
    price_for,
    resolve_backend,
)
from support_lib.workflow import InquiryClassification

BACKEND = Backend("compatible", "http://model.test/v1", "test-model", "not-needed")


def completion(content, *, finish="stop", refusal=None) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "logprobs": None,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15},
    }


def model_answering(status: int, body) -> OpenAIModel:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, json=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAIModel(BACKEND, http_client=client)


def request(structured: bool = True) -> ModelRequest:
    return ModelRequest(
        "classify_inquiry",
        [{"role": "user", "content": "hi"}],
        InquiryClassification if structured else None,
    )


async def test_a_structured_answer_is_parsed_normalised_and_priced():
    model = model_answering(200, completion(json.dumps({"inquiry_type": "Billing."})))
    result = await model.complete(request())
    assert result.value.inquiry_type == "billing"
    assert result.usage["prompt_tokens"] == 11 and result.usage["total_tokens"] == 15
    assert result.usage["model"] == "test-model" and result.usage["cost_usd"] == 0.0


async def test_a_text_answer_is_stripped():
    result = await model_answering(200, completion("  Hello there.\n")).complete(request(False))
    assert result.value == "Hello there."


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (429, {"error": {"message": "slow down"}}, ModelError, "RateLimitError"),
        (500, {"error": {"message": "boom"}}, ModelError, "InternalServerError"),
        (401, {"error": {"message": "bad key"}}, RuntimeError, "the API key was rejected"),
        (
            400,
            {"error": {"message": "no such model"}},
            RuntimeError,
            "BadRequestError 400 from http://model.test/v1",
        ),
        (200, completion("not json"), ModelError, "is not a valid InquiryClassification"),
        (200, completion(json.dumps({"kind": "x"})), ModelError, "is not a valid"),
        (200, completion(None, refusal="I can't"), ModelError, "the model refused: I can't"),
        (200, completion('{"inquiry', finish="length"), ModelError, "hit the token limit"),
    ],
)
async def test_errors_are_retryable_or_final_with_a_readable_cause(status, body, kind, text):
    with pytest.raises(kind) as info:
        await model_answering(status, body).complete(request())
    assert text in str(info.value)
    if kind is RuntimeError:
        assert not isinstance(info.value, ModelError)  # final: the engine does not retry it


async def test_an_empty_text_answer_is_retryable_and_still_paid_for():
    with pytest.raises(ModelError) as info:
        await model_answering(200, completion("   ")).complete(request(False))
    assert str(info.value) == "the model returned an empty reply"
    assert info.value.usage["total_tokens"] == 15


async def test_a_dead_server_is_retryable_and_named():
    with pytest.raises(ModelError, match="APIConnectionError talking to http://model.test/v1"):
        await model_answering(0, httpx.ConnectError("refused")).complete(request())


def test_backend_choice_follows_the_environment():
    offline = resolve_backend("http://127.0.0.1:1/v1", env={})
    assert offline.kind == "offline" and "no API key" in offline.describe()
    real = resolve_backend("http://x/v1", env={"OPENAI_API_KEY": "sk-test"})
    assert real.kind == "openai" and real.base_url is None and real.model == "gpt-4.1-mini"
    local = resolve_backend(None, env={"OPENAI_BASE_URL": "http://localhost:11434/v1"})
    assert local.kind == "compatible" and local.model == "llama3.2"
    with pytest.raises(ValueError, match="no OPENAI_API_KEY or OPENAI_BASE_URL"):
        resolve_backend(None, env={})


def test_prices_match_the_longest_known_prefix():
    assert price_for("gpt-4.1-mini-2025-04-14") == price_for("gpt-4.1-mini")
    assert price_for("gpt-4.1-2025-04-14").prompt == 2.00
    assert price_for("llama3.2").prompt == 0.0
    assert estimate_cost("gpt-4.1-mini", 1_000_000, 1_000_000) == pytest.approx(2.00)


def model_refusing_json_schema(json_mode_works: bool) -> tuple[OpenAIModel, list[dict]]:
    """A server like llama-cpp-python's: 500 for json_schema; JSON mode works (or not)."""
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body["response_format"]["type"] == "json_schema" or not json_mode_works:
            return httpx.Response(500, json={"error": {"message": "unsupported response_format"}})
        return httpx.Response(200, json=completion(json.dumps({"inquiry_type": "billing"})))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAIModel(BACKEND, http_client=client), seen


async def test_a_server_without_json_schema_is_asked_in_json_mode_from_then_on():
    model, seen = model_refusing_json_schema(json_mode_works=True)
    first = await model.complete(request())
    second = await model.complete(request())
    assert first.value.inquiry_type == second.value.inquiry_type == "billing"
    kinds = [body["response_format"]["type"] for body in seen]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert seen[1]["response_format"]["schema"]["properties"]["inquiry_type"]["enum"]
    assert "follows this JSON schema" in seen[1]["messages"][0]["content"]


async def test_a_server_refusing_both_fails_at_once_with_servers_that_work():
    model, seen = model_refusing_json_schema(json_mode_works=False)
    with pytest.raises(RuntimeError, match="llama.cpp's llama-server, vLLM, Ollama or OpenAI"):
        await model.complete(request())
    assert len(seen) == 2  # one try of each format; a RuntimeError is never retried


async def test_a_node_tells_the_model_which_try_a_call_is():
    """Each call carries its try and the node's number of tries, so a wrapper can treat
    the last one differently; a refused text (cut off mid-sentence) counts as a try."""
    from support_lib.engine import START, RetryPolicy, Workflow
    from support_lib.testing import ScriptedModel
    from support_lib.workflow.reply import reply_problem

    class State(TypedDict, total=False):
        question: Required[str]
        answer: str

    model = ScriptedModel({"text": ["Cut off in the mid", "Done."]})
    prompt = Prompt(system="Answer.", user="{{question}}")
    retry = RetryPolicy(max_attempts=3, initial_delay=0)
    node = LLMNode("answer", prompt=prompt, writes=["answer"], check=reply_problem, retry=retry)
    wf = Workflow("one", State)
    wf.add(node)
    wf.edge(START, "answer")
    trace = await wf.arun({"question": "Why?"}, deps=SimpleNamespace(llm=model))
    assert trace.state["answer"] == "Done."
    assert [(call.attempt, call.attempts) for call in model.calls] == [(1, 3), (2, 3)]
