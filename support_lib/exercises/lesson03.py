"""Lesson 03's exercises: accounts on the billing route, routers, joins and their defaults.

A router is judged by running it: the checker puts the learner's ``Router`` in a small
graph of its own, with one node per route, and runs it on every case it chooses (every
inquiry type, every urgency), so a route that is off by one level or names the wrong
label shows up as the case it gets wrong. Expected values come from the kit itself (the
mock's account rule, the engine's build-time checks), never from a table written here.
"""

from __future__ import annotations

from typing import Any

from . import exercise, expect

ORDERS_03_1 = ("1001", "1003", "12345")


@exercise(
    "03.1",
    "vary the account",
    hint="Run branch with a billing message for each order (e.g. 'I was charged twice for "
    "order #1001'), and one that names no order; in each trace read "
    "state['account_lookup_id'] and state['account_status']['status'].",
    solution="""
import httpx
from support_lib.kit import local_mock
from support_lib.workflow.billing import account_lookup_id

# The ids Prepare Account Lookup picks (the order id, or its choice without one), and the
# status Fetch Account Status gets for each: running `branch` on four messages shows the same.
no_order = account_lookup_id({"customer_info": {"order_id": None}})["account_lookup_id"]
answer = {}
auth = {"Authorization": "Bearer demo"}
with httpx.Client(base_url=local_mock().url, headers=auth) as accounts:
    for lookup_id in ["1001", "1003", "12345", no_order]:
        answer[lookup_id] = accounts.get(f"/accounts/{lookup_id}").json()["status"]
""",
    wrong=(
        'answer = {"1001": "active", "1003": "active", "12345": "active", "unknown": "active"}',
        'answer = {"1001": "active", "1003": "refund_eligible", "12345": "suspended", '
        'None: "active"}',
        # the ids as numbers: the lookup ids are strings
        'answer = {1001: "active", 1003: "refund_eligible", 12345: "suspended"}',
    ),
)
def _accounts(answer: Any) -> None:
    from mock_server.accounts import status_for
    from support_lib.workflow.billing import account_lookup_id

    expect(isinstance(answer, dict), "give a dict: lookup id -> the account's status")
    no_order = account_lookup_id({"customer_info": {"order_id": None}})["account_lookup_id"]
    for order in ORDERS_03_1:
        expect(
            not (order not in answer and int(order) in answer),
            f"the key {int(order)} is a number: use the id as a string ({order!r}), as "
            "state['account_lookup_id'] holds it",
        )
        expect(order in answer, f"no status for order {order} (use the id without '#')")
    expect(
        no_order in answer,
        "a message without an order is looked up under some id too: which one did "
        "Prepare Account Lookup choose (state['account_lookup_id'])?",
    )
    for lookup_id in (*ORDERS_03_1, no_order):
        status = status_for(lookup_id)
        expect(
            answer[lookup_id] == status,
            f"the account for {lookup_id!r} is not {answer[lookup_id]!r:.40}: "
            "read state['account_status']['status'] from that run",
        )


def _describe(case: dict[str, Any]) -> str:
    """A case in a few words: its inquiry type and, if given, its urgency."""
    urgency = case.get("customer_info", {}).get("urgency")
    kind = case["inquiry_type"]
    return f"a {urgency}-urgency {kind} message" if urgency else f"a {kind} message"


async def _routes_taken(router: Any, cases: list[dict[str, Any]]) -> list[str]:
    """Run ``router`` in a graph of the checker's own (one node per route, each writing
    the route's name to 'went') on each case; the route taken in each, in order."""
    from typing import Required

    from typing_extensions import TypedDict

    from support_lib.engine import START, FunctionNode, Router, Workflow, WorkflowDefinitionError
    from support_lib.workflow import CustomerInfo, InquiryType

    expect(isinstance(router, Router), f"give a Router node, not {type(router).__name__}")
    keys: dict[str, Any] = {"inquiry_type": Required[InquiryType], "went": str}
    if "customer_info" in cases[0]:
        keys["customer_info"] = Required[CustomerInfo]
    wf = Workflow("routes_checked", TypedDict("RouteState", keys, total=False))  # type: ignore[operator]
    wf.add(router)
    wf.edge(START, router.name)
    for route in router.routes:
        wf.add(FunctionNode(f"on_{route}", lambda inputs, r=route: {"went": r}, writes=["went"]))
        wf.edge(router.name, f"on_{route}", when=route)
    try:
        wf.validate()
    except WorkflowDefinitionError as exc:
        expect(False, f"your router does not fit the checker's graph: {exc}")
    taken = []
    for case in cases:
        trace = await wf.arun(case, check=False)
        expect(trace.status == "completed", f"on {_describe(case)}: {(trace.error or '')[:240]}")
        taken.append(trace.state["went"])
    return taken


