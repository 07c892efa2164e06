"""The Go demo's printed report, rebuilt from a trace: readable and in a stable order.

Values are printed as JSON (not Go map syntax). ``format_report`` is what the CLI prints;
notebooks call the same functions, so the lesson and the terminal show the same thing.
"""

from __future__ import annotations

import json
from typing import Any

from .engine import Trace
from .metrics import compute_metrics
from .workflow import SupportResult

RULE = "=" * 60
HEADER = "=== AI-Powered Customer Support Workflow Demo ==="


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def format_structure(graph: dict[str, Any]) -> str:
    """The workflow structure: each node with its kind and where it leads (nothing for a
    run that never started, such as a batch item refused before it ran)."""
    if not graph:
        return "Workflow: did not start (no node ran)"
    lines = [f"Workflow: {graph['name']} ({len(graph['nodes'])} nodes)"]
    for node in graph["nodes"]:
        targets = []
        for edge in graph["edges"]:
            if edge["source"] != node["name"]:
                continue
            label = edge["target"]
            if edge["when"]:
                label = f"[{edge['when']}] {label}"
            if edge["loop_limit"]:
                label += f" (loop, at most {edge['loop_limit']}x)"
            targets.append(label)
        join = f", join={node['join']}" if node["join"] == "any" else ""
        arrow = " -> " + ", ".join(targets) if targets else ""
        lines.append(f"  {node['name']} ({node['kind']}{join}){arrow}")
    return "\n".join(lines)


def _model(value: Any) -> str:
    return _json(value.model_dump(mode="json") if hasattr(value, "model_dump") else value)


def format_results(trace: Trace) -> str:
    """The results sections of the Go demo, for the paths this run took."""
    result = SupportResult.from_trace(trace)
    out = [RULE, "CUSTOMER SUPPORT WORKFLOW RESULTS", RULE, ""]
    if result.customer:
        out += ["👤 CUSTOMER INFORMATION", _model(result.customer), ""]
    decision = result.escalation
    out += [
        "📊 CLASSIFICATION & ANALYSIS",
        f"Inquiry Type: {result.inquiry_type or '-'}",
        f"Sentiment: {result.sentiment or '-'}",
        f"Escalation Decision: {decision.decision if decision else '-'}",
    ]
    if decision and decision.reason:
        out.append(f"Reason: {decision.reason}")
    out.append("")
    if result.account_status is not None:
        out += ["💳 ACCOUNT STATUS", _json(result.account_status)]
        if result.account_action:
            out.append(f"Account Action: {result.account_action}")
        out.append("")
    if result.escalation_ticket is not None:
        out += ["🚨 ESCALATION TICKET", _json(result.escalation_ticket), ""]
    if result.final_response is not None:
        text = result.final_response
        out += [f"💬 FINAL CUSTOMER RESPONSE ({len(text)} characters)", text, ""]
    if result.quality:
        verdict = "pass" if result.quality.passed else "fail"
        out += ["✅ QUALITY CHECK", f"Score: {result.quality.score}/10 ({verdict})"]
        out += [f"Regenerations: {result.regenerations}"]
        out += [f"Issues: {_json(result.quality.issues)}", ""]
    if result.follow_up:
        out += ["📅 FOLLOW-UP PLAN", _model(result.follow_up), ""]
    for record in trace.node_runs:
        if record.fell_back:
            out += [f"⚠️ OPTIONAL STEP FAILED: {record.node}", record.error or "", ""]
    if trace.status == "failed":
        out += ["❌ RUN FAILED", trace.error or "unknown error", ""]
    if trace.status == "waiting" and trace.waiting_for:
        question = trace.waiting_for.get("question") or {}
        out += ["⏸ WAITING FOR A PERSON", f"Node: {trace.waiting_for['node']}", _json(question), ""]
    if result.outstanding:
        done = ", ".join(result.effects)
        out += [
            "⚠️ UNFINISHED",
            f"Already done: {done}. Still to do: {', '.join(result.outstanding)}. Resuming "
            "the run finishes it without repeating what was done.",
            "",
        ]
    return "\n".join(out)


def format_metrics(metrics: dict[str, Any]) -> str:
    """Summary, per node, per node type and AI API tables, in a stable order."""
    summary, ai = metrics["summary"], metrics["ai"]
    out = [RULE, "EXECUTION METRICS", RULE, ""]
    out += [
        "Summary",
        f"  Node executions: {summary['node_executions']} "
        f"(successes {summary['successes']}, failures {summary['failures']}, "
        f"skipped {summary['skipped']})",
        f"  Retries: {summary['retries']}",
        f"  AI requests: {summary['ai_requests']}",
        f"  AI tokens: {summary['ai_tokens']}",
        f"  Estimated cost: ${summary['cost_usd']:.6f}",
        "",
    ]
    for title, section in (("Per node", "nodes"), ("Per node type", "node_types")):
        width = max(len(name) for name in metrics[section]) if metrics[section] else 4
        out.append(title)
        out.append(f"  {'name':<{width}}  runs  ok  fail  retry  skip  total time")
        for name, row in metrics[section].items():
            out.append(
                f"  {name:<{width}}  {row['executions']:>4}  {row['successes']:>2}  "
                f"{row['failures']:>4}  {row['retries']:>5}  {row['skipped']:>4}  "
                f"{row['total_ms']:>7.1f} ms"
            )
        out.append("")
    out += [
        "AI API",
        f"  Requests: {ai['requests']}",
        f"  Tokens: {ai['prompt_tokens']} prompt + {ai['completion_tokens']} completion "
        f"= {ai['total_tokens']}",
        f"  Estimated cost: ${ai['cost_usd']:.6f} ({', '.join(map(str, ai['models'])) or '-'})",
        f"  Average latency: {ai['avg_latency_ms']:.1f} ms",
    ]
    return "\n".join(out)


def format_report(trace: Trace, *, message: str | None = None, header: bool = True) -> str:
    """Everything the Go demo printed, for one run (``header=False``: without its first
    line, for a caller that printed it already)."""
    head = [HEADER, ""] if header else [""]
    head += [
        f"Customer Message: {message or trace.inputs.get('customer_message', '')}",
        "",
    ]
    if trace.meta.get("backend"):
        head.append(trace.meta["backend"])
    head += [
        f"Workflow: {trace.workflow}",
        f"Execution ID: {trace.run_id}",
        f"Ticket ID: {trace.inputs.get('ticket_id', '-')}",
        "",
        format_structure(trace.graph),
        "",
    ]
    body = [format_results(trace), format_metrics(compute_metrics(trace))]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n"
