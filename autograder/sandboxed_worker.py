"""The untrusted side: runs one student's notebook code and answers calls.

Started by :mod:`autograder.student_proxy` as its own process (inside the sandbox
when there is one). It reads requests from and writes answers to the two file
descriptors named on its command line. Nothing it says is trusted:
the checker only ever reads plain data from it (see :mod:`autograder.protocol`).

Its limits (a :class:`autograder.limits.Limits`) come as plain data, JSON on its
command line after the descriptors, so its caps are the ones the checker grades with.

Requests:
  {"op": "exec", "code": ...}                 run a notebook cell
  {"op": "call", "name": ..., "args": [...], "kwargs": {...}}
                                              call a function the cells defined
                                              (optionally "measure": true for its
                                              peak memory; iterator arguments are
                                              pulled lazily, see protocol.is_stream)
"""

from __future__ import annotations

import io
import linecache
import os
import sys
import traceback
import warnings

from .limits import DEFAULTS, Limits

#: Characters of a cell's name that a traceback shows (a label, not a limit).
_NAME_PREVIEW = 60


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters."""

    def __init__(self, cap: int = DEFAULTS.worker_output_chars):
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self):
        return True

    def write(self, s):
        """Keep what fits under the cap; count the rest.

        Args:
            s: The text written.

        Returns:
            Its length (all of it counts as written).
        """
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
        self.size += min(len(s), max(room, 0))
        self.dropped += max(len(s) - max(room, 0), 0)
        return len(s)

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output not shown]\n"
        return out


class _NoIPython:
    """Stands in for get_ipython(): magics and shell escapes do nothing here."""

    def run_line_magic(self, *args, **kwargs):
        """Do nothing: magics have no effect here.

        Args:
            args: Ignored.
            kwargs: Ignored.
        """
        return None

    def run_cell_magic(self, *args, **kwargs):
        """Do nothing: magics have no effect here.

        Args:
            args: Ignored.
            kwargs: Ignored.
        """
        return None

    def system(self, *args, **kwargs):
        """Do nothing: shell escapes have no effect here.

        Args:
            args: Ignored.
            kwargs: Ignored.
        """
        return None

    getoutput = system


def _transform(code: str) -> str:
    """Turn IPython syntax (magics, ``!cmd``) into plain Python."""
    if not any(
        line.lstrip().startswith(("%", "!")) or line.rstrip().endswith("?")
        for line in code.splitlines()
    ):
        return code  # plain Python: no need to import IPython
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with the course
        return code
    try:
        return TransformerManager().transform_cell(code)
    except Exception:
        return code


#: File names of the cells this worker ran: tracebacks keep only their frames.
_CELL_FILES: set[str] = set()


def _describe(exc: BaseException, limits: Limits = DEFAULTS) -> dict:
    """An exception as plain data, for the trusted side to rebuild.

    Its class and the builtin classes it derives from (so the checker can rebuild it), the
    message, and the student's own frames.
    """
    import builtins

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in _CELL_FILES]
    listed = "".join(traceback.format_list(frames))
    line = frames[-1].lineno if frames else None
    if isinstance(exc, SyntaxError) and exc.filename in _CELL_FILES:
        line = exc.lineno
    bases = [
        c.__name__
        for c in type(exc).__mro__
        if c.__module__ == "builtins" and getattr(builtins, c.__name__, None) is c
    ]
    return {
        "type": type(exc).__name__,
        "builtins": bases,
        "message": str(exc)[: limits.error_message_chars],
        "line": line,
        "frames": listed[-limits.error_frames_chars :],
        "traceback": (listed + "".join(traceback.format_exception_only(type(exc), exc)))[
            -limits.worker_traceback_chars :
        ],
    }


def _numpy_errstate(settings: dict):
    """The checker's np.errstate for one call (a no-op context without NumPy settings)."""
    import contextlib

    if not settings:
        return contextlib.nullcontext()
    import numpy as np

    return np.errstate(**settings)


def _shares_memory(result, arg) -> bool:
    import numpy as np

    parts = result if type(result) in (tuple, list) else (result,)
    for part in parts:
        if part is arg and isinstance(arg, (list, np.ndarray)):
            return True
        if (
            isinstance(part, np.ndarray)
            and isinstance(arg, np.ndarray)
            and np.may_share_memory(part, arg)
        ):
            return True
    return False


