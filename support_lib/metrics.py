"""Execution metrics computed from traces (one run or many), as plain dicts.

The numbers of the Go demo's "Execution Metrics": a summary, per node and per node type
(executions, successes, failures, retries, duration) and the AI API (requests, tokens,
cost, latency). A node's *execution* is one run that started (skips are counted apart);
an AI *request* is one attempt of an LLM node, so retries count as requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .engine import NodeRun, Trace


def _blank() -> dict[str, Any]:
    return {
        "executions": 0,
        "successes": 0,
        "failures": 0,
        "retries": 0,
        "skipped": 0,
        "total_ms": 0.0,
        "avg_ms": 0.0,
    }


def _count(row: dict[str, Any], run: NodeRun) -> None:
    if run.status == "skipped":
        row["skipped"] += 1
        return
    row["executions"] += 1
    row["successes"] += run.status == "completed"
    row["failures"] += run.status == "failed"
    row["retries"] += max(0, run.attempts - 1)
    row["total_ms"] = round(row["total_ms"] + (run.duration_ms or 0.0), 1)
    row["avg_ms"] = round(row["total_ms"] / row["executions"], 1)


def compute_metrics(traces: Trace | Iterable[Trace]) -> dict[str, Any]:
    """Metrics for one trace or a batch of them; keys are in a stable order."""
    batch = [traces] if isinstance(traces, Trace) else list(traces)
    nodes: dict[str, dict[str, Any]] = {}
    kinds: dict[str, dict[str, Any]] = {}
    for trace in batch:
        for node in trace.graph.get("nodes", []):
            nodes.setdefault(node["name"], _blank())
            kinds.setdefault(node["kind"], _blank())
    ai = {
        "requests": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost_usd": 0.0,
        "avg_latency_ms": 0.0,
        "models": [],
    }
    latencies: list[float] = []
    for trace in batch:
        for run in trace.node_runs:
            _count(nodes.setdefault(run.node, _blank()), run)
            _count(kinds.setdefault(run.kind, _blank()), run)
            if run.kind == "llm" and run.status != "skipped":
                ai["requests"] += run.attempts
            if run.usage:
                for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                    ai[key] += run.usage.get(key, 0)
                ai["cost_usd"] += run.usage.get("cost_usd", 0.0)
                latencies.append(run.usage.get("latency_ms", 0.0))
                if run.usage.get("model") not in ai["models"]:
                    ai["models"].append(run.usage.get("model"))
    ai["cost_usd"] = round(ai["cost_usd"], 8)
    ai["avg_latency_ms"] = round(sum(latencies) / len(latencies), 1) if latencies else 0.0
    summary = {
        "runs": len(batch),
        "completed_runs": sum(t.status == "completed" for t in batch),
        "node_executions": sum(row["executions"] for row in nodes.values()),
        "successes": sum(row["successes"] for row in nodes.values()),
        "failures": sum(row["failures"] for row in nodes.values()),
        "retries": sum(row["retries"] for row in nodes.values()),
        "skipped": sum(row["skipped"] for row in nodes.values()),
        "ai_requests": ai["requests"],
        "ai_tokens": ai["total_tokens"],
        "cost_usd": ai["cost_usd"],
        "total_ms": round(sum(t.duration_ms or 0.0 for t in batch), 1),
    }
    return {"summary": summary, "nodes": nodes, "node_types": kinds, "ai": ai}
