"""Grading on a Dask cluster: ``grade SUBMISSIONS --out OUT --scheduler ADDRESS``.

The client (the instructor's ``grade`` command) keeps everything that is not
the grading of one submission: discovering the class, the result store, the
gradebook, grades.csv and the summary (:mod:`autograder.grade`). Each
submission becomes one task on the cluster, which runs
:func:`autograder.grade.grade_submission` -- the very function a local pool
process runs -- inside the worker's own bubblewrap sandbox.

What a worker gets, and what it needs:

* shipped by the client with each task: its assignment's trusted sources (given
  cells, tests, hidden tests: :class:`autograder.notebooks.Assignment`), the limits,
  and the submission's bytes with its job (student id, lateness), read only when the
  task is sent;
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

import contextlib
import json
import logging
import tempfile
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

#: Seconds to wait for the scheduler before giving up.
CONNECT_SECONDS = 10
#: Times one submission is sent to the cluster when the scheduler drops it (a worker died).
MAX_ATTEMPTS = 3

#: Tasks in flight per worker thread, and at least: the rest wait in the client, not yet
#: read, so the client holds at most that many submissions' bytes.
IN_FLIGHT_PER_THREAD = 4
MIN_IN_FLIGHT = 16
#: A scheduler file is a few hundred bytes of JSON; anything much bigger is not one.
SCHEDULER_FILE_BYTES = 1 << 20


class ClusterError(Exception):
    """The cluster cannot be used: unreachable scheduler, or a worker unfit to grade."""


class WorkerUnfit(RuntimeError):
    """Raised on a worker that cannot grade (no sandbox, other grader code)."""


#: A worker process's own state: its sandbox and the grader fingerprint it checked.
_WORKER: dict[str, Any] = {}


def _worker_sandbox(assignments: dict, sandboxed: bool, fingerprint: str):
    """The worker's sandbox, found and self-tested once per worker process.

    First checks that the worker grades with the client's grader code.
    """
    from .fingerprint import grader_fingerprint
    from .sandbox import Sandbox

    if _WORKER.get("fingerprint") != fingerprint:
        mine = grader_fingerprint(assignments)
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
    job, notebook: bytes, assignments: dict, limits, sandboxed: bool, fingerprint: str
) -> tuple[dict, str]:
    """Grade one submission on a worker, with the same function as a local run.

    Its bytes go into a private temporary file first.

    Args:
        job: The submission's :class:`autograder.grade.Job` (student, assignment, lateness).
        notebook: The submission's bytes, as read by the client.
        assignments: The trusted :class:`autograder.notebooks.Assignment` of the job's
            assignment, by assignment id.
        limits: The :class:`autograder.limits.Limits` for student code.
        sandboxed: Whether to grade inside the worker's bubblewrap sandbox.
        fingerprint: The client's grader fingerprint for ``assignments``.

    Returns:
        The result as a dict and the feedback page, as a local run makes them.

    Raises:
        WorkerUnfit: The worker's grader code differs from the client's, or its
            sandbox does not work.
    """
    from .grade import grade_submission

    sandbox = _worker_sandbox(assignments, sandboxed, fingerprint)
    with tempfile.TemporaryDirectory(prefix="submission-") as folder:
        path = Path(folder) / job.path.name  # the name, never the client's path, is shown
        path.write_bytes(notebook)
        return grade_submission(job, assignments[job.assignment_id], limits, sandbox, path=path)


def scheduler_address(scheduler: str) -> tuple[str, str]:
    """The address ``--scheduler`` names, read from its scheduler file if it is one.

    Args:
        scheduler: A scheduler's address (``tcp://host:8786``, ``host:8786``) or the
            path of the JSON file ``dask scheduler --scheduler-file`` writes.

    Returns:
        The address, and how to name it in a message (the file it came from too).

    Raises:
        ClusterError: A path that does not exist, is not a file, cannot be read or is
            not a scheduler file, or an argument that is neither a path nor an address.
    """
    path = Path(scheduler)
    if not path.exists():
        if "://" in scheduler or ":" in scheduler:
            return scheduler, scheduler
        raise ClusterError(
            f"--scheduler {scheduler}: no such scheduler file, and not an address "
            "like tcp://HOST:8786"
        )
    if not path.is_file():
        raise ClusterError(f"--scheduler {scheduler}: not a file, so not a dask scheduler file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(SCHEDULER_FILE_BYTES + 1)
    except OSError as exc:
        raise ClusterError(
            f"--scheduler {scheduler}: cannot read the scheduler file ({exc.strerror or exc})"
        ) from None
    try:
        address = json.loads(data).get("address") if len(data) <= SCHEDULER_FILE_BYTES else None
    except (ValueError, AttributeError):  # not JSON, not UTF-8, not an object
        address = None
    if not isinstance(address, str) or ":" not in address:
        raise ClusterError(
            f"--scheduler {scheduler}: not a dask scheduler file (the JSON file "
            '`dask scheduler --scheduler-file` writes, with an "address" such as '
            "tcp://HOST:8786)"
        )
    return address, f"{address} (from the scheduler file {scheduler})"


@contextlib.contextmanager
def _distributed_logs_held() -> Iterator[list[logging.LogRecord]]:
    """Hold what distributed logs meanwhile: a failed connection is one line of ours."""
    logger = logging.getLogger("distributed")
    records: list[logging.LogRecord] = []

    class Hold(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [Hold()], False
    try:
        yield records
    finally:
        logger.handlers, logger.propagate = saved


def _abandon(client) -> None:
    """Close a client whose constructor failed.

    Closed now (or marked so), its ``__del__`` has nothing left to do: it would close it
    again, wait twice the timeout and print a traceback.
    """
    with contextlib.suppress(Exception):
        if client.status not in ("closed", "newly-created"):
            client.close(timeout=1)
    with contextlib.suppress(Exception):
        client.status = "closed"


class Cluster:
    """A connection to a ``dask.distributed`` scheduler that grades submissions.

    Args:
        client: The connected ``distributed.Client``.
        address: How to name the scheduler in messages.
    """

    def __init__(self, client, address: str):
        self.client = client
        self.address = address

    @classmethod
    def connect(cls, scheduler: str, timeout: float = CONNECT_SECONDS) -> Cluster:
        """Connect to a scheduler's address (``tcp://host:8786``) or its scheduler file.

        The scheduler file is the JSON file ``dask scheduler --scheduler-file`` writes.
        Nothing but the one message of a :class:`ClusterError` reports a failure:
        distributed's own log lines meanwhile are shown only once connected.

        Args:
            scheduler: The address, or the scheduler file's path.
            timeout: Seconds to wait for the scheduler.

        Returns:
            The connected cluster.

        Raises:
            ClusterError: dask.distributed is not installed, the argument is neither an
                address nor a scheduler file, or the scheduler cannot be reached in time.
        """
        try:
            import distributed
        except ImportError:
            raise ClusterError(
                "--scheduler needs dask.distributed: pip install the requirements.txt of the course"
            ) from None
        address, named = scheduler_address(scheduler)
        # Made in two steps so that a constructor that fails leaves no half-made client
        # behind whose __del__ would wait, then print a traceback.
        client = distributed.Client.__new__(distributed.Client)
        with _distributed_logs_held() as held:
            try:
                distributed.Client.__init__(client, address, timeout=timeout, set_as_default=False)
            except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a bad address
                _abandon(client)
                detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
                raise ClusterError(
                    f"cannot reach the dask scheduler at {named} within {timeout:g} s "
                    f"({detail}); nothing was graded or changed"
                ) from None
        for record in held:
            logging.getLogger(record.name).handle(record)
        return cls(client, named)

    def threads(self) -> int:
        """Worker threads the cluster has now (each grades one submission at a time).

        Returns:
            The sum of the workers' ``nthreads``.
        """
        workers = self.client.scheduler_info().get("workers", {})
        return sum(int(w.get("nthreads", 1)) for w in workers.values())

    def describe(self) -> str:
        """What grades, for the summary.

        Returns:
            The scheduler and its worker threads now, as a phrase.
        """
        return f"the dask cluster at {self.address} ({self.threads()} worker thread(s) now)"

    def close(self) -> None:
        """Close the connection to the scheduler (the cluster itself keeps running)."""
        self.client.close()

    def results(
        self, todo: list, assignments: dict, limits, sandboxed: bool, fingerprint: str
    ) -> Iterator[tuple[Any, tuple[dict, str]]]:
        """(job, (result dict, feedback page)) for every job, as the workers finish them.

        A submission's bytes are read only when its task is sent, and at most a window
        of tasks is in flight, so the client holds at most that many notebooks. A task
        the scheduler drops (a worker died) is sent again, up to ``MAX_ATTEMPTS`` times.
        Submissions that cannot be read as a notebook file (none handed in, a symbolic
        link, too large) run no code: they are failed here, by the same function.

        Args:
            todo: The :class:`autograder.grade.Job` to grade.
            assignments: Every job's :class:`autograder.notebooks.Assignment`, by id.
            limits: The :class:`autograder.limits.Limits` for student code.
            sandboxed: Whether workers grade inside their sandbox.
            fingerprint: The client's grader fingerprint (unused: each task carries the
                fingerprint for its own assignment).

        Returns:
            An iterator of (job, (result dict, feedback page)), one per job.

        Raises:
            ClusterError: A worker cannot grade (other grader code, no sandbox).
        """
        from distributed import as_completed

        from .fingerprint import grader_fingerprint
        from .grade import grade_submission, process_failed
        from .safety import NotARegularFile, read_regular_file

        if not todo:
            return
        window = max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * max(1, self.threads()))
        queue = iter(todo)
        futures: dict = {}
        done = as_completed(loop=self.client.loop)

        # Each task carries its own assignment (not scattered data a dying worker
        # could take with it), so a retry on another worker needs nothing that was lost.
        attempts: dict = {}
        # What the worker checks its own code against: the fingerprint of the grader for
        # the assignment it is sent, computed here once per assignment.
        fingerprints: dict[str, str] = {}

        def submit(job, data: bytes) -> None:
            aid = job.assignment_id
            if aid not in fingerprints:
                fingerprints[aid] = grader_fingerprint({aid: assignments[aid]})
            attempts[id(job)] = attempts.get(id(job), 0) + 1
            future = self.client.submit(
                grade_task,
                job,
                data,
                {aid: assignments[aid]},
                limits,
                sandboxed,
                fingerprints[aid],
                key=f"grade-{job.folder}-{job.assignment_id}-{job.key[:16]}-{attempts[id(job)]}",
                pure=False,
            )
            futures[future] = (job, data)  # kept while in flight, for a retry
            done.add(future)

        def fill() -> Iterator[tuple[Any, tuple[dict, str]]]:
            """Send jobs until the window is full, reading each one's bytes only now.

            Yields the failures of those that cannot be read.
            """
            while len(futures) < window:
                job = next(queue, None)
                if job is None:
                    return
                try:
                    data = (
                        None
                        if job.path is None
                        else read_regular_file(job.path, limits.notebook_bytes)
                    )
                except (NotARegularFile, OSError):
                    data = None
                if data is None:
                    yield job, grade_submission(job, assignments[job.assignment_id], limits, None)
                else:
                    submit(job, data)

        try:
            yield from fill()
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
                    outcome = process_failed(job, assignments[job.assignment_id], exc)
                except Exception as exc:  # noqa: BLE001 - KilledWorker: died every attempt
                    outcome = process_failed(job, assignments[job.assignment_id], exc)
                future.release()
                del data
                yield job, outcome
                yield from fill()
        finally:  # interrupted, or the output cannot be written: start nothing more
            if futures:
                self.client.cancel(list(futures))
