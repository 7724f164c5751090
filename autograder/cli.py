"""The command line: ``python -m autograder`` and the student kit's ``softmax-check``.

Commands: ``release | check NOTEBOOK | grade SUBMISSIONS --out OUT | kit | collect | export |
report``; ``softmax-check NOTEBOOK`` is the same ``check``.

Kept importable by old Pythons (no newer syntax here), so that an unsupported Python
gets one sentence instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .limits import DEFAULTS, MIN_MEMORY_MB, Limits

PYTHON_NEEDED = (3, 11)


def _add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path)
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULTS.cell_seconds,
        help=f"seconds a cell may run (default: {DEFAULTS.cell_seconds:g})",
    )


def _check(args) -> int:
    from .check import run_check

    if args.timeout <= 0:
        print("check: --timeout must be positive", file=sys.stderr)
        return 2
    return run_check(args.notebook, args.timeout)


def _python_too_old(prog: str) -> bool:
    if sys.version_info[:2] >= PYTHON_NEEDED:
        return False
    print(
        f"{prog}: the course needs Python {PYTHON_NEEDED[0]}.{PYTHON_NEEDED[1]} or newer, "
        f"and this is Python {sys.version_info[0]}.{sys.version_info[1]}: install a newer "
        "Python and the kit into a new virtual environment.",
        file=sys.stderr,
    )
    return True


def _instructor_only(command: str, module: str | None = None) -> bool:
    """True (and says so) when this is the student kit, which has no such command."""
    if (Path(__file__).parent / f"{module or command}.py").is_file():
        return False
    print(
        f"python -m autograder {command}: this is an instructor's command and not part of "
        "the student kit, which has the self-check only (softmax-check NOTEBOOK).",
        file=sys.stderr,
    )
    return True


def check_main(argv: list[str] | None = None) -> int:
    """``softmax-check NOTEBOOK``: the student kit's name for ``python -m autograder check``.

    Args:
        argv: The command line's arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit status.
    """
    if _python_too_old("softmax-check"):
        return 2
    parser = argparse.ArgumentParser(
        prog="softmax-check",
        description="Self-check one exercise notebook of the softmax course with its visible "
        "tests (the same as `python -m autograder check`).",
    )
    _add_check_arguments(parser)
    return _check(parser.parse_args(argv))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, self-check and grade the softmax course's exercise notebooks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("release", help="regenerate notebooks/ from solutions/")

    check = sub.add_parser("check", help="self-check one exercise notebook (visible tests)")
    _add_check_arguments(check)

    kit = sub.add_parser("kit", help="build the student kit (a wheel and a zip) into OUT")
    kit.add_argument(
        "--out",
        type=Path,
        default=Path("_build") / "kit",
        help="where the kit is written (default: _build/kit)",
    )

    grade = sub.add_parser("grade", help="grade a class's submissions")
    grade.add_argument(
        "submissions",
        type=Path,
        help="folder laid out as SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb",
    )
    grade.add_argument(
        "--out",
        type=Path,
        required=True,
        help="where grades.csv, summary.txt and feedback/ are written",
    )
    grade.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded in parallel (default: the number of cores)",
    )
    grade.add_argument(
        "--timeout",
        type=float,
        default=DEFAULTS.cell_seconds,
        help=f"seconds one cell may run (default: {DEFAULTS.cell_seconds:g})",
    )
    grade.add_argument(
        "--notebook-timeout",
        type=float,
        default=DEFAULTS.notebook_seconds,
        help=f"seconds one notebook may run in all (default: {DEFAULTS.notebook_seconds:g})",
    )
    grade.add_argument(
        "--memory",
        type=int,
        default=DEFAULTS.memory_mb,
        help=f"memory limit of a student's process in MB (default: {DEFAULTS.memory_mb})",
    )
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code without bubblewrap isolation (not recommended)",
    )
    grade.add_argument(
        "--gradebook",
        type=Path,
        default=None,
        help="nbgrader gradebook to record grades in "
        "(default: .grading/gradebook.db in the course folder)",
    )
    grade.add_argument(
        "--force",
        action="store_true",
        help="regrade every selected submission, even when a saved result is still valid",
    )
    grade.add_argument(
        "--students",
        type=Path,
        default=None,
        metavar="ROSTER.csv",
        help="the class list, in nbgrader's `db student import` CSV format "
        "(id,first_name,last_name,email); students not on it are dropped. "
        "Default: the gradebook's students and everyone who handed in",
    )
    grade.add_argument(
        "--assignment",
        action="append",
        default=None,
        metavar="ID",
        help="grade only this assignment (repeatable); other rows of "
        "grades.csv keep their saved grades",
    )
    grade.add_argument(
        "--student",
        action="append",
        default=None,
        metavar="ID",
        help="grade only this student (repeatable); other rows of "
        "grades.csv keep their saved grades",
    )
    grade.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="GRADING.toml",
        help="due dates and late policy (default: grading.toml at the course root, when it exists)",
    )
    grade.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="grade on a dask.distributed cluster: its scheduler's address "
        "(tcp://HOST:8786) or scheduler file; --workers is then the "
        "cluster's (see the README, 'Grading on a cluster')",
    )
    _add_lms_commands(sub)
    return parser


def _add_lms_commands(sub) -> None:
    collect = sub.add_parser(
        "collect",
        help="unpack an LMS's all-submissions zip into SUBMISSIONS/<student>/<assignment>/",
    )
    collect.add_argument("zip", type=Path, help="the zip downloaded from Canvas, Moodle, ...")
    collect.add_argument("--out", type=Path, required=True, metavar="SUBMISSIONS")
    collect.add_argument(
        "--format",
        choices=["auto", "canvas", "moodle", "blackboard"],
        default="auto",
        help="the LMS's file naming (default: try each)",
    )
    collect.add_argument(
        "--pattern",
        action="append",
        default=None,
        metavar="REGEX",
        help="a regular expression with named groups file and student "
        "(or name), optionally late, attempt, timestamp (repeatable)",
    )
    collect.add_argument(
        "--students",
        type=Path,
        default=None,
        metavar="ROSTER.csv",
        help="class list with an lms_user_id column (or names) mapping the "
        "LMS's ids to student ids",
    )
    collect.add_argument(
        "--assignment",
        default=None,
        metavar="ID",
        help="every notebook in the zip belongs to this assignment",
    )

    export = sub.add_parser(
        "export", help="Canvas gradebook CSV and per-student feedback zips from a graded OUT"
    )
    export.add_argument("out", type=Path, metavar="OUT")
    export.add_argument("--students", type=Path, default=None, metavar="ROSTER.csv")
    export.add_argument(
        "--canvas-id",
        action="append",
        default=None,
        metavar="ASSIGNMENT=CANVAS_ID",
        help="Canvas's id of an assignment, for the CSV's column header",
    )
    export.add_argument(
        "--assignment",
        action="append",
        default=None,
        metavar="ID",
        help="export only this assignment (repeatable; default: every assignment graded)",
    )

    report = sub.add_parser("report", help="rewrite OUT/report.html and report.csv")
    report.add_argument("out", type=Path, metavar="OUT")
    report.add_argument(
        "--names", action="store_true", help="list the students under each test and hint"
    )


def _lms(args) -> int:
    from .lms import FORMATS, CollectError, collect, export

    try:
        if args.command == "collect":
            patterns = args.pattern or ([FORMATS[args.format]] if args.format != "auto" else None)
            result = collect(args.zip, args.out, patterns, args.students, args.assignment)
            print(result.summary(), end="")
            return 0 if result.complete else 1
        if args.command == "export":
            ids = {}
            for item in args.canvas_id or []:
                name, sep, value = item.partition("=")
                if not sep or not name or not value:
                    print(
                        f"export: --canvas-id {item!r}: write ASSIGNMENT=CANVAS_ID", file=sys.stderr
                    )
                    return 2
                ids[name] = value
            for path in export(args.out, args.students, ids, args.assignment):
                print(f"wrote {path}")
            return 0
        from .report import write_report

        if not (args.out / "grades.csv").is_file():
            print(
                f"report: {args.out / 'grades.csv'}: no such file (run grade first)",
                file=sys.stderr,
            )
            return 2
        for path in write_report(args.out, names=args.names):
            print(f"wrote {path}")
        return 0
    except CollectError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{args.command}: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """Run one command.

    Args:
        argv: The command line's arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit status: 0 when it did everything it was asked.
    """
    if _python_too_old("python -m autograder"):
        return 2
    # nbgrader runs `alembic` as a command: make the environment's tools findable.
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    args = _parser().parse_args(argv)

    module = {"collect": "lms", "export": "lms"}.get(args.command, args.command)
    if args.command in (
        "release",
        "grade",
        "kit",
        "collect",
        "export",
        "report",
    ) and _instructor_only(args.command, module):
        return 2

    if args.command == "release":
        from .release import ReleaseError, release_all

        try:
            for path in release_all():
                print(f"released {path.relative_to(path.parent.parent)}")
        except ReleaseError as exc:
            print(f"release: {exc}", file=sys.stderr)
            return 1
        return 0

    if args.command == "check":
        return _check(args)

    if args.command in ("collect", "export", "report"):
        return _lms(args)

    if args.command == "kit":
        from .kit import KitError, build

        try:
            for path in build(args.out):
                print(f"built {path}")
        except KitError as exc:
            print(f"kit: {exc}", file=sys.stderr)
            return 1
        return 0

    if args.command == "grade":
        import unicodedata

        from . import course_dir
        from .grade import Selection, run_grade

        if (
            args.workers < 1
            or args.timeout <= 0
            or args.notebook_timeout <= 0
            or args.memory < MIN_MEMORY_MB
        ):
            print(
                f"grade: --workers must be >= 1, timeouts positive and --memory >= {MIN_MEMORY_MB}",
                file=sys.stderr,
            )
            return 2
        limits = Limits.for_cells(
            args.timeout, notebook_seconds=args.notebook_timeout, memory_mb=args.memory
        )
        if args.config is not None and not args.config.is_file():
            print(f"grade: --config {args.config}: no such file", file=sys.stderr)
            return 2
        selection = Selection(
            sorted(set(args.assignment)) if args.assignment else None,
            sorted({unicodedata.normalize("NFC", s) for s in args.student})
            if args.student
            else None,
        )
        return run_grade(
            args.submissions,
            args.out,
            args.workers,
            limits,
            use_sandbox=not args.no_sandbox,
            gradebook=args.gradebook or course_dir.GRADEBOOK,
            force=args.force,
            roster_file=args.students,
            selection=selection,
            config=args.config,
            scheduler=args.scheduler,
        )
    return 2
