"""People in the loop (a mode, off by default): they approve high-stakes replies and answer
escalated cases.

- ``approval_gate``: before an automatic reply goes out, a person approves it, edits it,
  or rejects it (then an agent writes the reply) when the stakes are high. What counts as
  high stakes is data (``HIGH_STAKES_WORDS``, ``HIGH_STAKES_ACTIONS``, the legal words):
  change it and the rule changes.
- ``wait_for_agent`` / ``agent_takes_over``: an escalated or rejected case waits for an
  agent's reply, which is then sent to the customer and logged with who answered and
  how long the customer waited.

Each asks with ``ctx.interrupt(question)``: the run stops with status "waiting", and
carries on when someone answers (``kit.aresume(run, answer)``, the CLI's ``resume``, the
webhook, the app's inbox). Answers: approval ``{"decision": "approve" | "edit" | "reject",
"text": ... (for edit), "by": ...}``; agent ``{"reply": ..., "by": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from typing_extensions import TypedDict

from ..engine import Node, NodeContext
from ..inputs import InvalidInputError, check_text
from .common import words_found
from .escalation import legal_words_in

HIGH_STAKES_WORDS = (
    "refund*", "refnd*", "money back", "money bak", "reimburse*", "compensation",
    "delete my account", "close my account", "cancel my account",
    # Spanish, French, German, Russian, Chinese, as for the legal words
    "reembols*", "devolución del dinero", "devolución de mi dinero", "rembours*",
    "rückerstattung*", "erstatt*", "geld zurück", "возврат*", "вернуть деньги",
    "верните деньги", "верните мои деньги", "вернуть мои деньги", "退款", "退钱", "退给我",
)  # fmt: skip
HIGH_STAKES_ACTIONS = ("refund_eligible", "account_suspended", "payment_issue")
"""A reply is held for approval when the message has one of these words (or a legal word)
or the account analysis found one of these actions."""


def high_stakes(message: str, account_action: str | None) -> list[str]:
    """Why a reply to this message needs a person's approval (empty: it does not)."""
    words = words_found(HIGH_STAKES_WORDS, message)
    reasons = [f"the message mentions {', '.join(words)}"] if words else []
    legal = legal_words_in(message)
    if legal:
        reasons.append(f"legal words ({', '.join(legal)})")
    if account_action in HIGH_STAKES_ACTIONS:
        reasons.append(f"the account is {account_action.replace('_', ' ')}")
    return reasons


class HumanDecision(TypedDict):
    """What a person did in this run, as the state and the analytics log keep it."""

    role: Literal["approver", "agent"]
    by: str
    decision: Literal["approve", "edit", "reject", "replied"]
    waited_ms: float | None


MAX_NAME_CHARS = 200
"""Who answered goes into the trace and the analytics log: a name, not an essay."""


class Approval(BaseModel):
    decision: Literal["approve", "edit", "reject"]
    text: str | None = Field(None, description="the reply to send instead (edit)")
    by: str = "a support lead"

    @model_validator(mode="after")
    def _edit_has_text(self) -> Approval:
        if self.decision == "edit":
            self.text = check_text(self.text, "edited reply")
        self.by = check_text(self.by, "name of who answers", limit=MAX_NAME_CHARS)
        return self


class AgentReply(BaseModel):
    reply: str
    by: str = "an agent"

    @model_validator(mode="after")
    def _reply_is_text(self) -> AgentReply:
        self.reply = check_text(self.reply, "agent's reply")
        self.by = check_text(self.by, "name of who answers", limit=MAX_NAME_CHARS)
        return self


def _decision(role: str, by: str, decision: str, ctx: NodeContext[Any]) -> HumanDecision:
    return {"role": role, "by": by, "decision": decision, "waited_ms": ctx.waited_ms}  # type: ignore[typeddict-item]


class ApprovalGate(Node[Any]):
    """Hold a high-stakes reply until a person approves, edits or rejects it."""

    def __init__(self) -> None:
        super().__init__(
            "approval_gate",
            label="Approve High-Stakes Reply",
            reads=("customer_message", "final_response", "account_action"),
            writes=("final_response", "human"),
            defaults={"account_action": None},
            routes=("send", "agent"),
            route=lambda view: (
                "agent" if (view["human"] or {}).get("decision") == "reject" else "send"
            ),
        )

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[Any]) -> dict[str, Any]:
        reply = inputs["final_response"]
        reasons = high_stakes(inputs["customer_message"], inputs["account_action"])
        if not reasons:
            return {"final_response": reply, "human": None}
        question = {"kind": "approval", "reply": reply, "why": reasons,
                    "choices": ["approve", "edit", "reject"]}  # fmt: skip
        answer = Approval.model_validate(ctx.interrupt(question))
        text = answer.text if answer.decision == "edit" else reply
        return {"final_response": text,
                "human": _decision("approver", answer.by, answer.decision, ctx)}  # fmt: skip


class WaitForAgent(Node[Any]):
    """Wait for an agent to write the reply (an escalated case, or a rejected draft)."""

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[Any]) -> dict[str, Any]:
        ticket = inputs.get("escalation_ticket") or {}
        question = {
            "kind": "agent_reply",
            "message": inputs["customer_message"],
            "draft": inputs["final_response"],
            "ticket": ticket.get("ticket_id"),
        }
        answer = AgentReply.model_validate(ctx.interrupt(question))
        return {"final_response": answer.reply,
                "human": _decision("agent", answer.by, "replied", ctx)}  # fmt: skip


def wait_for_agent(name: str, label: str) -> WaitForAgent:
    return WaitForAgent(
        name,
        label=label,
        reads=("customer_message", "final_response", "escalation_ticket"),
        writes=("final_response", "human"),
        defaults={"escalation_ticket": None},
    )


class AnswerError(ValueError):
    """A person's answer that does not fit the question: the run keeps waiting."""


def check_answer(waiting_for: Mapping[str, Any] | None, answer: Any) -> None:
    """Refuse an answer that does not fit what the run waits for, before it resumes: a
    wrong answer must leave the run waiting for a right one, not fail it."""
    kind = ((waiting_for or {}).get("question") or {}).get("kind")
    shape = {"approval": Approval, "agent_reply": AgentReply}.get(kind)
    if shape is None:
        return
    try:
        shape.model_validate(answer)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        needed = "approve, edit (with the text) or reject"
        if shape is AgentReply:
            needed = "the agent's reply text"
        shown = repr(answer)[:80]
        raise AnswerError(f"this run waits for {needed}; the answer {shown} does not fit") from exc


def answer_for(
    question: Mapping[str, Any], decision: str | None, text: str | None, by: str
) -> dict:
    """A person's answer in the shape the waiting node asks for (every front door builds
    it here): an agent gives ``text`` as the reply; an approver approves, edits (with
    ``text``) or rejects."""
    try:
        if question.get("kind") == "agent_reply":
            if not text:
                raise ValueError("this run waits for an agent's reply: give the reply's text")
            return AgentReply(reply=text, by=by).model_dump()
        decision = decision or ("edit" if text else None)
        if decision not in ("approve", "edit", "reject"):
            raise ValueError(
                "this run waits for an approval: approve, edit (with the text) or reject"
            )
        return Approval(
            decision=decision, text=text if decision == "edit" else None, by=by
        ).model_dump()
    except ValidationError as exc:  # one sentence for the person, not Pydantic's report
        error = exc.errors()[0]
        field = ".".join(map(str, error["loc"])) or "text"
        raise InvalidInputError(field, error["msg"].removeprefix("Value error, ")) from None
