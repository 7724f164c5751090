"""The exercise tests have teeth: the reference passes everything, the stub
nothing, and each plausible mistake fails the tests aimed at it.

These call the grading machinery directly (no sandbox, for speed); the real
command line is exercised in test_grade_cli.py.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from conftest import CHAPTERS, grade_in_process

TEACHING = ("AssertionError", "NotImplementedError", "NameError: ", "stopped:")


def _mistakes():
    for path in sorted(Path(__file__).parent.glob("mistakes_*.py")):
        module = importlib.import_module(path.stem)
        for mistake in module.MISTAKES:
            yield pytest.param(
                module.ASSIGNMENT, mistake, id=f"{module.ASSIGNMENT}: {mistake['name']}"
            )


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_reference_gets_full_marks(assignments, tmp_path, assignment_id):
    result = grade_in_process(assignments, tmp_path, assignment_id)
    failed = {t.grade_id: t.message for t in result.tests if not t.passed}
    assert not failed, failed
    assert result.score == result.max_score > 0
    assert not result.problems, result.problems
    # Graded cells stay clean: no warning or stray output for correct code.
    assert not [t.output for t in result.tests if t.output]
    assert not result.cell_outputs, result.cell_outputs


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_stub_gets_zero(assignments, tmp_path, assignment_id):
    result = grade_in_process(assignments, tmp_path, assignment_id, stub=True)
    assert result.score == 0, [(t.grade_id, t.passed) for t in result.tests]
    assert all("NotImplementedError" in t.message for t in result.tests)


@pytest.mark.parametrize("assignment_id, mistake", list(_mistakes()))
def test_mistake_is_caught(assignments, tmp_path, assignment_id, mistake):
    result = grade_in_process(
        assignments, tmp_path, assignment_id, replacements={mistake["cell"]: mistake["code"]}
    )
    failed = {t.grade_id: t.message for t in result.tests if not t.passed}
    missed = set(mistake["catches"]) - set(failed)
    assert not missed, f"{mistake['name']}: not caught by {sorted(missed)}"
    assert result.score < result.max_score
    # Each test's own hint comes first: a failure is a check's message, or an exception
    # the student's code raised (with their traceback), never a stray error of the test.
    for grade_id, message in failed.items():
        assert message.startswith(TEACHING) or "Where your code raised it" in message, (
            f"{mistake['name']}: {grade_id} fails without its hint: {message}"
        )


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_every_exercise_has_three_mistakes(assignment_id):
    counts: dict[str, int] = {}
    for param in _mistakes():
        aid, mistake = param.values
        if aid == assignment_id:
            counts[mistake["cell"]] = counts.get(mistake["cell"], 0) + 1
    from autograder import course_dir
    from autograder.notebooks import load_assignment

    source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    for grade_id in source.solutions:
        assert counts.get(grade_id, 0) >= 3, f"{assignment_id}/{grade_id}: fewer than 3 mistakes"
