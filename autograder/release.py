"""`release`: generate the student notebooks in ``notebooks/`` from ``solutions/``.

nbgrader's ``generate_assignment`` replaces solution code by a stub, removes
hidden tests and outputs, and adds checksums. We then normalise the result
(key order, no execution counts, no per-machine metadata) so that releasing
twice gives byte-identical files, and refuse to write anything that still
contains solution markers or hidden tests.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

from . import course_dir
from .markers import ALL_MARKERS, MarkerError, check_notebook

#: Marker texts a released notebook must never contain.
FORBIDDEN = ALL_MARKERS


class ReleaseError(Exception):
    pass


def normalise_notebook(path: Path) -> None:
    """Rewrite a notebook with stable formatting and no execution state.

    Args:
        path: the notebook file, rewritten in place.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell.pop("id", None)
        if cell["cell_type"] == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
    nb["metadata"] = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nb["nbformat"], nb["nbformat_minor"] = 4, 4
    path.write_text(
        json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def generate(assignment_id: str, db_path: Path) -> Path:
    """Run nbgrader's generate_assignment into a temporary folder.

    nbgrader also records the assignment's notebooks and graded cells in the
    gradebook at ``db_path``.

    Args:
        assignment_id: the chapter folder's name, e.g. ``"01-definition"``.
        db_path: the gradebook nbgrader records the assignment in.

    Returns:
        The folder of generated notebooks; the caller removes it (it lives in a fresh
        temporary directory).

    Raises:
        ReleaseError: nbgrader failed; its log is in the message.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    out = Path(tempfile.mkdtemp(prefix="release-"))
    config = course_dir.nbgrader_config(db_path)
    config.CourseDirectory.release_directory = str(out)
    config.GenerateAssignment.no_database = False
    config.GenerateAssignment.create_assignment = True
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment_id
    log = logging.getLogger(f"nbgrader.{assignment_id}")
    log.propagate = False
    stream = io.StringIO()
    log.handlers[:] = [logging.StreamHandler(stream)]
    app = GenerateAssignment(coursedir=coursedir, config=config, log=log)
    app.force = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's SAWarnings about nbgrader's models
        try:
            app.start()
        except Exception as exc:  # nbgrader reports its own errors this way
            shutil.rmtree(out, ignore_errors=True)
            raise ReleaseError(
                f"nbgrader could not generate {assignment_id}: {exc}\n" + stream.getvalue()
            ) from None
    return out / assignment_id


def release_assignment(assignment_id: str, out: Path | None = None) -> Path:
    """Generate ``notebooks/<assignment_id>/`` from ``solutions/<assignment_id>/``.

    Args:
        assignment_id: the chapter folder's name, e.g. ``"01-definition"``.
        out: the folder of released notebooks (``notebooks/`` when None).

    Returns:
        The released assignment's folder.

    Raises:
        ReleaseError: the solution notebook's markers are unbalanced, nbgrader failed,
            or a notebook would carry a solution marker; nothing is written then.
    """
    for solution in sorted((course_dir.SOLUTIONS / assignment_id).glob("*.ipynb")):
        try:
            check_notebook(json.loads(solution.read_text(encoding="utf-8")), str(solution))
        except (OSError, ValueError) as exc:  # MarkerError, or JSON that is not a notebook
            what = str(exc) if isinstance(exc, MarkerError) else f"{solution}: {exc}"
            raise ReleaseError(f"{what}: not released") from None
    with tempfile.TemporaryDirectory() as scratch:
        produced = generate(assignment_id, Path(scratch) / "release.db")
        try:
            for notebook in produced.glob("*.ipynb"):
                normalise_notebook(notebook)
                text = notebook.read_text(encoding="utf-8")
                for marker in FORBIDDEN:
                    if marker in text:
                        raise ReleaseError(
                            f"{notebook.name} would contain '{marker}': not released"
                        )
            target = (course_dir.RELEASED if out is None else Path(out)) / assignment_id
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(produced, target)
        finally:
            shutil.rmtree(produced.parent, ignore_errors=True)
        return target


def release_all(out: Path | None = None) -> list[Path]:
    """Release every chapter of ``solutions/``, and remove chapters no longer there.

    Args:
        out: the folder of released notebooks (``notebooks/`` when None; the tests release
            into a temporary folder).

    Returns:
        The released assignments' folders, in course order.
    """
    target = course_dir.RELEASED if out is None else Path(out)
    ids = course_dir.assignment_ids(course_dir.SOLUTIONS)
    released = [release_assignment(a, target) for a in ids]
    # Chapters removed from solutions/ disappear from notebooks/ too.
    for stale in set(course_dir.assignment_ids(target)) - set(ids):
        shutil.rmtree(target / stale)
    return released
