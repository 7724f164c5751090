"""The trusted side's handle on a student's process, and the proxies tests call.

Tests run in the checker's own interpreter, which student code never touches.
A name such as ``softmax`` in a test is a :class:`StudentFunction`: calling it
sends the arguments as plain data to the student's process, runs the student's
function there, and brings back plain data only. The proxy mirrors what the
call did to its arguments (in-place edits, a random generator's state) and
re-emits the warnings it raised, so a test behaves the same here as it does in
the student's own Jupyter session.
"""

from __future__ import annotations

import builtins
import os
import selectors
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import protocol
from .limits import DEFAULTS, Limits
from .sandbox import Sandbox

PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
#: The worker's exit status when it ran out of memory itself (see worker.main).
EXIT_OUT_OF_MEMORY = 86


class GradingLimit(BaseException):
    """The student's process hit a limit or died.

    A BaseException, so that a test's ``except Exception`` cannot swallow it.
    """


class StudentError(RuntimeError):
    """Kept for older callers: student exceptions are now rebuilt as builtin classes."""


def _one_argument_classes() -> dict[str, type]:
    """Builtin exception classes (subclasses of Exception) that take a message alone."""
    classes = {}
    for name in dir(builtins):
        cls = getattr(builtins, name)
        if isinstance(cls, type) and issubclass(cls, Exception) and cls.__name__ == name:
            try:
                cls("message")
            except TypeError:
                continue
            classes[name] = cls
    return classes


#: The classes a student's exception may be rebuilt as, by name.
_REBUILT = _one_argument_classes()
_ERRSTATES = ("ignore", "warn", "raise")
_NUMPY_DEFAULT_ERR = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
_WARNINGS = {
    name: getattr(builtins, name)
    for name in ("RuntimeWarning", "UserWarning", "DeprecationWarning", "FutureWarning", "Warning")
}


def rebuild_exception(
    error: dict, function: str | None = None, limits: Limits = DEFAULTS
) -> Exception:
    """The student's exception as the nearest builtin class it derives from.

    The worker reports the class's own name and the builtin classes of its MRO in
    order (``AxisError`` -> ``ValueError``, ``IndexError``, ...). It is re-raised here
    as the first of those that the checker knows, so ``except ValueError`` and
    ``pytest.raises(ValueError)`` accept every subclass, as they do in Jupyter. The
    student's own class name stays in the message (and in ``student_type``).
    Exceptions outside Exception's hierarchy (SystemExit, ...) become RuntimeError.

    Args:
        error: The worker's description of the exception (plain data, untrusted).
        function: The student's function that raised it, if a call did.
        limits: The caps of the class name and of the student's frames kept.

    Returns:
        The exception, with ``student_type``, ``student_message``, ``student_function``
        and ``student_traceback`` attributes.
    """
    kind = str(error.get("type", "Exception"))[: limits.error_name_chars]
    message = str(error.get("message", ""))
    bases = error.get("builtins")
    bases = [str(b) for b in bases] if isinstance(bases, list) else [kind]
    cls = next((_REBUILT[b] for b in bases if b in _REBUILT), None)
    if cls is None:
        cls = (
            RuntimeError
            if any(
                b in ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit")
                for b in bases
            )
            else Exception
        )
    exc = cls(message if kind == cls.__name__ else f"{kind}: {message}")
    exc.student_type = kind
    exc.student_message = message
    exc.student_function = function
    exc.student_traceback = str(error.get("frames") or "")[-limits.error_frames_chars :]
    return exc


@dataclass
class CallRecord:
    """What the last call of a student's function did besides returning.

    The positions (ints) or keyword names of the arguments it changed in place, and of
    those its result shares memory with.
    """

    changed: frozenset = frozenset()
    aliased: frozenset = frozenset()


@dataclass
class ExecResult:
    ok: bool
    stdout: str = ""
    error: str = ""
    #: The class name of the exception that stopped the cell, its line and message.
    error_type: str = ""
    error_line: int | None = None
    error_message: str = ""


