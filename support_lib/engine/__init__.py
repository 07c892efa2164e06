"""A small async workflow engine: typed state, nodes, explicit edges, routes, joins, loops.

It knows nothing about customer support. A workflow is a graph of nodes over a declared
state (a TypedDict). You declare every edge and every key a node reads and writes, so
the graph can be drawn and checked before anything runs. Running it follows four rules:

1. **No wave barrier.** A node starts the moment its own incoming edges allow it, so
   independent nodes run concurrently.
2. **Routes and dead paths.** A routing node picks one label; edges with other labels
   are *dead*. A node whose incoming edges are all dead is *skipped*, and skipping
   propagates downstream (dead-path elimination).
3. **Joins.** ``join="all"`` waits until every incoming edge is decided and runs if at
   least one is live; ``join="any"`` runs as soon as one incoming edge is live.
4. **Bounded loops.** A loop is closed by one edge marked ``loop_limit=N``. Following it
   re-runs the loop's body; following it more than N times fails the run. A cycle
   without such an edge is rejected at build time, so a run always ends.

Read it in this order: ``state`` (the schema), ``nodes`` (the node contract), ``graph``
(building and compiling), ``checks`` (what is rejected before a run), ``schedule`` (the
pure decision core), ``executor`` (the async loop around it), ``trace`` (the record).
"""

from .errors import (
    Interrupt,
    NodeError,
    ResumeError,
    RetryableError,
    UndeclaredReadError,
    WorkflowDefinitionError,
    WorkflowRunError,
)
from .executor import Observer
from .graph import START, Edge, Graph, Workflow
from .nodes import (
    NO_RETRY,
    FirstAvailable,
    FunctionNode,
    Node,
    NodeContext,
    NodeInputs,
    RetryPolicy,
    Router,
)
from .schedule import Schedule, Step
from .state import StateSchema, schema_of
from .store import RunStore
from .trace import NodeRun, Status, Trace

__all__ = [
    "NO_RETRY",
    "START",
    "Edge",
    "FirstAvailable",
    "FunctionNode",
    "Graph",
    "Interrupt",
    "Node",
    "NodeContext",
    "NodeError",
    "NodeInputs",
    "NodeRun",
    "Observer",
    "RetryPolicy",
    "ResumeError",
    "RetryableError",
    "RunStore",
    "Router",
    "Schedule",
    "StateSchema",
    "Status",
    "Step",
    "Trace",
    "UndeclaredReadError",
    "Workflow",
    "WorkflowDefinitionError",
    "WorkflowRunError",
    "schema_of",
]
