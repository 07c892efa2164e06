"""Lesson 01's exercises: one LLM node, its structured output, its cost, its contract.

The checkers ask the offline teaching model themselves (never the learner's backend),
so an answer is compared with what the kit computes today, not with a number written
down when the stand-in model was different.
"""

from __future__ import annotations

from typing import Any, get_args

from . import exercise, expect

MARIA = "Hi, this is Maria. Where is my order #55555? Thanks!"
"""The message of exercise 01.1 (the lesson's text names it)."""


def _offline_client() -> tuple[Any, Any]:
    """A sync SDK client for the offline model, whatever the environment says: a check
    must not depend on (or pay for) the learner's API key."""
    from openai import OpenAI

    from support_lib.kit import local_mock
    from support_lib.llm import resolve_backend

    backend = resolve_backend(local_mock().openai_base_url, env={})
    return OpenAI(base_url=backend.base_url, api_key=backend.api_key), backend


def _parse(prompt: Any, output_model: type, message: str) -> Any:
    """One structured call, as the lesson makes it (section 3): the parsed reply."""
    client, backend = _offline_client()
    with client:
        return client.chat.completions.parse(
            model=backend.model,
            messages=prompt.render({"customer_message": message}),
            response_format=output_model,
            temperature=0.1,
        )


async def _run_offline(workflow: Any, inputs: dict[str, Any]) -> Any:
    """Run the learner's workflow against the offline model; a failed run is returned."""
    from support_lib.kit import local_mock, open_deps
    from support_lib.llm import resolve_backend

    server = local_mock()
    backend = resolve_backend(server.openai_base_url, env={})
    async with open_deps(server.url, backend=backend) as deps:
        return await workflow.arun(inputs, deps=deps, check=False)


def _validated(workflow: Any) -> None:
    """The build-time checks, as a plain-words problem instead of a traceback."""
    from support_lib.engine import Workflow, WorkflowDefinitionError

    expect(isinstance(workflow, Workflow), f"give a Workflow, not {type(workflow).__name__}")
    try:
        workflow.validate()
    except WorkflowDefinitionError as exc:
        expect(False, f"validate() refuses the workflow: {exc}")


@exercise(
    "01.1",
    "what another message changes",
    hint="Extract Maria's message as in section 3 (or run one_node on it), extract the "
    "default message too, and compare the two CustomerInfo dicts field by field.",
    solution=f"""
from openai import OpenAI
from support_lib.kit import local_mock
from support_lib.llm import resolve_backend
from support_lib.workflow import DEFAULT_MESSAGE, CustomerInfo
from support_lib.workflow.analysis import EXTRACT_PROMPT

backend = resolve_backend(local_mock().openai_base_url)
client = OpenAI(base_url=backend.base_url, api_key=backend.api_key)


def facts_of(text):
    reply = client.chat.completions.parse(
        model=backend.model, messages=EXTRACT_PROMPT.render({{"customer_message": text}}),
        response_format=CustomerInfo, temperature=0.1)
    return reply.choices[0].message.parsed.model_dump()


before, after = facts_of(DEFAULT_MESSAGE), facts_of({MARIA!r})
answer = {{field for field in before if before[field] != after[field]}}
""",
    wrong=(
        'answer = {"customer_name", "order_id"}',
        'answer = {"customer_name", "order_id", "product", "urgency", "subject"}',
    ),
)
def _changed_fields(answer: Any) -> None:
    from support_lib.workflow import DEFAULT_MESSAGE, CustomerInfo
    from support_lib.workflow.analysis import EXTRACT_PROMPT

    fields = list(CustomerInfo.model_fields)
    expect(
        isinstance(answer, (set, frozenset, list, tuple)) and not isinstance(answer, str),
        f"give the names of the fields that changed, as a set of strings (fields: {fields})",
    )
    names = {str(name) for name in answer}
    unknown = sorted(names - set(fields))
    expect(not unknown, f"{unknown} are not fields of CustomerInfo; its fields are {fields}")
    before = _parse(EXTRACT_PROMPT, CustomerInfo, DEFAULT_MESSAGE).choices[0].message.parsed
    after = _parse(EXTRACT_PROMPT, CustomerInfo, MARIA).choices[0].message.parsed
    changed = {name for name in fields if getattr(before, name) != getattr(after, name)}
    stayed = sorted(names - changed)
    expect(not stayed, f"{stayed} came out the same for both messages")
    missed = changed - names
    expect(
        not missed,
        f"{len(missed)} more field(s) changed: compare all {len(fields)} fields, also those "
        "the customer does not state outright",
    )


