"""Where things are: the course root, nbgrader's folders, the sandbox's and kit's files.

The course root, nbgrader's course directory, and what the sandbox and the student kit
may contain.

nbgrader's folders map onto the repository:

=================  ==================================================
nbgrader           this course
=================  ==================================================
source             ``solutions/``
release            ``notebooks/``
submitted          ``.grading/submitted/`` (git-ignored)
autograded         ``.grading/autograded/`` (git-ignored)
feedback           ``.grading/feedback/`` (git-ignored)
gradebook          ``.grading/gradebook.db`` (git-ignored)
=================  ==================================================

All runtime data (the gradebook, nbgrader's working folders, grading output and
saved results) lives outside every folder the sandbox mounts: the sandbox shows
student code only the files listed in :data:`SANDBOX_FILES`, one by one.

The root is found from this package's own location, never from the current
folder, so every command works from anywhere in (or outside) the repository.
In the student kit (an installed wheel) there is no repository: the released
notebooks ship inside the package (:data:`KIT_NOTEBOOKS`) and ``check`` uses them.

These constants are the single source of truth for paths: everything else
(the CLI, nbgrader's configuration, the kit builder, the tests) derives from them.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
SOLUTIONS = ROOT / "solutions"
#: Where the student kit's wheel keeps the released notebooks (absent in the repository).
KIT_NOTEBOOKS = PACKAGE / "released"
RELEASED = KIT_NOTEBOOKS if KIT_NOTEBOOKS.is_dir() else ROOT / "notebooks"

#: Runtime data of grading, git-ignored and never mounted into the sandbox.
RUNTIME = ROOT / ".grading"
GRADEBOOK = RUNTIME / "gradebook.db"
SUBMITTED = RUNTIME / "submitted"
AUTOGRADED = RUNTIME / "autograded"
FEEDBACK = RUNTIME / "feedback"

#: What the sandboxed worker runs: its own modules (paths relative to ROOT).
WORKER_FILES = (
    "autograder/__init__.py",
    "autograder/limits.py",
    "autograder/protocol.py",
    "autograder/sandboxed_worker.py",
)
#: The helpers the notebooks' given cells import; students get them in the kit.
STUDENT_HELPERS = ("course/__init__.py", "course/checks.py", "course/gradcheck.py")
#: Every file the sandbox shows student code (read-only), and nothing else of the course.
SANDBOX_FILES = WORKER_FILES + STUDENT_HELPERS
#: The self-check, which the kit ships besides the helpers (``softmax-check``).
CHECK_FILES = WORKER_FILES + (
    "autograder/__main__.py",
    "autograder/cli.py",
    "autograder/check.py",
    "autograder/course_dir.py",
    "autograder/checker.py",
    "autograder/notebooks.py",
    "autograder/markers.py",
    "autograder/plan.py",
    "autograder/results.py",
    "autograder/safety.py",
    "autograder/sandbox.py",
    "autograder/student_proxy.py",
)
#: Course files that must never reach a student: reference solutions and build-time code
#: that computes exercise answers.
INSTRUCTOR_ONLY = ("course/reference.py", "course/explorers.py")
#: Due dates and the late policy (see autograder/late.py for the format).
GRADING_CONFIG = ROOT / "grading.toml"
#: MathJax, installed from the npm registry by `make setup` (the site serves the same copy).
MATHJAX = ROOT / ".cache" / "mathjax" / "mathjax"


def nbgrader_config(db_path: Path = GRADEBOOK):
    """The traitlets configuration nbgrader needs, pinned to this course.

    Args:
        db_path: the gradebook (an SQLite file).
    """
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(ROOT)
    config.CourseDirectory.source_directory = "solutions"
    config.CourseDirectory.release_directory = "notebooks"
    config.CourseDirectory.submitted_directory = str(SUBMITTED.relative_to(ROOT))
    config.CourseDirectory.autograded_directory = str(AUTOGRADED.relative_to(ROOT))
    config.CourseDirectory.feedback_directory = str(FEEDBACK.relative_to(ROOT))
    config.CourseDirectory.db_url = f"sqlite:///{Path(db_path).resolve()}"
    config.CourseDirectory.course_id = "softmax-course"
    config.GenerateAssignment.no_database = True
    return config


def assignment_ids(folder: Path = SOLUTIONS) -> list[str]:
    """Chapter folders holding a notebook, in course order (their names sort that way).

    Args:
        folder: the folder of chapter folders (``solutions/`` by default).
    """
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and any(p.glob("*.ipynb")) and not p.name.startswith(".")
    )


def notebook_path(assignment_id: str, folder: Path = SOLUTIONS) -> Path:
    """The one exercise notebook of a chapter folder.

    Args:
        assignment_id: the chapter folder's name, e.g. ``"01-definition"``.
        folder: the folder of chapter folders (``solutions/`` by default).

    Raises:
        FileNotFoundError: if the chapter folder holds no notebook, or more than one.
    """
    notebooks = sorted((folder / assignment_id).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise FileNotFoundError(
            f"{folder / assignment_id} should hold exactly one notebook, found {len(notebooks)}"
        )
    return notebooks[0]
