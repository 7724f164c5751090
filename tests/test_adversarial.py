"""Hostile and broken submissions, graded by the real `grade` command beside a
correct one. Each case asserts its score and the reason the summary gives."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from autograder import course_dir

from conftest import PYTHON, ROOT, make_submission, run_cli, write_notebook

AID = "01-definition"
NAME = "01-definition.ipynb"
MARKER = "leftover-process-marker-7f3a"


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _cell(nb, grade_id):
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def _with_extra_cell(nb, code, after="softmax"):
    index = nb["cells"].index(_cell(nb, after)) + 1
    nb["cells"].insert(
        index,
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": code,
        },
    )
    return nb


def stub_plus(code):
    return _with_extra_cell(make_submission(AID, stub=True), code)


def ref_plus(code):
    return _with_extra_cell(make_submission(AID), code)


SOLUTION_FILE = str(course_dir.notebook_path(AID))

#: What a case can pass: every test, none, or every test but the named ones.
ALL = "every test"
NONE = "no test"


def all_but(*grade_ids: str) -> tuple[str, frozenset[str]]:
    return ("every test but", frozenset(grade_ids))


def expected_score(assignment, passes) -> float:
    """The points of the tests a case passes, read from the assignment's source."""
    points = {grade_id: test.points for grade_id, test in assignment.tests.items()}
    if passes == ALL:
        return sum(points.values())
    if passes == NONE:
        return 0.0
    _, failing = passes
    assert failing <= set(points), f"no such test: {failing - set(points)}"
    return sum(p for grade_id, p in points.items() if grade_id not in failing)


