"""The instructor guide's lesson table: size, exercises, measured run time, session estimate.

    python tests/tools/lesson_stats.py           # print the table (executes each lesson)
    python tests/tools/lesson_stats.py --write   # and put it into notebooks/INSTRUCTOR_GUIDE.md

"Runs in" is measured here: each lesson executed offline in a temporary copy, top to
bottom. "Session" is an estimate, and says how it is made: reading at 150 words a minute,
half a minute per code cell, six minutes per exercise. ``tests/test_notebooks.py`` checks
that the guide's words, cells and exercise counts match the lessons (not the times).
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
from execute_notebooks import execute  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GUIDE = ROOT / "notebooks" / "INSTRUCTOR_GUIDE.md"
START, END = "<!-- lesson-table -->", "<!-- /lesson-table -->"


def counts(path: Path) -> dict[str, int | str]:
    """What a lesson holds: its title, words of prose, code cells, checked exercises."""
    nb = nbformat.read(path, as_version=4)
    prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
    title = re.sub(r"^# Lesson \d\d\s*[·:]\s*", "", prose[0].splitlines()[0]).strip()
    return {
        "title": title,
        "words": sum(len(text.split()) for text in prose),
        "code": sum(c.cell_type == "code" for c in nb.cells),
        "exercises": sum("exercise" in c.metadata.get("tags", []) for c in nb.cells),
    }


def session_minutes(c: dict) -> int:
    minutes = c["words"] / 150 + c["code"] * 0.5 + c["exercises"] * 6
    return int(5 * round(minutes / 5))


def row(path: Path, seconds: float) -> str:
    c = counts(path)
    return (
        f"| {path.name[:2]} | {c['title']} | {c['words']:,} | {c['code']} | {c['exercises']} "
        f"| {seconds:.0f} s | {session_minutes(c)} min |"
    )


def table() -> str:
    lines = [
        "| # | lesson | words | code cells | exercises | runs in | session |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for lesson in LESSONS:
            copy = Path(tmp) / lesson.name
            shutil.copy(lesson, copy)
            lines.append(row(lesson, execute(copy)))
            print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = table()
    print(text)
    if "--write" in argv:
        guide = GUIDE.read_text(encoding="utf-8")
        before, rest = guide.split(START, 1)
        after = rest.split(END, 1)[1]
        GUIDE.write_text(f"{before}{START}\n{text}\n{END}{after}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