class StudentProcess:
    """One student's code, running in its own (sandboxed) process."""

    def __init__(self, scratch: Path, limits: Limits, sandbox: Sandbox | None):
        self.scratch = Path(scratch)
        self.limits = limits
        self.sandbox = sandbox
        self.proc: subprocess.Popen | None = None
        self.dead_reason: str | None = None
        self.started = time.monotonic()
        self._buffer = bytearray()
        #: The scratch tmpfs was full after a cell or at the end (seen from outside).
        self.scratch_filled = False
        #: What the last measured call reported (see :meth:`StudentFunction.measure_peak`).
        self.last_peak_bytes: int | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        """Start the student's process (in the sandbox, if there is one) and its pipes."""
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        boot = (
            "import sys; sys.path.insert(0, sys.argv[3]); "
            "from autograder.sandboxed_worker import main; main()"
        )
        if self.sandbox is not None:
            argv, env, cwd, package_parent = self.sandbox.command(self.scratch, self.limits)
        else:
            argv, env, cwd, package_parent = (
                [sys.executable],
                _plain_env(self.scratch),
                str(self.scratch),
                PACKAGE_PARENT,
            )
        argv = argv + [
            "-I",
            "-c",
            boot,
            str(req_r),
            str(rep_w),
            package_parent,
            self.limits.to_json(),
        ]
        self.proc = subprocess.Popen(
            argv,
            pass_fds=(req_r, rep_w),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=self.limits.apply_in_child,
            close_fds=True,
        )
        os.close(req_r)
        os.close(rep_w)
        self._req = req_w
        self._rep = rep_r
        os.set_blocking(self._req, False)
        os.set_blocking(self._rep, False)

    def close(self) -> None:
        """Kill the student's process and everything it started."""
        if self.proc is None:
            return
        self._check_scratch()  # what the calls of the tests wrote, too
        for fd in (self._req, self._rep):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=self.limits.reap_seconds)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not refused
            pass
        self.proc = None

    def restart(self) -> None:
        """A fresh process after a limit or a crash; the caller runs the cells again.

        The old process and all it started are killed.
        """
        self.close()
        self.dead_reason = None
        self._buffer = bytearray()
        self.start()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests ------------------------------------------------------------
    def _fail(self, reason: str):
        self.dead_reason = self.dead_reason or reason
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        raise GradingLimit(self.dead_reason)

    def _exit_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=self.limits.exit_seconds) if self.proc else None
        except subprocess.TimeoutExpired:
            # Still running, yet the channel is closed: the code closed or replaced
            # (os.dup2, os.close) the pipe the grader reads its answers from.
            return (
                "the code closed or replaced the channel the grader reads its answers "
                "from, so nothing after that point could be graded"
            )
        if code == EXIT_OUT_OF_MEMORY:
            return (
                f"the code's process ran out of memory (more than {self.limits.memory_mb} "
                "MB) and stopped"
            )
        # bubblewrap reports a signal that killed its child as 128 + the signal.
        signum = (
            -code
            if code is not None and code < 0
            else (
                code - 128 if self.sandbox is not None and code is not None and code > 128 else None
            )
        )
        if signum is not None:
            if signum == signal.SIGXCPU:
                return f"the code used more than {self.limits.cpu_seconds} s of CPU time"
            if signum == signal.SIGKILL:
                return (
                    "the code's process was killed (SIGKILL; for example for using more "
                    f"than {self.limits.memory_mb} MB of memory)"
                )
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            return f"the code's process died ({name})"
        return f"the code ended its own process (exit status {code})"

    def request(self, message: dict, timeout: float, budget: float | None = None) -> dict:
        """Send one request and read its reply within ``timeout`` seconds.

        Args:
            message: The request.
            timeout: Seconds to wait for the reply.
            budget: The time limit to name when the reply does not come in time (the cell's
                or test's whole allowance, of which ``timeout`` may be the rest).

        Returns:
            The reply.

        Raises:
            GradingLimit: No reply in time, a malformed or too large one, or the process died.
        """
        if self.dead_reason:
            raise GradingLimit(self.dead_reason)
        deadline = time.monotonic() + timeout
        data = protocol.dumps(message)
        sel = selectors.DefaultSelector()
        sel.register(self._req, selectors.EVENT_WRITE)
        sel.register(self._rep, selectors.EVENT_READ)
        # The reply is read into one bytearray (amortised linear growth) and only the
        # newly read bytes are searched for the end of the line: linear in its size.
        scanned = 0
        try:
            while True:
                newline = self._buffer.find(b"\n", scanned)
                if newline < 0:
                    scanned = len(self._buffer)
                else:
                    line = bytes(self._buffer[:newline])
                    del self._buffer[: newline + 1]
                    try:
                        return protocol.loads(line, self.limits.message_bytes)
                    except protocol.ProtocolError as exc:
                        self._fail(f"the code's process sent a malformed reply ({exc})")
                left = deadline - time.monotonic()
                if left <= 0:
                    limit = timeout if budget is None else max(budget, timeout)
                    self._fail(f"a cell ran longer than {limit:.0f} s")
                for key, _ in sel.select(timeout=min(left, 1.0)):
                    if key.fd == self._req and data:
                        try:
                            sent = os.write(self._req, data[:65536])
                        except BrokenPipeError:
                            self._fail(self._exit_reason())
                        data = data[sent:]
                        if not data:
                            sel.unregister(self._req)
                    elif key.fd == self._rep:
                        chunk = os.read(self._rep, 1 << 20)
                        if not chunk:
                            self._fail(self._exit_reason())
                        self._buffer += chunk
                        if len(self._buffer) > self.limits.message_bytes + 1:
                            self._fail("the code's process sent a reply that is too large")
        finally:
            sel.close()

    def _check_scratch(self) -> None:
        if self.sandbox is not None and self.proc is not None and not self.scratch_filled:
            self.scratch_filled = self.sandbox.scratch_full(self.proc.pid, self.limits)

    def exec_cell(self, code: str, timeout: float, name: str | None = None) -> ExecResult:
        """Run one cell in the student's process.

        Args:
            code: The cell's code.
            timeout: Seconds it may run.
            name: What tracebacks call it (e.g. "cell 4").

        Returns:
            What it printed and how it ended, within the Limits' caps.

        Raises:
            GradingLimit: It ran out of time or the process died.
        """
        message = {"op": "exec", "code": code}
        if name:
            message["name"] = name
        reply = self.request(message, timeout)
        self._check_scratch()
        error = reply.get("error") or {}
        if not isinstance(error, dict):
            error = {"type": "Exception", "traceback": str(error)}
        stdout = str(reply.get("stdout", ""))[: self.limits.cell_stdout_chars]
        trace = str(error.get("traceback") or "")[: self.limits.cell_error_chars] if error else ""
        return ExecResult(
            bool(reply.get("ok")),
            stdout,
            trace,
            str(error.get("type") or "")[: self.limits.error_name_chars],
            error.get("line") if type(error.get("line")) is int else None,
            str(error.get("message") or "")[: self.limits.error_message_chars],
        )

    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        timeout: float,
        measure: bool = False,
        budget: float | None = None,
    ):
        """Call the student's function ``name`` in their process.

        Args:
            name: The function's name.
            args: The positional arguments (iterators cross lazily).
            kwargs: The keyword arguments.
            timeout: Seconds the call may take.
            measure: Whether to measure the call's peak memory (``last_peak_bytes``).
            budget: The whole allowance ``timeout`` is the rest of (named in a timeout).

        Returns:
            The worker's reply.

        Raises:
            TypeError: An argument cannot be sent.
            GradingLimit: It ran out of time or the process died.
        """
        try:
            sent_args, sent_kwargs, streams = protocol.encode_arguments(
                list(args), dict(kwargs), self.limits.nesting_depth
            )
        except protocol.ProtocolError as exc:  # a test passed something unsendable: our bug
            raise TypeError(f"cannot send arguments to {name}: {exc}") from None
        message: dict[str, object] = {
            "op": "call",
            "name": name,
            "args": sent_args,
            "kwargs": sent_kwargs,
            # a test's np.errstate(...) holds around the call, as in Jupyter
            # (NumPy's defaults are not sent: the student's own np.seterr stays)
            "errstate": {
                k: v
                for k, v in np.geterr().items()
                if v in _ERRSTATES and _NUMPY_DEFAULT_ERR.get(k) != v
            },
        }
        if measure:
            message["measure"] = True
        deadline = time.monotonic() + timeout
        reply = self.request(message, timeout, budget)
        while streams and isinstance(reply, dict) and "stream_next" in reply:
            reply = self.request(
                _stream_item(streams, reply["stream_next"], self.limits.nesting_depth),
                max(deadline - time.monotonic(), 0.01),
                budget if budget is not None else timeout,
            )
        self.last_peak_bytes = protocol.peak_bytes(reply) if measure else None
        return reply