def cases(port, subs=Path("/nonexistent")):
    """name -> (notebook dict or raw bytes, the tests it passes, reason substring or None).

    The tests a case passes are ``ALL``, ``NONE`` or ``all_but(grade_id, ...)``; its expected
    score is computed from the assignment's source (:func:`expected_score`).
    """
    c = {}
    c["correct"] = (make_submission(AID), ALL, None)
    c["correct_but_noisy"] = (
        ref_plus(
            "import sys, warnings\nprint('debug', file=sys.stderr)\n"
            "warnings.warn('just a note')\n_old = softmax\n"
            "def softmax(z, axis=-1):\n    print('called', file=sys.stderr)\n"
            "    warnings.warn('noise', UserWarning)\n    return _old(z, axis)\n"
        ),
        ALL,
        None,
    )
    c["patch_numpy_checks"] = (
        stub_plus(
            "import numpy as np, numpy.testing\n"
            "np.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: np.ones_like(a, bool)\n"
            "np.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True\n"
            "def softmax(z, axis=-1):\n    return np.zeros(3)\n"
            "def sigmoid(x):\n    return np.zeros(3)\n"
        ),
        NONE,
        None,
    )
    c["input_transformer_strips_asserts"] = (
        stub_plus(
            "ip = get_ipython()\n"
            "ip.input_transformers_cleanup.append(lambda lines: [l for l in lines if 'assert' not in l])\n"
        ),
        NONE,
        None,
    )
    c["builtins_and_excepthook"] = (
        stub_plus(
            "import builtins, sys\nbuiltins.AssertionError = type('Nope', (Exception,), {})\n"
            "sys.excepthook = lambda *a: None\nbuiltins.isinstance = lambda *a: True\n"
        ),
        NONE,
        None,
    )
    c["prints_fake_success"] = (
        stub_plus("print('All tests passed! Score: 10 / 10')\n"),
        NONE,
        None,
    )
    c["patches_course_helpers"] = (
        stub_plus(
            "import course.checks\ncourse.checks.agrees_with = lambda *a, **k: None\n"
            "course.checks.no_warnings = lambda f, *a, **k: None\n"
        ),
        NONE,
        None,
    )
    c["reads_solution_file"] = (
        stub_plus(
            f"import json\nnb = json.load(open({SOLUTION_FILE!r}))\n"
            "for cell in nb['cells']:\n"
            "    if cell['metadata'].get('nbgrader', {}).get('solution'):\n"
            "        exec(''.join(cell['source']))\n"
        ),
        NONE,
        None,
    )
    c["copies_a_classmate"] = (
        stub_plus(
            f"import json\nnb = json.load(open({str(subs / 'correct' / AID / NAME)!r}))\n"
            "for cell in nb['cells']:\n"
            "    if cell['metadata'].get('nbgrader', {}).get('solution'):\n"
            "        exec(''.join(cell['source']))\n"
        ),
        NONE,
        None,
    )
    c["reads_the_gradebook"] = (
        stub_plus(
            f"data = open({str(subs.parent / 'gradebook.db')!r}, 'rb').read()\n"
            "def softmax(z, axis=-1):\n    return data\n"
        ),
        NONE,
        None,
    )
    c["writes_outside_scratch"] = (
        ref_plus(
            f"for p in [{str(ROOT / 'evil.txt')!r}, '/tmp/evil-{MARKER}.txt']:\n"
            "    try:\n        open(p, 'w').write('x')\n    except OSError:\n        pass\n"
        ),
        ALL,
        None,
    )
    c["connects_to_local_port"] = (
        ref_plus(
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'leak')\n"
            "except OSError:\n    pass\n"
        ),
        ALL,
        None,
    )
    c["leaves_process_behind"] = (
        ref_plus(
            "import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)  # {MARKER}'],"
            " start_new_session=True)\n"
        ),
        ALL,
        None,
    )
    c["infinite_loop_ignoring_interrupts"] = (
        stub_plus(
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n"
        ),
        NONE,
        "longer than",
    )
    c["kernel_exits"] = (stub_plus("import os\nos._exit(0)\n"), NONE, "ended its own process")
    c["kernel_killed"] = (
        stub_plus("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"),
        NONE,
        "killed",
    )
    c["memory_hog"] = (ref_plus("import numpy as np\nhog = np.ones(8 * 1024**3 // 8)\n"), ALL, None)
    c["prints_50_mb"] = (ref_plus("for _ in range(50):\n    print('x' * 1_000_000)\n"), ALL, None)
    c["forges_replies"] = (
        stub_plus(
            'import os, sys\nos.write(int(sys.argv[2]), b\'{"ok": true, "result": 1}\\n\' * 50)\n'
        ),
        NONE,
        None,
    )
    c["returns_sneaky_object"] = (
        stub_plus(
            "class Always:\n    def __eq__(self, other):\n        return True\n"
            "    def __getattr__(self, name):\n        return lambda *a, **k: self\n"
            "def softmax(z, axis=-1):\n    return Always()\n"
        ),
        NONE,
        None,
    )

    nb = make_submission(AID, stub=True)
    cell = _cell(nb, "test_softmax_probabilities")
    cell["source"] = "pass\n"
    cell["metadata"]["nbgrader"]["points"] = 100
    c["test_cell_emptied_and_points_raised"] = (nb, NONE, "was edited")
    nb = make_submission(AID, stub=True)
    meta = _cell(nb, "test_softmax_axis")["metadata"]["nbgrader"]
    meta.update(solution=True, grade=False)
    _cell(nb, "test_softmax_axis")["source"] = "print('I am a solution now')\n"
    c["test_cell_remarked_as_solution"] = (nb, NONE, "metadata")
    nb = make_submission(AID)
    nb["cells"].remove(_cell(nb, "test_softmax_axis"))
    c["test_cell_deleted"] = (nb, all_but("test_softmax_axis"), "test_softmax_axis' is missing")
    nb = make_submission(AID)
    dup = json.loads(json.dumps(_cell(nb, "test_sigmoid_values")))
    nb["cells"].append(dup)
    c["test_cell_duplicated"] = (nb, ALL, "more than once")
    nb = make_submission(AID, stub=True)
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "outputs": [],
            "source": "assert True\n",
            "metadata": {
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "points": 50,
                    "grade_id": "bonus",
                    "schema_version": 3,
                }
            },
        }
    )
    c["fake_bonus_test"] = (nb, NONE, "does not have")
    nb = make_submission(AID)
    _cell(nb, "softmax")["metadata"] = {}
    # The code is still the student's, in a cell that runs: it is graded where it is.
    c["answer_metadata_stripped"] = (nb, ALL, "answer cell 'softmax' is missing")
    c["invalid_json"] = (b'{"cells": [', NONE, "not valid JSON")
    c["empty_file"] = (b"", NONE, "empty")
    c["binary_file"] = (bytes(range(256)) * 10, NONE, "not text")
    c["json_not_a_notebook"] = (b'{"hello": "world"}', NONE, "not a Jupyter notebook")
    c["cells_not_cells"] = (b'{"nbformat": 4, "cells": [1, 2]}', NONE, "not a notebook cell")
    c.update(hostile_cases())
    return c


