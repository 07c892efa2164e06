"""The engine's errors: one class per kind of problem, each message naming what failed.

- :class:`WorkflowDefinitionError`: the graph is wrong before anything runs.
- :class:`RetryableError`: raised by a node when trying again may succeed.
- :class:`NodeError`: a node failed for good; ``.node`` names it.
- :class:`UndeclaredReadError`: a node read a key it did not declare (a NodeError).
- :class:`Interrupt`: raised by ``ctx.interrupt``: the run waits for a person.
- :class:`ResumeError`: a run cannot be resumed (finished already, workflow changed...).
- :class:`WorkflowRunError`: a run failed; ``.trace`` holds everything up to the failure.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .trace import Trace


class WorkflowDefinitionError(ValueError):
    """The graph is wrong before it runs (unknown node, unbounded cycle, racy writes...)."""


class RetryableError(Exception):
    """Raise this (or wrap a cause in it) when trying again may succeed (429, timeout...)."""


class NodeError(Exception):
    """A node failed for good; the message names the node and the cause."""

    def __init__(self, node: str, cause: str):
        self.node = node
        self.cause = cause
        super().__init__(f"node '{node}' failed: {cause}")


class UndeclaredReadError(NodeError):
    """A node looked at a state key it does not declare in ``reads``.

    The engine hands each node only what it declares, so that the graph's data flow is
    exactly what the declarations say (and what the drawing and the checks show)."""

    def __init__(self, node: str, key: str, declared: Iterable[str], schema: Iterable[str]):
        declared = sorted(declared)
        if key in set(schema):
            why = "it is a key of the state, but not one this node declares"
            fix = f"Add '{key}' to the node's reads (and an edge from the node that writes it)."
        else:
            why = f"no such key in the state{did_you_mean(key, schema)}"
            fix = "Fix the name, or add the key to the state schema and the node's reads."
        shown = ", ".join(declared) or "nothing"
        super().__init__(node, f"read '{key}': {why}. It declares: {shown}. {fix}")
        self.key = key


class Interrupt(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised by ``ctx.interrupt(question)``: the run stops here and waits for a person.

    The executor records the node as waiting, lets nodes already running finish, and ends
    the run with status "waiting". ``Workflow.aresume(trace, answer=...)`` runs the node
    again, and this time ``ctx.interrupt`` returns the answer."""

    def __init__(self, question: Any):
        super().__init__("waiting for a person")
        self.question = question


class ResumeError(RuntimeError):
    """A run cannot be resumed (it completed, it is not waiting, the workflow changed)."""


class WorkflowRunError(RuntimeError):
    """A run failed; ``.trace`` holds everything that happened up to the failure."""

    def __init__(self, message: str, trace: Trace):
        super().__init__(message)
        self.trace = trace


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
