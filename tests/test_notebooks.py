"""The committed lesson notebooks: fresh, error-free, offline, and documented honestly.

nbval (run by the same `pytest` command) re-executes each notebook and compares outputs;
these checks catch what nbval cannot: code edited after the outputs were saved, error
outputs, saved widget state, and README claims that drifted from the notebooks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
from execute_notebooks import code_hash  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPECTED = [f"{i:02d}" for i in range(11)]
FORBIDDEN = [
    (re.compile(r"^\s*[%!]\s*pip\b", re.M), "installs packages"),
    (re.compile(r"\binput\s*\("), "asks for input"),
    (re.compile(r"\bgetpass\b"), "asks for a secret"),
    (re.compile(r"https?://(?!127\.0\.0\.1|localhost)"), "names a host beyond this machine"),
    (re.compile(r"#\s*NBVAL_"), "shows an nbval marker (use the cell tag nbval-ignore-output)"),
    (re.compile(r"\bopenai\.lib\._|\bfrom openai\._"), "imports a private part of the SDK"),
]


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def ignored_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Code cells (1-based) that nbval does not compare: tagged ``nbval-ignore-output``."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [
        i + 1 for i, c in enumerate(code) if "nbval-ignore-output" in c.metadata.get("tags", [])
    ]


def test_every_lesson_is_there_in_order():
    assert [p.name[:2] for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_fresh_and_clean(path):
    nb = load(path)
    fix = f"run `python tests/tools/execute_notebooks.py {path.name[:2]}`"
    assert nb.metadata.get("support_kit", {}).get("code_hash") == code_hash(nb), (
        f"{path.name} was edited after its outputs were saved: {fix}"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name} not run top to bottom: {fix}"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name} saved an error: {out.get('ename')}"
            assert "Traceback" not in str(out.get("text", "")), f"{path.name} saved a traceback"
    assert "widgets" not in nb.metadata, f"{path.name} keeps widget state: {fix}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_offline_and_teaches_in_the_agreed_shape(path):
    nb = load(path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for pattern, problem in FORBIDDEN:
            assert not pattern.search(cell.source), f"{path.name}: a cell {problem}"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert text.lstrip().startswith(f"# Lesson {path.name[:2]}"), path.name
    assert "## Exercises" in text, f"{path.name} has no exercises"


def test_readme_lists_exactly_the_cells_nbval_ignores():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`(\d\d_[\w]+\.ipynb)`, code cell (\d+)", readme))
    actual = {(p.name, str(n)) for p in NOTEBOOKS for n in ignored_cells(load(p))}
    assert listed == actual, "README's NBVAL_IGNORE_OUTPUT list and the notebooks differ"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_widgets_have_a_static_picture_and_dollars_are_not_maths(path):
    nb = load(path)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            two_amounts = re.search(r"(?<!\\)\$[\d.,]+[^$\n]*?(?<!\\)\$[\d.,]+", cell.source)
            assert not two_amounts, f"{path.name}: write \\$ for money ({two_amounts.group()})"
        for out in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), (
                f"{path.name}: a saved widget view shows an error before the cell runs"
            )


# --------------------------------------------------------------------------- exercises

EXERCISE_CHECK = re.compile(r'^check\("(\d\d\.\d+)", answer\)\s*$', re.M)


def exercise_ids(nb: nbformat.NotebookNode) -> list[str]:
    """The ids checked by the lesson's exercise cells, in order."""
    found = []
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", []):
            assert cell.cell_type == "code", "only code cells are tagged exercise"
            assert re.search(r"^answer = \.\.\.", cell.source, re.M), (
                f"an exercise cell must start its answer with `answer = ...`: {cell.source!r}"
            )
            ids = EXERCISE_CHECK.findall(cell.source)
            assert len(ids) == 1, f"an exercise cell checks exactly one exercise: {cell.source!r}"
            found += ids
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_of_a_lesson_is_a_checked_cell(path):
    from support_lib.exercises import EXERCISES, _load_all

    _load_all()
    ids = exercise_ids(load(path))
    lesson = path.name[:2]
    registered = sorted(i for i in EXERCISES if i.startswith(f"{lesson}."))
    assert len(ids) >= 3, f"{path.name} has {len(ids)} checked exercises (at least 3)"
    assert all(i.startswith(f"{lesson}.") for i in ids), f"{path.name} checks another lesson's"
    assert sorted(ids) == registered, f"{path.name} cells {ids} vs checkers {registered}"


def test_the_solution_notebooks_match_their_lessons():
    sys.path.insert(0, str(ROOT / "tests" / "tools"))
    from make_solutions import out_of_date

    assert out_of_date() == [], "run `python tests/tools/make_solutions.py` for those lessons"


def test_the_instructor_guide_describes_the_lessons_as_they_are():
    sys.path.insert(0, str(ROOT / "tests" / "tools"))
    from lesson_stats import GUIDE, counts

    guide = GUIDE.read_text(encoding="utf-8")
    fix = "run `python tests/tools/lesson_stats.py --write`"
    for path in NOTEBOOKS:
        c = counts(path)
        expected = (
            f"| {path.name[:2]} | {c['title']} | {c['words']:,} | {c['code']} | {c['exercises']} |"
        )
        assert expected in guide, f"the guide's row for {path.name} is out of date: {fix}"


def test_every_notebook_is_valid_nbformat_for_any_front_end():
    """JupyterLab, Notebook 7, VS Code and GitHub read the same files: they must be valid."""
    solutions = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
    assert len(solutions) == len(NOTEBOOKS)
    for path in [*NOTEBOOKS, *solutions]:
        nbformat.validate(load(path))
