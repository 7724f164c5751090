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
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from . import course_dir
from .limits import DEFAULTS, Limits
from .sandboxed_worker import PROCESSES_VARIABLE, UID_VARIABLE

PACKAGE_DIR = Path(__file__).resolve().parent
#: System folders and files shown read-only, as they are on the host.
SYSTEM_PATHS = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/fonts",
)
#: Where the worker's modules and the course helpers appear inside the sandbox.
INSIDE = "/grader"


#: When the grader runs as root, the student's process runs as host uid
#: SANDBOX_UID_BASE + (the grading process's pid): root is exempt from RLIMIT_NPROC,
#: and the kernel counts that limit per host uid, so each sandbox gets a uid of its own
#: (no name in /etc/passwd: nothing on the host is owned by it).
SANDBOX_UID_BASE = 1_000_000_000


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
    kept: list[str] = []
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


def _with_open_parents(argv: list[str]) -> list[str]:
    """The bwrap arguments with the folders leading to each mount point made first (0755).

    Bubblewrap makes them with mode 0700, which an unprivileged uid cannot enter.
    """
    targets, i = [], 0
    while i < len(argv):
        if argv[i] in ("--ro-bind", "--bind", "--dev-bind", "--ro-bind-try", "--bind-try"):
            targets.append(argv[i + 2])
            i += 3
        elif argv[i] in ("--tmpfs", "--proc", "--dev", "--dir"):
            targets.append(argv[i + 1])
            i += 2
        elif argv[i] == "--":
            break
        else:
            i += 1
    mounted = set(targets)
    parents = sorted(
        {
            str(parent)
            for t in targets
            for parent in Path(t).parents
            if str(parent) != "/" and str(parent) not in mounted
        },
        key=lambda p: (p.count("/"), p),
    )
    first = next(
        (k for k, a in enumerate(argv) if a in ("--ro-bind", "--bind", "--tmpfs")), len(argv)
    )
    extra = [x for parent in parents for x in ("--perms", "0755", "--dir", parent)]
    return argv[:first] + extra + argv[first:]


class Sandbox:
    """Builds the bubblewrap command line that wraps the student's interpreter."""

    @staticmethod
    def exposes(path: Path) -> str | None:
        """The mounted folder that would show ``path`` (or something in it) to student code.

        Args:
            path: A host path.

        Returns:
            The mount's host path, or None when ``path`` stays out of sight.
        """
        path = Path(path).resolve()
        for host, _ in read_only_mounts():
            real = Path(host).resolve()
            if path == real or real in path.parents:
                return host
        return None

    def __init__(self, bwrap: str):
        self.bwrap = bwrap

    @classmethod
    def find(cls, limits: Limits = DEFAULTS) -> Sandbox:
        """The bubblewrap sandbox of this machine, once it has started Python.

        Args:
            limits: The limits its self-test starts under (and its time bound).

        Returns:
            A working sandbox.

        Raises:
            SandboxUnavailable: bubblewrap is missing or cannot start Python here.
        """
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(
                "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
            )
        sandbox = cls(bwrap)
        sandbox.self_test(limits)
        return sandbox

    def self_test(self, limits: Limits = DEFAULTS) -> None:
        """Start Python in the sandbox and have it print.

        Args:
            limits: The limits it runs under; ``sandbox_start_seconds`` bounds the wait.

        Raises:
            SandboxUnavailable: it does not start or does not print.
        """
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            argv, env, cwd, _ = self.command(Path(scratch), limits)
            try:
                done = subprocess.run(
                    argv + ["-I", "-c", "print('ok')"],
                    env=env,
                    cwd="/",
                    capture_output=True,
                    text=True,
                    timeout=limits.sandbox_start_seconds,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SandboxUnavailable(f"bubblewrap does not start: {exc}") from None
        if done.returncode != 0 or done.stdout.strip() != "ok":
            raise SandboxUnavailable(
                "bubblewrap does not work here: "
                + (done.stderr.strip().splitlines() or ["no output"])[-1]
            )

    def command(self, scratch: Path, limits: Limits, scratch_inside: str = "/scratch"):
        """The bubblewrap command that wraps the student's interpreter.

        The root is read-only: the scratch folder is the one place to write.

        Args:
            scratch: The host scratch folder (not mounted: inside, the scratch is a tmpfs
                of its own).
            limits: Its ``processes`` and ``scratch_mb`` are applied here.
            scratch_inside: Where the scratch folder is inside the sandbox.

        Returns:
            (argv prefix, environment, working dir, package parent inside).
        """
        env_caps = {}
        if os.geteuid() == 0:
            # As root: no user namespace (inside it the code would still be root, exempt
            # from RLIMIT_NPROC); the worker keeps only the right to change its uid, and
            # uses it at once (autograder.sandboxed_worker._become_unprivileged).
            uid = SANDBOX_UID_BASE + os.getpid()
            caps = [
                "--unshare-ipc",
                "--unshare-pid",
                "--unshare-net",
                "--unshare-uts",
                "--unshare-cgroup-try",
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
            ]
            env_caps = {UID_VARIABLE: str(uid)}
        else:  # unprivileged: bubblewrap makes a user namespace, counted on its own
            caps = ["--unshare-all", "--cap-drop", "ALL"]
        argv = [
            self.bwrap,
            *caps,
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        for host, inside in read_only_mounts():
            argv += ["--ro-bind", host, inside]
        # The scratch is a tmpfs of its own, of bounded size, never the host's disk.
        argv += [
            "--size",
            str(limits.scratch_mb * 1024 * 1024),
            "--perms",
            "1777",
            "--tmpfs",
            scratch_inside,
            "--remount-ro",
            "/",
            "--remount-ro",
            "/dev",  # devices still work; /dev/shm takes no files
            "--chdir",
            scratch_inside,
            "--",
            sys.executable,
        ]
        if env_caps:
            argv = _with_open_parents(argv)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": scratch_inside,
            "TMPDIR": scratch_inside,
            "MPLCONFIGDIR": scratch_inside,
            "MPLBACKEND": "Agg",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            PROCESSES_VARIABLE: str(limits.processes),
            **env_caps,
        }
        return argv, env, "/", INSIDE

    @staticmethod
    def scratch_full(bwrap_pid: int, limits: Limits, scratch_inside: str = "/scratch") -> bool:
        """Whether the sandbox's scratch tmpfs is (nearly) full.

        Seen from outside, through the sandbox's first process (``/proc/PID/root``).

        Args:
            bwrap_pid: The pid of bubblewrap.
            limits: The limits it runs under (unused: the check is the same for all).
            scratch_inside: Where the scratch folder is inside the sandbox.

        Returns:
            True when less than 1 MB is left.
        """
        try:
            children = Path(f"/proc/{bwrap_pid}/task/{bwrap_pid}/children").read_text().split()
            if not children:
                return False
            info = os.statvfs(f"/proc/{children[0]}/root{scratch_inside}")
        except (OSError, ValueError):
            return False
        return info.f_bavail * info.f_frsize < 1024 * 1024
