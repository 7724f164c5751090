"""Stock nbgrader agrees with ours: the same per-test scores on every chapter's reference,
and the course's nbgrader_config.py points stock nbgrader at the course's own folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import course_dir

from conftest import CHAPTERS, ROOT, make_submission, run_cli, write_notebook

NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def _nbgrader(*args, cwd):
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PYTHONWARNINGS="ignore",
    )
    done = subprocess.run(
        [NBGRADER, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


STOCK = """
import json, sys
from nbgrader.apps import NbGraderAPI
from nbgrader.api import Gradebook
from traitlets.config import Config

root, student, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
config = Config()
config.CourseDirectory.root = root
config.CourseDirectory.db_url = f"sqlite:///{root}/gradebook.db"
api = NbGraderAPI(config=config)
for aid in ids:
    for step in (api.generate_assignment(aid), api.autograde(aid, student)):
        if not step["success"]:
            sys.exit(f"{aid}: {step.get('error')}\\n{step.get('log')}")
scores = {}
with Gradebook(config.CourseDirectory.db_url) as gb:
    for aid in ids:
        for notebook in gb.find_submission(aid, student).notebooks:
            for grade in notebook.grades:
                scores[f"{aid}/{grade.name}"] = [grade.score, grade.max_score]
print(json.dumps(scores))
"""


@pytest.mark.slow
def test_stock_nbgrader_autograde_gives_every_test_the_same_score(tmp_path):
    """Stock nbgrader's autograde and ours score every test of every chapter's reference alike.

    nbgrader gives partial credit when a test cell's last expression shows a number, and
    no credit when a test writes to stderr; ours runs tests as plain code, so such a cell
    would score differently. Every chapter in solutions/ is included, whatever exists.
    (nbgrader's Python API runs the same Autograde app as `nbgrader autograde`, in one
    process for all chapters instead of a start-up per command.)
    """
    from autograder.checker import grade_notebook
    from autograder.notebooks import load_assignment
    from autograder.sandbox import Limits, Sandbox

    course = tmp_path / "stock"
    shutil.copytree(course_dir.SOLUTIONS, course / "source")
    for aid in CHAPTERS:
        name = course_dir.notebook_path(aid, course_dir.RELEASED).name
        write_notebook(make_submission(aid), course / "submitted" / "ref" / aid / name)
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PYTHONWARNINGS="ignore",
    )
    done = subprocess.run(
        [sys.executable, "-c", STOCK, str(course), "ref", *CHAPTERS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    stock = {
        tuple(k.split("/")): tuple(v)
        for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()
    }

    ours, sandbox = {}, Sandbox.find()
    for aid in CHAPTERS:
        assignment = load_assignment(course_dir.notebook_path(aid), aid)
        path = course / "submitted" / "ref" / aid / assignment.notebook_name
        result = grade_notebook(assignment, path, Limits(), sandbox)
        ours.update({(aid, t.grade_id): (t.score, t.points) for t in result.tests})

    assert set(stock) == set(ours) and len(ours) >= len(CHAPTERS)
    differ = {k: (stock[k], ours[k]) for k in ours if stock[k] != ours[k]}
    assert not differ, f"(stock, ours) per test: {differ}"
    assert all(score == points for score, points in ours.values())


def test_course_nbgrader_config_uses_the_course_folders_and_gradebook():
    """nbgrader_config.py at the root is what stock nbgrader reads there; its paths are
    course_dir's, so `nbgrader export` from the root reads the real gradebook."""
    from traitlets.config.loader import PyFileConfigLoader

    loaded = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    expected = course_dir.nbgrader_config()
    for key in (
        "root",
        "source_directory",
        "release_directory",
        "submitted_directory",
        "autograded_directory",
        "feedback_directory",
        "db_url",
        "course_id",
    ):
        assert loaded.CourseDirectory[key] == expected.CourseDirectory[key], key
    assert loaded.CourseDirectory.db_url == f"sqlite:///{course_dir.GRADEBOOK.resolve()}"
    assert Path(loaded.CourseDirectory.root) == ROOT


def test_nbgrader_export_from_the_root_reads_what_grade_recorded(tmp_path):
    """Missing students export as 0 and a late penalty as nbgrader's own columns, from
    the same gradebook that `grade` wrote (stock `nbgrader export`, run from the root)."""
    aid = CHAPTERS[0]
    name = course_dir.notebook_path(aid, course_dir.RELEASED).name
    subs = tmp_path / "submitted"
    write_notebook(make_submission(aid), subs / "ada" / aid / name)
    write_notebook(make_submission(aid), subs / "zoë" / aid / name)
    (subs / "zoë" / aid / "timestamp.txt").write_text("2026-09-15 01:00:00.000000 UTC")
    (tmp_path / "roster.csv").write_text(
        "id,first_name,last_name,email\nada,Ada,L,a@x\nzoë,Zoë,,\ncyd,,,\n", encoding="utf-8"
    )
    (tmp_path / "grading.toml").write_text(
        f'[late]\npercent_per_day = 10\n[due]\n"{aid}" = 2026-09-14T23:59:00Z\n'
    )
    db = tmp_path / "gb.db"
    done = run_cli(
        "grade",
        subs,
        "--out",
        tmp_path / "out",
        "--workers",
        "1",
        "--students",
        tmp_path / "roster.csv",
        "--config",
        tmp_path / "grading.toml",
        "--gradebook",
        db,
        "--assignment",
        aid,
    )
    assert done.returncode == 0, done.stderr
    _nbgrader(
        "export",
        "--to",
        tmp_path / "export.csv",
        f"--CourseDirectory.db_url=sqlite:///{db}",
        cwd=ROOT,
    )
    import csv

    with open(tmp_path / "export.csv", newline="", encoding="utf-8") as handle:
        exported = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        ours = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    assert set(exported) == set(ours) == {(s, a) for s in ("ada", "zoë", "cyd") for a in CHAPTERS}
    for key, row in ours.items():
        assert float(exported[key]["score"]) == float(row["score"]), key
        assert float(exported[key]["late_submission_penalty"]) == float(row["late_penalty"])
    assert float(ours[("zoë", aid)]["late_penalty"]) == 1.0  # 10% of 10 points, 1 day
    assert exported[("ada", aid)]["first_name"] == "Ada"
    assert ours[("cyd", aid)]["status"] == "missing" and float(exported[("cyd", aid)]["score"]) == 0
