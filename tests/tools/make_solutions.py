"""Make the solution copies of the lessons: notebooks/solutions/NN_*.ipynb.

    python tests/tools/make_solutions.py           # write them, then execute them
    python tests/tools/make_solutions.py --check   # exit 1 if one is out of date

The lessons are what learners open: each exercise is a code cell tagged ``exercise``
that starts ``answer = ...`` and ends with ``check("NN.k", answer)``. The reference
answers have one home, the checkers in ``support_lib/exercises/`` (where
``tests/test_exercises.py`` proves each is accepted). A solution copy is the lesson with
each exercise cell's ``answer = ...`` replaced by that reference answer, executed, so an
instructor sees every check pass. ``tests/test_notebooks.py`` fails when a solution copy
no longer matches its lesson.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
from execute_notebooks import execute  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = ROOT / "notebooks" / "solutions"
CHECK = re.compile(r'check\("(\d\d\.\d+)"')
STUB = re.compile(r"^answer = \.\.\..*$", re.M)


def solution_copy(lesson: Path) -> nbformat.NotebookNode:
    """The lesson with each exercise's stub replaced by its reference answer."""
    from support_lib.exercises import find

    nb = nbformat.read(lesson, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if "exercise" not in cell.metadata.get("tags", []):
            continue
        exercise_id = CHECK.search(cell.source).group(1)
        answer = find(exercise_id).solution
        cell.source = STUB.sub(lambda _m, a=answer: a, cell.source, count=1)
    nb.metadata.pop("support_kit", None)
    return nb


def sources(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells]


def out_of_date() -> list[str]:
    stale = []
    for lesson in LESSONS:
        target = SOLUTIONS / lesson.name
        fresh = solution_copy(lesson)
        if not target.exists() or sources(nbformat.read(target, 4)) != sources(fresh):
            stale.append(lesson.name)
    return stale


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = out_of_date()
        for name in stale:
            print(f"notebooks/solutions/{name} is out of date: run tests/tools/make_solutions.py")
        return 1 if stale else 0
    SOLUTIONS.mkdir(exist_ok=True)
    for lesson in LESSONS:
        if any(lesson.name.startswith(prefix) for prefix in argv) or not argv:
            target = SOLUTIONS / lesson.name
            nbformat.write(solution_copy(lesson), target)
            print(f"executing solutions/{lesson.name} ...", end=" ", flush=True)
            print(f"{execute(target):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
