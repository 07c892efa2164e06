"""Run every lesson against a *different* model, to prove the lessons do not depend on the
stand-in's exact answers ("every lesson runs to its end with any backend").

    python tests/tools/other_model.py                 # every lesson, seeds 1 2 3
    python tests/tools/other_model.py --seeds 7 03 05 # some lessons, one seed
    python tests/tools/other_model.py serve --seed 1 --port 8090   # just the model
    python tests/tools/other_model.py --base-url http://127.0.0.1:8080/v1 --model smollm2 07
                                                       # the lessons against a real server
    ... --keep /tmp/executed                           # keep the executed copies to read

The "other model" is the mock server's OpenAI-compatible endpoint with its answers
perturbed at random (seeded): every answer still fits its JSON schema, as a real model's
structured output would, but labels, booleans and scores change half the time and some
replies become a vague one-liner. So runs escalate, skip the account branch, fail the
quality check and exhaust the loop where the stand-in would not: cells that silently
assume one branch ran break here. Each lesson runs in a temporary copy with
``OPENAI_BASE_URL`` pointing at the other model (the support APIs stay the lesson's own
in-kernel mock); nothing in notebooks/ changes. The outputs are not compared: only that
every cell runs. A real model is the final check (README: "Other models"); this one is
fast, offline and runs in a few minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
VAGUE_REPLY = "Thank you for your message. We are looking into it."


# --------------------------------------------------------------------------- the model


def perturb(value: Any, schema: dict, defs: dict, rng: random.Random) -> Any:
    """A schema-valid variation of ``value``: enums, booleans and bounded numbers change
    half the time; objects and arrays are walked."""
    if "$ref" in schema:
        schema = defs.get(schema["$ref"].split("/")[-1], {})
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if value is None or not options:
            return value
        return perturb(value, options[0], defs, rng)
    if "enum" in schema and rng.random() < 0.5:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "boolean" and rng.random() < 0.5:
        return not value
    bounded = "minimum" in schema and "maximum" in schema
    if kind in ("integer", "number") and bounded and rng.random() < 0.5:
        return rng.randint(int(schema["minimum"]), int(schema["maximum"]))
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: perturb(v, props.get(k, {}), defs, rng) for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [perturb(v, schema.get("items", {}), defs, rng) for v in value]
    return value


def other_answer(seed: int):
    from mock_server import offline_model

    def answer(messages, response_format, temperature, *, sloppy=0.0):
        content = offline_model.answer(messages, response_format, temperature, sloppy=sloppy)
        key = json.dumps([seed, messages, response_format], sort_keys=True, default=str)
        rng = random.Random(hashlib.sha256(key.encode()).hexdigest())
        spec = (response_format or {}).get("json_schema") if response_format else None
        if isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
            schema = spec["schema"]
            varied = perturb(json.loads(content), schema, schema.get("$defs", {}), rng)
            return json.dumps(varied)
        if (response_format or {}).get("type", "text") == "text" and rng.random() < 0.3:
            return VAGUE_REPLY
        return content

    return answer


def serve(seed: int, port: int) -> None:
    import uvicorn

    from mock_server import openai_compat
    from mock_server.app import create_app

    openai_compat.answer = other_answer(seed)
    uvicorn.run(create_app(":memory:"), host="127.0.0.1", port=port, log_level="warning")


# --------------------------------------------------------------------------- the lessons


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_model(seed: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, __file__, "serve", "--seed", str(seed), "--port", str(port)]
    process = subprocess.Popen(cmd, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):  # wait for the state we need: the server answering
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url + "/v1"
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the other model did not start")


def run_lesson(lesson: Path, base_url: str, workdir: Path, model: str) -> str | None:
    """Execute a copy of ``lesson`` against the other model: None, or the first error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    copy = workdir / lesson.name
    shutil.copy(lesson, copy)
    nb = nbformat.read(copy, as_version=4)
    env = dict(os.environ, OPENAI_BASE_URL=base_url, SUPPORT_KIT_MODEL=model)
    env.pop("OPENAI_API_KEY", None)
    per_cell_s = 180 if model == "other-model" else 3600  # a real model on a CPU is slow
    client = NotebookClient(nb, timeout=per_cell_s, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})  # fmt: skip
    try:
        client.execute(env=env)  # the kernel's environment: this process's stays as it is
    except CellExecutionError as exc:
        code = [c for c in nb.cells if c.cell_type == "code"]
        where = next((i for i, c in enumerate(code, 1) for o in c.get("outputs", [])
                      if o.get("output_type") == "error"), "?")  # fmt: skip
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(exc).strip().splitlines()[-1])
        return f"code cell {where}: {error[:300]}"
    finally:
        nbformat.write(nb, copy)  # the executed copy, to read with --keep
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    if lesson.name.startswith("00") and model not in outputs:
        return "lesson 00 does not say it talks to the other model: the switch did not work"
    return None


def run_all(
    lessons: list[Path], base_url: str, label: str, model: str, keep: str | None = None
) -> int:
    """Run each lesson against ``base_url``; print one line per lesson; count failures.
    With ``keep``, the executed copies are left in that folder to read."""
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for lesson in lessons:
            started = time.perf_counter()
            error = run_lesson(lesson, base_url, workdir, model)
            took = time.perf_counter() - started
            failures += error is not None
            outcome = "ok" if error is None else f"FAILED: {error}"
            print(f"{label} {lesson.name} ({took:.0f} s): {outcome}", flush=True)
    return failures


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(int(argv[argv.index("--seed") + 1]), int(argv[argv.index("--port") + 1]))
        return 0
    options = {}
    for name in ("--seeds", "--base-url", "--model", "--keep"):
        if name in argv:
            at = argv.index(name)
            options[name], argv = argv[at + 1], argv[:at] + argv[at + 2 :]
    chosen = [p for p in LESSONS if not argv or any(p.name.startswith(a) for a in argv)]
    failures = 0
    if "--base-url" in options:  # a real server: the lessons as they are, once
        model = options.get("--model", "local")
        failures = run_all(chosen, options["--base-url"], model, model, options.get("--keep"))
    for seed in [] if "--base-url" in options else seeds(options):
        process, base_url = start_model(seed)
        try:
            failures += run_all(chosen, base_url, f"seed {seed}", "other-model")
        finally:
            process.terminate()
            process.wait(10)
    print(f"{failures} lesson run(s) failed")
    return 1 if failures else 0


def seeds(options: dict[str, str]) -> list[int]:
    return [int(options["--seeds"])] if "--seeds" in options else [1, 2, 3]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
