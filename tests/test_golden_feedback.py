"""Golden feedback pages: chapter 01 graded for the reference solution and for the stub,
compared with the pages checked in under tests/golden/ (otter-grader's golden folders).

A change to a feedback page then shows up as a diff here, on purpose: read it, and when
the change is meant, refresh the pages with ``UPDATE_GOLDEN=1`` (and commit them):

    UPDATE_GOLDEN=1 PYTHONPATH=$PWD python -m pytest tests/test_golden_feedback.py

The comparison normalises what changes from run to run or machine to machine (temporary
and checkout paths, timestamps, durations, object addresses) and stands each inline style
sheet (nbgrader's bootstrap, tens of kilobytes) in by its size and hash.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from pathlib import Path

import pytest

from autograder import course_dir
from autograder.checker import grade_notebook
from autograder.feedback import autograded_notebook, render_feedback
from autograder.limits import Limits
from autograder.plan import read_or_fail

from conftest import make_submission, write_notebook

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
ASSIGNMENT = "01-definition"


def _style(match: re.Match) -> str:
    css = match.group(2)
    digest = hashlib.sha256(css.encode()).hexdigest()[:16]
    return f"{match.group(1)}[{len(css)} characters, sha256 {digest}]</style>"


def normalise(page: str, tmp: Path) -> str:
    """``page`` with its volatile parts replaced by fixed placeholders."""
    page = page.replace(str(tmp), "<TMP>").replace(str(course_dir.ROOT), "<ROOT>")
    page = re.sub(r"(<style[^>]*>)(.*?)</style>", _style, page, flags=re.DOTALL)
    page = re.sub(
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z| UTC)?", "<TIME>", page
    )
    page = re.sub(r"\b\d+\.\d+ ?s\b", "<SECONDS> s", page)
    page = re.sub(r"0x[0-9a-f]{6,}", "0x<ADDRESS>", page)
    return "\n".join(line.rstrip() for line in page.splitlines()) + "\n"


def _page(assignments, tmp_path: Path, stub: bool) -> str:
    assignment = assignments[ASSIGNMENT]
    path = write_notebook(
        make_submission(ASSIGNMENT, stub=stub), tmp_path / ASSIGNMENT / assignment.notebook_name
    )
    nb, failure = read_or_fail(assignment, path)
    assert failure is None
    result = grade_notebook(assignment, path, Limits(cell_seconds=30), sandbox=None, nb=nb)
    expected = 0.0 if stub else assignment.max_score
    assert result.score == expected, [t.message for t in result.tests if not t.passed]
    return normalise(
        render_feedback(autograded_notebook(assignment, nb, result), result, "student-1"), tmp_path
    )


@pytest.mark.parametrize("kind", ["reference", "stub"])
def test_feedback_page_matches_its_golden_copy(assignments, tmp_path, kind):
    page = _page(assignments, tmp_path, stub=kind == "stub")
    golden = GOLDEN / f"feedback-{ASSIGNMENT}-{kind}.html"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(page, encoding="utf-8")
        pytest.skip(f"refreshed {golden.name} (UPDATE_GOLDEN=1): review and commit it")
    assert golden.is_file(), f"no {golden}: run once with UPDATE_GOLDEN=1 and commit it"
    want = golden.read_text(encoding="utf-8")
    if page != want:
        diff = "".join(
            list(
                difflib.unified_diff(
                    want.splitlines(True),
                    page.splitlines(True),
                    f"golden/{golden.name}",
                    "this run",
                    n=2,
                )
            )[:80]
        )
        pytest.fail(
            f"the {kind} feedback page changed (refresh with UPDATE_GOLDEN=1 if "
            f"that was meant):\n{diff}"
        )


def test_the_normaliser_only_hides_what_varies(tmp_path):
    page = (
        f"<style>a {{}}</style><p>{tmp_path}/x 2026-12-02 14:21:50 UTC 1.25 s "
        "0xdeadbeef00 score 7.5 of 10</p>"
    )
    out = normalise(page, tmp_path)
    assert "<TMP>/x <TIME> <SECONDS> s 0x<ADDRESS> score 7.5 of 10" in out
    assert "[4 characters, sha256" in out
    assert normalise(page.replace("7.5", "8.5"), tmp_path) != out
