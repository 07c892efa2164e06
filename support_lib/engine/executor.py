"""The async executor: runs what the schedule decides, and holds nodes to their contract.

For each node it builds the node's inputs (declared reads only, plus defaults), runs it
under its retry policy and timeout, checks that it returned exactly its declared writes
with the declared types, applies them to the state (through a key's reducer, if it has
one), asks a routing node for its route, and tells the schedule. Observers hear about
every event; the trace records everything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pydantic

from .errors import Interrupt, NodeError, RetryableError
from .graph import Graph
from .nodes import NO_ANSWER, Node, NodeContext, NodeInputs
from .schedule import Schedule, Step
from .trace import NodeRun, Trace

Observer = Callable[[str, NodeRun, Trace], None]
"""``observer(event, node_run, trace)``; events: node_started, node_retry, node_completed,
node_skipped, node_failed, node_waiting, node_token (a piece of streamed output: read
``node_run.streamed``), run_finished (node_run is then the last one that changed)."""


class Execution:
    """One run of a compiled graph, from the start or from a checkpoint."""

    def __init__(
        self,
        graph: Graph,
        trace: Trace,
        deps: Any,
        observers: list[Observer],
        answers: dict[str, Any] | None = None,
    ):
        self.g = graph
        self.trace = trace
        self.deps = deps
        self.observers = observers
        self.answers = dict(answers or {})  # node -> a person's answer, for a resumed run
        self.asked_at = (trace.waiting_for or {}).get("since_ms")  # when the question was put
        self.interrupted = False
        self.state: dict[str, Any] = {**trace.inputs, **trace.state}
        resumed = trace.checkpoint is not None
        self.schedule = Schedule.restore(graph, trace.checkpoint) if resumed else Schedule(graph)
        self.tasks: dict[asyncio.Task[dict[str, Any]], NodeRun] = {}
        self.finished: list[asyncio.Task[dict[str, Any]]] = []
        self.wakeup: asyncio.Future[None] | None = None
        self.clock_start = time.perf_counter() - (_since(trace.started_at) if resumed else 0.0)

    def now_ms(self) -> float:
        return round((time.perf_counter() - self.clock_start) * 1000, 1)

    def emit(self, event: str, record: NodeRun) -> None:
        for observer in self.observers:
            try:
                observer(event, record, self.trace)
            except Exception as exc:  # a broken display must not break the workflow
                self.trace.meta.setdefault("observer_errors", []).append(repr(exc))

    async def run(self, deadline_s: float | None = None) -> None:
        self.trace.status, self.trace.error, self.trace.waiting_for = "running", None, None
        try:
            await (asyncio.wait_for(self.loop(), deadline_s) if deadline_s else self.loop())
        except TimeoutError:
            self.trace.error = f"the run did not finish within its deadline of {deadline_s:g} s"
        except NodeError as exc:  # a scheduling error (a loop over its limit) ends the run
            self.trace.error = self.trace.error or str(exc)
        except BaseException as exc:  # Ctrl+C, a cancelled task, a lost client: stop failed,
            what = type(exc).__name__  # with a checkpoint, so the run can be carried on
            self.trace.error = f"the run was interrupted ({what}) before it finished"
            raise
        finally:
            await self.cancel_running()
            self.finish()

    async def loop(self) -> None:
        """Start what can start, land what ends, until nothing runs."""
        self.take(self.schedule.next_steps())
        while self.tasks and self.trace.error is None:
            for task in await self.next_finished():
                self.land(task)
            if self.trace.error is None and not self.interrupted:
                self.take(self.schedule.next_steps())

    def finish(self) -> None:
        """Record how the run ended; keep a checkpoint when it can be carried on."""
        self.trace.state = dict(self.state)
        self.trace.duration_ms = self.now_ms()
        if self.trace.error:
            self.trace.status = "failed"
        else:
            self.trace.status = "waiting" if self.interrupted else "completed"
        done = self.trace.status == "completed"
        self.trace.checkpoint = None if done else self.schedule.snapshot()
        if self.trace.node_runs:
            self.emit("run_finished", self.trace.node_runs[-1])

    async def next_finished(self) -> list[asyncio.Task[dict[str, Any]]]:
        """The node tasks that ended since the last call (waiting until one does), in
        topological order. Cheaper than ``asyncio.wait``, which re-registers a callback
        on every running task each time it is called."""
        if not self.finished:
            self.wakeup = asyncio.get_running_loop().create_future()
            await self.wakeup
        done, self.finished = self.finished, []
        return sorted(done, key=lambda task: self.g.rank[self.tasks[task].node])

    def task_done(self, task: asyncio.Task[dict[str, Any]]) -> None:
        self.finished.append(task)
        if self.wakeup is not None and not self.wakeup.done():
            self.wakeup.set_result(None)

    # -- starting -------------------------------------------------------------------

    def take(self, steps: list[Step]) -> None:
        for step in steps:
            node = self.g.nodes[step.node]
            record = NodeRun(node.name, node.kind, iteration=step.iteration)
            self.trace.node_runs.append(record)
            if step.action == "skip":
                record.status, record.skip_reason = "skipped", step.reason
                self.emit("node_skipped", record)
                continue
            record.status, record.start_ms = "running", self.now_ms()
            self.emit("node_started", record)
            task = asyncio.ensure_future(self.attempt(node, record))
            self.tasks[task] = record
            task.add_done_callback(self.task_done)

    def inputs_for(self, node: Node[Any], keys: tuple[str, ...]) -> NodeInputs:
        """The node's view: ``keys`` from the state, else the node's defaults."""
        values, missing = {}, []
        for key in keys:
            if key in self.state:
                values[key] = self.state[key]
            elif key in node.defaults:
                values[key] = node.defaults[key]
            else:
                missing.append(key)
        if missing:
            raise NodeError(node.name, self.missing_reads(missing))
        return NodeInputs(node.name, values, frozenset(keys), self.g.schema.keys)

    def missing_reads(self, keys: list[str]) -> str:
        skipped = [
            name
            for name, other in self.g.nodes.items()
            if set(keys) & set(other.writes) and self.trace.status_of(name) == "skipped"
        ]
        why = (
            f"its writer {', '.join(skipped)} was skipped on this run's path"
            if skipped
            else ("no node wrote it")
        )
        return f"needs {', '.join(keys)}, but {why}: give the node a default for it"

    # -- running --------------------------------------------------------------------

    async def attempt(self, node: Node[Any], record: NodeRun) -> dict[str, Any]:
        """Run one node under its retry policy and timeout; return its checked writes."""
        answer = self.answers.pop(node.name, NO_ANSWER)
        ctx = NodeContext(record, self.deps, self.trace.run_id, self.clock_start, answer, self.emit)
        if answer is not NO_ANSWER and self.asked_at is not None:
            ctx.waited_ms = round(self.now_ms() - self.asked_at, 1)
        inputs = self.inputs_for(node, node.reads)
        while True:
            record.attempts += 1
            try:
                call = node.run(inputs, ctx)
                result = await (asyncio.wait_for(call, node.timeout) if node.timeout else call)
                return self.checked_writes(node, result)
            except (RetryableError, TimeoutError) as exc:
                message = describe(exc, node.timeout)
                record.attempt_errors.append(message)
                if record.attempts >= node.retry.max_attempts:
                    tries = f" (after {record.attempts} attempts)" if record.attempts > 1 else ""
                    raise NodeError(node.name, message + tries) from exc
                self.emit("node_retry", record)
                await asyncio.sleep(node.retry.delay(record.attempts))
            except (NodeError, Interrupt):
                raise
            except Exception as exc:
                raise NodeError(node.name, describe(exc, node.timeout)) from exc

    def checked_writes(self, node: Node[Any], result: Any) -> dict[str, Any]:
        """Exactly the declared writes, each valid for its key, in JSON form."""
        if not isinstance(result, dict):
            raise NodeError(node.name, f"returned {type(result).__name__}, not a dict of writes")
        extra = sorted(set(result) - set(node.writes))
        if extra:
            raise NodeError(node.name, f"returned keys it does not declare in writes: {extra}")
        missing = [key for key in node.writes if key not in result]
        if missing:
            raise NodeError(node.name, f"declares writes it did not return: {missing}")
        checked = {}
        for key, value in result.items():
            try:
                checked[key] = self.g.schema.keys[key].to_json(value)
            except pydantic.ValidationError as exc:
                raise NodeError(node.name, f"wrote an invalid '{key}': {short(exc)}") from exc
        return checked

    # -- landing --------------------------------------------------------------------

    def land(self, task: asyncio.Task[dict[str, Any]]) -> None:
        """A node's task ended: apply its writes and route, or record why it stopped."""
        record = self.tasks.pop(task)
        node = self.g.nodes[record.node]
        try:
            writes = self.apply(task.result())
            record.output, record.end_ms, record.streamed = writes, self.now_ms(), None
            record.route = self.route(node) if node.route else None
            record.status = "completed"
            if node.effect:
                self.trace.effects.append(
                    {"node": node.name, "effect": node.effect, "iteration": record.iteration}
                )
            self.emit("node_completed", record)
            self.schedule.completed(node.name, record.route)
        except Interrupt as interrupt:
            self.wait(record, interrupt)
        except Exception as exc:
            if node.fallback is None:
                self.fail(record, exc)
            else:
                self.fall_back(node, record, exc)

    def apply(self, writes: dict[str, Any]) -> dict[str, Any]:
        """Put checked writes into the state (through a key's reducer, if it has one)."""
        for key, value in writes.items():
            spec = self.g.schema.keys[key]
            self.state[key] = spec.merge(self.state.get(key), value, key in self.state)
        return writes

    def wait(self, record: NodeRun, interrupt: Interrupt) -> None:
        """A node asked a person: it waits, and no new node starts (running ones finish)."""
        record.status, record.end_ms = "waiting", self.now_ms()
        self.interrupted = True
        self.trace.waiting_for = {
            "node": record.node,
            "question": interrupt.question,
            "since_ms": record.end_ms,
        }
        self.schedule.waiting(record.node)
        self.emit("node_waiting", record)

    def route(self, node: Node[Any]) -> str:
        view = self.inputs_for(node, node.reads + node.writes)
        try:
            route = node.route(view)  # type: ignore[misc]  # only called when set
        except NodeError:
            raise
        except Exception as exc:
            raise NodeError(node.name, f"its route function raised {describe(exc, None)}") from exc
        if route not in node.routes:
            raise NodeError(node.name, f"chose route {route!r}, not one of {list(node.routes)}")
        return route

    def fall_back(self, node: Node[Any], record: NodeRun, error: BaseException) -> None:
        """A node with a fallback failed for good: its record says so, and the run carries
        on with the fallback's writes (and route): the schedule treats the node as done."""
        writes = self.apply(self.checked_writes(node, dict(node.fallback or {})))
        record.status, record.output, record.fell_back = "failed", writes, True
        record.end_ms, record.streamed = record.end_ms or self.now_ms(), None
        reason = str(getattr(error, "cause", error))
        record.error = f"{reason}; the run carried on with the node's fallback"
        record.route = self.route(node) if node.route else None
        self.emit("node_failed", record)
        self.schedule.completed(node.name, record.route)

    def fail(self, record: NodeRun, error: BaseException) -> None:
        record.status = "failed"
        record.end_ms = record.end_ms or self.now_ms()
        record.error = str(getattr(error, "cause", error))
        self.schedule.failed(record.node)
        self.emit("node_failed", record)
        if self.trace.error is None:
            self.trace.error = (
                str(error)
                if isinstance(error, NodeError)
                else (f"node '{record.node}' failed: {describe(error, None)}")
            )

    async def cancel_running(self) -> None:
        for task, record in self.tasks.items():
            task.cancel()
            record.status = "failed"
            record.end_ms = self.now_ms()
            record.error = "cancelled: the run stopped before this node finished"
            self.schedule.failed(record.node)
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()


def _since(started_at: str) -> float:
    """Seconds since an ISO timestamp (0 for a new run): a resumed run's clock carries on
    from its start, so its timeline shows the time it spent waiting."""
    try:
        started = datetime.fromisoformat(started_at)
    except ValueError:
        return 0.0
    return max(0.0, (datetime.now(UTC) - started).total_seconds())


def describe(exc: BaseException, timeout: float | None) -> str:
    """An exception as one readable clause."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) and not str(exc):
        return f"timed out after {timeout} s" if timeout else "timed out"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (RetryableError, NodeError)) else f"{type(exc).__name__}: {text}"


def short(exc: pydantic.ValidationError) -> str:
    """A validation error in one line: where and what, for the first few problems."""
    problems = [f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()[:3]]
    return "; ".join(problems)
