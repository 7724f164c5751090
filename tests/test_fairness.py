"""One mistake costs one mistake, the answer may live in any cell, and the messages
say what went wrong in the student's own terms (issue 11)."""

from __future__ import annotations

import pytest

from autograder import course_dir
from autograder.checker import grade_notebook
from autograder.notebooks import load_assignment
from autograder.sandbox import Limits

import mistakes_01
from conftest import make_submission, run_cli, write_notebook

FAST = Limits(cell_seconds=3, notebook_seconds=120)


def _grade(assignments, tmp_path, aid, nb, limits=FAST, **kwargs):
    path = write_notebook(nb, tmp_path / aid / assignments[aid].notebook_name)
    return grade_notebook(assignments[aid], path, limits, sandbox=None, **kwargs)


def _by_id(result):
    return {t.grade_id: t for t in result.tests}


def _cell_index(nb, grade_id):
    return next(
        i
        for i, c in enumerate(nb["cells"])
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
    )


def test_an_endless_loop_costs_only_the_tests_that_reach_it(assignments, tmp_path):
    nb = make_submission(
        "02-temperature",
        replacements={
            "sample": """
def sample(logits, temperature=1.0, rng=None, size=None):
    if size is None:
        while True:
            pass
    probs = softmax_with_temperature(np.asarray(logits, dtype=np.float64), temperature)
    rng = np.random.default_rng() if rng is None else rng
    return rng.choice(len(probs), size=size, p=probs)
"""
        },
    )
    result = _grade(assignments, tmp_path, "02-temperature", nb)
    tests = _by_id(result)
    assert not tests["test_sample_returns_indices"].passed
    assert "stopped" in tests["test_sample_returns_indices"].message
    for grade_id in (
        "test_top_k_filter",
        "test_top_k_edges",
        "test_top_p_filter",
        "test_top_p_edges",
        "test_entropy_values",
        "test_temperature_values",
    ):
        assert tests[grade_id].passed, tests[grade_id].message
    assert any("fresh process" in p for p in result.problems)


def test_a_crash_in_one_call_costs_only_that_test(assignments, tmp_path):
    nb = make_submission(
        "01-definition",
        replacements={
            "softmax": """
import os

def softmax(z, axis=-1):
    if axis != -1:
        os._exit(1)
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True), dtype=np.float32 if z.dtype == np.float32 else np.float64)
    return e / e.sum(axis=axis, keepdims=True)
"""
        },
    )
    result = _grade(assignments, tmp_path, "01-definition", nb)
    failed = {t.grade_id for t in result.tests if not t.passed}
    assert failed == {"test_softmax_axis", "test_softmax_dtype", "test_softmax_shift_and_input"}, (
        failed
    )
    assert result.score == result.max_score - 4


def test_an_in_place_bug_costs_one_test(assignments, tmp_path):
    mistake = next(m for m in mistakes_01.MISTAKES if "in place" in m["name"])
    nb = make_submission("01-definition", replacements={mistake["cell"]: mistake["code"]})
    result = _grade(assignments, tmp_path, "01-definition", nb)
    failed = {t.grade_id: t.message for t in result.tests if not t.passed}
    assert set(failed) == {"test_softmax_shift_and_input"}, failed
    assert "modified its first argument in place" in failed["test_softmax_shift_and_input"]


def _moved(nb, grade_id, keep_code=True):
    index = _cell_index(nb, grade_id)
    code = nb["cells"][index]["source"]
    del nb["cells"][index]
    if keep_code:
        nb["cells"].insert(
            index,
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": code,
            },
        )
    return nb


def test_an_answer_in_another_cell_is_graded_there(assignments, tmp_path):
    result = _grade(
        assignments, tmp_path, "01-definition", _moved(make_submission("01-definition"), "softmax")
    )
    assert result.score == result.max_score
    assert any("nothing is lost" in p for p in result.problems), result.problems


def test_a_deleted_answer_says_what_it_costs(assignments, tmp_path):
    nb = _moved(make_submission("01-definition"), "softmax", keep_code=False)
    result = _grade(assignments, tmp_path, "01-definition", nb)
    assert result.score == 3
    assert any(
        "no cell defines softmax: 5 tests (7 points) count as failed" in p for p in result.problems
    )
    assert "no cell of the notebook defines it" in _by_id(result)["test_softmax_axis"].message


def test_check_warns_before_hand_in(tmp_path):
    nb = _moved(make_submission("01-definition"), "sigmoid", keep_code=False)
    path = write_notebook(nb, tmp_path / "01-definition.ipynb")
    done = run_cli("check", path, timeout=300)
    assert done.returncode == 1
    assert "no cell defines sigmoid: 3 tests (4 points) count as failed" in done.stdout, done.stdout


@pytest.mark.parametrize(
    "code, expected",
    [
        (
            "def softmax(z, axis=-1):\n    z = np.asarray(z\n    return z\n",
            "softmax is not defined: cell 4 (the answer cell 'softmax') has a SyntaxError at line 2",
        ),
        (
            "import not_a_module_anywhere\n\ndef softmax(z, axis=-1):\n    return z\n",
            "softmax is not defined: cell 4 (the answer cell 'softmax') stopped at line 1 with "
            "ModuleNotFoundError: No module named 'not_a_module_anywhere'",
        ),
        (
            "def softmax(z, axis=-1):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n",
            "softmax is not written yet - replace the `raise NotImplementedError()` line",
        ),
    ],
)
def test_named_messages_for_answer_cells_that_fail(assignments, tmp_path, code, expected):
    nb = make_submission("01-definition", replacements={"softmax": code})
    message = _by_id(_grade(assignments, tmp_path, "01-definition", nb))[
        "test_softmax_probabilities"
    ].message
    assert expected in message, message


def test_messages_quote_the_students_traceback_not_the_graders(assignments, tmp_path):
    nb = make_submission(
        "01-definition",
        replacements={
            "softmax": """
def helper(e):
    return e / e.sum(axis=2)

def softmax(z, axis=-1):
    return helper(np.exp(np.asarray(z, dtype=float)))
"""
        },
    )
    message = _by_id(_grade(assignments, tmp_path, "01-definition", nb))[
        "test_softmax_probabilities"
    ].message
    assert "ValueError: AxisError: axis 2 is out of bounds" in message, message
    assert "Where your code raised it" in message and "return e / e.sum(axis=2)" in message
    assert 'File "<cell 4>", line 3, in helper' in message
    assert "autograder" not in message and "site-packages" not in message


@pytest.mark.parametrize(
    "aid, cells",
    [
        ("01-definition", {m["cell"]: m["code"] for m in mistakes_01.MISTAKES[:1]}),
        ("01-definition", {m["cell"]: m["code"] for m in mistakes_01.MISTAKES[7:8]}),
    ],
)
def test_check_and_grade_agree_on_visible_tests(assignments, tmp_path, aid, cells):
    """A visible test fails in `check` exactly when its visible lines fail in `grade`,
    with the same message."""
    nb = make_submission(aid, replacements=cells)
    released = load_assignment(course_dir.notebook_path(aid, course_dir.RELEASED), aid)
    path = write_notebook(nb, tmp_path / aid / released.notebook_name)
    check = _by_id(grade_notebook(released, path, FAST, sandbox=None, hidden=False))
    grade = _by_id(grade_notebook(assignments[aid], path, FAST, sandbox=None))
    assert set(check) == set(grade)
    for grade_id, test in check.items():
        if not test.passed:
            assert not grade[grade_id].passed
            assert grade[grade_id].message == test.message
        if grade[grade_id].passed:
            assert test.passed
    assert any(not t.passed for t in check.values())
