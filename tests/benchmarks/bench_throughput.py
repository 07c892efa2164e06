"""Throughput of batches of workflow runs: sequential vs concurrent, server in or out of process.

    python tests/benchmarks/bench_throughput.py [--runs 24] [--latency-ms 50]

A script, not a test (pytest collects only test_*.py): timings on a shared machine are
noisy, so everything is measured in ONE run and reported as ratios to the sequential
baseline measured alongside. Offline model, loopback only, about 30-40 s in all:

1. the mock server in this process (the notebook set-up), zero latency: concurrency 1, 4, 16;
2. the same with the model slowed to ``--latency-ms`` per call (what a real API feels like);
3. the mock server in its own process (``python -m mock_server --port 0``), zero latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mock_server import start_server  # noqa: E402
from support_lib.batch import arun_batch  # noqa: E402
from support_lib.examples import load_labeled  # noqa: E402

BATCH_TIMEOUT_S = 40.0
START_TIMEOUT_S = 15.0
OFFLINE_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_KIT_MODEL")


async def throughput(messages: list[str], url: str, concurrency: int) -> tuple[float, float]:
    """(workflows per second, seconds) for one batch; every run must complete."""
    started = time.perf_counter()
    traces = await asyncio.wait_for(
        arun_batch(messages, concurrency=concurrency, progress=False, mock_url=url),
        BATCH_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - started
    failed = [t.error for t in traces if t.status != "completed"]
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) failed, e.g. {failed[0]}")
    return len(messages) / elapsed, elapsed


async def sweep(title: str, messages: list[str], url: str, levels: tuple[int, ...]) -> dict:
    print(title)
    await throughput(messages[:2], url, 2)  # warm-up: first-call costs out of the numbers
    rates = {}
    for level in levels:
        rate, seconds = await throughput(messages, url, level)
        rates[level] = rate
        print(f"  concurrency {level:>2}: {rate:6.1f} workflows/s  ({seconds:.2f} s)")
    for level in levels[1:]:
        ratio = rates[level] / rates[levels[0]]
        print(f"  concurrency {level}: {ratio:.1f}x the sequential throughput")
    return rates


class ServerProcess:
    """``python -m mock_server --port 0`` in a subprocess; its request log is drained."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", "0",
             "--db", ":memory:"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace",
        )  # fmt: skip
        self.url: str | None = None
        ready = threading.Event()

        def drain() -> None:  # read every line, or the pipe fills and the server blocks
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                match = re.search(r"ready at (http://127\.0\.0\.1:\d+)", line)
                if match and self.url is None:
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(START_TIMEOUT_S) or self.url is None:
            self.stop()
            raise RuntimeError("python -m mock_server did not report that it was ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


async def main(runs: int, latency_ms: float) -> int:
    for key in OFFLINE_ENV:
        os.environ.pop(key, None)
    messages = [row["message"] for row in load_labeled()][:runs]
    levels = (1, 4, 16)
    began = time.perf_counter()
    print(f"{len(messages)} workflow runs per batch (labeled messages), offline model, loopback\n")

    server = start_server(port=0, db_path=":memory:")
    try:
        inproc = await sweep("1. mock server in this process, no added latency", messages,
                             server.url, levels)  # fmt: skip
        server.configure(latency_ms=latency_ms)
        await sweep(
            f"\n2. mock server in this process, {latency_ms:.0f} ms per model call",
            messages[: max(8, runs * 2 // 3)],
            server.url,
            levels,
        )
    finally:
        server.configure(latency_ms=0)
        server.stop()

    print()
    external = ServerProcess()
    try:
        outproc = await sweep("3. mock server in its own process, no added latency", messages,
                              external.url, (1, 16))  # fmt: skip
    finally:
        external.stop()

    print("\nserver in its own process vs in this process:")
    for level in (1, 16):
        ratio = outproc[level] / inproc[level]
        print(f"  concurrency {level:>2}: {ratio:.1f}x the in-process throughput")
    print(f"\ntotal {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="workflows per batch")
    parser.add_argument("--latency-ms", type=float, default=50, help="for part 2")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.runs, args.latency_ms)))