def serve(request_fd: int, reply_fd: int, limits: Limits = DEFAULTS) -> None:
    """Answer the trusted side's requests, one reply each, until it closes the channel.

    Args:
        request_fd: The file descriptor requests are read from.
        reply_fd: The file descriptor replies are written to.
        limits: The caps of output, messages and nesting (the checker's own).
    """
    from autograder import protocol

    reply = os.fdopen(reply_fd, "wb", buffering=0)
    requests = os.fdopen(request_fd, "rb")
    namespace = {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "get_ipython": lambda: _NoIPython(),
        "display": lambda *objs, **kw: print(*objs),
    }
    cell_number = 0

    def send(message):
        """Write one reply (a TypeError reply when it cannot be sent).

        Args:
            message: The reply.
        """
        try:
            data = protocol.dumps(message)
        except (TypeError, ValueError) as exc:
            data = protocol.dumps(
                {
                    "ok": False,
                    "error": {
                        "type": "TypeError",
                        "message": f"result cannot be sent: {exc}",
                        "traceback": "",
                    },
                }
            )
        reply.write(data)

    while True:
        line = requests.readline(limits.message_bytes + 1)
        if not line:
            return
        request = protocol.loads(line, limits.message_bytes)
        out = _CappedText(limits.worker_output_chars)
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            if request["op"] == "exec":
                cell_number += 1
                code = _transform(request["code"])
                filename = f"<{str(request.get('name') or f'cell {cell_number}')[:_NAME_PREVIEW]}>"
                _CELL_FILES.add(filename)
                linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        exec(compile(code, filename, "exec"), namespace)
                except BaseException as exc:  # noqa: BLE001 - student code may raise anything
                    sys.stdout, sys.stderr = old_out, old_err
                    send({"ok": False, "stdout": out.text(), "error": _describe(exc, limits)})
                else:
                    sys.stdout, sys.stderr = old_out, old_err
                    send({"ok": True, "stdout": out.text()})
            elif request["op"] == "call":
                sys.stdout, sys.stderr = old_out, old_err
                channel = _Channel(send, requests, limits)
                send(_call(namespace, request, out, protocol, channel, limits))
            else:
                sys.stdout, sys.stderr = old_out, old_err
                send(
                    {
                        "ok": False,
                        "error": {
                            "type": "ProtocolError",
                            "message": "unknown request",
                            "traceback": "",
                        },
                    }
                )
        finally:
            sys.stdout, sys.stderr = old_out, old_err


def _call(namespace, request, out, protocol, channel=None, limits: Limits = DEFAULTS) -> dict:
    name = request["name"]
    func = namespace.get(name)
    if func is None:
        return {
            "ok": False,
            "error": {
                "type": "NameError",
                "traceback": "",
                "message": f"name '{name}' is not defined: the solution cell that defines it did "
                "not run or was removed",
            },
        }
    if not callable(func):
        return {
            "ok": False,
            "error": {
                "type": "TypeError",
                "traceback": "",
                "message": f"'{name}' is not a function",
            },
        }
    open_stream = channel.open if channel is not None else None
    depth = limits.nesting_depth
    args = protocol.decode_arguments(request["args"], open_stream, depth)
    kwargs = protocol.decode_arguments(request["kwargs"], open_stream, depth)
    stats: dict = {}
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        errstate = request.get("errstate") if isinstance(request.get("errstate"), dict) else {}
        errstate = {
            k: v
            for k, v in errstate.items()
            if k in ("divide", "over", "under", "invalid") and v in ("ignore", "warn", "raise")
        }
        with warnings.catch_warnings(record=True) as caught, _numpy_errstate(errstate):
            warnings.simplefilter("always")
            result = _invoke(func, args, kwargs, bool(request.get("measure")), stats)
    except BaseException as exc:  # noqa: BLE001
        sys.stdout, sys.stderr = old_out, old_err
        return {"ok": False, "stdout": out.text(), "error": _describe(exc, limits), **stats}
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        if channel is not None:
            channel.close()
    args, kwargs = _without_streams(args), _without_streams(kwargs)
    seen = []
    for w in caught[: limits.call_warnings]:
        category = w.category if isinstance(w.category, type) else Warning
        seen.append([category.__name__, str(w.message)[: limits.warning_chars]])
    try:
        encoded = protocol.encode(result, max_depth=depth)
        args_after = protocol.encode(args, max_depth=depth)
        kwargs_after = protocol.encode(kwargs, max_depth=depth)
    except protocol.ProtocolError as exc:
        return {
            "ok": False,
            "stdout": out.text(),
            "error": {
                "type": "TypeError",
                "traceback": "",
                "message": f"{name} returned a value the grader cannot accept ({exc})",
            },
        }
    aliased = [i for i, a in enumerate(args) if _shares_memory(result, a)]
    aliased += [k for k, a in kwargs.items() if _shares_memory(result, a)]
    return {
        "ok": True,
        "result": encoded,
        "args_after": args_after,
        "kwargs_after": kwargs_after,
        "warnings": seen,
        "stdout": out.text(),
        "aliased": aliased,
        **stats,
    }


