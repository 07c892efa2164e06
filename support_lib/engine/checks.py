"""Build-time checks: every problem found before anything runs, each in one sentence.

``check_graph`` runs the checks below in order and returns the compiled
:class:`~support_lib.engine.graph.Graph`. Each check is a small function named after the
rule it enforces, so a learner can read the list and know what the engine guarantees.

Two relations answer "can these two nodes run at the same time?":

- :func:`finished_before`: the nodes certainly done (or skipped) when a node starts. An
  all-join waits for every input, so it inherits what each input waited for; an any-join
  may start on any one input, so it inherits only what all of them waited for.
- :func:`route_guards`: the (router, route) choices every path to a node goes through.
  Two nodes that need different routes of the same router never both run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic

from .errors import WorkflowDefinitionError, did_you_mean
from .graph import START, Graph, Workflow


def check_graph(wf: Workflow[Any]) -> Graph:
    """All the checks, in order; the compiled graph when they pass."""
    edges_connect_known_nodes(wf)
    graph = Graph(wf)  # computes the topological order: rejects unbounded cycles
    for check in GRAPH_CHECKS:
        check(graph)
    return graph


def _fail(message: str) -> None:
    raise WorkflowDefinitionError(message)


def edges_connect_known_nodes(wf: Workflow[Any]) -> None:
    """Every edge joins known nodes, uses a declared route, and bounds its loop."""
    for e in wf.edges:
        for end in (e.source, e.target):
            if end != START and end not in wf.nodes:
                _fail(f"edge refers to unknown node '{end}'{did_you_mean(end, wf.nodes)}")
        if e.target == START:
            _fail("no edge may lead into START")
        routes = wf.nodes[e.source].routes if e.source in wf.nodes else ()
        if e.when is not None and e.when not in routes:
            _fail(
                f"edge {e}: route '{e.when}' is not one of {e.source}'s routes "
                f"{list(routes) or '(it does not route)'}"
            )
        if e.is_loop and (e.loop_limit or 0) < 1:
            _fail(f"loop {e}: loop_limit must be 1 or more")


def every_node_is_reachable(g: Graph) -> None:
    for name in g.order:
        if not g.incoming[name]:
            _fail(
                f"unreachable node '{name}': nothing leads to it "
                f"(add wf.edge(START, '{name}') or an edge from another node)"
            )


def every_route_leads_somewhere(g: Graph) -> None:
    for name, node in g.nodes.items():
        for route in node.routes:
            if not any(e.when == route for e in g.outgoing[name]):
                _fail(
                    f"route '{route}' of node '{name}' leads nowhere: add an edge with "
                    f"when='{route}'"
                )
        if node.routes and any(e.when is None for e in g.outgoing[name]):
            _fail(f"node '{name}' routes, so each of its edges needs when=<route>")


def loops_close_a_cycle(g: Graph) -> None:
    for e in g.loops:
        if e.target != e.source and e.target not in g.ancestors(e.source):
            _fail(f"loop {e}: {e.target} does not lead to {e.source}, so this edge closes no loop")


def keys_are_in_the_schema(g: Graph) -> None:
    """Reads, writes and defaults name keys of the state schema."""
    for name, node in g.nodes.items():
        for role, keys in (("reads", node.reads), ("writes", node.writes)):
            for key in keys:
                if key not in g.schema:
                    _fail(
                        f"node '{name}' {role} '{key}', which {g.schema.unknown_key(key)}: add "
                        "it to the schema or fix the name"
                    )


def placeholders_fit_the_schema(g: Graph) -> None:
    """Every ``{{a.b}}`` of every prompt, path and body can exist in the state."""
    for name, node in g.nodes.items():
        for dotted in sorted(node.placeholders):
            problem = g.schema.path_problem(dotted)
            if problem:
                _fail(f"node '{name}': placeholder {{{{{dotted}}}}}: {problem}")


def _invalid(g: Graph, key: str, value: Any) -> str | None:
    """Why ``value`` is not a valid value of ``key`` (None when it is)."""
    try:
        g.schema.keys[key].to_json(value)
    except pydantic.ValidationError as exc:
        return exc.errors()[0]["msg"]
    return None


def defaults_fit_their_types(g: Graph) -> None:
    """A default is a valid value of its key (or None, meaning "not there")."""
    for name, node in g.nodes.items():
        for key, value in node.defaults.items():
            reason = None if value is None else _invalid(g, key, value)
            if reason:
                _fail(f"node '{name}': the default for '{key}' ({value!r}) is not valid: {reason}")


def fallbacks_fit_their_types(g: Graph) -> None:
    """A fallback's values are written to the state: each must be valid for its key (None
    too), so that a node's failure never turns into a second error."""
    for name, node in g.nodes.items():
        for key, value in (node.fallback or {}).items():
            reason = _invalid(g, key, value)
            if reason:
                _fail(f"node '{name}': the fallback for '{key}' ({value!r}) is not valid: {reason}")


