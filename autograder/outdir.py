"""The output folder of ``grade``: one run at a time, clear errors, no debris.

* :class:`OutputLock` is an advisory lock (``fcntl.flock``) on ``OUT/.grade.lock``:
  a second ``grade`` into the same folder while one runs refuses with a sentence
  naming the running one (the lock goes with its process, even after ``kill -9``).
* :func:`remove_stray_temp_files` deletes the half-written temporary files that a
  killed run can leave behind (``.NAME.XXXXXXXX`` next to NAME, made by
  ``tempfile.mkstemp``); it runs under the lock, so no live run owns them.
* :func:`write_error` turns an OSError while writing (read-only folder, full disk,
  quota) into one sentence; everything already saved stays, and the same command
  resumes from it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from pathlib import Path

LOCK_NAME = ".grade.lock"
#: tempfile.mkstemp's names: the prefix we give (".NAME.") and 8 random characters.
_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}$")


class OutputBusy(Exception):
    pass


class OutputLock:
    """Held for the whole run; raises OutputBusy when another run holds it."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_NAME
        self.fd: int | None = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            except OSError:
                holder = ""
            os.close(fd)
            who = f" (process {holder})" if holder.isdigit() else ""
            raise OutputBusy(
                f"another grade run{who} is writing to {self.path.parent}; wait "
                "for it to finish, or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # releases the lock; the file stays (harmless, tiny)
            self.fd = None


def remove_stray_temp_files(out: Path) -> int:
    """Delete temporary files left by a killed run; returns how many.

    Args:
        out: the output folder, searched with its subfolders.
    """
    removed = 0
    for folder, _, files in os.walk(out):
        for name in files:
            if _TEMP.match(name) and name != LOCK_NAME:
                try:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
                except OSError:
                    pass
    return removed


def write_error(exc: OSError, out: Path) -> str:
    """One sentence for an OSError met while writing into ``out``.

    Args:
        exc: the error.
        out: the folder being written into.
    """
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what = "the disk (or your quota) is full"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        what = "it is read-only or not writable by you"
    else:
        what = exc.strerror or type(exc).__name__
    return (
        f"cannot write into {out}: {what} ({exc.strerror or exc}). Everything saved so far "
        "is kept; free space or fix the folder and run the same command again to resume."
    )


class CannotWrite(Exception):
    """Writing into the output folder failed; the message is one sentence for a person."""
