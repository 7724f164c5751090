"""Released notebooks are generated, clean, and leak nothing."""

import html
import json
import re
import subprocess

import pytest

from autograder import course_dir
from autograder.notebooks import load_assignment, strip_hidden_tests

from conftest import CHAPTERS, ROOT, run_cli, solution_body

FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def normalised(text: str) -> str:
    """Text as its stripped, non-blank lines (HTML tags removed), to search for code."""
    if "<html" in text[:1000].lower() or "</span>" in text:
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n".join(line.strip() for line in text.splitlines()
                     if line.strip() and not line.strip().startswith("#"))


def _snippets(lines: list[str]) -> set[str]:
    """Runs of three consecutive lines (a shorter region whole, if it is not trivial):
    enough to recognise copied code, while two generic lines that the chapters
    teach in prose (``e = np.exp(z - z.max())`` ...) do not count as a leak."""
    lines = normalised("\n".join(lines)).splitlines()
    if len(lines) < 3:
        whole = "\n".join(lines)
        return {whole} if len(whole) >= 30 else set()
    return {"\n".join(lines[i:i + 3]) for i in range(len(lines) - 2)}


def solution_lines(assignment_id):
    """Snippets (runs of consecutive lines) of reference code and hidden tests that
    appear nowhere in what students may see (given cells, visible tests, the stubs)."""
    path = course_dir.notebook_path(assignment_id)
    source = load_assignment(path, assignment_id)
    public = []  # computed from the source, never from the released copy under test
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        code = "".join(cell["source"])
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in source.tests:
            code = source.tests[grade_id].visible_code
        elif grade_id in source.solutions:
            code = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", code, flags=re.DOTALL)
        public.append(normalised(code))
    public = "\n".join(public)
    secrets = set()
    for code in source.solutions.values():
        for region in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", code, re.DOTALL):
            secrets |= _snippets(region.splitlines())
    for test in source.tests.values():
        for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", test.code,
                                 re.DOTALL):
            secrets |= _snippets(region.splitlines())
    return {snippet for snippet in secrets if snippet not in public}


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
        assert test.description.startswith("Check that") or test.description.startswith(
            "Check "), test.grade_id
        assert strip_hidden_tests(test.code).strip()
