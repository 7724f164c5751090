"""Released notebooks are generated, clean, and leak nothing."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from autograder import course_dir
from autograder.notebooks import load_assignment, strip_hidden_tests

from conftest import CHAPTERS, FORBIDDEN, PYTHON, ROOT, normalised, solution_body, solution_lines


@pytest.mark.slow  # nbgrader generates every chapter (about 40 s)
def test_release_is_reproducible(tmp_path):
    """Regenerating notebooks/ from solutions/ (into a temporary folder) changes nothing."""
    # In a fresh process, as `python -m autograder release` runs it (nbgrader's converters
    # are not meant to run inside pytest's warning filters; nbgrader calls `alembic`).
    code = "import sys; from autograder.release import release_all; release_all(sys.argv[1])"
    done = subprocess.run(
        [PYTHON, "-c", code, str(tmp_path / "notebooks")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(
            os.environ,
            PYTHONWARNINGS="ignore",
            PATH=f"{Path(PYTHON).parent}{os.pathsep}{os.environ['PATH']}",
        ),
    )
    assert done.returncode == 0, done.stderr
    produced = {
        p.relative_to(tmp_path / "notebooks"): p.read_bytes()
        for p in sorted((tmp_path / "notebooks").rglob("*"))
        if p.is_file()
    }
    committed = {
        p.relative_to(course_dir.RELEASED): p.read_bytes()
        for p in sorted(course_dir.RELEASED.rglob("*"))
        if p.is_file()
    }
    assert produced.keys() == committed.keys()
    changed = [str(name) for name in produced if produced[name] != committed[name]]
    assert not changed, f"release would change notebooks/: {changed}"


@pytest.mark.parametrize("assignment_id", CHAPTERS)
def test_released_notebook_holds_no_solution_or_hidden_test(assignment_id):
    released = course_dir.notebook_path(assignment_id, course_dir.RELEASED)
    text = released.read_text(encoding="utf-8")
    for marker in FORBIDDEN:
        assert marker not in text
    code = normalised("\n".join("".join(c["source"]) for c in json.loads(text)["cells"]))
    leaked = [snippet for snippet in solution_lines(assignment_id) if snippet in code]
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
        assert test.description.startswith("Check that") or test.description.startswith("Check "), (
            test.grade_id
        )
        assert strip_hidden_tests(test.code).strip()