_ORDER_FACTS = """
from pydantic import BaseModel, Field
from support_lib.llm import response_format
from support_lib.workflow import Urgency


class OrderFacts(BaseModel):
    order_id: str | None
    urgency: Urgency
    customer_name: {name}
    product: str | None = {product}


answer = {answer}
"""
"""01.2's answer, with the new fields and what is given back left open."""

_DESCRIBED = 'Field(default=None, description="The product concerned, or null")'


@exercise(
    "01.2",
    "the schema that is really sent",
    hint="Add the two fields to OrderFacts, then answer with response_format(OrderFacts) "
    "(the strict form that is sent), not with OrderFacts.model_json_schema().",
    solution=_ORDER_FACTS.format(
        name="str", product=_DESCRIBED, answer="response_format(OrderFacts)"
    ),
    wrong=(
        _ORDER_FACTS.format(
            name="str", product=_DESCRIBED, answer="OrderFacts.model_json_schema()"
        ),
        _ORDER_FACTS.format(
            name="str | None", product="None", answer="response_format(OrderFacts)"
        ),
    ),
)
def _strict_schema(answer: Any) -> None:
    expect(
        isinstance(answer, dict), f"give the dict response_format(...) returns, not {answer!r:.80}"
    )
    expect(
        "json_schema" in answer,
        "that is Pydantic's own schema (model_json_schema()); give response_format(OrderFacts), "
        "the strict form that is sent",
    )
    schema = answer["json_schema"]["schema"]
    props = schema.get("properties", {})
    missing = [f for f in ("order_id", "urgency", "customer_name", "product") if f not in props]
    expect(not missing, f"the schema has no field {missing}: add them to OrderFacts")
    expect(
        props["customer_name"].get("type") == "string",
        "customer_name should be a plain str (a name is always given, at least 'Unknown')",
    )
    product = props["product"]
    options = {option.get("type") for option in product.get("anyOf", [])}
    expect(options == {"string", "null"}, "product should be str | None (anyOf string, null)")
    expect(product.get("description"), "product has no description: use Field(description=...)")
    expect("default" not in product, "the strict form leaves out a null default")
    expect(
        set(props) <= set(schema.get("required", [])),
        "in the strict form every field is required, product too",
    )


# fmt: off
PRIORITY_CASES = {
    "P1": "high", " p1 ": "high", "P2": "medium", "p2": "medium", "P9": "low", "P12": "low",
    "urgent": "low", "": "low", "high": "high", "medium": "medium", "low": "low",
}
# fmt: on
"""What a right normaliser makes of each raw value: the checker's own cases."""

_PRIORITY = """
from typing import Literal
from pydantic import BaseModel, field_validator


class Priority(BaseModel):
    level: Literal["high", "medium", "low"]

    @field_validator("level"{mode})
    @classmethod
    def from_code(cls, value):
{body}


answer = Priority
"""
"""01.3's answer, with the validator's mode and body left open."""


