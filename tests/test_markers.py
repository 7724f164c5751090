"""One parser for nbgrader's markers: balanced regions are read as nbgrader reads them,
unbalanced or nested ones are refused with a message naming the notebook and the cell."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from autograder import course_dir, release
from autograder.markers import MarkerError, hidden_line_numbers, regions, strip_hidden_tests
from autograder.notebooks import load_assignment

GOOD = "x = 1\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS\ny = 2\n"


def test_regions_and_hidden_lines():
    assert [(r.kind, r.begin, r.end) for r in regions(GOOD)] == [("hidden", 2, 4)]
    assert hidden_line_numbers(GOOD) == {2, 3, 4}
    assert strip_hidden_tests(GOOD) == "x = 1\ny = 2\n"


@pytest.mark.parametrize(
    "code, words",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "has no 'END SOLUTION' after it"),
        ("x = 1\n### END HIDDEN TESTS\n", "line 2 has 'END HIDDEN TESTS' without"),
        (
            "### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION\n",
            "line 2 has 'BEGIN HIDDEN TESTS' inside the 'BEGIN SOLUTION' region opened at line 1",
        ),
        ("### BEGIN SOLUTION\nx = 1\n### END HIDDEN TESTS\n", "without a 'BEGIN HIDDEN TESTS'"),
    ],
)
def test_unbalanced_markers_are_refused(code, words):
    with pytest.raises(MarkerError, match=re.escape(words)):
        regions(code, "nb.ipynb, cell 3")


def test_the_parser_agrees_with_the_old_regex_on_every_solution_test():
    old = re.compile(
        r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS"
        r"[ \t]*(\n|\Z)",
        re.DOTALL | re.MULTILINE,
    )
    checked = 0
    for aid in course_dir.assignment_ids(course_dir.SOLUTIONS):
        source = load_assignment(course_dir.notebook_path(aid, course_dir.SOLUTIONS), aid)
        for test in source.tests.values():
            assert test.visible_code == old.sub("", test.code).rstrip() + "\n"
            checked += "BEGIN HIDDEN TESTS" in test.code
    assert checked > 5


def _broken_solution(folder, aid="01-definition"):
    path = course_dir.notebook_path(aid, course_dir.SOLUTIONS)
    nb = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "### END SOLUTION" in c.source)
    nb.cells[index].source = nb.cells[index].source.replace("### END SOLUTION", "")
    target = folder / aid / path.name
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    return target, index, nb.cells[index].metadata["nbgrader"]["grade_id"]


def test_grading_refuses_an_unbalanced_source_naming_notebook_and_cell(tmp_path):
    path, index, grade_id = _broken_solution(tmp_path)
    with pytest.raises(MarkerError) as caught:
        load_assignment(path)
    assert str(path) in str(caught.value)
    assert f"cell {index + 1} ('{grade_id}')" in str(caught.value)
    assert "has no 'END SOLUTION'" in str(caught.value)


def test_release_refuses_an_unbalanced_solution_and_writes_nothing(tmp_path, monkeypatch):
    path, index, _ = _broken_solution(tmp_path / "solutions")
    monkeypatch.setattr(course_dir, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(course_dir, "RELEASED", tmp_path / "notebooks")
    with pytest.raises(release.ReleaseError, match=re.escape(f"{path}, cell {index + 1}")):
        release.release_assignment("01-definition")
    assert not (tmp_path / "notebooks").exists()
    json.loads(path.read_text(encoding="utf-8"))  # the solution itself is left alone
