"""Re-execute the lesson notebooks in place, offline, so their saved outputs are fresh.

    python tests/tools/execute_notebooks.py            # every notebook
    python tests/tools/execute_notebooks.py 03 05      # those whose name starts so

Each notebook runs top to bottom in a fresh kernel with no API key (the offline model),
from the notebooks/ folder, exactly as nbval will run it. Afterwards the notebook's
metadata records a hash of its code cells: ``tests/test_notebooks.py`` fails when a
notebook's code was edited after its outputs were saved.

Widgets are saved as their static fallback, not as widgets: a saved widget view without
its live model shows "Error displaying widget: model not found" in JupyterLab and a repr
in VS Code, GitHub and nbconvert. So each widget output keeps only its picture (the
app's ``text/html`` snapshot) or a one-line note; running the cell brings the widget.
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
        for output in cell.get("outputs", []):
            static_widget_fallback(output)
    nbformat.write(nb, path)
    return elapsed


WIDGET = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[an interactive widget: run this cell to use it]"


def static_widget_fallback(output: dict) -> None:
    """Keep a widget output's static picture, drop the live view (see the module doc)."""
    data = output.get("data", {})
    if WIDGET not in data:
        return
    del data[WIDGET]
    if "text/html" not in data:
        data["text/plain"] = WIDGET_NOTE


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
