"""`grade`: grade a whole class, in parallel, resumably.

SUBMISSIONS is laid out as nbgrader's submitted folder::

    SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb

For every submission the result is saved as soon as it is known (under
``OUT/.results/``, keyed by a hash of the submission and of the assignment's
source), so a run that is interrupted and started again grades only what is
left, and a changed submission or changed tests are graded afresh. At the end
``OUT/grades.csv`` and ``OUT/summary.txt`` are written from this run's
submissions only: nothing stale survives.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import hashlib
import io
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import course_dir
from .feedback import render_failure, render_feedback
from .grading import NotebookResult, autograded_notebook, grade_notebook, read_or_fail
from .notebooks import MAX_NOTEBOOK_BYTES, load_assignment
from .outdir import CannotWrite, OutputBusy, OutputLock, remove_stray_temp_files, write_error
from .safety import NotARegularFile, clean_text, inside, read_regular_file, refusal, shown
from .sandbox import Limits, Sandbox

GRADER_VERSION = "1"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


@dataclass
class Job:
    student_id: str
    assignment_id: str
    path: Path | None  # None: no notebook in the folder
    key: str
    note: str = ""


def _write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all; text is made UTF-8-safe first."""
    if isinstance(data, str):
        data = clean_text(data).encode("utf-8")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise CannotWrite(write_error(exc, path.parent)) from None
        raise


def discover(submissions: Path, sources: dict, source_hashes: dict) -> tuple[list[Job], list[str]]:
    """Every (student, assignment) folder, with what is wrong about the layout."""
    jobs, notes = [], []
    for student_dir in sorted(submissions.iterdir()):
        refused = _refused_folder(student_dir, submissions)
        if refused:
            notes.append(f"{shown(student_dir)}: {refused}")
            continue
        if not student_dir.is_dir():
            notes.append(f"{student_dir}: not a student folder (ignored)")
            continue
        if not _SAFE_ID.match(student_dir.name):
            notes.append(f"{student_dir}: not a usable student id (ignored)")
            continue
        for assignment_dir in sorted(student_dir.iterdir()):
            refused = _refused_folder(assignment_dir, submissions)
            if refused:
                notes.append(f"{shown(assignment_dir)}: {refused}")
                continue
            if not assignment_dir.is_dir():
                notes.append(f"{assignment_dir}: not an assignment folder (ignored)")
                continue
            aid = assignment_dir.name
            if aid not in sources:
                notes.append(f"{assignment_dir}: unknown assignment '{aid}' (ignored)")
                continue
            expected = assignment_dir / sources[aid].notebook_name
            note = ""
            if os.path.lexists(expected):
                path = expected  # whatever it is: reading it says why it cannot be graded
            else:
                others = sorted(p for p in assignment_dir.glob("*.ipynb")
                                if refusal(p) is None)
                path = others[0] if len(others) == 1 else None
                if path is not None:
                    note = (f"graded {path.name}: the notebook should be named "
                            f"{sources[aid].notebook_name}")
            digest = hashlib.sha256(GRADER_VERSION.encode() + source_hashes[aid].encode())
            if path is not None:
                digest.update(_content_digest(path))
            jobs.append(Job(student_dir.name, aid, path, digest.hexdigest(), note))
    return jobs, notes


def _refused_folder(path: Path, submissions: Path) -> str:
    """Why a folder of the submissions tree is refused ("" if it is fine): a symbolic
    link (to a classmate's folder, to the solutions...) or anything resolving outside."""
    if path.is_symlink():
        return "a symbolic link, refused (submissions must be real folders and files)"
    if path.is_dir() and not inside(path, submissions):
        return "resolves outside the submissions folder, refused"
    return ""


def _content_digest(path: Path) -> bytes:
    """The submission's bytes for its result key, read only if it is a regular file
    of a readable size (what else it is goes into the key instead)."""
    try:
        return hashlib.sha256(read_regular_file(path, MAX_NOTEBOOK_BYTES)).digest()
    except NotARegularFile as exc:
        try:
            info = os.lstat(path)
            return f"{exc}|{info.st_mode}|{info.st_size}|{info.st_mtime_ns}".encode()
        except OSError:
            return str(exc).encode()


# -- work done in the pool's processes ----------------------------------------

_STATE: dict = {}


def _init_worker(sources, limits, sandbox):
    """Pool start-up: the sandbox was found and self-tested once, by the main process."""
    _STATE["sources"] = sources
    _STATE["limits"] = limits
    _STATE["sandbox"] = sandbox


