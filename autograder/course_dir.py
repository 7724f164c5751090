"""Where things are: the course root and nbgrader's course directory.

nbgrader's folders map onto the repository:

=================  =========================================
nbgrader           this course
=================  =========================================
source             ``solutions/``
release            ``notebooks/``
submitted          ``autograder/submitted/`` (git-ignored)
autograded         ``autograder/autograded/`` (git-ignored)
feedback           ``autograder/feedback/`` (git-ignored)
gradebook          ``autograder/gradebook.db`` (git-ignored)
=================  =========================================

The root is found from this package's own location, never from the current
folder, so every command works from anywhere in (or outside) the repository.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
RELEASED = ROOT / "notebooks"
WORK = ROOT / "autograder"
GRADEBOOK = WORK / "gradebook.db"
#: Due dates and the late policy (see autograder/late.py for the format).
GRADING_CONFIG = ROOT / "grading.toml"
#: MathJax, installed from the npm registry by `make setup` (the site serves the same copy).
MATHJAX = ROOT / ".cache" / "mathjax" / "mathjax"


def nbgrader_config(db_path: Path = GRADEBOOK):
    """The traitlets configuration nbgrader needs, pinned to this course."""
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(ROOT)
    config.CourseDirectory.source_directory = "solutions"
    config.CourseDirectory.release_directory = "notebooks"
    config.CourseDirectory.submitted_directory = "autograder/submitted"
    config.CourseDirectory.autograded_directory = "autograder/autograded"
    config.CourseDirectory.feedback_directory = "autograder/feedback"
    config.CourseDirectory.db_url = f"sqlite:///{Path(db_path).resolve()}"
    config.CourseDirectory.course_id = "softmax-course"
    config.GenerateAssignment.no_database = True
    return config


def assignment_ids(folder: Path = SOLUTIONS) -> list[str]:
    """Chapter folders holding a notebook, in course order (their names sort that way)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")) and not p.name.startswith("."))


def notebook_path(assignment_id: str, folder: Path = SOLUTIONS) -> Path:
    """The one exercise notebook of a chapter folder."""
    notebooks = sorted((folder / assignment_id).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise FileNotFoundError(f"{folder / assignment_id} should hold exactly one notebook, "
                                f"found {len(notebooks)}")
    return notebooks[0]
