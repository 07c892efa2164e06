"""Re-execute the lesson notebooks in place, offline, so their saved outputs are fresh.

    python tests/tools/execute_notebooks.py            # every notebook
    python tests/tools/execute_notebooks.py 03 05      # those whose name starts so

Each notebook runs top to bottom in a fresh kernel with no API key (the offline model),
from the notebooks/ folder, exactly as nbval will run it. Afterwards the notebook's
metadata records a hash of its code cells: ``tests/test_notebooks.py`` fails when a
notebook's code was edited after its outputs were saved. Widget state is not saved
(the outputs keep a text fallback), so GitHub and nbviewer render the notebooks.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OFFLINE_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_KIT_MODEL")


def code_hash(nb: nbformat.NotebookNode) -> str:
    """A fingerprint of the code the saved outputs came from."""
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256("\n\x00".join(sources).encode()).hexdigest()[:16]


def execute(path: Path, timeout: int = 120) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    nb.metadata.pop("widgets", None)
    nb.metadata["support_kit"] = {"code_hash": code_hash(nb)}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return elapsed


def main(prefixes: list[str]) -> int:
    for key in OFFLINE_ENV:
        os.environ.pop(key, None)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in prefixes)]
    for path in paths:
        print(f"executing {path.name} ...", end=" ", flush=True)
        print(f"{execute(path):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
