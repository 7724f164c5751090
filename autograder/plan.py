"""Planning: which cells of a submission run, in which order, and what was tampered with."""

from __future__ import annotations

import ast
from pathlib import Path

from .notebooks import (
    MAX_NOTEBOOK_BYTES,
    Assignment,
    BadNotebook,
    bound_names,
    defined_names,
    nbgrader_meta,
    read_submission,
)
from .results import NotebookResult


def _code_lines(code: str) -> list[str]:
    """Code compared as its non-blank lines, ignoring trailing white space."""
    return [line.rstrip() for line in code.splitlines() if line.strip()]


def plan_submission(assignment: Assignment, nb: dict) -> tuple[list[tuple], list[str]]:
    """Decide what runs, in which order, and note what was tampered with.

    Args:
        assignment: The trusted assignment.
        nb: The submission.

    Returns:
        (steps, problems). Steps are ("student", index, code), ("given", index, grade_id)
        or ("test", index, grade_id); index is the submission cell (None for a cell the
        submission lacks).
    """
    steps: list[tuple] = []
    problems: list[str] = []
    seen_tests, seen_given, seen_solutions = set(), set(), set()
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if grade_id in assignment.tests:
            if grade_id in seen_tests:
                problems.append(
                    f"test cell '{grade_id}' appears more than once; only the first copy is used"
                )
                continue
            seen_tests.add(grade_id)
            if _code_lines(cell["source"]) not in (
                _code_lines(assignment.tests[grade_id].visible_code),
                _code_lines(assignment.tests[grade_id].code),
            ):
                problems.append(f"test cell '{grade_id}' was edited; the original was run")
            if (
                not meta.get("grade")
                or meta.get("solution")
                or meta.get("points") != assignment.tests[grade_id].points
            ):
                problems.append(
                    f"the nbgrader metadata of test cell '{grade_id}' was "
                    "altered; the original was used"
                )
            steps.append(("test", index, grade_id))
        elif grade_id in assignment.solutions:
            seen_solutions.add(grade_id)
            steps.append(("student", index, cell["source"]))
        elif grade_id in assignment.given and grade_id not in seen_given:
            seen_given.add(grade_id)
            steps.append(("given", index, grade_id))
        else:
            if meta.get("grade") and grade_id not in assignment.tests:
                problems.append(
                    f"a cell claims to be test '{grade_id}', which the assignment "
                    "does not have; it earns no points"
                )
            steps.append(("student", index, cell["source"]))
    missing_given = [g for g in assignment.given if g not in seen_given]
    steps = [("given", None, g) for g in missing_given] + steps
    for grade_id in assignment.tests:
        if grade_id not in seen_tests:
            problems.append(
                f"test cell '{grade_id}' is missing from the submission; it counts as failed"
            )
    where = where_defined(steps)
    for grade_id in assignment.solutions:
        if grade_id in seen_solutions:
            continue
        names = defined_names(assignment.solutions[grade_id])
        lost = [n for n in names if n not in where]
        if not lost:
            cells = sorted({where[n] + 1 for n in names})
            problems.append(
                f"the answer cell '{grade_id}' is missing (or its nbgrader metadata was "
                f"changed), but cell {', '.join(map(str, cells))} defines {', '.join(names)}: "
                "it is graded from there, nothing is lost"
            )
        else:
            tests = [t for t in assignment.tests.values() if _mentions(t.code, lost)]
            problems.append(
                f"the answer cell '{grade_id}' is missing (or its nbgrader metadata was "
                f"changed) and no cell defines {', '.join(lost)}: {len(tests)} test"
                f"{'s' if len(tests) != 1 else ''} ({sum(t.points for t in tests):g} points) "
                "count as failed"
            )
    return steps, problems


def where_defined(steps) -> dict[str, int]:
    """Where the student's cells bind each name.

    Args:
        steps: The steps of :func:`plan_submission`.

    Returns:
        {name: index of the first student cell that binds it}.
    """
    where: dict[str, int] = {}
    for kind, index, payload in steps:
        if kind == "student" and index is not None:
            for name in bound_names(payload):
                where.setdefault(name, index)
    return where


def _mentions(code: str, names) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Name) and node.id in names for node in ast.walk(tree))


def read_or_fail(
    assignment: Assignment, path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES
) -> tuple[dict | None, NotebookResult | None]:
    """The submission read once, or the failed result that says why it cannot be.

    Args:
        assignment: The assignment it was made from (named in a failed result).
        path: The submitted notebook.
        max_bytes: The largest file read (``Limits.notebook_bytes``).

    Returns:
        (the notebook, None), or (None, the failed result).
    """
    try:
        return read_submission(path, max_bytes), None
    except BadNotebook as exc:
        return None, NotebookResult.failed(
            assignment, f"{Path(path).name}: {exc}", "not run: the notebook could not be read"
        )
