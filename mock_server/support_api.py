"""The Go demo's support APIs: accounts, escalation, sending a reply, analytics.

Bodies may be any JSON object: the named fields below are the ones the workflow sends and
the server stores in columns; anything else is kept too (in the `body` column).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from .accounts import account_record
from .request_log import utc_now_iso
from .store import as_flag, as_number, as_text

router = APIRouter(tags=["support APIs (the Go demo's)"])


def new_id(prefix: str) -> str:
    """`ESC-3F2A9C1B7D4E`: 48 random bits, unique even for many calls in the same second
    (the Go demo used Unix seconds, so two calls in one second collided)."""
    return f"{prefix}-{secrets.token_hex(6).upper()}"


class AnyObject(BaseModel):
    """A JSON object with any extra fields allowed."""

    model_config = ConfigDict(extra="allow")


class EscalateRequest(AnyObject):
    message: Any = Field(None, description="the customer's message")
    customer_info: Any = Field(None, description="extracted customer info (an object)")
    inquiry_type: Any = None
    sentiment: Any = None
    priority: Any = Field(None, description="echoed back; 'high' if not given")
    ticket_id: Any = Field(None, description="the caller's own ticket id, if any")


class SendRequest(AnyObject):
    to: Any = Field(None, description="recipient (or use 'email')")
    email: Any = None
    subject: Any = None
    body: Any = Field(None, description="the reply text (or use 'message')")
    message: Any = None
    ticket_id: Any = None


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            detail="Missing bearer token: send the header 'Authorization: Bearer <token>' "
            "(the mock server accepts any non-empty token).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


@router.get("/accounts/{account_id}")
async def get_account(
    account_id: str, request: Request, authorization: str | None = Header(None)
) -> dict[str, Any]:
    """Account status; the status depends only on the id (see README, account mapping)."""
    _bearer_token(authorization)
    record = account_record(account_id)
    request.state.log_result = record["status"]
    return record


@router.post("/support/escalate")
async def escalate(payload: EscalateRequest, request: Request) -> dict[str, Any]:
    """Open an escalation ticket for a human agent."""
    info = payload.customer_info if isinstance(payload.customer_info, dict) else {}
    priority = payload.priority if payload.priority is not None else "high"
    reply = {
        "ticket_id": new_id("ESC"),
        "status": "escalated",
        "assigned_to": "senior_support_team",
        "priority": priority,
        "created_at": utc_now_iso(),
        "estimated_response": "2 hours",
    }
    request.app.state.store.insert(
        "escalations",
        {
            "ticket_id": reply["ticket_id"],
            "request_ticket_id": as_text(payload.ticket_id),
            "priority": as_text(priority),
            "inquiry_type": as_text(payload.inquiry_type),
            "sentiment": as_text(payload.sentiment),
            "customer_name": as_text(info.get("customer_name")),
            "customer_email": as_text(info.get("email")),
            "order_id": as_text(info.get("order_id")),
            "message": as_text(payload.message),
            "created_at": reply["created_at"],
            "body": as_text(payload.model_dump(exclude_unset=True)),
        },
    )
    request.state.log_result = f"{reply['ticket_id']} (priority {priority})"
    return reply


@router.post("/support/send")
async def send(payload: SendRequest, request: Request) -> dict[str, Any]:
    """'Send' a reply to the customer (nothing leaves the machine; it is stored)."""
    reply = {
        "message_id": new_id("MSG"),
        "status": "sent",
        "sent_at": utc_now_iso(),
        "delivery_status": "delivered",
    }
    request.app.state.store.insert(
        "sent_messages",
        {
            "message_id": reply["message_id"],
            "ticket_id": as_text(payload.ticket_id),
            "to_email": as_text(payload.to if payload.to is not None else payload.email),
            "subject": as_text(payload.subject),
            "message": as_text(payload.body if payload.body is not None else payload.message),
            "sent_at": reply["sent_at"],
            "body": as_text(payload.model_dump(exclude_unset=True)),
        },
    )
    request.state.log_result = reply["message_id"]
    return reply


@router.post("/analytics/log")
async def log_interaction(payload: AnyObject, request: Request) -> dict[str, Any]:
    """Record one interaction. Known fields get columns: ticket_id, inquiry_type, sentiment,
    escalated, quality_score (a number or {"score": n}), response_time_ms / response_time_s."""
    data = payload.model_dump()
    response_time_ms = as_number(data.get("response_time_ms"))
    if response_time_ms is None and as_number(data.get("response_time_s")) is not None:
        response_time_ms = as_number(data.get("response_time_s")) * 1000
    reply = {
        "log_id": new_id("LOG"),
        "status": "logged",
        "logged_at": utc_now_iso(),
        "indexed": True,
    }
    request.app.state.store.insert(
        "analytics_logs",
        {
            "log_id": reply["log_id"],
            "ticket_id": as_text(data.get("ticket_id")),
            "inquiry_type": as_text(data.get("inquiry_type")),
            "sentiment": as_text(data.get("sentiment")),
            "escalated": as_flag(data.get("escalated")),
            "quality_score": as_number(data.get("quality_score")),
            "response_time_ms": response_time_ms,
            "logged_at": reply["logged_at"],
            "body": as_text(data),
        },
    )
    request.state.log_result = reply["log_id"]
    return reply
