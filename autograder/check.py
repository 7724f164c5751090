"""`check`: a student's self-check of one exercise notebook.

It uses the grading machinery itself (see :mod:`autograder.grading`) with the
visible tests of the released notebook, so "all visible tests pass" here means
the same tests pass at grading.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import course_dir
from .grading import grade_notebook
from .notebooks import BadNotebook, load_assignment, nbgrader_meta, read_submission
from .sandbox import Limits


def find_assignment(path: Path):
    """The released notebook this one was made from: by file name, else by its cells."""
    ids = course_dir.assignment_ids(course_dir.RELEASED)
    stem = path.stem.split(" ")[0]
    for assignment_id in ids:
        released = course_dir.notebook_path(assignment_id, course_dir.RELEASED)
        if released.stem == stem:
            return load_assignment(released, assignment_id)
    nb = read_submission(path)
    grade_ids = {nbgrader_meta(c).get("grade_id") for c in nb["cells"]} - {None}
    best, overlap = None, 0
    for assignment_id in ids:
        source = load_assignment(course_dir.notebook_path(assignment_id, course_dir.RELEASED),
                                 assignment_id)
        common = len(grade_ids & (set(source.tests) | set(source.solutions)))
        if common > overlap:
            best, overlap = source, common
    if best is None:
        raise BadNotebook("it does not look like any of the course's exercise notebooks")
    return best


def run_check(path: Path, timeout: float, out=sys.stdout) -> int:
    # A student's own copy may be a link: the self-check follows it (grading does not).
    path = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    if not path.is_file():
        print(f"check: {path}: no such file", file=sys.stderr)
        return 2
    try:
        source = find_assignment(path)
    except BadNotebook as exc:
        print(f"check: {path}: {exc}", file=sys.stderr)
        return 2
    print(f"Checking {path.name} against the visible tests of {source.assignment_id}\n", file=out)

    shown = set()

    def show(test):
        shown.add(test.grade_id)
        mark = "PASS" if test.passed else "FAIL"
        print(f"  {mark}  {test.grade_id:<38} {test.score:g}/{test.points:g}  "
              f"{test.description}", file=out)
        if not test.passed:
            for line in test.message.splitlines():
                print(f"          {line}", file=out)
        out.flush()

    limits = Limits(cell_seconds=timeout, notebook_seconds=max(timeout * 10, 300))
    result = grade_notebook(source, path, limits, sandbox=None, hidden=False, on_test=show)
    for test in result.tests:
        if test.grade_id not in shown:
            show(test)
    if result.status == "failed":
        for problem in result.problems:
            print(f"check: {problem}", file=sys.stderr)
        return 1
    for index, out_cell in sorted(result.cell_outputs.items()):
        if out_cell.get("error"):
            print(f"\n  Note: cell {index + 1} raised an error when run:\n"
                  + "\n".join("    " + line for line in out_cell["error"].splitlines()[-6:]),
                  file=out)
    for problem in result.problems:
        print(f"\n  Note: {problem}", file=out)
    passed = sum(t.passed for t in result.tests)
    print(f"\n{passed} of {len(result.tests)} visible tests passed: {result.score:g} of "
          f"{result.max_score:g} points. Grading also runs hidden tests of the cases the "
          "notebook describes.", file=out)
    return 0 if passed == len(result.tests) and result.tests else 1