def _grade_job(job: Job) -> tuple[dict, str]:
    source = _STATE["sources"][job.assignment_id]
    if job.path is None:
        result = NotebookResult.failed(
            source, f"no notebook named {source.notebook_name} in the submission folder",
            "not run: nothing submitted")
        return result.to_dict(), render_failure(result, job.student_id)
    try:
        nb, result = read_or_fail(source, job.path)
        if result is None:
            result = grade_notebook(source, job.path, _STATE["limits"], _STATE["sandbox"], nb=nb)
        if job.note:
            result.problems.insert(0, job.note)
        mark = time.monotonic()
        if result.status == "failed":
            page = render_failure(result, job.student_id)
        else:
            page = render_feedback(autograded_notebook(source, nb, result), result,
                                   job.student_id)
        result.timings["feedback"] = time.monotonic() - mark
    except Exception as exc:  # a bug of ours must not stop the class
        # The student sees no detail of ours (paths, command lines); the instructor's
        # terminal gets it.
        print(f"grade: internal error on {shown(job.student_id)}/{job.assignment_id}: "
              f"{type(exc).__name__}: {shown(exc)}", file=sys.stderr)
        result = NotebookResult.failed(
            source, f"internal grader error ({type(exc).__name__}); the instructor has the "
                    "details", "not run")
        page = render_failure(result, job.student_id)
    return result.to_dict(), page


# -- the command ------------------------------------------------------------------

def run_grade(submissions: Path, out: Path, *args, **kwargs) -> int:
    """Grade into ``out``, one run at a time (see :mod:`autograder.outdir`)."""
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        print(f"grade: {submissions}: no such folder", file=sys.stderr)
        return 2
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        print(f"grade: --out {out} must not be inside the submissions folder", file=sys.stderr)
        return 2
    lock = OutputLock(out)
    try:
        lock.__enter__()
    except OutputBusy as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # making the folder or its lock file
        print(f"grade: {write_error(exc, out)}", file=sys.stderr)
        return 1
    try:
        remove_stray_temp_files(out)
        return _run_grade(submissions, out, *args, **kwargs)
    except CannotWrite as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.__exit__(None, None, None)


def _run_grade(submissions: Path, out: Path, workers: int, limits: Limits, use_sandbox: bool,
               gradebook: Path, stream=sys.stdout) -> int:
    from tqdm import tqdm

    from .gradebook import GradebookError, GradebookWriter

    submissions, out = Path(submissions), Path(out)
    sandbox_note, sandbox = "", None
    if use_sandbox:
        try:
            sandbox = Sandbox.find()
        except Exception as exc:
            print(f"grade: the sandbox is not available: {exc}.\n"
                  "Student code must not run unisolated by accident: install bubblewrap, or "
                  "pass --no-sandbox to grade without isolation.", file=sys.stderr)
            return 2
        for what, path in (("the submissions folder", submissions), ("--out", out),
                           ("the gradebook", Path(gradebook))):
            shown = Sandbox.exposes(path)
            if shown:
                print(f"grade: {what} {path} is inside {shown}, which the sandbox shows to "
                      "student code: keep submissions, output and the gradebook elsewhere.",
                      file=sys.stderr)
                return 2
    else:
        sandbox_note = "WARNING: graded with --no-sandbox: student code ran without isolation."

    sources, hashes = {}, {}
    for aid in course_dir.assignment_ids(course_dir.SOLUTIONS):
        path = course_dir.notebook_path(aid, course_dir.SOLUTIONS)
        sources[aid] = load_assignment(path, aid)
        hashes[aid] = hashlib.sha256(path.read_bytes()).hexdigest()

    jobs, notes = discover(submissions, sources, hashes)
    try:
        for stale in (out / "grades.csv", out / "summary.txt"):
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise CannotWrite(write_error(exc, out)) from None
    results_dir = out / ".results"
    started = time.monotonic()

    done: dict[tuple[str, str], NotebookResult] = {}
    todo = []
    for job in jobs:
        cached = results_dir / job.student_id / f"{job.assignment_id}.json"
        feedback = out / "feedback" / job.student_id / job.assignment_id / \
            (Path(sources[job.assignment_id].notebook_name).stem + ".html")
        try:
            saved = json.loads(cached.read_text(encoding="utf-8"))
            if saved.get("key") == job.key and feedback.is_file():
                done[(job.student_id, job.assignment_id)] = NotebookResult.from_dict(
                    saved["result"])
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        todo.append(job)
    resumed = len(done)

    try:
        writer = GradebookWriter(gradebook, sources).__enter__()
    except GradebookError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    try:
        for job in jobs:
            if (job.student_id, job.assignment_id) in done:  # saved by an earlier run
                writer.record(job.student_id, done[(job.student_id, job.assignment_id)])
        if todo:
            context = multiprocessing.get_context("fork")
            with cf.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                                        initializer=_init_worker,
                                        initargs=(sources, limits, sandbox)) as pool:
                futures = {pool.submit(_grade_job, job): job for job in todo}
                bar = tqdm(total=len(jobs), initial=resumed, unit="nb", desc="grading",
                           file=sys.stderr, disable=not sys.stderr.isatty())
                try:
                    for future in cf.as_completed(futures):
                        job = futures[future]
                        try:
                            data, page = future.result()
                        except Exception as exc:  # the pool process itself died
                            result = NotebookResult.failed(sources[job.assignment_id],
                                                           f"grader process failed: {exc}",
                                                           "not run")
                            data, page = result.to_dict(), render_failure(result, job.student_id)
                        result = NotebookResult.from_dict(data)
                        _save(out, results_dir, job, result, page, sources)
                        writer.record(job.student_id, result)
                        done[(job.student_id, job.assignment_id)] = result
                        bar.update(1)
                except (KeyboardInterrupt, CannotWrite):
                    for future in futures:
                        future.cancel()
                    raise
                finally:
                    bar.close()
    except KeyboardInterrupt:
        print(f"\ngrade: interrupted; {len(done)} of {len(jobs)} submissions are saved. "
              "Run the same command again to grade the rest.", file=sys.stderr)
        return 130
    finally:
        writer.__exit__(None, None, None)

    rows = []
    for job in jobs:
        result = done[(job.student_id, job.assignment_id)]
        rows.append({"student_id": shown(job.student_id), "assignment": job.assignment_id,
                     "notebook": result.notebook, "score": f"{result.score:g}",
                     "max_score": f"{result.max_score:g}", "status": result.status,
                     "reason": shown(result.reason, 2000)})
    buffer = io.StringIO()
    writer_csv = csv.DictWriter(buffer, fieldnames=["student_id", "assignment", "notebook", "score",
                                                    "max_score", "status", "reason"],
                                lineterminator="\n")
    writer_csv.writeheader()
    writer_csv.writerows(rows)
    _write_atomic(out / "grades.csv", buffer.getvalue())

    summary = _summary(jobs, done, notes, resumed, time.monotonic() - started, workers,
                       sandbox_note)
    _write_atomic(out / "summary.txt", summary)
    print(summary, file=stream, end="")
    return 0