_THREE_ROUTES = """
from support_lib.engine import Router


def decide(inputs):
    kind = inputs["inquiry_type"]
{body}


answer = Router("check_route", decide, routes={routes}, reads=["inquiry_type"])
"""
"""03.2's answer, with the decision and the declared routes left open."""

_ROUTES = '("billing", "shipping", "default")'
_RIGHT = '    return kind if kind in ("billing", "shipping") else "default"'


@exercise(
    "03.2",
    "a third route",
    hint="Declare routes=('billing', 'shipping', 'default') and return exactly one of those "
    "names: 'billing' and 'shipping' for those two inquiry types, 'default' for all others.",
    solution=_THREE_ROUTES.format(body=_RIGHT, routes=_ROUTES),
    wrong=(
        # everything that is not billing goes to shipping
        _THREE_ROUTES.format(
            body='    return "billing" if kind == "billing" else "shipping"', routes=_ROUTES
        ),
        # a label that is not one of the declared routes
        _THREE_ROUTES.format(
            body='    return {"billing": "billing", "shipping": "ship"}.get(kind, "default")',
            routes=_ROUTES,
        ),
        _THREE_ROUTES.format(body=_RIGHT, routes='("billing", "shipping")'),
    ),
)
async def _third_route(answer: Any) -> None:
    from support_lib.workflow import INQUIRY_TYPES

    routes = sorted(getattr(answer, "routes", ()))
    expect(
        routes == ["billing", "default", "shipping"],
        f"the router's routes are {routes}, not billing, shipping and default",
    )
    cases = [{"inquiry_type": kind} for kind in INQUIRY_TYPES]
    for case, route in zip(cases, await _routes_taken(answer, cases), strict=True):
        kind = case["inquiry_type"]
        right = kind if kind in ("billing", "shipping") else "default"
        expect(route == right, f"{_describe(case)} went to {route!r}, not {right!r}")


def _race(join: str, defaults: dict[str, Any]) -> Any:
    """The lesson's race graph (section 6) with the join's defaults chosen by the caller."""
    from typing_extensions import TypedDict

    from support_lib.engine import START, FunctionNode, Workflow

    keys = {"fast": str, "slow": str, "seen": list[str | None]}
    wf = Workflow(f"race_{join}", TypedDict("RaceState", keys, total=False))  # type: ignore[operator]
    for branch in ("fast", "slow"):
        wf.add(FunctionNode(branch, lambda inputs, b=branch: {b: f"{b} result"}, writes=[branch]))
        wf.edge(START, branch).edge(branch, "join")
    seen = FunctionNode(
        "join",
        lambda inputs: {"seen": [inputs["fast"], inputs["slow"]]},
        reads=("fast", "slow"),
        writes=("seen",),
        join=join,
        defaults=defaults,
    )
    wf.add(seen)
    return wf


def _needs_default(join: str, key: str) -> bool:
    """Does the engine refuse the race's join when only ``key`` has no default?"""
    from support_lib.engine import WorkflowDefinitionError

    others = {other: None for other in ("fast", "slow") if other != key}
    try:
        _race(join, others).validate()
    except WorkflowDefinitionError:
        return True
    return False


