"""The output folder of `grade` as an unlucky instructor meets it: a second run at the
same time, a read-only folder, a full disk, debris of a killed run. Each gives one
sentence, loses nothing already saved, and the same command resumes."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, make_submission, write_notebook

AID = "01-definition"
NAME = "01-definition.ipynb"
BWRAP = shutil.which("bwrap")


def _class(subs: Path, n: int) -> None:
    for i in range(n):
        write_notebook(make_submission(AID), subs / f"s{i}" / AID / NAME)


def _grade(subs, out, gradebook, wrap=()):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run(
        [
            *wrap,
            PYTHON,
            "-m",
            "autograder",
            "grade",
            str(subs),
            "--out",
            str(out),
            "--workers",
            "1",
            "--no-sandbox",
            "--gradebook",
            str(gradebook),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


def _snapshot(folder: Path) -> dict:
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_second_run_into_the_same_out_refuses(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    _class(subs, 1)
    out.mkdir()
    with open(out / ".grade.lock", "w") as held:  # as a running `grade` holds it
        held.write("4242\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        done = _grade(subs, out, tmp_path / "gb.db")
    assert done.returncode == 2, done.stderr
    assert "another grade run (process 4242) is writing to" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / "grades.csv").exists()


@pytest.mark.skipif(BWRAP is None, reason="bubblewrap makes the read-only and full folders")
def test_read_only_out_gives_one_sentence_and_keeps_everything(tmp_path):
    """... and the rerun resumes, removing what a killed run left half-written."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    _class(subs, 2)
    assert _grade(subs, out, tmp_path / "gb.db").returncode == 0
    before = _snapshot(out)
    write_notebook(make_submission(AID, stub=True), subs / "late" / AID / NAME)
    done = _grade(
        subs,
        out,
        tmp_path / "gb.db",
        wrap=(BWRAP, "--dev-bind", "/", "/", "--ro-bind", str(out), str(out), "--"),
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "read-only" in lines[0] and "run the same command" in lines[0], (
        done.stderr
    )
    assert _snapshot(out) == before
    page = out / "feedback" / "s0" / AID / "01-definition.html"
    stray = page.parent / ".01-definition.html.k3x9_q2z"  # what mkstemp leaves on kill -9
    stray.write_text("half a page")
    done = _grade(subs, out, tmp_path / "gb.db")
    assert done.returncode == 0, done.stderr
    assert "(2 from an earlier run)" in done.stdout
    assert not stray.exists() and page.is_file()


@pytest.mark.skipif(BWRAP is None, reason="bubblewrap makes the read-only and full folders")
def test_full_out_gives_one_sentence_and_leaves_no_temporary_file(tmp_path):
    """--out on a 400 kB tmpfs: the third page does not fit."""
    subs, out, seen = tmp_path / "subs", tmp_path / "out", tmp_path / "seen"
    _class(subs, 4)
    out.mkdir()
    script = (
        f"{PYTHON} -m autograder grade {subs} --out {out} --workers 1 --no-sandbox "
        f"--gradebook {tmp_path / 'gb.db'} 2>{tmp_path / 'err'}; echo $? > "
        f"{tmp_path / 'rc'}; cp -a {out} {seen}"
    )
    subprocess.run(
        [
            BWRAP,
            "--dev-bind",
            "/",
            "/",
            "--size",
            "400000",
            "--tmpfs",
            str(out),
            "--",
            "sh",
            "-c",
            script,
        ],
        cwd=ROOT,
        timeout=600,
        check=True,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    err = (tmp_path / "err").read_text()
    assert (tmp_path / "rc").read_text().strip() == "1", err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "full" in lines[0] and "run the same command" in lines[0], err
    leftovers = [
        p.name
        for p in seen.rglob(".*")
        if p.name != ".grade.lock" and p.is_file() and p.parent.name != ".results"
    ]
    assert leftovers == [], leftovers
    saved = list((seen / ".results").rglob("*.json"))
    assert saved, "what was graded before the disk filled is kept"
