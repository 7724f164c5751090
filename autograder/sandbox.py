"""Where student code runs: resource limits and the bubblewrap sandbox.

Every student process gets hard resource limits (address space, CPU time, file
size, no core dumps). With bubblewrap (Debian package ``bubblewrap``) it also
runs in fresh namespaces: no network, its own PID namespace (so nothing it
starts outlives it), a read-only view of the system and the Python installation,
the worker's own modules and the course helpers the notebooks import (single
files, :data:`autograder.course_dir.SANDBOX_FILES`), and one writable scratch
folder. No folder of the course is mounted, so the course's ``solutions/``, the
gradebook, nbgrader's working folders, the grading output and other submissions
are simply not there, wherever they are kept (see :meth:`Sandbox.exposes`).

Reference: bubblewrap's manual, https://github.com/containers/bubblewrap
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from . import course_dir

PACKAGE_DIR = Path(__file__).resolve().parent
#: System folders and files shown read-only, as they are on the host.
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin",
                "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                "/etc/ld.so.conf.d", "/etc/localtime", "/etc/ssl", "/etc/fonts")
#: Where the worker's modules and the course helpers appear inside the sandbox.
INSIDE = "/grader"


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Wall-clock limits are enforced by the checker."""

    cell_seconds: float = 60.0
    notebook_seconds: float = 600.0
    cpu_seconds: int = 600
    memory_mb: int = 2048
    file_mb: int = 64

    def apply_in_child(self) -> None:  # runs between fork and exec: keep it minimal
        mem = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        size = self.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class SandboxUnavailable(Exception):
    """bubblewrap is missing or does not work on this machine."""


def _python_roots() -> list[str]:
    """Folders holding the interpreter and the installed packages (read-only)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    real = {str(Path(p).resolve()) for p in roots} | roots
    # Only keep outermost folders.
    kept = []
    for path in sorted(real, key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def read_only_mounts() -> list[tuple[str, str]]:
    """(host path, path inside) of everything the sandbox shows, read-only."""
    mounts = [(p, p) for p in SYSTEM_PATHS if os.path.lexists(p)]
    mounts += [(root, root) for root in _python_roots() if not root.startswith("/usr/")]
    # Single files, never a folder: the package folders may hold anything else.
    mounts += [(str(course_dir.ROOT / rel), f"{INSIDE}/{rel}") for rel in course_dir.SANDBOX_FILES]
    return mounts


class Sandbox:
    """Builds the bubblewrap command line that wraps the student's interpreter."""

    @staticmethod
    def exposes(path: Path) -> str | None:
        """The mounted folder that would show ``path`` (or something in it) to student
        code, or None when it stays out of sight."""
        path = Path(path).resolve()
        for host, _ in read_only_mounts():
            real = Path(host).resolve()
            if path == real or real in path.parents:
                return host
        return None

    def __init__(self, bwrap: str):
        self.bwrap = bwrap

    @classmethod
    def find(cls) -> "Sandbox":
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(
                "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
        sandbox = cls(bwrap)
        sandbox.self_test()
        return sandbox

    def self_test(self) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            argv, env, cwd, _ = self.command(Path(scratch), Limits())
            try:
                done = subprocess.run(argv + ["-I", "-c", "print('ok')"], env=env, cwd="/",
                                      capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SandboxUnavailable(f"bubblewrap does not start: {exc}") from None
        if done.returncode != 0 or done.stdout.strip() != "ok":
            raise SandboxUnavailable("bubblewrap does not work here: "
                                     + (done.stderr.strip().splitlines() or ["no output"])[-1])

    def command(self, scratch: Path, limits: Limits, scratch_inside: str = "/scratch"):
        # The root is read-only: the scratch folder is the one place to write.
        """Returns (argv prefix, environment, working dir, package parent inside)."""
        argv = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                "--cap-drop", "ALL", "--hostname", "sandbox",
                "--proc", "/proc", "--dev", "/dev"]
        for host, inside in read_only_mounts():
            argv += ["--ro-bind", host, inside]
        argv += ["--bind", str(scratch), scratch_inside, "--remount-ro", "/",
                 "--remount-ro", "/dev",  # devices still work; /dev/shm takes no files
                 "--chdir", scratch_inside, "--", sys.executable]
        env = {"PATH": "/usr/bin:/bin", "HOME": scratch_inside, "TMPDIR": scratch_inside,
               "MPLCONFIGDIR": scratch_inside, "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        return argv, env, "/", INSIDE
