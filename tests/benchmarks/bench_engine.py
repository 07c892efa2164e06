"""Engine benchmarks: what the scheduler costs, and what concurrency buys.

    python tests/benchmarks/bench_engine.py

Prints ratios measured in this one run (the machine is noisy; compare numbers from the
same run only). Not collected by pytest.

1. Overhead: a chain of N no-op nodes run by the engine vs the same N plain awaits.
2. Fan-out: 3 independent 50 ms nodes (like Extract/Classify/Sentiment) run by the
   engine vs awaited one after another.
3. The real workflow, offline: runs per second against the in-process mock server.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from support_lib.engine import START, FunctionNode, Workflow


def chain(n: int) -> Workflow:
    wf = Workflow("chain", inputs=["x"])
    previous = START
    for i in range(n):
        wf.add(FunctionNode(f"n{i}", lambda s, i=i: {f"v{i}": i}, writes=[f"v{i}"]))
        wf.edge(previous, f"n{i}")
        previous = f"n{i}"
    return wf


async def plain(n: int) -> None:
    async def step(i: int) -> dict[str, int]:
        return {f"v{i}": i}

    state: dict[str, int] = {}
    for i in range(n):
        state.update(await step(i))


def fan_out(delay: float) -> Workflow:
    async def slow(state, key):
        await asyncio.sleep(delay)
        return {key: True}

    wf = Workflow("fan_out", inputs=[])
    for key in ("extract", "classify", "sentiment"):
        wf.add(FunctionNode(key, lambda s, key=key: slow(s, key), writes=[key]))
        wf.edge(START, key)
    return wf


async def timed(make_coro, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await make_coro()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def main() -> None:
    n = 40
    wf = chain(n)
    engine = await timed(lambda: wf.arun({"x": 0}), 20)
    direct = await timed(lambda: plain(n), 20)
    per_node_us = (engine - direct) / n * 1e6
    print(
        f"1. chain of {n} no-op nodes: engine {engine * 1000:.1f} ms, plain awaits "
        f"{direct * 1000:.2f} ms -> about {per_node_us:.0f} us of scheduling per node"
    )

    delay = 0.05
    fan = fan_out(delay)
    concurrent = await timed(lambda: fan.arun({}), 5)

    async def sequential() -> None:
        for _ in range(3):
            await asyncio.sleep(delay)

    one_by_one = await timed(sequential, 5)
    print(
        f"2. three {delay * 1000:.0f} ms nodes: engine {concurrent * 1000:.0f} ms vs "
        f"sequential {one_by_one * 1000:.0f} ms -> {one_by_one / concurrent:.1f}x faster"
    )

    from support_lib import arun, mock_server

    server = mock_server()
    await arun("warm-up: where is my parcel?", mock_url=server.url)
    runs = 10
    started = time.perf_counter()
    for i in range(runs):
        await arun(f"Hi, when will order #5042{i} arrive? Thanks, Anna", mock_url=server.url)
    elapsed = time.perf_counter() - started
    print(
        f"3. full workflow offline, one at a time: {runs / elapsed:.1f} runs/s "
        f"({elapsed / runs * 1000:.0f} ms per run, in-process mock server)"
    )
    server.stop()


if __name__ == "__main__":
    asyncio.run(main())
