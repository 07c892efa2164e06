"""Every exercise's checker accepts its reference solution and refuses typical wrong answers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from support_lib.exercises import EXERCISES, NOT_ANSWERED, _load_all, check, solution

_load_all()
IDS = sorted(EXERCISES)


@pytest.fixture(autouse=True)
def _mock_knobs_put_back():
    """Some wrong answers leave a knob of the mock server on (that is what they get
    wrong): put every knob a test changed back, so the next exercises run as usual."""
    from support_lib.kit import local_mock

    server = local_mock()

    def knobs() -> dict:
        return httpx.get(server.url + "/_config", trust_env=False).json()

    before = knobs()
    yield
    changed = {key: value for key, value in before.items() if knobs().get(key) != value}
    if changed:
        server.configure(**changed)


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


RIGHT_IN_ANOTHER_FORM = {
    "a list for a pair": ("00.3", "answer = [405, 400]"),
    "a frozenset for a set": (
        "00.4",
        "answer = frozenset({'check_billing', 'check_escalation', 'quality_gate'})",
    ),
    "dict keys for a set": (
        "00.4",
        "answer = dict.fromkeys(['check_billing', 'check_escalation', 'quality_gate']).keys()",
    ),
    "OpenAI's own base URL set explicitly": (
        "00.5",
        'answer = {"OPENAI_API_KEY": "sk-your-key-here", "SUPPORT_KIT_MODEL": "gpt-4.1-nano", '
        '"OPENAI_BASE_URL": "https://api.openai.com/v1/"}',
    ),
    "a function that returns a list for a pair": (
        "05.4",
        "answer = lambda loop_limit: [loop_limit + 1, loop_limit + 1]",
    ),
    "the scores as a tuple": (
        "05.3",
        EXERCISES["05.3"]
        .solution.replace('"pass", scores', '"pass", tuple(scores)')
        .replace('"exhausted", scores', '"exhausted", tuple(scores)'),
    ),
    "the rates rounded to two decimals": (
        "08.1",
        'answer = "SELECT sentiment, ROUND(AVG(escalated), 2) AS rate FROM analytics_logs '
        'GROUP BY sentiment"',
    ),
    "the missed ids as a set": (
        "08.3",
        EXERCISES["08.3"].solution.replace("return missed,", "return set(missed),"),
    ),
    "a list of status codes for a pair": ("09.2", "answer = [200, 422]"),
}
"""Right answers the reference does not give, in a form a learner may well choose."""


@pytest.mark.parametrize("form", sorted(RIGHT_IN_ANOTHER_FORM))
def test_a_right_answer_in_another_form_passes(form):
    exercise_id, code = RIGHT_IN_ANOTHER_FORM[form]
    assert code != EXERCISES[exercise_id].solution, "the form was not applied"
    feedback = check(exercise_id, answer_of(code))
    assert feedback.passed, repr(feedback)


def test_a_cancelled_task_is_reported_not_raised():
    def error_cost(decisions, wanted):  # as .result() of a cancelled task does
        raise asyncio.CancelledError

    feedback = check("04.4", error_cost)
    assert not feedback.passed and "CancelledError" in repr(feedback)
    assert "Hint:" in repr(feedback)
