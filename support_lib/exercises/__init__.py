"""Checked exercises: every lesson's exercises can be checked in one line.

    from support_lib.exercises import check, solution
    answer = ...                # your answer
    check("03.2", answer)       # what is right, what is wrong, and a hint
    solution("03.2")            # a reference answer, when you ask for it

Each exercise lives in the module of its lesson (``lesson03.py``...) as a checker
function registered with :func:`exercise`: it looks at the answer and calls ``expect``
for each thing a right answer must do. Each also carries its reference solution (code a
learner can read) and typical wrong answers; ``tests/test_exercises.py`` proves the
checker accepts the solution and refuses every wrong one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import Any

NOT_ANSWERED = ...
"""What the exercise cells start with (``answer = ...``)."""


class Wrong(Exception):
    """Raised by ``expect``: the first thing the answer gets wrong, in plain words."""


def expect(condition: Any, problem: str) -> None:
    """In a checker: the answer must meet ``condition``; else ``problem`` says what is wrong."""
    if not condition:
        raise Wrong(problem)


def as_pair(answer: Any, size: int = 2) -> tuple[Any, ...] | None:
    """A pair (or ``size`` values) given as a tuple or a list, as a tuple; else None: a
    learner who writes ``[405, 400]`` for ``(405, 400)`` has the right values."""
    if isinstance(answer, (tuple, list)) and len(answer) == size:
        return tuple(answer)
    return None


def as_names(answer: Any) -> set[Any] | None:
    """A set of names given as any set-like value (set, frozenset, dict keys) or as a list
    or tuple, as a set; else None (a string is one name, not a set of them)."""
    if isinstance(answer, (Set, list, tuple)) and not isinstance(answer, str):
        return set(answer)
    return None


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    checker: Callable[[Any], Any]
    hint: str
    solution: str
    """Code that sets ``answer`` (runs in a fresh namespace; it may import anything)."""
    wrong: tuple[str, ...] = ()
    """Code for typical wrong answers, each setting ``answer`` (the tests try them)."""
    praise: str = "Right."


EXERCISES: dict[str, Exercise] = {}


def exercise(
    id: str, title: str, *, hint: str, solution: str, wrong: tuple[str, ...] = (), praise: str = ""
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register a checker (see the module doc)."""

    def register(checker: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if id in EXERCISES:
            raise ValueError(f"exercise {id} is defined twice")
        EXERCISES[id] = Exercise(id, title, checker, hint, solution.strip(), wrong,
                                 praise or "Right.")  # fmt: skip
        return checker

    return register


@dataclass
class Feedback:
    """What ``check`` says: shown as plain text in a notebook."""

    exercise: Exercise
    passed: bool
    message: str
    lines: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        mark = "✅ " if self.passed else "❌ "
        head = f"{mark}Exercise {self.exercise.id} ({self.exercise.title}): {self.message}"
        return "\n".join([head, *self.lines])

    def __bool__(self) -> bool:
        return self.passed


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")


def find(exercise_id: str) -> Exercise:
    _load_all()
    if exercise_id not in EXERCISES:
        known = ", ".join(sorted(EXERCISES)) or "none yet"
        raise KeyError(f"no exercise {exercise_id!r}; the exercises are: {known}")
    return EXERCISES[exercise_id]


def check(exercise_id: str, answer: Any = NOT_ANSWERED) -> Feedback:
    """Check an answer: a sentence on what is right or wrong, and a hint when it is wrong."""
    ex = find(exercise_id)
    if answer is NOT_ANSWERED:
        return Feedback(ex, False, "not answered yet.", [f"Hint: {ex.hint}"])
    try:
        outcome = ex.checker(answer)
        if inspect.isawaitable(outcome):
            _run_coroutine(outcome)
    except Wrong as problem:
        lines = [f"Hint: {ex.hint}", f'Stuck? solution("{ex.id}") shows one way to do it.']
        return Feedback(ex, False, f"not yet. {problem}", lines)
    except (Exception, asyncio.CancelledError) as exc:  # the learner's code raised: say so
        return Feedback(ex, False, f"your answer raised {_raised(exc)}", [f"Hint: {ex.hint}"])
    return Feedback(ex, True, ex.praise)


def _raised(exc: BaseException) -> str:
    """An exception in one line, for a learner: a group names what it holds, a cancelled
    task says what cancelling means (CancelledError is not an Exception, so it escapes an
    ``except Exception``)."""
    if isinstance(exc, asyncio.CancelledError):
        return (
            "CancelledError: a task was cancelled, and your code asked it for its result "
            "(.result() or .exception() of a cancelled task raises this)"
        )
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        inner = exc.exceptions[0]
        text += f"; the first is {type(inner).__name__}: {inner}"
    return text


def _run_coroutine(coroutine: Any) -> Any:
    """Await a checker that is async, also inside a notebook (whose loop is running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Solution(str):
    """A solution's code, shown as it is in a notebook."""

    def __repr__(self) -> str:
        return str(self)


def solution(exercise_id: str) -> Solution:
    """The reference solution of an exercise (there are often other right answers)."""
    ex = find(exercise_id)
    return Solution(f"# A solution for exercise {ex.id} ({ex.title}):\n{ex.solution}")
