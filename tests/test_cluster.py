"""`grade --scheduler`: a class graded on a real dask.distributed cluster (two worker
processes on 127.0.0.1) gives byte for byte the grades and feedback of a local run, a
worker killed mid-submission costs a retry and not a grade, and an unreachable
scheduler is refused before anything is touched."""

from __future__ import annotations

import csv
import importlib
import os
import signal
import subprocess
import time

import pytest

from autograder import course_dir

from conftest import CHAPTERS, PYTHON, ROOT, make_submission, run_cli, write_notebook

distributed = pytest.importorskip("distributed")

ASSIGNMENTS = [CHAPTERS[0], CHAPTERS[2]]  # 02 times its sampling tests: load-sensitive


def _name(aid):
    return course_dir.notebook_path(aid, course_dir.RELEASED).name


def _solution_cell(aid):
    nb = make_submission(aid)
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            return grade_id, "".join(cell["source"])
    raise AssertionError(f"{aid}: no solution cell")


def _wrong(aid):
    """A wrong answer: the chapter's first plausible mistake (tests/mistakes_NN.py)."""
    mistake = importlib.import_module(f"mistakes_{aid[:2]}").MISTAKES[0]
    return make_submission(aid, replacements={mistake["cell"]: mistake["code"]})


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        distributed.Client(local, set_as_default=False) as client,
    ):
        yield local, client


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster-class")
    subs = root / "submitted"
    for aid in ASSIGNMENTS:
        write_notebook(make_submission(aid), subs / "ada" / aid / _name(aid))
        write_notebook(_wrong(aid), subs / "bob" / aid / _name(aid))
    broken = subs / "cyd" / ASSIGNMENTS[0] / _name(ASSIGNMENTS[0])
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [', encoding="utf-8")
    write_notebook(
        make_submission(ASSIGNMENTS[0], stub=True),
        subs / "cyd" / ASSIGNMENTS[1] / _name(ASSIGNMENTS[1]),
    )
    return root, subs


def _grade(root, subs, out, *extra):
    return run_cli(
        "grade",
        subs,
        "--out",
        root / out,
        "--timeout",
        "30",
        "--gradebook",
        root / f"{out}.db",
        *extra,
        timeout=600,
    )


def _tree(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _rows(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_cluster_run_is_byte_identical_to_a_local_run(cluster, klass):
    local_cluster, _ = cluster
    root, subs = klass
    local = _grade(root, subs, "local", "--workers", "2")
    assert local.returncode == 0, local.stderr
    remote = _grade(root, subs, "remote", "--scheduler", local_cluster.scheduler_address)
    assert remote.returncode == 0, remote.stderr
    assert "Traceback" not in remote.stderr
    assert "dask cluster at" in remote.stdout
    assert "Graded 6 notebook(s) in this run" in remote.stdout
    # The class is graded for real: full marks, a wrong answer, a broken notebook, a stub.
    rows = {(r["student_id"], r["assignment"]): r for r in _rows(root / "remote")}
    assert rows[("ada", ASSIGNMENTS[0])]["score"] == rows[("ada", ASSIGNMENTS[0])]["max_score"]
    assert float(rows[("bob", ASSIGNMENTS[0])]["score"]) < float(
        rows[("bob", ASSIGNMENTS[0])]["max_score"]
    )
    assert rows[("cyd", ASSIGNMENTS[0])]["status"] == "failed"
    assert (root / "remote" / "grades.csv").read_bytes() == (
        root / "local" / "grades.csv"
    ).read_bytes()
    local_pages, remote_pages = (_tree(root / name / "feedback") for name in ("local", "remote"))
    assert len(local_pages) == 6
    assert remote_pages.keys() == local_pages.keys()
    for page in local_pages:
        assert remote_pages[page] == local_pages[page], page

    # Resumable: the same command again grades nothing and writes the same table.
    again = _grade(root, subs, "remote", "--scheduler", local_cluster.scheduler_address)
    assert again.returncode == 0, again.stderr
    assert "Graded 0 notebook(s) in this run (6 from an earlier run)" in again.stdout
    assert (root / "remote" / "grades.csv").read_bytes() == (
        root / "local" / "grades.csv"
    ).read_bytes()


def _executing(dask_worker):
    return [str(ts.key) for ts in dask_worker.state.executing]


@pytest.mark.slow
@pytest.mark.parametrize("drop", [False, True], ids=["worker-killed", "task-dropped"])
def test_a_worker_killed_mid_submission_costs_a_retry_not_a_grade(cluster, tmp_path, drop):
    """A worker killed mid-submission, or the scheduler dropping the task, costs a retry:
    the grade comes back once, with full marks."""
    local_cluster, client = cluster
    subs, aid = tmp_path / "submitted", ASSIGNMENTS[0]
    grade_id, code = _solution_cell(aid)
    slow = make_submission(aid, replacements={grade_id: "import time\ntime.sleep(6)\n" + code})
    write_notebook(slow, subs / "zed" / aid / _name(aid))
    write_notebook(make_submission(aid), subs / "ada" / aid / _name(aid))
    write_notebook(_wrong(aid), subs / "bob" / aid / _name(aid))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "autograder",
            "grade",
            str(subs),
            "--out",
            str(out),
            "--timeout",
            "30",
            "--gradebook",
            str(tmp_path / "gb.db"),
            "--scheduler",
            local_cluster.scheduler_address,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        victim = None
        deadline = time.monotonic() + 180
        while victim is None and time.monotonic() < deadline and proc.poll() is None:
            for address, keys in client.run(_executing).items():
                if any(key.startswith("grade-zed-") for key in keys):
                    victim = address
            time.sleep(0.2)
        assert victim is not None, "zed's submission never ran"
        time.sleep(1.0)  # well inside its 6 s sleep
        if drop:  # the scheduler drops the task (as when it forgets one a dead worker held)
            [key] = [k for k in client.run(_executing)[victim] if k.startswith("grade-zed-")]
            client.cancel([distributed.Future(key, client)], force=True)
            pid = None
        else:
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    if pid is not None:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the worker really died
    assert "Graded 3 notebook(s) in this run" in stdout
    rows = [r for r in _rows(out) if r["status"] != "missing"]  # one row per chapter
    assert sorted((r["student_id"], r["assignment"]) for r in rows) == [
        ("ada", aid),
        ("bob", aid),
        ("zed", aid),
    ]
    zed = next(r for r in rows if r["student_id"] == "zed")
    assert zed["status"] == "graded" and zed["score"] == zed["max_score"], zed
    assert sorted(p.name for p in (out / ".results").iterdir()) == ["ada", "bob", "zed"]


def test_an_unreachable_scheduler_is_refused_and_nothing_is_lost(tmp_path):
    subs, aid = tmp_path / "submitted", ASSIGNMENTS[0]
    write_notebook(make_submission(aid), subs / "ada" / aid / _name(aid))
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text("earlier grades\n", encoding="utf-8")
    done = run_cli(
        "grade",
        subs,
        "--out",
        out,
        "--gradebook",
        tmp_path / "gb.db",
        "--scheduler",
        "tcp://127.0.0.1:9",
        timeout=120,
    )
    assert done.returncode != 0
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
    assert (out / "grades.csv").read_text(encoding="utf-8") == "earlier grades\n"
    assert not (tmp_path / "gb.db").exists()
