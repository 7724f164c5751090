"""Every limit and cap of grading, in one object: time, memory, output sizes, nesting depth.

A :class:`Limits` is plain, frozen data. The trusted side passes one to everything that
grades a notebook, and the whole of it is part of a saved result's key (see
``grade.result_key``), so changing any limit regrades. The sandboxed worker gets the same
values as plain data on its command line (:meth:`Limits.to_json`, :meth:`Limits.from_json`),
so both ends of the wire protocol agree on its caps. :data:`DEFAULTS` is what callers
without a Limits of their own use. This module imports nothing of the course: the sandbox
mounts it beside the worker.

Bounds of collecting submissions (``lms.MAX_MEMBER_BYTES``, ``roster.MAX_ID_LENGTH``,
``late.MAX_TIMESTAMP_BYTES``) are not here: they act before grading, and changing them
must not regrade.
"""

from __future__ import annotations

import dataclasses
import json
import resource
from dataclasses import dataclass

_MB = 1024 * 1024
#: How :meth:`Limits.for_cells` derives the other time limits from a cell's.
NOTEBOOK_CELLS = 10
MIN_NOTEBOOK_SECONDS = 300.0
CPU_GRACE_SECONDS = 10
#: The smallest memory limit, in MB, that Python and NumPy start in.
MIN_MEMORY_MB = 256


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Wall-clock limits are enforced by the checker."""

    #: Seconds one cell (or one test cell, all its calls together) may run.
    cell_seconds: float = 60.0
    #: Seconds one notebook may run in all.
    notebook_seconds: float = 600.0
    #: CPU seconds of the student's process (RLIMIT_CPU).
    cpu_seconds: int = 600
    #: Address space of the student's process, in MB (RLIMIT_AS).
    memory_mb: int = 2048
    #: Largest file the student's process may write, in MB (RLIMIT_FSIZE).
    file_mb: int = 64
    #: Processes and threads the student's code may have at once (sandbox only).
    processes: int = 64
    #: Size of the scratch folder, a tmpfs of the sandbox's own (sandbox only).
    scratch_mb: int = 256
    #: Fresh processes a notebook may get after a limit or a crash.
    restarts: int = 5
    #: Characters of printed output kept per test (checker).
    test_output_chars: int = 10_000
    #: Characters of printed output the worker keeps per request.
    worker_output_chars: int = 20_000
    #: Characters of a traceback the worker sends back (its end is kept).
    worker_traceback_chars: int = 8_000
    #: Characters of a student's exception message, sent by the worker and kept by the checker.
    error_message_chars: int = 2_000
    #: Characters of the student's own frames of a traceback (their end is kept).
    error_frames_chars: int = 4_000
    #: Characters of a student's exception class name the checker keeps.
    error_name_chars: int = 200
    #: Warnings one call reports back, and characters of each warning's message.
    call_warnings: int = 20
    warning_chars: int = 500
    #: Characters of a notebook cell's printed output and traceback the checker keeps.
    cell_stdout_chars: int = 50_000
    cell_error_chars: int = 10_000
    #: Largest message on the wire between the checker and the worker, in bytes.
    message_bytes: int = 64 * _MB
    #: Deepest nesting of lists, tuples and dicts a message may carry.
    nesting_depth: int = 20
    #: Largest notebook file read, in bytes.
    notebook_bytes: int = 20 * _MB
    #: Bounds of one feedback page: cells, characters of cell text, rendering time.
    feedback_cells: int = 1_000
    feedback_chars: int = 2_000_000
    feedback_seconds: float = 60.0
    #: Seconds to wait for a killed student process to be reaped.
    reap_seconds: float = 10.0
    #: Seconds to wait for the exit status of a process whose channel closed.
    exit_seconds: float = 2.0
    #: Seconds the sandbox's self-test (start Python in it, print) may take.
    sandbox_start_seconds: float = 60.0

    @classmethod
    def for_cells(cls, cell_seconds: float, **others) -> Limits:
        """Limits for ``cell_seconds`` a cell, the other time limits following from it.

        Unless given, the notebook may run :data:`NOTEBOOK_CELLS` cells' worth (at least
        :data:`MIN_NOTEBOOK_SECONDS`), and the CPU time is the notebook's allowance and
        :data:`CPU_GRACE_SECONDS` more.

        Args:
            cell_seconds: Seconds one cell may run.
            others: Any other fields, as :class:`Limits` takes them.

        Returns:
            The limits.
        """
        notebook = others.pop(
            "notebook_seconds", max(cell_seconds * NOTEBOOK_CELLS, MIN_NOTEBOOK_SECONDS)
        )
        others.setdefault("cpu_seconds", int(notebook) + CPU_GRACE_SECONDS)
        return cls(cell_seconds=cell_seconds, notebook_seconds=notebook, **others)

    def to_json(self) -> str:
        """The limits as JSON text, to hand to the worker.

        Returns:
            A JSON object of every field.
        """
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Limits:
        """Limits from :meth:`to_json`'s text; fields it lacks keep their defaults.

        Args:
            text: A JSON object of fields.

        Returns:
            The limits.

        Raises:
            ValueError: The text is not a JSON object of known fields.
        """
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or not set(data) <= known:
            raise ValueError("not a JSON object of Limits fields")
        return cls(**data)

    def apply_in_child(self) -> None:  # runs between fork and exec: keep it minimal
        """Set the process's resource limits (memory, CPU, file size, no core dumps)."""
        mem = self.memory_mb * _MB
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        size = self.file_mb * _MB
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


#: The limits when nobody chose others; what the worker and the protocol use.
DEFAULTS = Limits()
