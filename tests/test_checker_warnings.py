"""Warnings raised while a graded test runs are recorded by the checker itself, under pytest
too (pytest's own warning capture must not swallow them), so a "no warning" check can fail."""

from __future__ import annotations

import warnings

from autograder.checker import grade_notebook, run_test
from autograder.notebooks import GradedCell
from autograder.sandbox import Limits
from autograder.student_proxy import Clock

from conftest import make_submission, write_notebook

FAST = Limits(cell_seconds=5, notebook_seconds=120)

#: sigmoid straight from the definition: exp(1000) overflows, with a RuntimeWarning.
OVERFLOWING_SIGMOID = """
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-x))
"""


def _tests(result):
    return {t.grade_id: t for t in result.tests}


def test_an_overflow_warning_loses_the_no_warning_tests_points(assignments, tmp_path):
    aid = "01-definition"
    nb = make_submission(aid, replacements={"sigmoid": OVERFLOWING_SIGMOID})
    path = write_notebook(nb, tmp_path / aid / assignments[aid].notebook_name)
    reference = _tests(
        grade_notebook(
            assignments[aid],
            write_notebook(
                make_submission(aid), tmp_path / "ref" / aid / assignments[aid].notebook_name
            ),
            FAST,
            sandbox=None,
        )
    )
    tests = _tests(grade_notebook(assignments[aid], path, FAST, sandbox=None))
    quiet = [g for g, t in assignments[aid].tests.items() if "no_warnings(sigmoid" in t.code]
    assert quiet, "chapter 01 has a no-warning test of sigmoid"
    for grade_id in quiet:
        assert reference[grade_id].passed, reference[grade_id].message
        assert not tests[grade_id].passed
        assert tests[grade_id].score == 0.0
        assert "RuntimeWarning" in tests[grade_id].message
        assert "overflow" in tests[grade_id].message


def _cell(code: str) -> GradedCell:
    return GradedCell(grade_id="t", code=code, points=1.0, description="")


def test_a_warning_in_a_test_is_recorded_in_its_output_under_pytest():
    # pytest records warnings itself (a catch_warnings(record=True) around every test);
    # the checker's record must not depend on that.
    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        result = run_test(
            _cell("import warnings\nwarnings.warn('careful', RuntimeWarning)\n"),
            {},
            Clock(5.0),
            hidden=False,
        )
    assert result.passed
    assert "RuntimeWarning: careful" in result.output
    assert outer == []


def test_the_same_warning_twice_is_recorded_twice():
    code = "import warnings\nfor _ in range(2):\n    warnings.warn('again', UserWarning)\n"
    result = run_test(_cell(code), {}, Clock(5.0), hidden=False)
    assert result.output.count("UserWarning: again") == 2
