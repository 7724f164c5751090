"""Every limit and cap of grading, in one object: time, memory, output sizes, nesting depth.

A :class:`Limits` is plain, frozen data. The trusted side passes one to everything that
grades a notebook, and the whole of it is part of a saved result's key (see
``grade.result_key``), so changing any limit regrades. The sandboxed worker and the
wire protocol, which both sides must agree on, read :data:`DEFAULTS`. This module imports
nothing of the course: the sandbox mounts it beside the worker.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Wall-clock limits are enforced by the checker."""

    cell_seconds: float = 60.0
    notebook_seconds: float = 600.0
    cpu_seconds: int = 600
    memory_mb: int = 2048
    file_mb: int = 64
    #: Processes and threads the student's code may have at once (sandbox only).
    processes: int = 64
    #: Size of the scratch folder, a tmpfs of the sandbox's own (sandbox only).
    scratch_mb: int = 256
    #: Fresh processes a notebook may get after a limit or a crash.
    restarts: int = 5
    #: Characters of printed output kept per test (checker) and per request (worker).
    test_output_chars: int = 10_000
    worker_output_chars: int = 20_000
    #: Characters of a traceback the worker sends back (its end is kept).
    worker_traceback_chars: int = 8_000
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