# -- issues 17 and 18: hostile input at every door ------------------------------------

PWNED = "window.__pwned = (window.__pwned || []).concat"
#: Markup that runs script if a page lets it: each records that it ran.
ACTIVE_MARKUP = [
    f"<script>{PWNED}(['script'])</script>",
    f"<img src=x onerror=\"{PWNED}(['img onerror'])\">",
    f"<svg onload=\"{PWNED}(['svg onload'])\"><circle r=5 /></svg>",
    f"<a id=jslink href=\"javascript:{PWNED}(['javascript link'])\">click</a>",
    "<iframe srcdoc=\"<script>parent.__pwned = ['iframe']</script>\"></iframe>",
    f"<details open ontoggle=\"{PWNED}(['ontoggle'])\"><summary>x</summary></details>",
    '<meta http-equiv=refresh content="0; url=https://example.invalid/">',
    '<img src="https://example.invalid/track.png">',
    '<form action="https://example.invalid/"><input name=q></form>',
    "<style>body { background: url(https://example.invalid/css.png) }</style>",
]
HIDDEN_MARKER = "HIDDEN-INPUT-SEEN-4b1d"
#: A line that a student id with a newline and a look-alike of "/" would forge.
FORGED_LINE = "  correct\uff0f01-definition: forged line"
SPARSE_BYTES = 1 << 40  # 1 TB, sparse: no disk used


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def _raw_notebook_with_cell_metadata(metadata_json: str) -> bytes:
    nb = make_submission(AID)
    marker = "__METADATA_GOES_HERE__"
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": marker, "source": "deep"})
    return json.dumps(nb).replace(json.dumps(marker), metadata_json).encode()


def _symlink_to(target):
    def make(path):
        path.parent.mkdir(parents=True)
        path.symlink_to(target)

    return make


def _fifo(path):
    path.parent.mkdir(parents=True)
    os.mkfifo(path)


def _device(path):
    path.parent.mkdir(parents=True)
    if os.geteuid() == 0:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    else:  # cannot make a device: a link to one is refused too
        path.symlink_to("/dev/zero")


def _sparse(path):
    path.parent.mkdir(parents=True)
    with open(path, "wb") as handle:
        handle.truncate(SPARSE_BYTES)