def _save(out: Path, results_dir: Path, job: Job, result: NotebookResult, page: str,
          sources: dict) -> None:
    stem = Path(sources[job.assignment_id].notebook_name).stem
    _write_atomic(out / "feedback" / job.student_id / job.assignment_id / f"{stem}.html", page)
    _write_atomic(results_dir / job.student_id / f"{job.assignment_id}.json",
                  json.dumps({"key": job.key, "result": result.to_dict()}))


def _summary(jobs, done, notes, resumed, seconds, workers, sandbox_note) -> str:
    lines = []
    if sandbox_note:
        lines.append(sandbox_note)
    graded = [done[(j.student_id, j.assignment_id)] for j in jobs]
    failed = [(j, r) for j, r in zip(jobs, graded) if r.status == "failed"]
    noted = [(j, r) for j, r in zip(jobs, graded) if r.status != "failed" and r.problems]
    full = sum(1 for r in graded if r.score == r.max_score)
    rate = len(jobs) - resumed
    lines.append(f"Graded {len(jobs)} submissions ({resumed} from an earlier run) in "
                 f"{seconds:.1f} s with {workers} worker(s)"
                 + (f": {rate / seconds * 60:.0f} notebooks per minute." if rate and seconds
                    else "."))
    lines.append(f"  full marks: {full}   partial or zero: {len(jobs) - full - len(failed)}   "
                 f"could not be graded: {len(failed)}")
    if failed:
        lines.append("\nCould not be graded (scored 0):")
        for job, result in failed:
            lines.append(f"  {shown(job.student_id)}/{job.assignment_id}: {shown(result.reason)}")
    if noted:
        lines.append("\nGraded, with problems:")
        for job, result in noted:
            lines.append(f"  {shown(job.student_id)}/{job.assignment_id}: {shown(result.reason)}")
    if notes:
        lines.append("\nSkipped:")
        lines += [f"  {shown(n)}" for n in notes]
    by_assignment: dict[str, list[float]] = {}
    for job, result in zip(jobs, graded):
        by_assignment.setdefault(job.assignment_id, []).append(result.score / result.max_score
                                                               if result.max_score else 0)
    if by_assignment:
        lines.append("\nassignment            submissions   mean score")
        for aid, fractions in sorted(by_assignment.items()):
            lines.append(f"  {aid:<20} {len(fractions):>11}   {100 * sum(fractions) / len(fractions):9.1f}%")
    return "\n".join(lines) + "\n"
