"""Pictures of a workflow: a layered DAG diagram, a Mermaid flowchart and a Gantt timeline.

Everything here reads two plain dicts: ``graph`` (``Workflow.describe()``: nodes and edges)
and, optionally, ``trace`` (``Trace.to_dict()``: one entry per node run); the engine's
objects themselves are accepted too. Keys a picture does not use are ignored. The layout
is computed in pure Python (standard library only, no other ``support_lib`` module), so
the pictures work in any notebook without graphviz or matplotlib, and you can read how a
layered ("Sugiyama") drawing is made. The modules, in reading order:

* ``svg``: colours, escaping and SVG element helpers;  ``model``: reading the two dicts;
* ``layout``: layers, then order within layers, then x positions;
* ``dag``: the DAG as SVG;  ``mermaid``: as Mermaid text;  ``timeline``: the Gantt chart;
* ``display``: ``DagDiagram`` / ``Timeline``, objects that Jupyter shows as pictures.

Determinism contract (notebooks are checked with nbval, so outputs must be stable):

* Same input, byte-identical output: no random ids, no dates, no run ids, no ``id=``
  attributes at all (arrowheads are plain polygons), coordinates rounded to 0.1.
* Durations are only ever written as ``412 ms`` or ``1.2 s`` (number, space, unit), so a
  sanitizer such as ``r"\\d+(\\.\\d+)? m?s\\b"`` can neutralise them.
* In ``timeline_svg`` the only time-dependent geometry is on the bars, always written as
  ``<rect class="sktl-bar ..." x="..." width="..." ...>`` (in that order), e.g.
  ``re.sub(r'(class="sktl-bar[^"]*" x=")[^"]*(" width=")[^"]*', r"\\1X\\2W", svg)``.
  Axis ticks sit at fixed fractions of the axis, so only their labels (durations) move.
  Which bars are outlined as the critical path can change if timings reorder: the outline
  is only `` sktl-critical`` in the bar's class plus ``stroke="#111" stroke-width="1.5"``
  as its last attributes, so a sanitizer can drop both (notebooks/nbval_sanitize.cfg does).
  A person's time (from a node's question to the run carrying on) is a bar too, written
  ``<rect class="sktl-bar sktl-person" x="..." width="..." ...>``; it is never outlined.
* ``text/plain`` reprs never mention times or run ids.

All text is XML-escaped; nothing from node inputs or outputs is ever drawn. Class names
are prefixed (``skdag-``, ``sktl-``) and all styling is inline attributes, so several
SVGs can share one page and the files render standalone.

People in the loop: a node whose latest record is "waiting" (it asked a person with
``ctx.interrupt``) is drawn dashed blue with "waiting for a person"; once the run was
resumed, its run info says how long people took ("waited 1.2 s"), and the timeline shows
that time as a dashed bar under the waiting record. A trace where no node asked a person
is drawn exactly as before.
"""

from .dag import dag_svg
from .display import DagDiagram, MermaidText, Timeline
from .mermaid import dag_mermaid
from .model import GraphData, NodeState, TraceData, node_states
from .svg import KINDS, STATUSES, format_duration
from .timeline import critical_path, timeline_svg

__all__ = [
    "KINDS",
    "STATUSES",
    "DagDiagram",
    "GraphData",
    "MermaidText",
    "NodeState",
    "Timeline",
    "TraceData",
    "critical_path",
    "dag_mermaid",
    "dag_svg",
    "format_duration",
    "node_states",
    "timeline_svg",
]
