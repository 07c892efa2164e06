"""Turning answers into JSON that matches a JSON schema - any schema.

Structured output in the kit means: the request carries a JSON schema (made by the openai SDK
from a Pydantic class) and the reply must validate against it. For the workflow's own classes
the offline model already knows the answer (``known`` values). But a learner can add fields or
whole new nodes, so instead of returning a fixed dict we *walk the schema*: every property is
filled from, in order,

1. the known value for that field, if it fits the field's schema;
2. a value chosen by the field's *name* (``summary``, ``reason``, ``sentiment``, ``priority``...);
3. a type-based default (enum -> best keyword match, string -> something relevant,
   integer -> a small number, boolean -> false, array -> one or two items).

``$ref``/``$defs``, ``anyOf`` with ``null`` (Optional), enums and nested objects are handled.
"""

from __future__ import annotations

import re
from typing import Any

from support_lib.workflow import ACCOUNT_ACTIONS, DECISIONS, SENTIMENTS, TONES, URGENCIES

from .classify import CATEGORIES
from .decisions import decide_escalation, follow_up_plan, response_context, suggested_solutions
from .extract import first_name
from .facts import Facts
from .replies import write_reply
from .text import normalize, stable_hash
from .writing import summary_sentence

MAX_DEPTH = 4  # deeper than this, optional fields are null and arrays are empty
MAX_NESTING = 32  # deeper than this no answer is made: see SchemaError
MAX_ASKED = 10_000  # the most characters or items a schema may ask for at least


class SchemaError(ValueError):
    """No answer can be made for this schema: it nests deeper than ``MAX_NESTING`` (as a
    model whose required field is the model itself does, without end), or it asks for more
    than ``MAX_ASKED`` characters or items at least."""


MISSING = object()  # "no opinion", as opposed to an explicit None (unknown order id)

LABEL_SETS: list[tuple[str, tuple[str, ...]]] = [
    ("sentiment", SENTIMENTS),
    ("inquiry_type", CATEGORIES),
    ("urgency", URGENCIES),
    ("decision", DECISIONS),
    ("account_action", ACCOUNT_ACTIONS),
    ("tone", TONES),
]
SYNONYMS = {
    "urgent": "high", "critical": "high", "p1": "high", "normal": "medium", "moderate": "medium",
    "p2": "medium", "p3": "low", "minor": "low", "angry": "negative", "frustrated": "negative",
    "unhappy": "negative", "upset": "negative", "happy": "positive", "satisfied": "positive",
    "calm": "neutral", "mixed": "neutral", "tech": "technical", "support": "technical",
    "payment": "billing", "payments": "billing", "delivery": "shipping", "other": "general",
    "login": "account", "yes": "escalate", "human": "escalate", "respond": "generate_response",
    "reply": "generate_response", "auto": "generate_response",
}  # fmt: skip