def finished_before(g: Graph) -> dict[str, frozenset[str]]:
    """For each node, the nodes certainly finished or skipped when it starts."""
    before: dict[str, frozenset[str]] = {}
    for name in g.order:
        inherited = [
            frozenset() if e.source == START else before[e.source] | {e.source}
            for e in g.incoming[name]
        ]
        combine = frozenset.union if g.nodes[name].join == "all" else frozenset.intersection
        before[name] = combine(*inherited)
    return before


def route_guards(g: Graph) -> dict[str, frozenset[tuple[str, str]]]:
    """For each node, the (router, route) choices on every path from START to it."""
    guards: dict[str, frozenset[tuple[str, str]]] = {}
    for name in g.order:
        paths = [
            frozenset()
            if e.source == START
            else guards[e.source] | ({(e.source, e.when)} if e.when else frozenset())
            for e in g.incoming[name]
        ]
        guards[name] = frozenset.intersection(*paths)
    return guards


def reads_are_written_upstream(g: Graph) -> None:
    """A read without a default is an input or written by a node that finishes first."""
    before = finished_before(g)
    for name in g.order:
        node = g.nodes[name]
        for key in node.reads:
            if key in g.schema.inputs or key in node.defaults:
                continue
            writers = [n for n, other in g.nodes.items() if key in other.writes]
            if any(w in before[name] for w in writers):
                continue
            if not writers:
                _fail(
                    f"node '{name}' reads '{key}', but no node writes it and it is not a "
                    f"workflow input ({', '.join(g.schema.inputs)})"
                )
            upstream = [w for w in writers if w in g.ancestors(name)]
            fix = (
                f"'{name}' is an any-of join and may start before {', '.join(upstream)}: "
                "give it a default for the key"
                if upstream
                else "add an edge"
            )
            _fail(
                f"node '{name}' reads '{key}', which only {', '.join(writers)} write(s), "
                f"and none of them surely finishes before '{name}' starts: {fix}"
            )


def concurrent_writers_have_a_reducer(g: Graph) -> None:
    """Two nodes that may run at the same time must not both write a key without a
    reducer: the last write would win, and which one is last depends on timing."""
    before, guards = finished_before(g), route_guards(g)

    def exclusive(a: str, b: str) -> bool:
        chosen = dict(guards[a])
        return any(router in chosen and chosen[router] != route for router, route in guards[b])

    for key, spec in g.schema.keys.items():
        writers = [n for n in g.order if key in g.nodes[n].writes]
        for i, a in enumerate(writers):
            for b in writers[i + 1 :]:
                ordered = a in before[b] or b in before[a]
                if spec.reducer is None and not ordered and not exclusive(a, b):
                    _fail(
                        f"nodes '{a}' and '{b}' may run at the same time and both write "
                        f"'{key}': the last write would win, by timing. Order them with "
                        "an edge, put them on different routes of one router, or give the "
                        f"key a reducer in the schema (e.g. Annotated[list[str], operator.add])"
                    )


GRAPH_CHECKS: tuple[Callable[[Graph], None], ...] = (
    every_node_is_reachable,
    every_route_leads_somewhere,
    loops_close_a_cycle,
    keys_are_in_the_schema,
    placeholders_fit_the_schema,
    defaults_fit_their_types,
    fallbacks_fit_their_types,
    reads_are_written_upstream,
    concurrent_writers_have_a_reducer,
)
"""The checks that need the compiled graph, in the order they run."""
