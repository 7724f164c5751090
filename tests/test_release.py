"""Released notebooks are generated, clean, and leak nothing."""

import json
import subprocess

import pytest

from autograder import course_dir
from autograder.notebooks import load_assignment, strip_hidden_tests
from conftest import CHAPTERS, ROOT, run_cli, solution_body

FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def solution_lines(assignment_id):
    """Distinctive lines of reference code and of hidden tests."""
    source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    lines = set()
    for code in source.solutions.values():
        inside = False
        for line in code.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) >= 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    for test in source.tests.values():
        visible = set(test.visible_code.splitlines())
        for line in test.code.splitlines():
            if len(line.strip()) >= 16 and line not in visible:
                lines.add(line.strip())
    return lines


def test_release_is_reproducible():
    """Regenerating notebooks/ from solutions/ changes nothing tracked by git."""
    done = run_cli("release")
    assert done.returncode == 0, done.stderr
    diff = subprocess.run(["git", "status", "--porcelain", "--", "notebooks"], cwd=ROOT,
                          capture_output=True, text=True)
    assert diff.stdout == "", f"release changed notebooks/:\n{diff.stdout}"


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_released_notebook_holds_no_solution_or_hidden_test(assignment_id):
    released = course_dir.notebook_path(assignment_id, course_dir.RELEASED)
    text = released.read_text(encoding="utf-8")
    for marker in FORBIDDEN:
        assert marker not in text
    code = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    leaked = [line for line in solution_lines(assignment_id) if line in code]
    assert not leaked, leaked
    assert "raise NotImplementedError()" in text


@pytest.mark.parametrize("folder", [course_dir.SOLUTIONS, course_dir.RELEASED])
def test_notebooks_in_git_are_clean(folder):
    notebooks = sorted(folder.glob("*/*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert set(nb["metadata"]) <= {"kernelspec", "language_info"}, path
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["execution_count"] is None, path
                assert cell["outputs"] == [], path


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_source_notebook_is_well_formed(assignment_id):
    """Every exercise is one solution cell named after its function; every test
    has points and says what it checks."""
    source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    assert source.solutions and source.tests
    for grade_id, code in source.solutions.items():
        assert grade_id in source.exercise_names, grade_id
        body = solution_body(code)
        assert "BEGIN SOLUTION" in code and body.strip()
    for test in source.tests.values():
        assert test.points >= 1
        assert test.description.startswith("Check that") or test.description.startswith(
            "Check "), test.grade_id
        assert strip_hidden_tests(test.code).strip()