def hostile_cases():
    """Issue 17/18 cases: name -> (content, the tests it passes, reason substring or None).

    Content may be a function that makes the file (links, FIFOs, devices)."""
    c = {}
    nb = make_submission(AID)
    nb["cells"].insert(
        1,
        {
            "cell_type": "markdown",
            "metadata": {"nbgrader": {"grade_id": "x\ud800y"}},
            "source": "a lone surrogate: \ud800 and \udfff",
        },
    )
    c["lone_surrogates"] = (
        _with_extra_cell(nb, "print('out \ud800')\nlabel = '\udc80'\n"),
        ALL,
        None,
    )
    c["sparse_terabyte"] = (_sparse, NONE, "too large")
    c["symlink_to_solution"] = (_symlink_to(SOLUTION_FILE), NONE, "symbolic link")
    c["fifo_notebook"] = (_fifo, NONE, "FIFO")
    c["device_notebook"] = (_device, NONE, "device" if os.geteuid() == 0 else "symbolic link")
    c["nbformat_3"] = (
        json.dumps(
            {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
        ).encode(),
        NONE,
        "old format",
    )
    c["deep_nesting_file"] = (
        _raw_notebook_with_cell_metadata(_nested(100_000)),
        NONE,
        "too deeply",
    )
    c["deep_metadata_correct"] = (_raw_notebook_with_cell_metadata(_nested(900)), ALL, None)
    nb = make_submission(AID)
    nb["cells"].insert(
        1,
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "Active markup:\n\n"
            + "\n\n".join(ACTIVE_MARKUP)
            + "\n\n[md link](javascript:alert(1)) $x^2$",
        },
    )
    c["active_markup"] = (
        _with_extra_cell(nb, "print(" + repr("".join(ACTIVE_MARKUP)) + ")\n"),
        ALL,
        None,
    )
    c["prints_hidden_inputs"] = (
        ref_plus(
            "_real = softmax\n"
            f"def softmax(z, axis=-1):\n    print({HIDDEN_MARKER!r}, repr(z))\n"
            "    return _real(z, axis)\n"
        ),
        ALL,
        None,
    )
    nb = make_submission(AID)
    nb["cells"][1:1] = [
        {"cell_type": "markdown", "metadata": {}, "source": f"c{i}"} for i in range(150_000)
    ]
    c["many_cells"] = (nb, ALL, "cells")
    c["closes_reply_channel"] = (
        _with_extra_cell(
            make_submission(AID),
            "import os, sys\nnull = os.open(os.devnull, os.O_WRONLY)\n"
            "os.dup2(null, int(sys.argv[2]))\n",
            after="test_softmax_shift_and_input",
        ),
        # the cell that cut the channel is skipped in a fresh process: the correct code after
        # it is graded (one mistake costs one mistake), and the reason is still reported
        ALL,
        "closed or replaced the channel",
    )
    c["deeply_nested_reply"] = (
        stub_plus(
            "import os, sys, time\n"
            "os.write(int(sys.argv[2]), b'[' * 200000 + b']' * 200000 + b'\\n')\ntime.sleep(3)\n"
        ),
        NONE,
        "too deeply",
    )
    c["worker_out_of_memory"] = (
        stub_plus("import numpy as np\ndef softmax(z, axis=-1):\n    return np.ones(70_000_000)\n"),
        NONE,
        "ran out of memory",
    )
    c["fork_bomb_bounded"] = (
        ref_plus(
            "import os, time\nfor _ in range(300):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(3)\n"
            "        os._exit(0)\n"
        ),
        ALL,
        None,
    )
    c["fills_scratch"] = (
        ref_plus(
            "try:\n    for i in range(6):\n        with open(f'big{i}', 'wb') as f:\n"
            "            for _ in range(60):\n                f.write(b'x' * 1_000_000)\n"
            "except OSError:\n    pass\n"
        ),
        ALL,
        "wrote more than 256 MB",
    )
    return c


#: Folders whose very layout is hostile: made beside the corpus, never graded.
def hostile_folders(subs: Path) -> dict:
    """name -> function making SUBMISSIONS/name (a link to a classmate's folder...)."""

    def student_link(path):
        path.symlink_to(subs / "correct")

    def assignment_link(path):
        path.mkdir()
        (path / AID).symlink_to(subs / "correct" / AID)

    def markup_id(path):
        write_notebook(make_submission(AID), path / AID / NAME)

    return {
        "linked_student": student_link,
        "linked_assignment": assignment_link,
        f"mallory\n{FORGED_LINE}<b>": markup_id,
    }


