"""The test session leaves the checkout as it found it (conftest.py's session-finish check).

The check itself must be able to fail: a run whose only test writes a file into the
checkout ends with a failing status and names the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

from conftest import PYTHON, ROOT, RUN_MADE


def run_session(tmp_path, body: str) -> subprocess.CompletedProcess:
    """A pytest session with conftest's checks whose only test runs ``body``."""
    test = tmp_path / "test_writes.py"
    test.write_text(f"def test_writes():\n    {body}\n", encoding="utf-8")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "tests"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    return subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider"]
        + ["--rootdir", str(tmp_path), str(test)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def assert_caught(done: subprocess.CompletedProcess, name: str) -> None:
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 1, done.stdout
    assert "The tests changed the checkout" in done.stdout and name in done.stdout


def test_the_session_check_fails_when_a_test_writes_into_the_checkout(tmp_path):
    probe = ROOT / f"written-by-a-test-{uuid.uuid4().hex[:8]}.txt"
    try:
        done = run_session(tmp_path, f"open({str(probe)!r}, 'w').write('x')")
    finally:
        probe.unlink(missing_ok=True)
    assert_caught(done, probe.name)


def test_it_sees_into_an_ignored_folder_that_exists_already(tmp_path):
    """``_build/`` (git-ignored) often exists before a run: a file written into it, or one
    there rewritten, still fails the run."""
    folder = ROOT / "_build" / f"checkout-probe-{uuid.uuid4().hex[:8]}"
    made_build = not (ROOT / "_build").exists()
    folder.mkdir(parents=True)
    old = folder / "old.txt"
    old.write_text("x", encoding="utf-8")
    try:
        new = folder / "new.txt"
        done = run_session(tmp_path, f"open({str(new)!r}, 'w').write('x')")
        assert_caught(done, new.name)
        done = run_session(tmp_path, f"open({str(old)!r}, 'w').write('a longer text')")
        assert_caught(done, old.name)
    finally:
        shutil.rmtree(folder)
        if made_build:
            shutil.rmtree(ROOT / "_build", ignore_errors=True)


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