@exercise(
    "03.3",
    "which join needs defaults",
    hint="Build race(...) with the join's defaults for one key only, then for the other "
    "only, and call validate() each time, for join='any' and for join='all'. A key that is "
    "refused without its default needs one.",
    solution="""
from typing_extensions import TypedDict
from support_lib.engine import START, FunctionNode, Workflow, WorkflowDefinitionError


class RaceState(TypedDict, total=False):
    fast: str
    slow: str
    seen: list[str | None]


def race(join, defaults):
    wf = Workflow(f"race_{join}", RaceState)
    wf.add(FunctionNode("fast", lambda inputs: {"fast": "fast result"}, writes=("fast",)))
    wf.add(FunctionNode("slow", lambda inputs: {"slow": "slow result"}, writes=("slow",)))
    wf.add(FunctionNode("join", lambda inputs: {"seen": [inputs["fast"], inputs["slow"]]},
                        reads=("fast", "slow"), writes=("seen",), join=join, defaults=defaults))
    wf.edge(START, "fast").edge(START, "slow").edge("fast", "join").edge("slow", "join")
    return wf


def refused(join, defaults):
    try:
        race(join, defaults).validate()
    except WorkflowDefinitionError:
        return True
    return False


answer = {join: {key for key, other in [("fast", "slow"), ("slow", "fast")]
                 if refused(join, {other: None})}
          for join in ("any", "all")}
""",
    wrong=(
        # only the key of the first error message
        'answer = {"any": {"fast"}, "all": set()}',
        'answer = {"any": {"fast", "slow"}, "all": {"fast", "slow"}}',
    ),
)
def _join_defaults(answer: Any) -> None:
    expect(isinstance(answer, dict), 'give a dict: {"any": {...}, "all": {...}}')
    for join in ("any", "all"):
        expect(join in answer, f"no answer for join={join!r} yet")
        given = answer[join]
        expect(
            isinstance(given, (set, frozenset, list, tuple)),
            f"for join={join!r}, give a set of key names (set() for none)",
        )
        right = {key for key in ("fast", "slow") if _needs_default(join, key)}
        missing, extra = right - set(given), set(given) - right
        expect(not extra, f"join={join!r} runs without a default for {sorted(extra)}")
        expect(
            not missing,
            f"join={join!r} also needs a default for {len(missing)} more "
            "key(s): leave out one key's default at a time and validate()",
        )


_PRIORITY_ROUTER = """
from support_lib.engine import Router


def decide(inputs):
    urgency = inputs["customer_info"]{urgency}
    if inputs["inquiry_type"] != "billing":
        return {other}
    return "priority" if {test} else "billing"


answer = Router("check_priority", decide, routes=("priority", "billing", "default"),
                reads=["inquiry_type", "customer_info"])
"""
"""03.4's answer, with how the urgency is read and tested left open."""

_ATTR, _KEY, _HIGH = '["urgency"]', ".urgency", 'urgency == "high"'


@exercise(
    "03.4",
    "route on two facts",
    hint="A router sees the state as plain JSON, so customer_info is a dict. Check the "
    "inquiry type first, then the urgency: exactly which urgency makes a priority?",
    solution=_PRIORITY_ROUTER.format(urgency=_ATTR, other='"default"', test=_HIGH),
    wrong=(
        # off by one level: medium counts as priority too
        _PRIORITY_ROUTER.format(
            urgency=_ATTR, other='"default"', test='urgency in ("high", "medium")'
        ),
        # a high-urgency message of any type takes the priority route
        _PRIORITY_ROUTER.format(
            urgency=_ATTR, other='"priority" if urgency == "high" else "default"', test=_HIGH
        ),
        # the state holds plain JSON: customer_info is a dict, not a CustomerInfo
        _PRIORITY_ROUTER.format(urgency=_KEY, other='"default"', test=_HIGH),
    ),
)
async def _two_facts(answer: Any) -> None:
    from support_lib.workflow import URGENCIES, CustomerInfo

    routes = sorted(getattr(answer, "routes", ()))
    expect(
        routes == ["billing", "default", "priority"],
        f"the router's routes are {routes}, not priority, billing and default",
    )
    cases = []
    for kind in ("billing", "shipping", "technical", "account"):
        for urgency in URGENCIES:
            info = CustomerInfo(
                customer_name="Ana",
                order_id="1001",
                product=None,
                urgency=urgency,
                subject="A question",
            )
            cases.append({"inquiry_type": kind, "customer_info": info.model_dump()})
    for case, route in zip(cases, await _routes_taken(answer, cases), strict=True):
        billing, high = (
            case["inquiry_type"] == "billing",
            case["customer_info"]["urgency"] == "high",
        )
        right = ("priority" if high else "billing") if billing else "default"
        expect(route == right, f"{_describe(case)} went to {route!r}, not {right!r}")