def _invoke(func, args, kwargs, measure: bool, stats: dict):
    """Call ``func``; with ``measure``, record the peak memory the call allocated.

    tracemalloc sees Python's allocations and NumPy's array buffers (NumPy reports them
    to it), so the peak counts the arrays the call creates, not the arguments it got.
    """
    if not measure:
        return func(*args, **kwargs)
    import tracemalloc

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        return func(*args, **kwargs)
    finally:
        stats["peak_bytes"] = max(int(tracemalloc.get_traced_memory()[1] - base), 0)
        if started:
            tracemalloc.stop()


class _Channel:
    """The lazy streams of one call: each item is asked of the checker when it is needed."""

    def __init__(self, send, requests, limits: Limits = DEFAULTS):
        self.send, self.requests, self.active = send, requests, True
        self.limits = limits

    def open(self, number: int) -> _RemoteStream:
        """The lazy stream standing for the checker's iterator ``number``.

        Args:
            number: The placeholder's number.

        Returns:
            The stream.
        """
        return _RemoteStream(self, number)

    def close(self) -> None:
        self.active = False

    def next_item(self, number: int):
        """Ask the checker for the next item of its iterator ``number``.

        Args:
            number: The placeholder's number.

        Returns:
            The item.

        Raises:
            StopIteration: The iterator is exhausted.
            RuntimeError: The call is over, or the checker sent something else or failed.
        """
        from autograder import protocol

        if not self.active:
            raise RuntimeError("these blocks can only be read during the call they were passed to")
        self.send({"stream_next": number})
        size = self.limits.message_bytes
        message = protocol.loads(self.requests.readline(size + 1), size)
        if message.get("op") != "stream_item" or message.get("stream") != number:
            raise RuntimeError("the grader sent something other than the next block")
        if message.get("stop"):
            raise StopIteration
        if message.get("error"):
            raise RuntimeError(f"the test's blocks could not be produced: {message['error']}")
        return protocol.decode(message.get("item"), max_depth=self.limits.nesting_depth)


class _RemoteStream:
    """An iterator whose items come, one at a time, from the checker's iterator."""

    def __init__(self, channel: _Channel, number: int):
        self._channel, self._number, self._done = channel, number, False

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        try:
            return self._channel.next_item(self._number)
        except StopIteration:
            self._done = True
            raise

    def __repr__(self):
        return "<generator of blocks>"


def _without_streams(value):
    """Arguments as they can be sent back: a stream is reported as None."""
    if isinstance(value, list):
        return [None if isinstance(v, _RemoteStream) else v for v in value]
    if isinstance(value, dict):
        return {k: None if isinstance(v, _RemoteStream) else v for k, v in value.items()}
    return value


#: Set by the sandbox (autograder.sandbox.Sandbox.command): the process cap, and
#: (when the grader runs as root) the unprivileged uid to run as.
PROCESSES_VARIABLE = "AUTOGRADER_MAX_PROCESSES"
UID_VARIABLE = "AUTOGRADER_UID"


def _become_unprivileged() -> None:
    """Before any student code: take the unprivileged uid and set the process cap.

    Root is exempt from RLIMIT_NPROC, hence the uid.

    RLIMIT_NPROC is set here, inside the sandbox, rather than before bubblewrap
    starts, where it would also count every other process of the same host user.
    The kernel counts it per user: the sandbox's own user namespace (an unprivileged
    grader) or the sandbox's own uid (a grader running as root). The hard limit
    cannot be raised again without CAP_SYS_RESOURCE, which nothing here has.
    """
    import resource

    uid = os.environ.pop(UID_VARIABLE, "")
    if uid.isdigit() and os.getuid() == 0:
        os.setgroups([])
        os.setresgid(int(uid), int(uid), int(uid))
        os.setresuid(int(uid), int(uid), int(uid))  # clears every capability
    value = os.environ.pop(PROCESSES_VARIABLE, "")
    if value.isdigit():
        resource.setrlimit(resource.RLIMIT_NPROC, (int(value), int(value)))


def main() -> None:
    """The worker's entry point: ``main REQUEST_FD REPLY_FD PACKAGE_PARENT [LIMITS_JSON]``.

    Without LIMITS_JSON (see :meth:`Limits.to_json`) the worker keeps :data:`DEFAULTS`.
    """
    request_fd, reply_fd = int(sys.argv[1]), int(sys.argv[2])
    limits = Limits.from_json(sys.argv[4]) if len(sys.argv) > 4 else DEFAULTS
    # Student code sees an empty stdin, and whatever it writes at the OS level
    # goes nowhere near the replies.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdin = open(os.devnull)
    os.environ.setdefault("MPLBACKEND", "Agg")
    _become_unprivileged()  # before any student code runs
    try:
        serve(request_fd, reply_fd, limits)
    except MemoryError:
        os._exit(86)  # autograder.student_proxy.EXIT_OUT_OF_MEMORY: the checker says why


if __name__ == "__main__":
    main()
