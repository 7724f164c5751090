"""Grading on a Dask cluster: ``grade SUBMISSIONS --out OUT --scheduler ADDRESS``.

The client (the instructor's ``grade`` command) keeps everything that is not
the grading of one submission: discovering the class, the result store, the
gradebook, grades.csv and the summary (:mod:`autograder.grade`). Each
submission becomes one task on the cluster, which runs
:func:`autograder.grade.grade_submission` -- the very function a local pool
process runs -- inside the worker's own bubblewrap sandbox.

What a worker gets, and what it needs:

* shipped by the client: the assignments' trusted sources (given cells, tests,
  hidden tests: :class:`autograder.notebooks.Assignment`, broadcast once), the
  limits, and each submission's bytes with its job (student id, lateness);
* on the worker itself: a Python environment with the grader's requirements and
  the same grader code (``autograder`` and ``course`` importable, e.g. the same
  virtual environment on a shared file system, or the same release installed),
  and bubblewrap. No solutions folder, no submissions, no gradebook and no output
  folder: those stay with the client. A worker whose grader code differs from
  the client's (another grader fingerprint) refuses to grade, since its pages
  would not be the ones a local run writes.

Results stream back as they finish and are saved by the client at once, each
exactly once. A worker that dies mid-submission loses only that attempt: the
scheduler runs the task again elsewhere (up to its ``allowed-failures``,
default 3) and only a finished task's result is saved, so a grade is never
lost or doubled. A submission that kills every worker it runs on is marked
failed, as a dead pool process is in a local run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

#: Seconds to wait for the scheduler before giving up.
CONNECT_SECONDS = 10
#: Times one submission is sent to the cluster when the scheduler drops it (a worker died).
MAX_ATTEMPTS = 3

#: Tasks in flight per worker thread: the rest wait in the client (memory stays bounded).
IN_FLIGHT_PER_THREAD = 4


class ClusterError(Exception):
    """The cluster cannot be used: unreachable scheduler, or a worker unfit to grade."""


class WorkerUnfit(RuntimeError):
    """Raised on a worker that cannot grade (no sandbox, other grader code)."""


#: A worker process's own state: its sandbox and the grader fingerprint it checked.
_WORKER: dict[str, Any] = {}


def _worker_sandbox(sources: dict, sandboxed: bool, fingerprint: str):
    """The worker's sandbox, found and self-tested once per worker process.

    First checks that the worker grades with the client's grader code.
    """
    from .fingerprint import grader_fingerprint
    from .sandbox import Sandbox

    if _WORKER.get("fingerprint") != fingerprint:
        mine = grader_fingerprint(sources)
        if mine != fingerprint:
            raise WorkerUnfit(
                "the worker's grader code or library versions differ from the "
                f"client's (fingerprint {mine[:12]}, the client's "
                f"{fingerprint[:12]}): install the same grader on every worker"
            )
        _WORKER["fingerprint"] = fingerprint
    if not sandboxed:
        return None
    if "sandbox" not in _WORKER:
        try:
            _WORKER["sandbox"] = Sandbox.find()
        except Exception as exc:  # noqa: BLE001 - any failure of the sandbox check
            raise WorkerUnfit(f"the sandbox is not available on the worker: {exc}") from None
    return _WORKER["sandbox"]


def grade_task(
    job, notebook: bytes, sources: dict, limits, sandboxed: bool, fingerprint: str
) -> tuple[dict, str]:
    """Grade one submission on a worker, with the same function as a local run.

    Its bytes go into a private temporary file first.
    """
    from .grade import grade_submission

    sandbox = _worker_sandbox(sources, sandboxed, fingerprint)
    with tempfile.TemporaryDirectory(prefix="submission-") as folder:
        path = Path(folder) / job.path.name  # the name, never the client's path, is shown
        path.write_bytes(notebook)
        return grade_submission(job, sources[job.assignment_id], limits, sandbox, path=path)


class Cluster:
    """A connection to a ``dask.distributed`` scheduler that grades submissions."""

    def __init__(self, client, address: str):
        self.client = client
        self.address = address

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_SECONDS) -> Cluster:
        """Connect to a scheduler's address (``tcp://host:8786``) or its scheduler file.

        The scheduler file is the JSON file ``dask scheduler --scheduler-file`` writes.
        """
        try:
            import distributed
        except ImportError:
            raise ClusterError(
                "--scheduler needs dask.distributed: pip install the requirements.txt of the course"
            ) from None
        as_file = Path(address).is_file()
        if not as_file and "://" not in address and ":" not in address:
            raise ClusterError(
                f"--scheduler {address}: neither a scheduler file nor an "
                "address like tcp://HOST:8786"
            )
        try:
            if as_file:
                client = distributed.Client(
                    scheduler_file=address, timeout=timeout, set_as_default=False
                )
            else:
                client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a bad file
            raise ClusterError(
                f"cannot reach the dask scheduler at {address} within "
                f"{timeout:g} s ({type(exc).__name__}: {exc}); nothing was "
                "graded or changed"
            ) from None
        return cls(client, address)

    def threads(self) -> int:
        """Worker threads the cluster has now (each grades one submission at a time)."""
        workers = self.client.scheduler_info().get("workers", {})
        return sum(int(w.get("nthreads", 1)) for w in workers.values())

    def describe(self) -> str:
        return f"the dask cluster at {self.address} ({self.threads()} worker thread(s) now)"

    def close(self) -> None:
        self.client.close()

    def results(
        self, todo: list, sources: dict, limits, sandboxed: bool, fingerprint: str
    ) -> Iterator[tuple[Any, tuple[dict, str]]]:
        """(job, (result dict, feedback page)) for every job, as the workers finish them.

        Submissions that cannot be read as a notebook file (none handed in, a symbolic
        link, too large) run no code: they are failed here, by the same function.
        """
        from distributed import as_completed

        from .fingerprint import grader_fingerprint
        from .grade import grade_submission, process_failed
        from .notebooks import MAX_NOTEBOOK_BYTES
        from .safety import NotARegularFile, read_regular_file

        pending = []
        for job in todo:
            try:
                data = None if job.path is None else read_regular_file(job.path, MAX_NOTEBOOK_BYTES)
            except (NotARegularFile, OSError):
                data = None
            if data is None:
                yield job, grade_submission(job, sources[job.assignment_id], limits, None)
            else:
                pending.append((job, data))
        if not pending:
            return
        window = max(16, IN_FLIGHT_PER_THREAD * max(1, self.threads()))
        queue = iter(pending)
        futures: dict = {}
        done = as_completed(loop=self.client.loop)

        # Each task carries its own assignment's sources (not scattered data a dying worker
        # could take with it), so a retry on another worker needs nothing that was lost.
        attempts: dict = {}
        # What the worker checks its own code against: the fingerprint of the grader for
        # the sources it is sent (one assignment's), computed here once per assignment.
        fingerprints: dict[str, str] = {}

        def submit(job, data) -> None:
            aid = job.assignment_id
            if aid not in fingerprints:
                fingerprints[aid] = grader_fingerprint({aid: sources[aid]})
            attempts[id(job)] = attempts.get(id(job), 0) + 1
            future = self.client.submit(
                grade_task,
                job,
                data,
                {aid: sources[aid]},
                limits,
                sandboxed,
                fingerprints[aid],
                key=f"grade-{job.folder}-{job.assignment_id}-{job.key[:16]}-{attempts[id(job)]}",
                pure=False,
            )
            futures[future] = (job, data)
            done.add(future)

        def submit_next() -> None:
            for job, data in queue:
                submit(job, data)
                return

        try:
            for _ in range(window):
                submit_next()
            for future in done:
                job, data = futures.pop(future)
                try:
                    outcome = future.result()
                except WorkerUnfit as exc:
                    raise ClusterError(f"a worker cannot grade: {exc}") from None
                except CancelledError as exc:  # the scheduler dropped it (a worker died)
                    future.release()
                    if attempts[id(job)] < MAX_ATTEMPTS:
                        submit(job, data)  # a retry, never a lost grade
                        continue
                    outcome = process_failed(job, sources[job.assignment_id], exc)
                except Exception as exc:  # noqa: BLE001 - KilledWorker: died every attempt
                    outcome = process_failed(job, sources[job.assignment_id], exc)
                future.release()
                yield job, outcome
                submit_next()
        finally:  # interrupted, or the output cannot be written: start nothing more
            if futures:
                self.client.cancel(list(futures))