def _stream_item(streams: dict, number, max_depth: int = DEFAULTS.nesting_depth) -> dict:
    """The answer to the worker's request for the next item of a lazy argument."""
    message = {"op": "stream_item", "stream": number}
    source = streams.get(number) if type(number) is int else None
    if source is None:
        return {**message, "stop": True}
    try:
        message["item"] = protocol.encode(next(source), max_depth=max_depth)
    except StopIteration:
        streams.pop(number)
        message["stop"] = True
    except protocol.ProtocolError as exc:  # the test's own generator: our bug, say so
        message["error"] = f"a block cannot be sent ({exc})"
    except Exception as exc:  # noqa: BLE001 - the test's generator failed
        message["error"] = f"{type(exc).__name__}: {exc}"
    return message


def _plain_env(scratch: Path) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "MPLCONFIGDIR": str(scratch),
        "MPLBACKEND": "Agg",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


class Clock:
    """The time a test cell has left: every call inside it shares one deadline."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def restart(self) -> None:
        """Give the clock its whole time again, from now."""
        self.deadline = time.monotonic() + self.seconds

    def left(self) -> float:
        """Seconds left before the deadline (at least 0.01, so a wait never blocks)."""
        return max(self.deadline - time.monotonic(), 0.01)


class StudentFunction:
    """Stands for a function the student wrote; calling it runs it in their process."""

    def __init__(self, process: StudentProcess, name: str, clock: Clock):
        self._process = process
        self._clock = clock
        self.__name__ = name
        self.__qualname__ = name
        #: What the last call did to its arguments (see course.checks.leaves_input_alone).
        self.last_call = CallRecord()

    def __repr__(self):
        return f"<student function {self.__name__}>"

    def measure_peak(self, *args, **kwargs):
        """Call the student's function and measure the memory the call allocated.

        The peak is traced with tracemalloc around the call in the student's process.

        Args:
            args: The positional arguments.
            kwargs: The keyword arguments.

        Returns:
            (result, peak bytes, or None when the worker did not report it).
        """
        self._measure = True
        try:
            result = self(*args, **kwargs)
        finally:
            self._measure = False
        return result, self._process.last_peak_bytes

    def __call__(self, *args, **kwargs):
        self.last_call = CallRecord()
        reply = self._process.call(
            self.__name__,
            args,
            kwargs,
            self._clock.left(),
            measure=getattr(self, "_measure", False),
            budget=self._clock.seconds,
        )
        printed = str(reply.get("stdout", ""))
        if printed:
            print(printed, end="" if printed.endswith("\n") else "\n")
        if not reply.get("ok"):
            error = reply.get("error")
            raise rebuild_exception(
                error if isinstance(error, dict) else {}, self.__name__, self._process.limits
            )
        depth = self._process.limits.nesting_depth
        try:
            result = protocol.decode(reply.get("result"), max_depth=depth)
            args_after = protocol.decode(reply.get("args_after"), max_depth=depth)
            kwargs_after = protocol.decode(reply.get("kwargs_after"), max_depth=depth)
        except protocol.ProtocolError as exc:
            raise TypeError(
                f"{self.__name__} returned something the grader cannot read: {exc}"
            ) from None
        # The test's own arguments are never changed (they were sent as copies): the
        # call's in-place edits are only recorded, so one bug cannot spoil later checks.
        # A random generator is the exception: drawing from it must advance it.
        changed: set[int | str] = set()
        if isinstance(args_after, list) and len(args_after) == len(args):
            changed |= {
                i
                for i, (before, after) in enumerate(zip(args, args_after, strict=False))
                if _follow(before, after)
            }
        if isinstance(kwargs_after, dict):
            changed |= {
                key
                for key, before in kwargs.items()
                if key in kwargs_after and _follow(before, kwargs_after[key])
            }
        aliased = reply.get("aliased")
        aliased = (
            {a for a in aliased if type(a) in (int, str)} if isinstance(aliased, list) else set()
        )
        self.last_call = CallRecord(frozenset(changed), frozenset(aliased))
        for entry in reply.get("warnings") or []:
            if isinstance(entry, list) and len(entry) == 2:
                category = _WARNINGS.get(str(entry[0]), UserWarning)
                warnings.warn(str(entry[1]), category, stacklevel=2)
        return result


def _follow(before, after) -> bool:
    """Whether the call changed this argument; a generator's new state is applied here."""
    if isinstance(before, np.random.Generator) and isinstance(after, np.random.Generator):
        if type(before.bit_generator) is type(after.bit_generator):
            before.bit_generator.state = after.bit_generator.state
        return False
    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        return before.shape != after.shape or not np.array_equal(
            before, after.astype(before.dtype, copy=False), equal_nan=True
        )
    if isinstance(before, list) and isinstance(after, list):
        return len(before) != len(after) or any(
            not _same_scalar(b, a) for b, a in zip(before, after, strict=False)
        )
    return False


def _same_scalar(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_scalar(x, y) for x, y in zip(a, b, strict=False))
    try:
        return a == b or (a != a and b != b)
    except Exception:
        return False
