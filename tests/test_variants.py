"""Correct answers written in other styles get full marks.

Each tests/variants_NN.py lists correct implementations of chapter NN's exercise
functions in styles the reference does not use (loops, scipy, other error
subclasses, log-space forms, other samplers, float32-native arithmetic, more
accurate formulas). They are graded through the same path as the plausible
mistakes (tests/test_exercises.py). To keep that cheap, one submission carries
one variant of *every* function of the chapter at once: round k uses the k-th
variant of each cell (cycling through the shorter lists), so every variant is
graded at least once and a failure names the test, hence the function.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from autograder import course_dir
from autograder.notebooks import load_assignment

from conftest import CHAPTERS, grade_in_process


def rounds(variants: list[dict]) -> list[dict[str, dict]]:
    """Submissions that together use every variant: [{cell grade_id: variant}, ...]."""
    by_cell: dict[str, list[dict]] = {}
    for variant in variants:
        by_cell.setdefault(variant["cell"], []).append(variant)
    count = max((len(v) for v in by_cell.values()), default=0)
    return [
        {cell: options[k % len(options)] for cell, options in by_cell.items()} for k in range(count)
    ]


def _modules():
    for path in sorted(Path(__file__).parent.glob("variants_*.py")):
        yield importlib.import_module(path.stem)


def _rounds():
    for module in _modules():
        for k, chosen in enumerate(rounds(module.VARIANTS)):
            names = "; ".join(v["name"] for v in chosen.values())
            yield pytest.param(
                module.ASSIGNMENT, chosen, id=f"{module.ASSIGNMENT} round {k}: {names}"
            )


@pytest.mark.parametrize("assignment_id, chosen", list(_rounds()))
def test_correct_variants_get_full_marks(assignments, tmp_path, assignment_id, chosen):
    result = grade_in_process(
        assignments,
        tmp_path,
        assignment_id,
        replacements={cell: v["code"] for cell, v in chosen.items()},
    )
    failed = {t.grade_id: t.message for t in result.tests if not t.passed}
    assert not failed, failed
    assert result.score == result.max_score
    assert not result.problems, result.problems


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_every_exercise_has_three_variants(assignment_id):
    counts: dict[str, int] = {}
    for module in _modules():
        if module.ASSIGNMENT == assignment_id:
            for variant in module.VARIANTS:
                counts[variant["cell"]] = counts.get(variant["cell"], 0) + 1
    assignment = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    if int(assignment_id[:2]) > 6 and not counts:
        pytest.skip("variants are kept for chapters 01-06")
    for grade_id in assignment.solutions:
        assert counts.get(grade_id, 0) >= 3, f"{assignment_id}/{grade_id}: fewer than 3 variants"
