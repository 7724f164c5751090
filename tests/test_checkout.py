"""The test session leaves the checkout as it found it (conftest.py's session-finish check).

The check itself must be able to fail: a run whose only test writes a file into the
checkout ends with a failing status and names the file.
"""

from __future__ import annotations

import os
import subprocess
import uuid

from conftest import PYTHON, ROOT, RUN_MADE


def test_the_session_check_fails_when_a_test_writes_into_the_checkout(tmp_path):
    probe = ROOT / f"written-by-a-test-{uuid.uuid4().hex[:8]}.txt"
    test = tmp_path / "test_writes.py"
    test.write_text(
        f"def test_writes():\n    open({str(probe)!r}, 'w').write('x')\n", encoding="utf-8"
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "tests"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    try:
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "pytest",
                "-q",
                "-p",
                "conftest",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(tmp_path),
                str(test),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
    finally:
        probe.unlink(missing_ok=True)
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 1, done.stdout
    assert "The tests changed the checkout" in done.stdout and probe.name in done.stdout


def test_only_what_setup_and_python_make_is_left_out_of_the_comparison():
    for made in (
        ".venv/",
        ".cache/",
        ".pytest_cache/",
        "tests/__pycache__/",
        "softmax_course.egg-info/",
    ):
        assert RUN_MADE.search(made), made
    for written in (
        "_build/",
        "artifacts/",
        "notebooks/01-definition/",
        ".grading/",
        "submitted/",
        "tests/out.csv",
    ):
        assert not RUN_MADE.search(written), written
