"""`grade --scheduler`: a class graded on a real dask.distributed cluster (two worker
processes on 127.0.0.1) gives byte for byte the grades and feedback of a local run, a
worker killed mid-submission costs a retry and not a grade, a worker with other grader
code is refused (exit 2), the client reads a submission only when its task is sent, and
an unusable scheduler (not a scheduler file, no such file, unreachable) is refused in one
line before anything is touched."""

from __future__ import annotations

import csv
import importlib
import os
import signal
import subprocess
import time
import types
import zipfile

import pytest

from autograder import cluster as cluster_module
from autograder import course_dir
from autograder.limits import DEFAULTS

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
    assert done.returncode == 2
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
    assert (out / "grades.csv").read_text(encoding="utf-8") == "earlier grades\n"
    assert not (tmp_path / "gb.db").exists()


@pytest.mark.parametrize("kind", ["not-a-scheduler-file", "no-such-file", "unreachable"])
def test_an_unusable_scheduler_is_one_line_and_creates_no_output_folder(tmp_path, kind):
    subs, aid = tmp_path / "submitted", ASSIGNMENTS[0]
    write_notebook(make_submission(aid), subs / "ada" / aid / _name(aid))
    if kind == "not-a-scheduler-file":
        scheduler = tmp_path / "class.zip"
        with zipfile.ZipFile(scheduler, "w") as archive:
            archive.writestr("ada.ipynb", "{}")
        expected = f"--scheduler {scheduler}: not a dask scheduler file"
    elif kind == "no-such-file":
        scheduler = tmp_path / "scheduler.json"
        expected = f"--scheduler {scheduler}: no such scheduler file"
    else:
        scheduler = "tcp://127.0.0.1:9"
        expected = "cannot reach the dask scheduler at tcp://127.0.0.1:9"
    out = tmp_path / "out"
    started = time.monotonic()
    done = run_cli(
        "grade",
        subs,
        "--out",
        out,
        "--gradebook",
        tmp_path / "gb.db",
        "--scheduler",
        scheduler,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert seconds < cluster_module.CONNECT_SECONDS + 15  # not the 20 s of a Client.__del__
    assert not out.exists()  # not even the lock file: nothing is changed
    assert not (tmp_path / "gb.db").exists()


def _other_grader_code(on: bool) -> None:
    """On a worker: compute another grader fingerprint than the client's (or stop)."""
    from autograder import cluster, fingerprint

    cluster._WORKER.pop("fingerprint", None)
    real = getattr(fingerprint, "_real_grader_fingerprint", fingerprint.grader_fingerprint)
    fingerprint._real_grader_fingerprint = real  # type: ignore[attr-defined]
    fingerprint.grader_fingerprint = (lambda *a, **k: "0" * 64) if on else real


@pytest.mark.slow
def test_a_worker_with_other_grader_code_is_refused_with_exit_status_2(cluster, tmp_path):
    local_cluster, client = cluster
    subs, aid = tmp_path / "submitted", ASSIGNMENTS[0]
    write_notebook(make_submission(aid), subs / "ada" / aid / _name(aid))
    client.run(_other_grader_code, True)
    try:
        done = _grade(tmp_path, subs, "out", "--scheduler", local_cluster.scheduler_address)
    finally:
        client.run(_other_grader_code, False)
    assert done.returncode == 2, done.stderr
    assert "a worker cannot grade" in done.stderr
    assert "install the same grader on every worker" in done.stderr
    assert "Traceback" not in done.stderr


def _echo_task(job, notebook, assignments, limits, sandboxed, fingerprint):
    """A stand-in for grade_task: what the worker was sent."""
    return {"bytes": notebook.decode()}, job.folder


def test_the_client_reads_a_submission_only_when_its_task_is_sent(cluster, tmp_path, monkeypatch):
    """The in-flight window bounds the client's memory: at most that many submissions'
    bytes are read and not yet given back, and each result comes back once."""
    from autograder import fingerprint, grade, safety

    local_cluster, client = cluster
    monkeypatch.setattr(cluster_module, "grade_task", _echo_task)
    monkeypatch.setattr(cluster_module, "MIN_IN_FLIGHT", 1)
    monkeypatch.setattr(cluster_module, "IN_FLIGHT_PER_THREAD", 1)
    monkeypatch.setattr(fingerprint, "grader_fingerprint", lambda assignments: "f" * 64)
    monkeypatch.setattr(
        grade, "grade_submission", lambda job, *a, **k: ({"bytes": None}, job.folder)
    )
    given_back: list[str] = []
    in_flight: list[int] = []  # at each read: read so far minus given back
    real_read = safety.read_regular_file

    def read(path, limit):
        in_flight.append(len(in_flight) + 1 - len(given_back) + given_back.count("none"))
        return real_read(path, limit)

    monkeypatch.setattr(safety, "read_regular_file", read)
    jobs = []
    for n in range(12):
        path = tmp_path / f"s{n:02d}.ipynb"
        path.write_text(f"notebook {n}", encoding="utf-8")
        jobs.append(
            types.SimpleNamespace(assignment_id="a", path=path, folder=f"s{n:02d}", key="k")
        )
    jobs.insert(5, types.SimpleNamespace(assignment_id="a", path=None, folder="none", key="k"))
    remote = cluster_module.Cluster(client, local_cluster.scheduler_address)
    window = remote.threads()  # 1 per thread here
    results = {}
    for job, (data, page) in remote.results(jobs, {"a": None}, DEFAULTS, False, "f" * 64):
        assert page == job.folder and job.folder not in results
        results[job.folder] = data["bytes"]
        given_back.append(job.folder)
    assert results == {
        **{f"s{n:02d}": f"notebook {n}" for n in range(12)},
        "none": None,
    }
    assert len(in_flight) == 12
    assert max(in_flight) <= window, in_flight
