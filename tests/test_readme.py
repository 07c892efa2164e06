"""Every Python example in README.md runs as shown (offline), the way FastAPI's docs do.

Each ```python block is executed in order in one namespace, inside a running event loop
(the README's examples are notebook cells, where top-level ``await`` works)."""

from __future__ import annotations

import ast
import re
import types
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


async def test_every_python_example_in_the_readme_runs(capsys):
    namespace: dict = {"__name__": "readme"}
    for block in BLOCKS:
        code = compile(
            block, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
        )
        result = eval(code, namespace)  # noqa: S307 - our own README
        if isinstance(result, types.CoroutineType):
            await result
    out = capsys.readouterr().out
    assert "billing neutral True" in out  # the offline model: a calm report, one "!"
    assert "HELLO" in out
    assert "waiting approval_gate" in out
    assert "completed approve" in out
