"""Shared fixtures: building submissions from the released notebooks."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course_dir
from autograder.notebooks import load_assignment

ROOT = course_dir.ROOT
PYTHON = sys.executable
CHAPTERS = course_dir.assignment_ids()


def solution_body(code: str) -> str:
    """A solution cell's code with nbgrader's markers removed."""
    return "".join(line for line in code.splitlines(True)
                   if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def make_submission(assignment_id: str, replacements: dict[str, str] | None = None,
                    stub: bool = False) -> dict:
    """The released notebook, as a student hands it in.

    Solution cells get the reference code (or the stub when ``stub``), except the
    cells named in ``replacements`` (grade_id -> code).
    """
    released = course_dir.notebook_path(assignment_id, course_dir.RELEASED)
    source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    nb = json.loads(released.read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if replacements and grade_id in replacements:
            cell["source"] = replacements[grade_id]
        elif grade_id in source.solutions and not stub:
            cell["source"] = solution_body(source.solutions[grade_id])
    return nb


def write_notebook(nb: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def run_cli(*args, timeout=900, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    return subprocess.run([PYTHON, "-m", "autograder", *map(str, args)], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env, **kwargs)


@pytest.fixture(scope="session")
def sources():
    return {a: load_assignment(course_dir.notebook_path(a), a) for a in CHAPTERS}
