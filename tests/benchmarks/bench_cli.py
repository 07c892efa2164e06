"""How long ``python -m support_lib --message ...`` takes: to its first line, and in all.

    python tests/benchmarks/bench_cli.py

Runs the CLI five times in a fresh process each (offline: it starts its own mock server)
and prints the median time to the first line of output and to the end, plus how long
``import support_lib`` and the heavy imports take on their own. Not collected by pytest.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

MESSAGE = "Hi, when will order #50422 arrive? Thanks, Anna"
RUNS = 5


def one_cli_run() -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "support_lib", "--message", MESSAGE],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - started
    proc.stdout.read()
    if proc.wait() != 0:
        raise SystemExit("the CLI failed; run it by hand to see why")
    return first, time.perf_counter() - started


def import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    samples = [one_cli_run() for _ in range(RUNS)]
    first = statistics.median(s[0] for s in samples)
    total = statistics.median(s[1] for s in samples)
    print(f"python -m support_lib, median of {RUNS} cold processes:")
    print(f"  first line after {first:.2f} s, whole report after {total:.2f} s")
    for module in ("support_lib", "support_lib.workflow", "openai", "mock_server"):
        print(f"  import {module:<22} {import_time(module):.2f} s")


if __name__ == "__main__":
    main()