@exercise(
    "01.3",
    "your own normaliser",
    hint="A validator with mode='before' sees the raw value before the Literal check does, "
    "and what it returns is then checked against the Literal. Test your own odd values too.",
    solution=_PRIORITY.format(
        mode=', mode="before"',
        body='''        text = str(value).strip().lower()
        text = {"p1": "high", "p2": "medium"}.get(text, text)
        return text if text in ("high", "medium", "low") else "low"''',
    ),
    wrong=(
        _PRIORITY.format(
            mode="", body='        return {"P1": "high", "P2": "medium"}.get(value, "low")'
        ),
        # runs first, but lets what it does not know through to the Literal check
        _PRIORITY.format(
            mode=', mode="before"',
            body="""        text = str(value).strip().lower()
        return {"p1": "high", "p2": "medium"}.get(text, text)""",
        ),
        _PRIORITY.format(
            mode=', mode="before"',
            body='''        text = str(value).strip().upper()
        if text.startswith("P1"):
            return "high"
        return "medium" if text.startswith("P2") else "low"''',
        ),
    ),
)
def _normaliser(answer: Any) -> None:
    import pydantic

    expect(
        isinstance(answer, type) and issubclass(answer, pydantic.BaseModel),
        "give the Pydantic class Priority itself (not an instance)",
    )
    field = answer.model_fields.get("level")
    expect(field is not None, "Priority needs a field named level")
    expect(
        set(get_args(field.annotation)) == {"high", "medium", "low"},
        'level should be Literal["high", "medium", "low"]',
    )
    modes = {
        getattr(decorator.info, "mode", None)
        for decorator in answer.__pydantic_decorators__.field_validators.values()
        if "level" in decorator.info.fields or "*" in decorator.info.fields
    }
    for raw, level in PRIORITY_CASES.items():
        try:
            got = answer.model_validate({"level": raw}).level
        except pydantic.ValidationError:
            expect(
                modes & {"before", "plain", "wrap"},
                f"model_validate({{'level': {raw!r}}}) was refused: the validator "
                "must run before the Literal check (mode='before')",
            )
            expect(
                False,
                f"model_validate({{'level': {raw!r}}}) was refused: your validator runs "
                f"first, but what it returns for {raw!r} is not one of the three levels; "
                "anything it does not know should become 'low'",
            )
        expect(got == level, f"{raw!r} should give {level!r}, yours gives {got!r}")


MODELS_01_4 = ("gpt-4.1-mini", "gpt-4.1-nano", "gpt-4")


def _three_calls_tokens() -> list[tuple[int, int]]:
    """(prompt, completion) tokens of each of the default message's three analyses, offline."""
    from support_lib.workflow import (
        DEFAULT_MESSAGE,
        CustomerInfo,
        InquiryClassification,
        SentimentAnalysis,
    )
    from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT

    calls = [
        (EXTRACT_PROMPT, CustomerInfo),
        (CLASSIFY_PROMPT, InquiryClassification),
        (SENTIMENT_PROMPT, SentimentAnalysis),
    ]
    return [
        (u.prompt_tokens, u.completion_tokens)
        for u in (_parse(prompt, output, DEFAULT_MESSAGE).usage for prompt, output in calls)
    ]


