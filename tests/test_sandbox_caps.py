"""The sandbox's caps measured from outside, and the checker's reasons for faults.

Each case is bounded so that the test itself is safe on a machine without the cap:
at most 300 sleeping processes, at most 150 MB written."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autograder import protocol
from autograder.sandbox import Limits, Sandbox
from autograder.student_proxy import Clock, GradingLimit, StudentFunction, StudentProcess


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox.find()


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, found from the host's /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_process_cap_holds_seen_from_the_host(tmp_path, sandbox):
    limits = Limits(cell_seconds=30, processes=32)
    with StudentProcess(tmp_path, limits, sandbox) as process:
        done = process.exec_cell(
            "import os, time\nstarted = 0\n"
            "for _ in range(300):\n"
            "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(20)\n        os._exit(0)\n"
            "    started += 1\n"
            "print('started', started, 'uid', os.getuid())\n",
            timeout=30,
        )
        assert done.ok, done.error
        seen = len(_descendants(process.proc.pid))
        uid = int(done.stdout.split()[-1])
    assert seen <= limits.processes + 2, f"{seen} processes ran in the sandbox: {done.stdout}"
    assert uid != 0, "the student's code runs as root inside the sandbox"


def test_disk_cap_holds_seen_from_the_host(tmp_path, sandbox):
    limits = Limits(cell_seconds=60, scratch_mb=64)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with StudentProcess(scratch, limits, sandbox) as process:
        done = process.exec_cell(
            "written = 0\n"
            "try:\n"
            "    for i in range(5):\n"
            "        with open(f'big{i}', 'wb') as f:\n"
            "            for _ in range(30):\n"
            "                f.write(b'x' * 1_000_000); written += 1\n"
            "except OSError as exc:\n    print('stopped:', exc)\n"
            "print('MB written', written)\n",
            timeout=60,
        )
        host_bytes = sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file())
    assert done.ok, done.error
    assert host_bytes < 1_000_000, f"{host_bytes} bytes landed on the host's disk"
    written = int(done.stdout.split()[-1])
    assert written * 1_000_000 <= limits.scratch_mb * 2**20 + 1_000_000, done.stdout
    assert process.scratch_filled


def test_closing_the_reply_channel_gives_the_true_reason(tmp_path):
    with StudentProcess(tmp_path, Limits(cell_seconds=10), sandbox=None) as process:
        with pytest.raises(GradingLimit) as caught:
            process.exec_cell(
                "import os, sys, time\nnull = os.open(os.devnull, os.O_WRONLY)\n"
                "os.dup2(null, int(sys.argv[2]))\ntime.sleep(30)\n",
                timeout=10,
            )
    reason = str(caught.value)
    assert "closed or replaced the channel" in reason, reason
    assert "bwrap" not in reason and "TimeoutExpired" not in reason


def test_a_large_reply_is_read_in_linear_time(tmp_path):
    """A 50 MB answer comes back well within the cell's time (quadratic reading took
    about 27 s for 47 MiB on this machine)."""
    with StudentProcess(tmp_path, Limits(cell_seconds=30, memory_mb=2048), sandbox=None) as p:
        assert p.exec_cell("def big():\n    return 'x' * 50_000_000\n", timeout=10).ok
        started = time.monotonic()
        value = StudentFunction(p, "big", Clock(20))()
        seconds = time.monotonic() - started
    assert value == "x" * 50_000_000
    print(f"50 MB reply read in {seconds:.2f} s")


def test_deeply_nested_reply_is_a_malformed_reply(tmp_path):
    with StudentProcess(tmp_path, Limits(cell_seconds=10), sandbox=None) as process:
        with pytest.raises(GradingLimit) as caught:
            process.exec_cell(
                "import os, sys\n"
                "os.write(int(sys.argv[2]), b'[' * 200000 + b']' * 200000 + b'\\n')\n"
                "import time; time.sleep(5)\n",
                timeout=10,
            )
    assert "nests" in str(caught.value) and "too deeply" in str(caught.value)


def test_deep_nesting_never_reaches_recursion_error():
    with pytest.raises(protocol.ProtocolError):
        protocol.loads(b'{"a": ' * 100_000 + b"1" + b"}" * 100_000)


def test_worker_out_of_memory_is_named(tmp_path):
    limits = Limits(cell_seconds=60, memory_mb=1024)
    with StudentProcess(tmp_path, limits, sandbox=None) as process:
        assert process.exec_cell(
            "import numpy as np\ndef huge():\n    return np.ones(70_000_000)\n", timeout=30
        ).ok
        with pytest.raises(GradingLimit) as caught:
            StudentFunction(process, "huge", Clock(60))()
    assert "ran out of memory" in str(caught.value), str(caught.value)


def test_sandbox_never_runs_as_host_root(tmp_path, sandbox):
    with StudentProcess(tmp_path, Limits(cell_seconds=20), sandbox) as process:
        done = process.exec_cell(
            "import os\nprint(os.getuid(), os.geteuid())\n"
            "try:\n    os.setuid(0)\n    print('became root')\n"
            "except OSError:\n    print('stays')\n",
            timeout=20,
        )
    assert done.ok, done.error
    uid, euid, outcome = done.stdout.split()
    if os.geteuid() == 0:
        assert int(uid) != 0 and int(euid) != 0
    assert outcome == "stays"
