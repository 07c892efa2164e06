"""support_lib: the helper package of the AI workflow teaching kit.

Read it in this order: ``templates`` (filling prompts), ``engine`` (the graph runner and
its trace), ``llm`` and ``http_node`` (the two kinds of work a node does), ``workflow``
(the customer-support graph), ``run`` (the headless API), then ``metrics``, ``report``,
``draw`` and ``app`` (ways to look at a trace).
"""

from .engine import (
    START,
    FunctionNode,
    Merge,
    Node,
    NodeRun,
    RetryableError,
    RetryPolicy,
    Router,
    Trace,
    Workflow,
    WorkflowDefinitionError,
    WorkflowRunError,
)
from .llm import LLM, Backend, LLMNode, Prompt, resolve_backend
from .metrics import compute_metrics
from .run import InvalidMessageError, arun, make_inputs, mock_server, run
from .workflow import DEFAULT_MESSAGE, build_workflow

__all__ = [
    "DEFAULT_MESSAGE",
    "LLM",
    "START",
    "Backend",
    "FunctionNode",
    "InvalidMessageError",
    "LLMNode",
    "Merge",
    "Node",
    "NodeRun",
    "Prompt",
    "RetryPolicy",
    "RetryableError",
    "Router",
    "Trace",
    "Workflow",
    "WorkflowDefinitionError",
    "WorkflowRunError",
    "arun",
    "build_workflow",
    "compute_metrics",
    "make_inputs",
    "mock_server",
    "resolve_backend",
    "run",
]