@exercise(
    "01.4",
    "the budget of 10,000 messages",
    hint="Make the three calls for the default message, add up their prompt tokens and their "
    "completion tokens, price the sums with estimate_cost(model, ...) and multiply by 10,000.",
    solution="""
from openai import OpenAI
from support_lib.kit import local_mock
from support_lib.llm import estimate_cost, resolve_backend
from support_lib.workflow import (DEFAULT_MESSAGE, CustomerInfo, InquiryClassification,
                                  SentimentAnalysis)
from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT

backend = resolve_backend(local_mock().openai_base_url)
client = OpenAI(base_url=backend.base_url, api_key=backend.api_key)
prompt_tokens = completion_tokens = 0
for prompt, output_model in [(EXTRACT_PROMPT, CustomerInfo),
                             (CLASSIFY_PROMPT, InquiryClassification),
                             (SENTIMENT_PROMPT, SentimentAnalysis)]:
    usage = client.chat.completions.parse(
        model=backend.model, messages=prompt.render({"customer_message": DEFAULT_MESSAGE}),
        response_format=output_model, temperature=0.1).usage
    prompt_tokens += usage.prompt_tokens
    completion_tokens += usage.completion_tokens
answer = {model: 10_000 * estimate_cost(model, prompt_tokens, completion_tokens)
          for model in ["gpt-4.1-mini", "gpt-4.1-nano", "gpt-4"]}
""",
    wrong=(
        # the extraction only: one call per message instead of three
        'answer = {"gpt-4.1-mini": 2.05, "gpt-4.1-nano": 0.51, "gpt-4": 129.6}',
        # one message, not 10,000
        'answer = {"gpt-4.1-mini": 0.0004, "gpt-4.1-nano": 0.0001, "gpt-4": 0.0265}',
    ),
)
def _budget(answer: Any) -> None:
    from support_lib.llm import estimate_cost

    expect(isinstance(answer, dict), "give a dict: model name -> dollars for 10,000 messages")
    missing = [m for m in MODELS_01_4 if m not in answer]
    expect(not missing, f"no cost for {missing} yet")
    calls = _three_calls_tokens()
    prompt, completion = sum(p for p, _ in calls), sum(c for _, c in calls)
    for model in MODELS_01_4:
        right = 10_000 * estimate_cost(model, prompt, completion)
        got = answer[model]
        expect(isinstance(got, (int, float)), f"the cost for {model} should be a number")
        ratio = got / right if right else 0
        slips = {  # what a cost that is too low may have left out
            "you priced only the prompt tokens: add the completion tokens": (prompt, 0),
            "you priced only the completion tokens: add the prompt tokens": (0, completion),
            "that is what the extraction alone costs: count all three calls per message": calls[0],
        }
        for slip, (p, c) in slips.items():
            cost = 10_000 * estimate_cost(model, p, c)
            expect(not (cost and abs(got / cost - 1) < 0.02), f"{model}: ${got:.2f}: {slip}")
        expect(
            not 0.1 < ratio < 0.9,
            f"{model}: ${got:.2f} is too low: count the prompt and the completion tokens of "
            "all three calls per message",
        )
        expect(ratio > 0.001, f"{model}: ${got:.6f} looks like one message, not 10,000")
        expect(
            abs(ratio - 1) < 0.02,
            f"{model}: ${got:.2f} is not what the three calls cost 10,000 times",
        )


GREET_MESSAGE = "Hello, I'm Priya Shah. My order #4242 arrived broken, can you replace it?"
"""The checker's own message for 01.5 (not the one the lesson uses)."""


async def _greet_trace(node: Any) -> Any:
    """The learner's greet node after the workflow's extraction, on the checker's message."""
    from typing import Required

    from typing_extensions import TypedDict

    from support_lib.engine import START, Workflow
    from support_lib.workflow import CustomerInfo
    from support_lib.workflow.analysis import extract_customer_info

    state = {"customer_message": Required[str], "customer_info": CustomerInfo, "greeting": str}
    greet_state = TypedDict("GreetState", state, total=False)  # type: ignore[operator]

    wf = Workflow("peek_checked", greet_state)
    wf.add(extract_customer_info)
    wf.add(node)
    wf.edge(START, "extract_customer_info").edge("extract_customer_info", node.name)
    _validated(wf)
    return await _run_offline(wf, {"customer_message": GREET_MESSAGE})


_GREET = """
from support_lib.engine import FunctionNode


def greet(inputs):
    name = inputs["customer_info"]["customer_name"]
    return {{"greeting": {greeting}}}


answer = FunctionNode("greet", greet, writes=["greeting"],
                      reads={reads})
"""
"""01.5's answer, with the greeting and the declared reads left open."""

_QUOTED = "f\"Hello {name}, about: {inputs['customer_message'][:30]}\""


@exercise(
    "01.5",
    "keep the contract",
    hint="Read the error of section 6 again: it says which key greet reads without "
    "declaring it. The node must declare every key its function reads.",
    solution=_GREET.format(greeting=_QUOTED, reads='["customer_info", "customer_message"]'),
    wrong=(
        _GREET.format(greeting=_QUOTED, reads='["customer_info"]'),
        _GREET.format(greeting='f"Hello {name}"', reads='["customer_info"]'),
    ),
)
async def _contract(answer: Any) -> None:
    from support_lib.engine import Node

    expect(isinstance(answer, Node), "give the greet node (peek.nodes['greet']), not the workflow")
    expect(answer.writes == ("greeting",), "the node should still write exactly 'greeting'")
    trace = await _greet_trace(answer)
    expect(trace.status == "completed", f"the run failed: {(trace.error or '')[:240]}")
    greeting = trace.state["greeting"]
    name = trace.state["customer_info"]["customer_name"]
    expect(greeting.startswith(f"Hello {name}"), f"the greeting is {greeting[:80]!r}")
    expect(
        GREET_MESSAGE[:30] in greeting,
        "keep greet as it was (it quotes the message): change only the node's declaration",
    )


