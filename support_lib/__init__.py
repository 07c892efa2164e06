"""support_lib: the helper package of the AI workflow teaching kit.

Read it in this order: ``templates`` (filling prompts), ``engine`` (the graph runner, its
typed state and its trace), ``llm`` and ``http_node`` (the two kinds of work a node
does), ``workflow`` (the customer-support graph), ``kit`` (the one place that wires a
run together: mock server, backend, clients), then ``metrics``, ``report``, ``draw`` and
``app`` (ways to look at a trace).

The names below are imported on first use, so ``import support_lib`` stays fast (the
``openai`` SDK alone takes most of a second to import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "engine": (
        "START",
        "FirstAvailable",
        "FunctionNode",
        "Node",
        "NodeError",
        "NodeRun",
        "RetryPolicy",
        "RetryableError",
        "Router",
        "Trace",
        "UndeclaredReadError",
        "Workflow",
        "WorkflowDefinitionError",
        "WorkflowRunError",
    ),
    "llm": ("Backend", "LLMNode", "OpenAIModel", "Prompt", "resolve_backend"),
    "kit": ("InvalidInputError", "arun", "local_mock", "make_inputs", "run"),
    "workflow": ("DEFAULT_MESSAGE", "SupportResult", "SupportState", "build_workflow"),
    "metrics": ("compute_metrics",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'support_lib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from .engine import (  # noqa: F401
        START,
        FirstAvailable,
        FunctionNode,
        Node,
        NodeError,
        NodeRun,
        RetryableError,
        RetryPolicy,
        Router,
        Trace,
        UndeclaredReadError,
        Workflow,
        WorkflowDefinitionError,
        WorkflowRunError,
    )
    from .kit import InvalidInputError, arun, local_mock, make_inputs, run  # noqa: F401
    from .llm import Backend, LLMNode, OpenAIModel, Prompt, resolve_backend  # noqa: F401
    from .metrics import compute_metrics  # noqa: F401
    from .workflow import (  # noqa: F401
        DEFAULT_MESSAGE,
        SupportResult,
        SupportState,
        build_workflow,
    )
