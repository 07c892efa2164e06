"""``python -m support_lib doctor``: will the kit work on this machine, and if not, why?

Each check returns a :class:`Finding`: ``ok``, ``warn`` (the kit works, but something is
off) or ``fail`` (the kit will not work), with a sentence and, when something is wrong,
the fix. The exit status is 0 only when nothing failed. Checks take what they inspect as
arguments (an environment, a version lookup...), so each failure can be tested without
breaking the machine.

It checks: the Python version; that the packages the lessons need are installed, at the
tested versions; that JupyterLab can show widgets; that this machine can serve on
localhost; which model backend will answer, and that it does; that the working folder is
writable. It never contacts anything the learner did not configure: offline, the model
is the kit's own mock server, started on a free port for the check.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Level = Literal["ok", "warn", "fail"]
REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
MIN_PYTHON = (3, 11)
"""FastAPI 0.165 needs 3.11, and Python 3.10 reached its end of life in October 2026."""


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str = ""


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Finding:
    shown = ".".join(map(str, version))
    if version[:2] < MIN_PYTHON:
        return Finding(
            "python",
            "fail",
            f"Python {shown} is too old for the kit",
            "install Python 3.11 or newer (3.11 and 3.13 are tested)",
        )
    return Finding("python", "ok", f"Python {shown}")


def pinned(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of a requirements file (names normalised)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            pins[_norm(match.group(1))] = match.group(2)
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages(
    pins: Mapping[str, str] | None = None, installed: Callable[[str], str | None] = _installed
) -> Finding:
    pins = pinned() if pins is None else pins
    missing = [name for name in pins if installed(name) is None]
    if missing:
        return Finding(
            "packages",
            "fail",
            f"missing: {', '.join(missing)}",
            "run: pip install -r requirements.txt -e .",
        )
    other = [f"{n} {installed(n)} (tested {v})" for n, v in pins.items() if installed(n) != v]
    if other:
        return Finding(
            "packages",
            "warn",
            "versions differ from the tested ones: " + ", ".join(other),
            "pip install -r requirements.txt gives the tested set",
        )
    return Finding("packages", "ok", f"{len(pins)} packages at the tested versions")


def check_widgets(installed: Callable[[str], str | None] = _installed) -> Finding:
    """ipywidgets 8 needs the jupyterlab_widgets 3 front end in JupyterLab."""
    widgets, front = installed("ipywidgets"), installed("jupyterlab_widgets")
    fix = "pip install 'ipywidgets==8.1.9' 'jupyterlab_widgets>=3,<4', then restart JupyterLab"
    if widgets is None or front is None:
        gone = "ipywidgets" if widgets is None else "jupyterlab_widgets (the JupyterLab side)"
        return Finding("widgets", "fail", f"{gone} is not installed: the app cannot show", fix)
    if widgets.split(".")[0] != "8" or front.split(".")[0] != "3":
        return Finding(
            "widgets",
            "fail",
            f"ipywidgets {widgets} and jupyterlab_widgets {front} "
            "do not match: widgets show 'Error displaying widget'",
            fix,
        )
    return Finding("widgets", "ok", f"ipywidgets {widgets} with its JupyterLab front end {front}")


def check_localhost() -> Finding:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    except OSError as exc:
        return Finding(
            "localhost",
            "fail",
            f"cannot open a port on 127.0.0.1: {exc}",
            "the mock server needs localhost: check firewall or sandbox settings",
        )
    note = ""
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 8081)) == 0:
            note = "; port 8081 is taken (fine: the kit picks a free port unless told 8081)"
    return Finding("localhost", "ok", f"can serve on 127.0.0.1 (tried port {port}){note}")


def check_folder(folder: Path | None = None) -> Finding:
    folder = folder or Path.cwd()
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".support-kit-check-"):
            pass
    except OSError as exc:
        return Finding(
            "folder",
            "fail",
            f"cannot write in {folder}: {exc.strerror or exc}",
            "start Jupyter (or the CLI) from a folder you can write to, such as a "
            "copy of the kit in your home folder",
        )
    return Finding("folder", "ok", f"{folder} is writable")


def check_backend(env: Mapping[str, str] | None = None, timeout: float = 5.0) -> Finding:
    """Which model answers, and one real call to it (offline: the kit's own mock)."""
    from .llm import resolve_backend

    env = os.environ if env is None else env
    if not env.get("OPENAI_API_KEY", "").strip() and not env.get("OPENAI_BASE_URL", "").strip():
        return _offline_call(timeout)
    backend = resolve_backend(env=env)
    return _remote_call(backend, timeout)


def _offline_call(timeout: float) -> Finding:
    from . import kit

    try:
        server = kit.start_mock()
    except Exception as exc:
        return Finding(
            "backend",
            "fail",
            f"the offline model's server did not start: {exc}",
            "see the localhost check; or run `python -m mock_server` to see why",
        )
    try:
        return _remote_call(_offline_backend(server.openai_base_url), timeout)
    finally:
        server.stop()


def _offline_backend(url: str) -> Any:
    from .llm import resolve_backend

    return resolve_backend(url, env={})


def _remote_call(backend: Any, timeout: float) -> Finding:
    import openai

    described = backend.describe().removeprefix("LLM backend: ")
    client = openai.OpenAI(
        base_url=backend.base_url, api_key=backend.api_key, max_retries=0, timeout=timeout
    )
    try:
        client.chat.completions.create(
            model=backend.model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=5
        )
    except openai.AuthenticationError:
        return Finding(
            "backend",
            "fail",
            f"{described}: the API key was rejected",
            "check OPENAI_API_KEY, or unset it to use the offline model",
        )
    except openai.APIConnectionError:
        return Finding(
            "backend",
            "fail",
            f"{described}: cannot connect to {backend.base_url or 'api.openai.com'}",
            "start the server, fix OPENAI_BASE_URL, or unset it to work offline",
        )
    except openai.APIStatusError as exc:
        return Finding(
            "backend",
            "fail",
            f"{described}: answered {exc.status_code}",
            "check SUPPORT_KIT_MODEL names a model this server has",
        )
    finally:
        client.close()
    return Finding("backend", "ok", f"{described}: answered a test call")


CHECKS: tuple[Callable[[], Finding], ...] = (
    check_python,
    check_packages,
    check_widgets,
    check_localhost,
    check_folder,
    check_backend,
)


def run_checks(checks: tuple[Callable[[], Finding], ...] = CHECKS) -> list[Finding]:
    findings = []
    for check in checks:
        try:
            findings.append(check())
        except Exception as exc:  # a broken check is a finding, not a crash
            findings.append(
                Finding(
                    check.__name__,
                    "fail",
                    f"the check crashed: {exc!r}",
                    "please report this with the output above",
                )
            )
    return findings


def report(findings: list[Finding]) -> tuple[str, int]:
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    lines = [
        f"[{marks[f.level]}] {f.check}: {f.message}" + (f"\n       fix: {f.fix}" if f.fix else "")
        for f in findings
    ]
    failed = sum(f.level == "fail" for f in findings)
    lines.append(
        "The kit will work."
        if not failed
        else f"{failed} problem(s) to fix before the kit will work."
    )
    return "\n".join(lines), 1 if failed else 0


def main() -> int:
    text, status = report(run_checks())
    print(text)
    return status