SUMMARY_MESSAGE = "Good morning, Tom Berg here. The blender from order #8080 stopped working."
"""The checker's own message for 01.6."""


_SUMMARY_SETUP = """
from typing_extensions import Required, TypedDict
from support_lib.engine import START, Workflow
from support_lib.llm import LLMNode, Prompt
from support_lib.workflow import CustomerInfo
from support_lib.workflow.analysis import extract_customer_info

class SummaryState(TypedDict, total=False):
    customer_message: Required[str]
    customer_info: CustomerInfo
    summary: str

answer = Workflow("summary", SummaryState)
answer.add(extract_customer_info)
"""
"""A wrong answer's start: the state and the extraction."""


@exercise(
    "01.6",
    "a second node",
    hint="The summarize node is an LLMNode with writes=['summary'] and no output_model; its "
    "prompt uses {{customer_info.subject}} and {{customer_message}}; it needs the edge "
    "extract → summarize, because it reads what extract writes.",
    solution="""
from typing_extensions import Required, TypedDict
from support_lib.engine import START, Workflow
from support_lib.llm import LLMNode, Prompt
from support_lib.workflow import CustomerInfo
from support_lib.workflow.analysis import EXTRACT_PROMPT


class ExtractState(TypedDict, total=False):
    customer_message: Required[str]
    customer_info: CustomerInfo


class SummaryState(ExtractState, total=False):
    summary: str


answer = Workflow("summary", SummaryState)
answer.add(LLMNode("extract", prompt=EXTRACT_PROMPT, output_model=CustomerInfo,
                   writes=["customer_info"]))
answer.add(LLMNode("summarize", writes=["summary"], prompt=Prompt(
    system="Summarise the customer's request in one sentence for the support team.",
    user="<subject>{{customer_info.subject}}</subject>\\n"
         "<customer_message>\\n{{customer_message}}\\n</customer_message>")))
answer.edge(START, "extract").edge("extract", "summarize")
""",
    wrong=(
        _SUMMARY_SETUP
        + """
answer.add(LLMNode("summarize", writes=["summary"], prompt=Prompt(
    system="Summarise the request.",
    user="{{customer_info.subjct}}: {{customer_message}}")))
answer.edge(START, "extract_customer_info").edge("extract_customer_info", "summarize")
""",
        _SUMMARY_SETUP
        + """
answer.add(LLMNode("summarize", writes=["summary"], prompt=Prompt(
    system="Summarise the request.",
    user="{{customer_info.subject}}: {{customer_message}}")))
answer.edge(START, "extract_customer_info").edge(START, "summarize")
""",
    ),
)
async def _second_node(answer: Any) -> None:
    _validated(answer)
    node = answer.nodes.get("summarize")
    expect(node is not None and node.kind == "llm", "add an LLM node named 'summarize'")
    expect(node.output_model is None, "summarize answers free text: give it no output_model")
    wanted = {"customer_info.subject", "customer_message"}
    expect(
        wanted <= set(node.placeholders),
        "its prompt should use {{customer_info.subject}} and {{customer_message}}",
    )
    trace = await _run_offline(answer, {"customer_message": SUMMARY_MESSAGE})
    expect(trace.status == "completed", f"the run failed: {(trace.error or '')[:240]}")
    summary = trace.state.get("summary")
    expect(isinstance(summary, str) and summary.strip(), f"summary is {summary!r:.80}")
    sent = "\n".join(m["content"] for m in trace.node("summarize").inputs["messages"])
    subject = trace.state["customer_info"]["subject"]
    expect(
        subject in sent and SUMMARY_MESSAGE in sent,
        "the prompt sent to the model should hold the subject and the message",
    )
