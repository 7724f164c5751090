"""`check`: a student's self-check of one exercise notebook.

It uses the grading machinery itself (see :mod:`autograder.checker`) with the
visible tests of the released notebook, so "all visible tests pass" here means
the same tests pass at grading.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from . import course_dir
from .checker import grade_notebook
from .notebooks import BadNotebook, load_assignment, nbgrader_meta, read_submission
from .sandbox import Limits


def find_assignment(path: Path):
    """The released notebook this one was made from: by file name, else by its cells.

    Args:
        path: The student's notebook.

    Returns:
        The released :class:`~autograder.notebooks.Assignment` it matches best.

    Raises:
        BadNotebook: It cannot be read, or matches none of the course's notebooks.
    """
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
        assignment = load_assignment(
            course_dir.notebook_path(assignment_id, course_dir.RELEASED), assignment_id
        )
        common = len(grade_ids & (set(assignment.tests) | set(assignment.solutions)))
        if common > overlap:
            best, overlap = assignment, common
    if best is None:
        raise BadNotebook("it does not look like any of the course's exercise notebooks")
    return best


#: Folders never searched for a student's notebook: environments, caches, the kit's copies.
_SKIP = {"site-packages", "node_modules", "__pycache__", "_build", "released"}
#: Seconds spent looking for a missing notebook, at most.
_SEARCH_SECONDS = 1.5


def _candidates(name: str, start: Path, depth: int, seen: set, deadline: float) -> list[Path]:
    """Files called ``name`` in ``start`` and its subfolders, down to ``depth`` levels."""
    found, level = [], [start]
    for _ in range(depth + 1):
        below = []
        for folder in level:
            if folder in seen or time.monotonic() > deadline:
                continue
            seen.add(folder)
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if time.monotonic() > deadline:
                    break
                try:
                    if entry.name == name and entry.is_file():
                        found.append(entry)
                    elif (
                        entry.is_dir()
                        and not entry.is_symlink()
                        and not entry.name.startswith(".")
                        and entry.name not in _SKIP
                        and str(entry) not in ("/proc", "/sys", "/dev")
                    ):
                        below.append(entry)
                except OSError:
                    continue
        level = below
    return found


def where_is(path: Path) -> str:
    """A hint for a notebook that is not where the student said: where it probably is.

    Args:
        path: The path the student gave.

    Returns:
        A clause to append to the error message (it starts with "; ").
    """
    names = [
        n
        for n in (
            course_dir.notebook_path(a, course_dir.RELEASED).name
            for a in course_dir.assignment_ids(course_dir.RELEASED)
        )
    ]
    name = path.name if path.suffix == ".ipynb" else path.name + ".ipynb"
    seen: set = set()
    found = []
    deadline = time.monotonic() + _SEARCH_SECONDS
    for start, depth in ((course_dir.ROOT / "work", 1), (Path.cwd(), 3), (Path.home(), 3)):
        if start.is_dir():
            found += [p for p in _candidates(name, start, depth, seen, deadline) if p not in found]
    if course_dir.RELEASED.is_dir():  # the originals are not the student's work
        found = [p for p in found if course_dir.RELEASED.resolve() not in p.resolve().parents]
    if found:
        found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        shown = [
            os.path.relpath(p) if Path.cwd() in p.resolve().parents else str(p) for p in found[:3]
        ]
        return "; did you mean " + " or ".join(shown) + "?"
    if name in names:
        return (
            f"; {name} comes in softmax-exercises.zip (the course site's page 'Get the "
            "exercises'): unzip it and run the check in that folder"
        )
    return "; the course's notebooks are " + ", ".join(names)


def run_check(path: Path, timeout: float, out=sys.stdout) -> int:
    """A student's self-check of one exercise notebook, with the visible tests.

    Args:
        path: the student's notebook (a link is followed).
        timeout: seconds each cell may run.
        out: where each test's pass/fail line and points are printed.

    Returns:
        The exit status: 0 only when every visible test passes.
    """
    # A student's own copy may be a link: the self-check follows it (grading does not).
    path = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    if not path.is_file():
        problem = "is a folder, not a notebook" if path.is_dir() else "no such file"
        print(
            f"check: {path}: {problem}{where_is(path) if not path.is_dir() else ''}",
            file=sys.stderr,
        )
        return 2
    try:
        assignment = find_assignment(path)
    except BadNotebook as exc:
        print(f"check: {path}: {exc}", file=sys.stderr)
        return 2
    print(
        f"Checking {path.name} against the visible tests of {assignment.assignment_id}\n", file=out
    )

    shown = set()

    def show(test):
        """Print one test's line (and, if it failed, its message) as it is graded.

        Args:
            test: The test's :class:`~autograder.results.CellResult`.
        """
        shown.add(test.grade_id)
        mark = "PASS" if test.passed else "FAIL"
        print(
            f"  {mark}  {test.grade_id:<38} {test.score:g}/{test.points:g}  {test.description}",
            file=out,
        )
        if not test.passed:
            for line in test.message.splitlines():
                print(f"          {line}", file=out)
        out.flush()

    limits = Limits.for_cells(timeout)
    result = grade_notebook(assignment, path, limits, sandbox=None, hidden=False, on_test=show)
    for test in result.tests:
        if test.grade_id not in shown:
            show(test)
    if result.status == "failed":
        for problem in result.problems:
            print(f"check: {problem}", file=sys.stderr)
        return 1
    for index, out_cell in sorted(result.cell_outputs.items()):
        if out_cell.get("error"):
            print(
                f"\n  Note: cell {index + 1} raised an error when run:\n"
                + "\n".join("    " + line for line in out_cell["error"].splitlines()[-6:]),
                file=out,
            )
    for problem in result.problems:
        print(f"\n  Note: {problem}", file=out)
    passed = sum(t.passed for t in result.tests)
    print(
        f"\n{passed} of {len(result.tests)} visible tests passed: {result.score:g} of "
        f"{result.max_score:g} points. Grading also runs hidden tests of the cases the "
        "notebook describes.",
        file=out,
    )
    return 0 if passed == len(result.tests) and result.tests else 1