class Listener:
    """A local TCP server that records whether anything connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def _leftovers():
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if MARKER.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    subs = root / "submitted"
    listener = Listener()
    corpus = cases(listener.port, subs)
    hashes = {}
    for name, (content, _, _) in corpus.items():
        path = subs / name / AID / NAME
        if callable(content):
            content(path)
            continue
        if isinstance(content, bytes):
            path.parent.mkdir(parents=True)
            path.write_bytes(content)
        else:
            write_notebook(content, path)
        hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    for name, make in hostile_folders(subs).items():
        make(subs / name)
    out = root / "graded"
    started = time.monotonic()
    done = run_cli(
        "grade",
        subs,
        "--out",
        out,
        "--workers",
        "2",
        "--timeout",
        "10",
        "--memory",
        "1024",
        "--gradebook",
        root / "gradebook.db",
    )
    time.sleep(0.5)
    listener.close()
    with open(out / "grades.csv", newline="") as handle:
        table = {r["student_id"]: r for r in csv.DictReader(handle) if r["assignment"] == AID}
    yield dict(
        corpus=corpus,
        done=done,
        out=out,
        table=table,
        hashes=hashes,
        connections=listener.connections,
        leftovers=_leftovers(),
        subs=subs,
        seconds=time.monotonic() - started,
    )
    for pid in _leftovers():
        os.kill(pid, signal.SIGKILL)


def test_run_completes_cleanly(corpus):
    """Every case graded; the hostile folders (links, a forged id) are skipped, so the exit
    status says that not everything handed in was graded."""
    done = corpus["done"]
    assert done.returncode == 1, done.stderr[-3000:]
    assert "submission folder(s) were not graded" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert set(corpus["table"]) == set(corpus["corpus"])
    print(f"the adversarial batch took {corpus['seconds']:.0f} s")


def test_expected_scores_come_from_the_tests_points(assignments):
    assignment = assignments[AID]
    points = {g: t.points for g, t in assignment.tests.items()}
    assert expected_score(assignment, ALL) == assignment.max_score == sum(points.values()) > 0
    assert expected_score(assignment, NONE) == 0.0
    assert (
        expected_score(assignment, all_but("test_softmax_axis"))
        == assignment.max_score - points["test_softmax_axis"]
    )
    with pytest.raises(AssertionError, match="no such test"):
        expected_score(assignment, all_but("test_that_does_not_exist"))


@pytest.mark.parametrize("name", list(cases(0)))
def test_case_scores_and_reason(corpus, assignments, name):
    """Every case gets exactly the points of the tests it can pass (from the source)."""
    _, passes, reason = corpus["corpus"][name]
    row = corpus["table"][name]
    assignment = assignments[AID]
    assert float(row["max_score"]) == assignment.max_score, (
        "points come from the source, never the submission"
    )
    assert float(row["score"]) == pytest.approx(expected_score(assignment, passes)), row
    if reason:
        assert reason in row["reason"], row
        summary = (corpus["out"] / "summary.txt").read_text()
        assert f"{name}/{AID}: " in summary


def test_isolation_held(corpus):
    assert not (ROOT / "evil.txt").exists()
    assert not Path(f"/tmp/evil-{MARKER}.txt").exists()
    assert corpus["connections"] == 0
    assert corpus["leftovers"] == [], "a student's process outlived grading"


def test_feedback_stays_small(corpus):
    for page in (corpus["out"] / "feedback").rglob("*.html"):
        assert page.stat().st_size < 1_500_000, page


def test_submissions_are_never_modified(corpus):
    for path, digest in corpus["hashes"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


@pytest.mark.slow  # two real `grade` runs (48 s measured on a loaded machine)
def test_refuses_to_grade_without_sandbox_unless_told(tmp_path):
    (tmp_path / "subs").mkdir()
    env = dict(os.environ, PATH="/nonexistent")  # no bwrap to be found
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "--no-sandbox" in done.stderr
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
            "--no-sandbox",
            "--gradebook",
            str(tmp_path / "gb.db"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "without isolation" in (tmp_path / "out" / "summary.txt").read_text()


@pytest.mark.slow  # grades a class twice with the real command
def test_kill_and_resume(tmp_path):
    """kill -9 midway, run again: every submission graded exactly once, same grades."""
    subs = tmp_path / "subs"
    for i in range(8):
        nb = make_submission(AID, stub=(i % 2 == 1))
        write_notebook(nb, subs / f"s{i}" / AID / NAME)
    args = [
        PYTHON,
        "-m",
        "autograder",
        "grade",
        str(subs),
        "--workers",
        "1",
        "--gradebook",
        str(tmp_path / "gb.db"),
    ]
    proc = subprocess.Popen(
        args + ["--out", str(tmp_path / "out")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    results = tmp_path / "out" / ".results"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(results.rglob("*.json"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = len(list(results.rglob("*.json")))
    assert 2 <= saved < 8
    assert not (tmp_path / "out" / "grades.csv").exists()
    done = subprocess.run(
        args + ["--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert f"({saved} from an earlier run)" in done.stdout
    fresh = subprocess.run(
        args[:-2] + ["--gradebook", str(tmp_path / "gb2.db"), "--out", str(tmp_path / "fresh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert (tmp_path / "out" / "grades.csv").read_text() == (
        tmp_path / "fresh" / "grades.csv"
    ).read_text()


# -- issues 17 and 18: what every written file must be ------------------------------------


def _written(out: Path) -> list[Path]:
    return [out / "grades.csv", out / "summary.txt", *sorted((out / "feedback").rglob("*.html"))]


def test_every_written_file_is_valid_utf8(corpus):
    for path in _written(corpus["out"]):
        path.read_bytes().decode("utf-8")  # strict: raises on anything invalid


def test_no_host_detail_reaches_students(corpus):
    """No command line, host path or Python exception of ours in a reason or a page
    (the course's folder may appear in a page only where the student's own code has it)."""
    for path in _written(corpus["out"]):
        text = path.read_text(encoding="utf-8")
        for leak in ("bwrap", "TimeoutExpired", "RecursionError", "--unshare"):
            assert leak not in text, (path, leak)
        if path.suffix != ".html":
            assert str(ROOT) not in text, path


def test_hostile_folders_are_refused_not_graded(corpus):
    summary = (corpus["out"] / "summary.txt").read_text(encoding="utf-8")
    table = corpus["table"]
    assert "linked_student" not in table and "linked_assignment" not in table
    assert "linked_student: a symbolic link, refused" in summary
    assert f"linked_assignment/{AID}: a symbolic link, refused" in summary


def test_summary_lines_cannot_be_forged(corpus):
    summary = (corpus["out"] / "summary.txt").read_text(encoding="utf-8")
    assert FORGED_LINE not in summary.splitlines()
    assert "\uff0f" not in summary and "\\uff0f" in summary  # the look-alike, shown as such
    for line in summary.splitlines():
        assert not any(ord(ch) < 32 for ch in line), line
    with open(corpus["out"] / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert all(len(row) == len(rows[0]) for row in rows)
    assert all(not any(ord(ch) < 32 for ch in cell) for row in rows for cell in row)


def _page(corpus, name):
    return (corpus["out"] / "feedback" / name / AID / NAME.replace(".ipynb", ".html")).read_text(
        encoding="utf-8"
    )


def test_hidden_test_output_is_not_shown(corpus):
    page = _page(corpus, "prints_hidden_inputs")
    # The marker is in the student's code (quoted); printed, it would be followed by z.
    assert re.findall(HIDDEN_MARKER + r"(?!'|&#39;|&#x27;)", page) == []
    assert "is not shown: the test has hidden parts" in page


def test_feedback_page_is_bounded(corpus):
    page = _page(corpus, "many_cells")
    assert "cells not shown here" in page
    assert len(page) < 1_500_000
    row = corpus["table"]["many_cells"]
    assert "a feedback page shows at most 1,000 cells" in row["reason"], row


def test_pages_carry_a_content_security_policy(corpus):
    for path in sorted((corpus["out"] / "feedback").rglob("*.html")):
        head = path.read_text(encoding="utf-8").split("<body", 1)[0]
        assert 'http-equiv="Content-Security-Policy"' in head, path
        assert "connect-src 'none'" in head and "default-src 'none'" in head


@pytest.mark.slow
def test_no_student_script_runs_in_a_browser(corpus, chromium):
    """Every feedback page opened from disk in headless Chromium: no student script or
    handler ran (each would record itself in window.__pwned), the DOM holds no event
    handler, no javascript: link and no script but the template's, and nothing was
    fetched from anywhere but the disk."""
    pages = sorted((corpus["out"] / "feedback").rglob("*.html"))
    problems = []
    with chromium.new_context() as context:
        tab = context.new_page()
        requests = []
        tab.on("request", lambda r: requests.append(r.url))
        for path in pages:
            requests.clear()
            tab.goto(path.as_uri(), wait_until="load")
            tab.wait_for_timeout(100)
            for link in tab.query_selector_all("#jslink"):
                link.click()
            found = tab.evaluate("""() => ({
                ran: window.__pwned || null,
                handlers: [...document.querySelectorAll('*')].flatMap(e =>
                    [...e.attributes].filter(a => a.name.startsWith('on'))
                    .map(a => e.tagName + ' ' + a.name)),
                js: [...document.querySelectorAll('[href],[src]')].filter(e =>
                    /^\\s*javascript:/i.test(e.getAttribute('href') ||
                                              e.getAttribute('src') || '')).length,
                scripts: [...document.scripts].filter(s =>
                    !/mathjax/i.test(s.src + s.type + s.textContent)).length,
            })""")
            if found["ran"] or found["handlers"] or found["js"] or found["scripts"]:
                problems.append((path.parent.parent.name, found))
            outside = [u for u in requests if not u.startswith("file://")]
            if outside:
                problems.append((path.parent.parent.name, outside))
    assert len(pages) >= 10
    assert not problems, problems