def canonical_label(value: Any) -> str | None:
    """Map an enum value onto one of the kit's labels, or ``None``."""
    text = re.sub(r"[^a-z0-9_]", "", re.sub(r"[\s\-]+", "_", str(value).lower()))
    if text in SYNONYMS:
        return SYNONYMS[text]
    for _, labels in LABEL_SETS:
        if text in labels:
            return text
    if len(text) >= 3:  # "neg" -> negative, "tech" -> technical, "billing_issue" -> billing
        for _, labels in LABEL_SETS:
            for label in labels:
                if label.startswith(text) or text.startswith(label):
                    return label
    return None


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class SchemaFiller:
    """Fill a JSON schema with values derived from ``facts`` (see the module docstring)."""

    def __init__(self, root: dict, facts: Facts, known: dict | None, extras: dict | None = None):
        self.root = root if isinstance(root, dict) else {}
        self.facts = facts
        self.known = known or {}
        self.extras = extras or {}  # account_action, quality, email ... from the prompt
        self.depth = 0  # nesting of objects, to stop recursive schemas
        self.nesting = 0  # nesting of fill() calls, to refuse schemas that never end
        self.item_text: Any = None  # the known text for the list item being filled

    # -- schema helpers ---------------------------------------------------------------------

    def resolve(self, schema: Any, seen: int = 0) -> dict:
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and seen < 20:
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return self.resolve(merged, seen + 1)
        return schema

    def conforms(self, value: Any, schema: Any) -> bool:
        """A small JSON-schema validator covering what structured outputs use."""
        schema = self.resolve(schema)
        if not schema:
            return True
        if "const" in schema:
            return value == schema["const"]
        if "enum" in schema and value not in schema["enum"]:
            return False
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return any(self.conforms(value, s) for s in schema[key])
        if "allOf" in schema and not all(self.conforms(value, s) for s in schema["allOf"]):
            return False
        types = schema.get("type")
        if types is None:
            return True
        types = types if isinstance(types, list) else [types]
        return any(self._conforms_type(value, t, schema) for t in types)

    def _conforms_type(self, value: Any, t: str, schema: dict) -> bool:
        if t == "null":
            return value is None
        if t == "boolean":
            return isinstance(value, bool)
        if t in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            if t == "integer" and not isinstance(value, int):
                return False
            lo, hi = schema.get("minimum"), schema.get("maximum")
            return (lo is None or value >= lo) and (hi is None or value <= hi)
        if t == "string":
            return isinstance(value, str) and len(value) >= schema.get("minLength", 0)
        if t == "array":
            if not isinstance(value, list):
                return False
            if len(value) < schema.get("minItems", 0):
                return False
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                return False
            return all(self.conforms(v, schema.get("items", {})) for v in value)
        if t == "object":
            if not isinstance(value, dict):
                return False
            props = schema.get("properties", {})
            if any(k not in value for k in schema.get("required", [])):
                return False
            if schema.get("additionalProperties") is False and any(k not in props for k in value):
                return False
            return all(self.conforms(value[k], props[k]) for k in value if k in props)
        return True

    # -- filling ----------------------------------------------------------------------------

    def fill(self, schema: Any = None, name: str = "", index: int = 0, top: bool = False) -> Any:
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise SchemaError(
                    f"The response_format schema nests more than {MAX_NESTING} deep (a "
                    "required field whose type is its own model never ends): make such "
                    "fields optional."
                )
            return self._fill(schema, name, index, top)
        finally:
            self.nesting -= 1

    def _fill(self, schema: Any, name: str, index: int, top: bool) -> Any:
        schema = self.resolve(self.root if schema is None else schema)
        for key in ("minLength", "minItems"):
            asked = schema.get(key, 0)
            if isinstance(asked, int) and asked > MAX_ASKED:
                raise SchemaError(
                    f"The response_format schema asks for {key} {asked:,}; the offline model "
                    f"writes at most {MAX_ASKED:,}."
                )
        if top and name in self.known and self.conforms(self.known[name], schema):
            return self.known[name]
        in_item = (
            isinstance(self.item_text, str) and FIELD_ALIASES.get(_key(name)) in ITEM_TEXT_FIELDS
        )
        if in_item and self.conforms(self.item_text, schema):
            return self.item_text
        candidate = self.by_name(name, schema, index)
        if candidate is not MISSING and self.conforms(candidate, schema):
            return candidate
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.choose_enum(schema["enum"], name)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            non_null = [b for b in branches if self.resolve(b).get("type") != "null"]
            nullable = len(non_null) < len(branches)
            if nullable and (candidate is None or self.depth >= MAX_DEPTH):
                return None
            return self.fill(non_null[0] if non_null else branches[0], name, index)
        if "allOf" in schema and schema["allOf"]:
            return self.fill(schema["allOf"][0], name, index)
        types = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(types, list):
            non_null = [t for t in types if t != "null"]
            if candidate is None and "null" in types:
                return None
            types = non_null[0] if non_null else "null"
        if "default" in schema and self.conforms(schema["default"], schema):
            return schema["default"]
        if candidate is None and types == "string":
            return "unknown"  # e.g. a non-optional order_id when the message has none
        return self.by_type(types, schema, name, index)

    def fill_object(self, schema: dict, top: bool = False) -> dict:
        props = schema.get("properties", {})
        self.depth += 1
        try:
            return {k: self.fill(v, k, 0, top=top) for k, v in props.items()}
        finally:
            self.depth -= 1

    def by_type(self, t: str, schema: dict, name: str, index: int) -> Any:
        if t == "object":
            return self.fill_object(schema)
        if t == "array":
            items = schema.get("items", {"type": "string"})
            count = max(schema.get("minItems", 0), min(2, schema.get("maxItems", 2)), 1)
            if "maxItems" in schema:
                count = min(count, schema["maxItems"])
            if self.depth >= MAX_DEPTH:  # a recursive model (a tree) must stop somewhere
                count = schema.get("minItems", 0)
            singular = name[:-1] if name.endswith("s") else name
            # A list of objects named like a known list ("steps", "key_points"): item i gets
            # the i-th known text, e.g. steps[0].description = the first suggested solution.
            texts = self.by_name(name, {"type": "array"}, 0)
            texts = texts if isinstance(texts, list) and texts else None
            if texts and self.resolve(items).get("type") == "object":
                count = min(max(count, len(texts)), schema.get("maxItems", len(texts)))
            result = []
            for i in range(count):
                outer, self.item_text = self.item_text, texts[i % len(texts)] if texts else None
                try:
                    result.append(self.fill(items, singular, i))
                finally:
                    self.item_text = outer
            return result
        if t == "boolean":
            return False
        if t == "integer":
            return int(self._clamp(1, schema))
        if t == "number":
            return float(self._clamp(1.0, schema))
        if t == "null":
            return None
        return self._string(schema, name, index)

    @staticmethod
    def _clamp(value: float, schema: dict) -> float:
        """Move ``value`` inside the field's (possibly exclusive) bounds."""
        lo, xlo = schema.get("minimum"), schema.get("exclusiveMinimum")
        hi, xhi = schema.get("maximum"), schema.get("exclusiveMaximum")
        lower = lo if lo is not None else xlo
        upper = hi if hi is not None else xhi
        if lower is not None and upper is not None:
            inside = (lo is None or value >= lo) and (xlo is None or value > xlo)
            inside = inside and (hi is None or value <= hi) and (xhi is None or value < xhi)
            if not inside:
                value = (lower + upper) / 2
                if schema.get("type") == "integer":
                    value = int(value)
        elif lower is not None and (value < lower or (xlo is not None and value <= xlo)):
            value = lower + (1 if xlo is not None and lo is None else 0)
        elif upper is not None and (value > upper or (xhi is not None and value >= xhi)):
            value = upper - (1 if xhi is not None and hi is None else 0)
        return value

    def _string(self, schema: dict, name: str, index: int) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2025-01-01T09:00:00Z"
        if fmt == "date":
            return "2025-01-01"
        if fmt == "email":
            return self.email()
        if fmt in ("uri", "url"):
            return "https://example.com/help"
        key = _key(name)
        if key in NOT_IN_MESSAGE:
            text = "unknown"
        elif index:
            text = f"{name.replace('_', ' ')} {index + 1}: {self.facts.issue.phrase}"
        else:
            text = self.facts.subject
        max_len = schema.get("maxLength")
        if max_len:
            text = text[:max_len]
        return text.ljust(schema.get("minLength", 0), ".")

    def choose_enum(self, values: list, name: str) -> Any:
        """The enum value matching what we know; else best keyword overlap; else the first.

        Enum values are mapped onto the kit's labels first ("NEG" -> negative, "Tech" ->
        technical, "P1" -> high), so a learner's own spelling of a label set still works.
        """
        if not values:
            return None
        mapped = [(value, canonical_label(value)) for value in values]
        key = _key(name)
        ranked = []
        for position, (label_name, label_set) in enumerate(LABEL_SETS):
            hits = sum(1 for _, label in mapped if label in label_set)
            named = bool(key) and (label_name in key or key in label_name)
            if hits or named:
                ranked.append((not named, -hits, position, label_name))
        for *_, label_name in sorted(ranked):
            wanted = self.label(label_name)
            for value, label in mapped:
                if wanted is not None and label == wanted:
                    return value
        message = normalize(self.facts.message)
        best, best_score = values[0], 0
        for value in values:
            stems = [w[:5] for w in re.split(r"[\s_\-]+", str(value).lower()) if len(w) > 2]
            score = sum(message.count(stem) for stem in stems)
            if score > best_score:
                best, best_score = value, score
        return best

    # -- values by field name ---------------------------------------------------------------

    def label(self, label_name: str) -> str | None:
        f = self.facts
        if label_name == "decision":
            return decide_escalation(f, self.extras.get("account_action"))[0]
        if label_name == "account_action":
            return self.extras.get("account_action")
        if label_name == "tone":
            return {"negative": "empathetic", "positive": "friendly"}.get(
                f.sentiment, "professional"
            )
        return getattr(f, label_name, None)

    def email(self) -> str:
        if self.extras.get("email"):
            return self.extras["email"]
        m = re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", self.facts.message)
        return m.group(0) if m else "customer@example.com"

    def by_name(self, name: str, schema: dict, index: int) -> Any:
        """A value chosen from the field's name, or MISSING when the name says nothing."""
        field = FIELD_ALIASES.get(_key(name))
        if field is None:
            return MISSING
        f, t = self.facts, schema.get("type")
        action = self.extras.get("account_action")
        quality = self.extras.get("quality")
        match field:
            case "customer_name":
                return f.customer_name or "Unknown"
            case "first_name":
                return first_name(f.customer_name) or "Unknown"
            case "order_id":
                return f.order_id
            case "product":
                return f.product
            case "email":
                return self.email()
            case "subject":
                return f.subject
            case "summary":
                return summary_sentence(f)
            case "reason":
                return (
                    f"The message reads as a {f.inquiry_type} inquiry with {f.sentiment} "
                    f"sentiment and {f.urgency} urgency ({f.subject})."
                )
            case "language":
                short = schema.get("maxLength", 99) < 7
                return f.language.code if short else f.language.name
            case "key_points" | "additional_info_needed" | "tone":
                return response_context(f, action, None)[field]
            case "solutions":
                return suggested_solutions(f, action)
            case "keywords":
                cues = [name.split(":", 1)[1] for name, _ in f.evidence["inquiry_type"].evidence]
                return [c for c in cues if ":" not in c][:3] or [f.inquiry_type]
            case "issues":
                return MISSING if quality else [f.subject]
            case "reply":
                return write_reply(f, action) if t in (None, "string") else MISSING
            case "ticket_id":
                return f"TICKET-{stable_hash(f.message) % 16**8:08X}"
            case "escalate":
                return decide_escalation(f, action)[0] == "escalate"
            case "is_urgent":
                return f.urgency == "high"
            case "is_question":
                return f.is_question if t == "boolean" else MISSING
            case "schedule_follow_up" | "follow_up_days":
                return follow_up_plan(f)[field]
            case "passed":
                return quality["score"] >= 7 if quality else MISSING
            case "score":
                if quality:
                    return quality["score"]
                return self._scaled(schema, {"negative": 0.1, "neutral": 0.5, "positive": 0.9}[
                    f.sentiment], default_max=5 if "rat" in name else 10)  # fmt: skip
            case "priority":
                if t not in ("integer", "number"):
                    return f.urgency
                return self._scaled(schema, {"high": 1.0, "medium": 0.5, "low": 0.0}[f.urgency], 3)
            case "confidence":
                return self._scaled(schema, 0.8, default_max=100 if t == "integer" else 1, low=0)
            case "inquiry_type":
                return f.inquiry_type
            case "urgency":
                return f.urgency
            case "decision":
                return decide_escalation(f, action)[0]
            case "account_action":
                return action
            case "sentiment":
                return f.sentiment
        return MISSING

    @staticmethod
    def _scaled(schema: dict, position: float, default_max: float, low: float = 1) -> Any:
        """A number at ``position`` (0..1) between the field's minimum and maximum."""
        lo = schema.get("minimum", low)
        hi = schema.get("maximum", default_max)
        value = lo + (hi - lo) * position
        return round(value) if schema.get("type") == "integer" else round(value, 2)


