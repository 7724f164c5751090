"""`kit`: build the student kit, what a student downloads from the course site.

The kit is two files:

* a wheel (``softmax_course_kit-VERSION-py3-none-any.whl``) holding the course helpers
  the notebooks import (:data:`course_dir.STUDENT_HELPERS`), the self-check
  (:data:`course_dir.CHECK_FILES`, the very modules ``python -m autograder check``
  runs) with the released notebooks it checks against, and a ``softmax-check`` command;
* a zip (``softmax-exercises.zip``) with the released notebooks to work on, the wheel
  and a short README.

Nothing else of the course goes in: no solutions, no hidden tests, no reference
implementation (:data:`course_dir.INSTRUCTOR_ONLY`), no grading of a class. Both files
are checked after they are built, and the build fails rather than publish a leak.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from . import course_dir
from .release import FORBIDDEN

DIST_NAME = "softmax-course-kit"
COMMAND = "softmax-check"
ZIP_NAME = "softmax-exercises.zip"
FOLDER = "softmax-exercises"
#: What a student's environment needs; lower bounds, so that the kit fits an existing one.
DEPENDENCIES = ("numpy>=2.0", "scipy>=1.13", "nbformat>=5.9")
PYTHON = ">=3.11"
#: A fixed date for the zip entries: the same sources give the same zip.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
ZIP_EPOCH = 1767225600  # the same date, for the wheel's entries


class KitError(Exception):
    pass


def version() -> str:
    """The course's version, from pyproject.toml (the kit's wheel carries it)."""
    data = tomllib.loads((course_dir.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]["version"]


def wheel_name() -> str:
    """The file name of the student kit's wheel, e.g. ``softmax_course_kit-0.1.0-py3-none-any.whl``."""
    return f"{DIST_NAME.replace('-', '_')}-{version()}-py3-none-any.whl"


def _released() -> list[tuple[str, Path]]:
    return [
        (aid, course_dir.notebook_path(aid, course_dir.RELEASED))
        for aid in course_dir.assignment_ids(course_dir.RELEASED)
    ]


def _pyproject() -> str:
    deps = ", ".join(f'"{d}"' for d in DEPENDENCIES)
    return f"""[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{DIST_NAME}"
version = "{version()}"
description = "The softmax course's exercise helpers and self-check ({COMMAND} NOTEBOOK)."
readme = "README.md"
requires-python = "{PYTHON}"
dependencies = [{deps}]

[project.scripts]
{COMMAND} = "autograder.cli:check_main"

[tool.setuptools]
packages = ["autograder", "course"]
include-package-data = false

[tool.setuptools.package-data]
autograder = ["released/*/*.ipynb"]
"""


def readme() -> str:
    """The kit's README: the same steps as the site's "Get the exercises" page."""
    first = _released()[0][1].name
    return f"""# Softmax course: exercises

This folder holds the course's exercise notebooks and `{wheel_name()}`, which gives
you the helpers the notebooks import and the self-check command `{COMMAND}`.
It needs Python 3.11 or newer.

1. **Install**, from a terminal in this folder (once):

       python3 -m venv .venv
       .venv/bin/pip install {wheel_name()} jupyterlab

   (on Windows: `py -m venv .venv` and `.venv\\Scripts\\pip install ...`). Any Jupyter
   works: the notebooks need a kernel of the environment where the kit is installed.
2. **Work** on the notebooks in this folder: `.venv/bin/jupyter lab`, open a notebook,
   replace each `raise NotImplementedError()` under `YOUR CODE HERE` with your code, and run
   the test cells as you go (do not edit them).
3. **Self-check**, in this folder: `.venv/bin/{COMMAND} {first}` runs the notebook with the
   visible tests the grader uses, prints each with PASS/FAIL and its points, and exits 0
   only when all of them pass.
4. **Hand in** the notebook file itself, without renaming it, as your course asks.
   Grading runs the same visible tests and further hidden tests of the same functions.
"""


def _stage(folder: Path) -> None:
    root = course_dir.ROOT
    for rel in dict.fromkeys(course_dir.CHECK_FILES + course_dir.STUDENT_HELPERS):
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target)
    for aid, path in _released():
        target = folder / "autograder" / "released" / aid / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (folder / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    (folder / "README.md").write_text(readme(), encoding="utf-8")


def expected_wheel_files() -> set[str]:
    """Every file the wheel may hold, besides its own metadata (``*.dist-info/``)."""
    files = set(course_dir.CHECK_FILES) | set(course_dir.STUDENT_HELPERS)
    files |= {f"autograder/released/{aid}/{path.name}" for aid, path in _released()}
    return files


def verify(wheel: Path, archive: Path) -> None:
    """Refuse a kit with anything of the instructor's in it.

    Args:
        wheel: the built wheel.
        archive: the built zip.

    Raises:
        KitError: naming the first file, or file content, that should not be there.
    """
    with zipfile.ZipFile(wheel) as zw:
        names = [n for n in zw.namelist() if ".dist-info/" not in n]
        unexpected = sorted(set(names) - expected_wheel_files())
        if unexpected:
            raise KitError(f"{wheel.name} would hold {', '.join(unexpected)}")
        contents = {n: zw.read(n) for n in zw.namelist()}
    with zipfile.ZipFile(archive) as zz:
        contents.update({f"{archive.name}:{n}": zz.read(n) for n in zz.namelist()})
    for name, data in contents.items():
        if any(part in name for part in course_dir.INSTRUCTOR_ONLY):
            raise KitError(f"the kit would hold {name}")
        if name.endswith(".py"):
            continue  # the checker's own code names the markers in order to strip them
        for marker in FORBIDDEN:
            if marker.encode() in data:
                raise KitError(f"{name} in the kit would contain '{marker}'")


def build(out: Path) -> tuple[Path, Path]:
    """Build the wheel and the zip into ``out``; returns their paths.

    Args:
        out: the folder to write into (made if missing).

    Raises:
        KitError: if building the wheel fails, or the kit holds something it should not
            (both files are removed then).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / wheel_name()
    archive = out / ZIP_NAME
    with tempfile.TemporaryDirectory(prefix="kit-") as scratch:
        staging, built = Path(scratch) / "src", Path(scratch) / "dist"
        _stage(staging)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--wheel-dir",
                str(built),
                str(staging),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "SOURCE_DATE_EPOCH": str(ZIP_EPOCH)},
        )
        if done.returncode != 0:
            raise KitError("building the wheel failed:\n" + done.stdout + done.stderr)
        shutil.copyfile(built / wheel.name, wheel)
    tmp_zip = archive.with_suffix(".tmp")
    with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zz:

        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(f"{FOLDER}/{name}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zz.writestr(info, data)

        add("README.md", readme().encode("utf-8"))
        for _, path in _released():
            add(path.name, path.read_bytes())
        add(wheel.name, wheel.read_bytes())
    tmp_zip.replace(archive)
    try:
        verify(wheel, archive)
    except KitError:
        wheel.unlink()
        archive.unlink()
        raise
    return wheel, archive
