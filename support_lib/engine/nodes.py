"""Nodes: the steps of a workflow, and the contract between a node and the engine.

A node declares what it ``reads`` and ``writes``. The engine holds it to that contract:

- it hands the node a read-only view holding only its declared reads (plus ``defaults``
  for reads that a branch not taken may leave absent); touching any other key raises
  :class:`~support_lib.engine.errors.UndeclaredReadError` naming the node and the key;
- the node returns a dict with exactly its declared writes; a missing or extra key is an
  error reported at this node, not later at whichever node needed the value.

``FunctionNode`` wraps a plain function, ``Router`` only picks a route, and
``FirstAvailable`` copies the first present value of several candidates. LLM and HTTP
nodes live in their own modules (``support_lib.llm``, ``support_lib.http_node``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from .errors import Interrupt, UndeclaredReadError, WorkflowDefinitionError
from .trace import NodeRun

DepsT = TypeVar("DepsT")
Join = Literal["all", "any"]


@dataclass(frozen=True)
class RetryPolicy:
    """Try a node up to ``max_attempts`` times, waiting longer after each retryable error."""

    max_attempts: int = 1
    initial_delay: float = 0.2
    backoff: float = 2.0
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.initial_delay * self.backoff ** (attempt - 1))


NO_RETRY = RetryPolicy()


class NodeInputs(Mapping[str, Any]):
    """The read-only view of the state a node receives: its declared reads, no more.

    Reading an undeclared key (with ``[]``, ``get`` or ``in``) raises
    :class:`UndeclaredReadError` instead of quietly answering "absent"."""

    __slots__ = ("_node", "_values", "_declared", "_schema")

    def __init__(
        self,
        node: str,
        values: dict[str, Any],
        declared: frozenset[str],
        schema: Iterable[str] = (),
    ):
        self._node = node
        self._values = values
        self._declared = declared
        self._schema = schema  # the state's keys, to tell a forgotten read from a typo

    def _check(self, key: object) -> None:
        if key not in self._declared:
            raise UndeclaredReadError(self._node, str(key), self._declared, self._schema)

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self._check(key)
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"NodeInputs({self._node!r}, {self._values!r})"


NO_ANSWER: Any = object()


class NodeContext(Generic[DepsT]):
    """What a running node may use besides its inputs: the run's shared services
    (``deps``, typed by the workflow's caller), a way to ask a person
    (:meth:`interrupt`), a key that makes a side effect happen once
    (:attr:`idempotency_key`), a way to pass on output as it streams (:meth:`stream`), and
    a place to record what it really sent (the rendered prompt or request) and its usage
    (tokens, cost)."""

    def __init__(
        self,
        record: NodeRun,
        deps: DepsT,
        run_id: str,
        clock_start: float,
        answer: Any = NO_ANSWER,
        notify: Callable[[str, NodeRun], None] | None = None,
    ):
        self.record = record
        self.deps = deps
        self.run_id = run_id
        self._clock_start = clock_start
        self._answer = answer
        self._notify = notify
        self.waited_ms: float | None = None
        """How long the person took to answer, when this node runs again with an answer."""

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this node in this iteration of this run, also
        after the run is resumed: a service that remembers it does the effect once."""
        return f"{self.run_id}/{self.record.node}/{self.record.iteration}"

    def interrupt(self, question: Any) -> Any:
        """Ask a person. The first time, this stops the run (status "waiting", with
        ``question`` in ``trace.waiting_for``). When the run is resumed with an answer,
        the node runs again from the top and this call returns the answer."""
        if self._answer is NO_ANSWER:
            raise Interrupt(question)
        return self._answer

    def elapsed_ms(self) -> float:
        """Milliseconds since the run started (for "response time" fields)."""
        return round((time.perf_counter() - self._clock_start) * 1000, 1)

    def record_inputs(self, **inputs: Any) -> None:
        self.record.inputs = inputs

    def stream(self, piece: str) -> None:
        """Pass on a piece of output as it arrives (a token of a reply being written):
        observers hear "node_token" and read ``record.streamed`` so far."""
        if self.record.first_token_ms is None:
            self.record.first_token_ms = self.elapsed_ms()
        self.record.streamed = (self.record.streamed or "") + piece
        if self._notify is not None:
            self._notify("node_token", self.record)

    def record_explanation(self, explanation: Any) -> None:
        self.record.explanation = explanation

    def record_usage(self, **usage: Any) -> None:
        """Add one call's usage (tokens, cost, latency) to the node's record. Numbers add
        up over calls and attempts: a retried call is paid for twice, and shows it."""
        total = dict(self.record.usage or {})
        for key, value in usage.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            total[key] = round(total[key] + value, 8) if number and key in total else value
        self.record.usage = total


RouteFunction = Callable[[Mapping[str, Any]], str]


class Node(Generic[DepsT]):
    """One step of a workflow.

    Subclasses implement ``run(inputs, ctx)`` and return a dict holding exactly the keys
    in ``writes``. A node that routes also declares ``routes`` and a ``route`` function:
    it receives the node's reads and writes (after this node's writes) and returns one
    label. ``defaults`` gives values for reads that may legitimately be absent (a branch
    that was not taken); any other missing read is an error. ``placeholders`` lists the
    dotted ``{{names}}`` of the node's templates, checked against the state schema.
    ``effect`` names the external side effect the node performs ("sent"...): the trace
    lists each one that happened, and a resumed run never repeats a completed node.
    ``fallback`` makes a node *optional*: its writes for when the node fails for good
    (after its retries). The node is still recorded as failed, with its error, but the
    run carries on with those writes instead of stopping (a routing node routes on them).
    Give one only where a constant answer is safe: a result the run can do without (a
    follow-up plan, once the reply is sent), or the cautious choice (a decision that
    cannot be made goes to a person).
    """

    kind = "function"
    placeholders: frozenset[str] = frozenset()

    def __init__(
        self,
        name: str,
        *,
        reads: Iterable[str] = (),
        writes: Iterable[str] = (),
        label: str | None = None,
        join: Join = "all",
        routes: Iterable[str] = (),
        route: RouteFunction | None = None,
        defaults: Mapping[str, Any] | None = None,
        retry: RetryPolicy = NO_RETRY,
        timeout: float | None = None,
        effect: str | None = None,
        fallback: Mapping[str, Any] | None = None,
    ):
        if join not in ("all", "any"):
            raise WorkflowDefinitionError(f"node '{name}': join must be 'all' or 'any'")
        self.name = name
        self.label = label or name.replace("_", " ").title()
        self.reads = tuple(dict.fromkeys(reads))
        self.writes = tuple(dict.fromkeys(writes))
        self.join = join
        self.routes = tuple(routes)
        self.route = route
        self.defaults = dict(defaults or {})
        self.retry = retry
        self.timeout = timeout
        self.effect = effect
        self.fallback = None if fallback is None else dict(fallback)
        if bool(self.routes) != (route is not None):
            raise WorkflowDefinitionError(f"node '{name}': give both routes and route, or neither")
        stray = sorted(set(self.defaults) - set(self.reads))
        if stray:
            raise WorkflowDefinitionError(
                f"node '{name}': defaults for {', '.join(stray)}, which it does not read"
            )
        if self.fallback is not None and set(self.fallback) != set(self.writes):
            raise WorkflowDefinitionError(
                f"node '{name}': a fallback gives exactly the node's writes "
                f"({', '.join(self.writes) or 'none'})"
            )

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[DepsT]) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class FunctionNode(Node[Any]):
    """A node around a plain function ``fn(inputs) -> dict`` (sync or async)."""

    def __init__(self, name: str, fn: Callable[[Mapping[str, Any]], Any], **kwargs: Any):
        super().__init__(name, **kwargs)
        self.fn = fn
        self._is_async = inspect.iscoroutinefunction(fn)

    async def run(self, inputs: Mapping[str, Any], ctx: NodeContext[Any]) -> dict[str, Any]:
        ctx.record_inputs(**inputs)
        result = self.fn(inputs)
        if self._is_async or inspect.isawaitable(result):
            result = await result
        return result or {}


class Router(FunctionNode):
    """A node that only decides where to go next: ``decide(inputs)`` returns a route."""

    kind = "router"

    def __init__(self, name: str, decide: RouteFunction, *, routes: Iterable[str], **kwargs: Any):
        super().__init__(name, _no_writes, routes=routes, route=decide, **kwargs)


def _no_writes(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {}


class FirstAvailable(FunctionNode):
    """Write the first present (not None) value of ``candidates`` to ``output``.

    Made for the end of alternative branches: after an optional rewrite, "the rewritten
    reply if there is one, else the first one". It is an any-of join by default."""

    kind = "merge"

    def __init__(self, name: str, candidates: Iterable[str], output: str, **kwargs: Any):
        self.candidates = tuple(candidates)
        self.output = output
        kwargs.setdefault("join", "any")
        super().__init__(
            name,
            self._pick,
            reads=self.candidates,
            writes=(output,),
            defaults=dict.fromkeys(self.candidates),
            **kwargs,
        )

    def _pick(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        for key in self.candidates:
            if inputs[key] is not None:
                return {self.output: inputs[key]}
        raise ValueError(f"none of {', '.join(self.candidates)} is available")