# Inside a list item, string fields with these meanings (or unknown names) take the item's text.
ITEM_TEXT_FIELDS = {None, "summary", "subject", "reason", "solutions", "keywords", "reply"}
# Facts a support message rarely states; better "unknown" than a made-up value.
NOT_IN_MESSAGE = {
    "city", "country", "address", "street", "zip", "zip_code", "postcode", "postal_code", "state",
    "region", "phone", "phone_number", "company", "company_name", "currency", "url", "website",
}  # fmt: skip

# Field names (normalised to snake_case) that say what a field means.
FIELD_ALIASES = {
    alias: field
    for field, aliases in {
        "customer_name": ("customer_name", "name", "full_name", "customer"),
        "first_name": ("first_name",),
        "order_id": ("order_id", "order_number", "order"),
        "product": ("product", "product_name", "item"),
        "email": ("email", "customer_email", "email_address"),
        "subject": ("subject", "title", "headline", "subject_line"),
        "summary": ("summary", "description", "gist", "overview", "synopsis", "issue_summary"),
        "reason": ("reason", "explanation", "rationale", "justification", "reasoning"),
        "language": ("language", "lang", "locale"),
        "key_points": ("key_points", "points", "highlights"),
        "additional_info_needed": ("additional_info_needed", "missing_info", "info_needed"),
        "tone": ("tone",),
        "solutions": ("suggested_solutions", "solutions", "steps", "next_steps", "actions",
                      "recommendations", "suggested_actions", "action_items"),
        "keywords": ("keywords", "tags", "topics", "cues", "labels"),
        "issues": ("issues", "problems"),
        "reply": ("response", "reply", "draft", "answer", "message_to_customer", "email_body"),
        "ticket_id": ("ticket_id", "id", "reference", "case_id"),
        "escalate": ("escalate", "needs_escalation", "should_escalate", "requires_human",
                     "needs_human", "escalated"),
        "is_urgent": ("is_urgent", "urgent"),
        "is_question": ("is_question", "question"),
        "schedule_follow_up": ("schedule_follow_up", "follow_up", "needs_follow_up"),
        "follow_up_days": ("follow_up_days", "days", "days_until_follow_up"),
        "passed": ("passed", "pass", "is_acceptable", "approved"),
        "score": ("score", "quality_score", "rating", "satisfaction", "satisfaction_score", "csat"),
        "priority": ("priority", "priority_level", "severity"),
        "confidence": ("confidence", "certainty", "probability"),
        "inquiry_type": ("category", "type", "department", "inquiry_category", "topic",
                         "inquiry_type"),
        "sentiment": ("mood", "emotion", "feeling", "customer_sentiment", "sentiment"),
        "urgency": ("urgency", "urgency_level"),
        "decision": ("decision", "escalation_decision"),
        "account_action": ("account_action",),
    }.items()
    for alias in aliases
}  # fmt: skip


def fill_schema(schema: dict, facts: Facts, known: dict | None, extras: dict | None = None) -> Any:
    """Return an instance of ``schema`` built from ``known`` values and ``facts``."""
    filler = SchemaFiller(schema, facts, known, extras)
    root = filler.resolve(schema)
    if root.get("type") == "object" or "properties" in root:
        return filler.fill_object(root, top=True)
    return filler.fill(root)
