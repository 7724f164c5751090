"""Benchmarks: grading throughput, reference numerics, build and test time.

Prints tables and writes a markdown report (default: benchmarks/REPORT.md).
Numbers are medians of repeated runs with the min-max range; nothing here
fails because a machine is slow.

    python benchmarks/bench.py                 # everything (about 25-30 minutes)
    python benchmarks/bench.py --only numerics # one part: numerics, scale, grading, cluster, build, tests, weight, screens
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT / "tests"))


def timed(fn, repeat=5, warmup=1):
    """Median, min and max seconds of ``fn()`` over ``repeat`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def fmt_t(t):
    """A (median, low, high) time in seconds as ``"1.2 ms (1.1-1.4)"``."""
    med, lo, hi = t
    unit, scale = ("ms", 1e3) if med < 1 else ("s", 1)
    return f"{med * scale:.3g} {unit} ({lo * scale:.3g}-{hi * scale:.3g})"


def table(header, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- machine --------------------------------------------------------------------------


def machine() -> str:
    """The machine the figures come from (date, CPU, cores, memory, versions), as Markdown."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for name in ("numpy", "scipy", "torch", "nbgrader", "jupyter_book"):
        try:
            versions.append(f"{name} {importlib.import_module(name).__version__}")
        except Exception:
            versions.append(f"{name} not installed")
    return "\n".join(
        [
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}",
            f"- machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB memory",
            f"- system: {platform.platform()}",
            f"- Python {platform.python_version()}; " + ", ".join(versions),
        ]
    )


def bandwidth() -> float:
    """Memory bandwidth in GB/s, from a NumPy copy of 400 MB (read + write)."""
    src = np.ones(50_000_000)
    dst = np.empty_like(src)
    med = timed(lambda: np.copyto(dst, src), repeat=7)[0]
    return 2 * src.nbytes / med / 1e9


# -- numerics ---------------------------------------------------------------------------

SHAPES = [(1, 128000), (64, 32000), (4096, 1024), (512, 50257), (4096, 32000)]


def numerics(bw: float) -> str:
    """The reference functions' speed beside scipy's and torch's, as a share of bandwidth ``bw``."""
    import scipy.special

    import course.reference as ref

    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    except ImportError:
        torch = None
    names = set(dir(ref))
    out = [
        f"Memory bandwidth (NumPy copy of 400 MB, read + write): **{bw:.1f} GB/s**.",
        "Effective GB/s counts one read of the input and one write of the output; "
        "% BW is that figure over the measured bandwidth. Times: median (min-max) of 5 runs.",
        "",
    ]
    rows = []
    rng = np.random.default_rng(0)
    ratios: dict[str, dict[str, list[float]]] = {}
    shares: dict[str, list[float]] = {}

    def bench(label, shape, dtype, ours, others, nbytes):
        t_ours = timed(ours)
        gbs = nbytes / t_ours[0] / 1e9
        shares.setdefault(label, []).append(gbs / bw)
        cells = [
            label,
            f"{shape} {np.dtype(dtype).name}",
            fmt_t(t_ours),
            f"{gbs:.1f}",
            f"{100 * gbs / bw:.0f}%",
        ]
        for who, other in zip(("scipy", "torch"), others, strict=True):
            if other is None:
                cells.append("-")
            else:
                t = timed(other)
                ratios.setdefault(label, {}).setdefault(who, []).append(t[0] / t_ours[0])
                cells.append(f"{fmt_t(t)} ({t[0] / t_ours[0]:.2f}x)")
        rows.append(cells)

    header = [
        "function",
        "input",
        "ours",
        "GB/s",
        "% BW",
        "scipy (its time / ours)",
        "torch CPU (its time / ours)",
    ]
    for shape in SHAPES:
        for dtype in [np.float32, np.float64] if shape == (64, 32000) else [np.float32]:
            z = (rng.standard_normal(shape) * 5).astype(dtype)
            zt = torch.from_numpy(z) if torch else None
            nbytes = 2 * z.nbytes
            for name, sp, th in [
                (
                    "stable_softmax",
                    lambda: scipy.special.softmax(z, axis=-1),
                    lambda: torch.softmax(zt, dim=-1),
                ),
                (
                    "log_softmax",
                    lambda: scipy.special.log_softmax(z, axis=-1),
                    lambda: torch.log_softmax(zt, dim=-1),
                ),
                (
                    "logsumexp",
                    lambda: scipy.special.logsumexp(z, axis=-1),
                    lambda: torch.logsumexp(zt, dim=-1),
                ),
            ]:
                if name in names:
                    fn = getattr(ref, name)
                    bench(
                        name,
                        shape,
                        dtype,
                        lambda fn=fn: fn(z),
                        [sp, th if torch else None],
                        nbytes if name != "logsumexp" else z.nbytes,
                    )
            if "cross_entropy" in names and "cross_entropy_grad" in names:
                targets = rng.integers(0, shape[1], size=shape[0])
                ce, grad = ref.cross_entropy, ref.cross_entropy_grad
                if torch:
                    tt = torch.from_numpy(targets)

                    def torch_ce():
                        x = zt.clone().requires_grad_(True)
                        torch.nn.functional.cross_entropy(x, tt).backward()
                else:
                    torch_ce = None
                bench(
                    "cross_entropy + grad",
                    shape,
                    dtype,
                    lambda: (ce(z, targets), grad(z, targets)),
                    [None, torch_ce],
                    2 * z.nbytes,
                )
    out.append(table(header, rows))
    out += [
        "",
        "Where ours stands (a ratio above 1: the other library takes longer than ours):",
        "",
    ]
    summary = []
    for label, share in shares.items():
        cells = [label, f"{100 * min(share):.0f}-{100 * max(share):.0f}%"]
        for who in ("scipy", "torch"):
            r = ratios.get(label, {}).get(who)
            cells.append(f"{min(r):.2f}x to {max(r):.2f}x" if r else "-")
        summary.append(cells)
    out.append(
        table(
            ["function", "% of memory bandwidth", "scipy time / ours", "torch time / ours"], summary
        )
    )
    if "scaled_dot_product_attention" in names:
        rows = []
        for b, h, lq, d in [(1, 8, 512, 64), (4, 8, 1024, 64)]:
            q = rng.standard_normal((b, h, lq, d)).astype(np.float32)
            mask = np.tril(np.ones((lq, lq), dtype=bool))
            ours = timed(lambda: ref.scaled_dot_product_attention(q, q, q, mask), repeat=3)
            cells = ["scaled_dot_product_attention", f"q=k=v {q.shape} causal", fmt_t(ours)]
            if torch:
                qt, mt = torch.from_numpy(q), torch.from_numpy(mask)
                t = timed(
                    lambda: torch.nn.functional.scaled_dot_product_attention(
                        qt, qt, qt, attn_mask=mt
                    ),
                    repeat=3,
                )
                cells.append(f"{fmt_t(t)} ({t[0] / ours[0]:.2f}x)")
            else:
                cells.append("-")
            rows.append(cells)
        out += ["", table(["function", "input", "ours", "torch CPU (its time / ours)"], rows)]
    if torch is None:
        out.append(
            "\ntorch is not installed: `pip install torch==2.13.0` (CPU build) adds its "
            "column; it is a benchmark-only extra, never a course requirement."
        )
    return "\n".join(out)


# -- softmax at scale (chapter 07) --------------------------------------------------------

#: (N, d, V) of the chunked cross-entropy benchmark and L of the attention benchmark.
SCALE_CE = [(4096, 256, 32_000), (4096, 256, 128_000)]
SCALE_ATTENTION = [1024, 4096, 16_384]
SCALE_HEAD_DIM = 64


def mem_available() -> float:
    """Bytes of memory the system says it can still give (MemAvailable), or +inf."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("inf")


def traced_peak(fn) -> int:
    """Peak bytes that one call of fn() allocates, as tracemalloc sees them.

    NumPy reports its arrays to tracemalloc: the measure the exercise tests use.
    """
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


_TORCH_PEAK = r"""
import sys, numpy as np, torch
torch.set_num_threads(int(sys.argv[1]))
kind, a, b, c = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(0)
if kind == "ce":
    h = torch.from_numpy(rng.standard_normal((a, b), dtype=np.float32)).requires_grad_(True)
    w = torch.from_numpy(rng.standard_normal((c, b), dtype=np.float32) * np.float32(0.05)).requires_grad_(True)
    t = torch.from_numpy(rng.integers(0, c, size=a))
    run = lambda: torch.nn.functional.cross_entropy(h @ w.T, t).backward()
else:
    q = torch.from_numpy(rng.standard_normal((1, 1, a, b), dtype=np.float32))
    run = lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q)
def hwm():  # this process's own peak resident memory (ru_maxrss would keep the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
before = hwm()
run()
print(hwm() - before)
"""


def torch_peak(kind: str, *sizes: int) -> int | None:
    """Growth of a fresh process's peak resident memory (VmHWM) over one torch call, in bytes.

    torch's CPU allocator does not report to tracemalloc. None if it cannot be measured.
    """
    done = subprocess.run(
        [PY, "-c", _TORCH_PEAK, str(os.cpu_count() or 1), kind, *map(str, sizes)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    try:
        return int(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def _mb(n_bytes) -> str:
    if n_bytes is None:
        return "-"
    return f"{n_bytes / 1e6:,.0f} MB" if n_bytes >= 1e7 else f"{n_bytes / 1e6:.2f} MB"


def _scale_row(label, full_bytes, need, ours, full, torch_run) -> list[str]:
    """One row of the at-scale tables: (time, peak) of ours, the full version and torch."""
    (t_ours, peak_ours), (t_full, peak_full), (t_torch, peak_torch) = ours, full, torch_run

    def ratio(peak):
        return "-" if peak is None or not peak_full else f"{peak / peak_full:.3f}"

    return [
        label,
        f"{full_bytes / 1e6:,.0f} MB",
        fmt_t(t_ours),
        f"{_mb(peak_ours)} ({ratio(peak_ours)})",
        fmt_t(t_full) if t_full else f"skipped (needs ~{need / 1e9:.0f} GB)",
        _mb(peak_full),
        fmt_t(t_torch) if t_torch else "-",
        f"{_mb(peak_torch)} ({ratio(peak_torch)})",
        f"{t_ours[0] / t_torch[0]:.2f}x" if t_torch else "-",
        f"{t_full[0] / t_torch[0]:.2f}x" if t_torch and t_full else "-",
    ]


def at_scale() -> str:
    """Chapter 07's references: time and peak memory against the full versions and torch."""
    import course.reference as ref

    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    out = [
        "Chapter 07's references against the computation on the full matrix (the course's own "
        "chapter 05 and 06 functions) and against torch CPU, all in `float32`, in one run. Time: "
        "median (min-max) of the runs; ratio: our time / torch's (below 1: ours is faster). "
        "Peak: the memory one call allocates (tracemalloc for NumPy, which reports its arrays "
        "to it; for torch, the growth of a fresh process's peak resident memory); ratio: "
        "peak / the full NumPy version's peak.",
        "",
    ]

    # ---- cross-entropy over a large vocabulary
    rows = []
    for n, d, v in SCALE_CE:
        h = rng.standard_normal((n, d), dtype=np.float32)
        w = rng.standard_normal((v, d), dtype=np.float32)
        w *= np.float32(0.05)
        y = rng.integers(0, v, size=n)
        repeat = 3 if v <= 32_000 else 1

        def ours():
            return ref.chunked_cross_entropy(h, w, y), ref.chunked_cross_entropy_grad(h, w, y)

        def full():
            z = h @ w.T
            loss = ref.cross_entropy(z, y)
            g = ref.cross_entropy_grad(z, y)
            return loss, (g @ w, g.T @ h)

        logits = n * v * 4
        need_full = 8 * logits  # cross_entropy works on a float64 copy: ~4 float64 logits at once
        t_ours, peak_ours = timed(ours, repeat=repeat, warmup=int(repeat > 1)), traced_peak(ours)
        if mem_available() > 1.5 * need_full:
            t_full, peak_full = (
                timed(full, repeat=repeat, warmup=int(repeat > 1)),
                traced_peak(full),
            )
        else:
            t_full, peak_full = None, None
        t_torch = peak_torch = None
        if torch is not None:
            ht = torch.from_numpy(h).requires_grad_(True)
            wt = torch.from_numpy(w).requires_grad_(True)
            yt = torch.from_numpy(y)

            def torch_run():
                ht.grad = wt.grad = None
                torch.nn.functional.cross_entropy(ht @ wt.T, yt).backward()

            if mem_available() > 6 * logits:
                t_torch = timed(torch_run, repeat=repeat, warmup=1)
                peak_torch = torch_peak("ce", n, d, v)
            del ht, wt, yt
        rows.append(
            _scale_row(
                f"N={n}, d={d}, V={v:,}",
                logits,
                need_full,
                (t_ours, peak_ours),
                (t_full, peak_full),
                (t_torch, peak_torch),
            )
        )
        print(rows[-1], file=sys.stderr)
    out += [
        "Cross-entropy and its gradients (loss, dL/dhidden, dL/dweight) of `hidden @ weight.T`: "
        "ours = `chunked_cross_entropy` + `chunked_cross_entropy_grad` (chunk_size 1024); "
        "full = `cross_entropy` + `cross_entropy_grad` on the full logits and two matrix "
        "products; torch = `F.cross_entropy(h @ w.T, t).backward()`.",
        "",
        table(
            [
                "shape",
                "full logits",
                "ours: time",
                "ours: peak (ratio)",
                "full: time",
                "full: peak",
                "torch: time",
                "torch: peak (ratio)",
                "ours / torch time",
                "full / torch time",
            ],
            rows,
        ),
        "",
    ]

    # ---- attention
    rows = []
    for L in SCALE_ATTENTION:
        q = rng.standard_normal((1, 1, L, SCALE_HEAD_DIM), dtype=np.float32)
        repeat = 3 if L <= 4096 else 1
        scores = L * L * 4

        def ours():
            return ref.flash_attention(q, q, q, block_size=256)

        def full():
            return ref.scaled_dot_product_attention(q, q, q)

        t_ours, peak_ours = timed(ours, repeat=repeat, warmup=int(repeat > 1)), traced_peak(ours)
        if mem_available() > 6 * scores:
            t_full, peak_full = (
                timed(full, repeat=repeat, warmup=int(repeat > 1)),
                traced_peak(full),
            )
        else:
            t_full = peak_full = None
        t_torch = peak_torch = None
        if torch is not None:
            qt = torch.from_numpy(q)
            t_torch = timed(
                lambda: torch.nn.functional.scaled_dot_product_attention(qt, qt, qt),
                repeat=repeat,
                warmup=1,
            )
            peak_torch = torch_peak("attention", L, SCALE_HEAD_DIM, 0)
        rows.append(
            _scale_row(
                f"L={L:,}, d={SCALE_HEAD_DIM}, 1 head",
                scores,
                6 * scores,
                (t_ours, peak_ours),
                (t_full, peak_full),
                (t_torch, peak_torch),
            )
        )
        print(rows[-1], file=sys.stderr)
    out += [
        "Attention, q = k = v of shape (1, 1, L, 64), no mask: ours = `flash_attention` "
        "(block_size 256); full = chapter 06's `scaled_dot_product_attention`; torch = "
        "`F.scaled_dot_product_attention`.",
        "",
        table(
            [
                "shape",
                "full scores",
                "ours: time",
                "ours: peak (ratio)",
                "full: time",
                "full: peak",
                "torch: time",
                "torch: peak (ratio)",
                "ours / torch time",
                "full / torch time",
            ],
            rows,
        ),
    ]
    if torch is None:
        out.append(
            "\ntorch is not installed: `pip install torch==2.13.0` (CPU build) adds its "
            "columns; it is a benchmark-only extra, never a course requirement."
        )
    return "\n".join(out)


# -- grading ----------------------------------------------------------------------------


def make_class(folder: Path, students: int) -> int:
    """Students x chapters submissions: 1/2 correct, 1/4 a plausible mistake, 1/4 stub."""
    from autograder import course_dir

    from conftest import make_submission, write_notebook

    count = 0
    for aid in course_dir.assignment_ids():
        name = course_dir.notebook_path(aid, course_dir.RELEASED).name
        spec = importlib.util.spec_from_file_location(
            f"m{aid[:2]}", ROOT / "tests" / f"mistakes_{aid[:2]}.py"
        )
        mistakes = []
        if spec and Path(spec.origin).exists():
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            mistakes = module.MISTAKES
        for i in range(students):
            kind = i % 4
            if kind == 3 or (kind == 2 and not mistakes):
                nb = make_submission(aid, stub=True)
            elif kind == 2:
                m = mistakes[i % len(mistakes)]
                nb = make_submission(aid, replacements={m["cell"]: m["code"]})
            else:
                nb = make_submission(aid)
            write_notebook(nb, folder / f"student{i:03d}" / aid / name)
            count += 1
    return count


def run(cmd, **kw):
    """Run a command; its wall time in seconds (a failure raises, with its output)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return time.perf_counter() - start


def stock_nbgrader(tmp: Path, subs: Path) -> float:
    """Seconds for stock `nbgrader autograde` (sequential) on the same submissions."""
    from autograder import course_dir

    course = tmp / "stock"
    shutil.copytree(course_dir.SOLUTIONS, course / "source")
    shutil.copytree(subs, course / "submitted")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
    )
    env = dict(os.environ, PATH=f"{Path(PY).parent}:{os.environ['PATH']}")
    nbgrader = str(Path(PY).parent / "nbgrader")
    for aid in course_dir.assignment_ids():
        run([nbgrader, "generate_assignment", aid, "--force"], cwd=course, env=env)
    total = 0.0
    for aid in course_dir.assignment_ids():
        total += run([nbgrader, "autograde", aid, "--force"], cwd=course, env=env)
    return total


def grading(students: int, skip_stock: bool) -> str:
    """Time `grade` on a class of ``students`` (and stock nbgrader, unless skipped)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        subs = tmp / "submitted"
        count = make_class(subs, students)
        rows, results = [], {}
        for workers in (1, 2):
            out = tmp / f"out{workers}"
            secs = run(
                [
                    PY,
                    "-m",
                    "autograder",
                    "grade",
                    subs,
                    "--out",
                    out,
                    "--workers",
                    str(workers),
                    "--gradebook",
                    tmp / f"gb{workers}.db",
                ],
                cwd=ROOT,
            )
            results[workers] = secs
            rows.append(
                [
                    f"ours, sandboxed, {workers} worker(s)",
                    count,
                    f"{secs:.1f}",
                    f"{count / secs * 60:.0f}",
                    f"{secs / count:.2f}",
                ]
            )
        if not skip_stock:
            secs = stock_nbgrader(tmp, subs)
            results["stock"] = secs
            rows.append(
                [
                    "stock nbgrader autograde (sequential)",
                    count,
                    f"{secs:.1f}",
                    f"{count / secs * 60:.0f}",
                    f"{secs / count:.2f}",
                ]
            )
        parts: dict[str, list[float]] = {}
        for path in (tmp / "out2" / ".results").rglob("*.json"):
            result = json.loads(path.read_text())["result"]
            for key, value in result.get("timings", {}).items():
                parts.setdefault(key, []).append(value)
            parts.setdefault("total in worker", []).append(
                result["seconds"] + result["timings"].get("feedback", 0)
            )
        with open(tmp / "out2" / "grades.csv") as handle:
            scores = [float(r["score"]) / float(r["max_score"]) for r in csv.DictReader(handle)]
        lines = [
            f"A generated class of {students} students x every chapter = {count} "
            f"notebooks (1/2 correct, 1/4 a plausible mistake, 1/4 stub; mean score "
            f"{100 * sum(scores) / len(scores):.0f}%). Wall-clock time of the whole command.",
            "",
            table(["grader", "notebooks", "seconds", "notebooks/min", "s/notebook"], rows),
        ]
        if "stock" in results:
            lines += [
                "",
                f"**Ratio to stock nbgrader: {results['stock'] / results[1]:.1f}x with "
                f"1 worker, {results['stock'] / results[2]:.1f}x with 2 workers.**",
            ]
        lines += [
            "",
            "Where one notebook's time goes (2 workers; median and max over notebooks, seconds):",
            "",
            table(
                ["stage", "median", "max"],
                [
                    [k, f"{statistics.median(v):.3f}", f"{max(v):.3f}"]
                    for k, v in sorted(parts.items())
                ],
            ),
            "",
            "process_start: bubblewrap + Python + NumPy until the first reply; "
            "notebook_code: the notebook's own cells; tests: the checker's tests "
            "(including the calls into the student's process); feedback: the HTML page. "
            "The rest of the per-notebook time is the pool, the gradebook and CSV export.",
        ]
        return "\n".join(lines)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cluster_grading(students: int, workers: int = 2) -> str:
    """The same class graded by the local pool and by a dask LocalCluster.

    The cluster has as many worker processes (`grade --scheduler`); the figures give a
    projection to a MOOC-sized class.
    """
    import distributed

    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    try:
        subs = tmp / "submitted"
        count = make_class(subs, students)
        secs = {}
        secs["local"] = run(
            [
                PY,
                "-m",
                "autograder",
                "grade",
                subs,
                "--out",
                tmp / "local",
                "--workers",
                str(workers),
                "--gradebook",
                tmp / "local.db",
            ],
            cwd=ROOT,
        )
        with distributed.LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            secs["cluster"] = run(
                [
                    PY,
                    "-m",
                    "autograder",
                    "grade",
                    subs,
                    "--out",
                    tmp / "cluster",
                    "--scheduler",
                    cluster.scheduler_address,
                    "--gradebook",
                    tmp / "cluster.db",
                ],
                cwd=ROOT,
            )
        same = (tmp / "local" / "grades.csv").read_bytes() == (
            tmp / "cluster" / "grades.csv"
        ).read_bytes()
        rows = [
            [
                f"local pool, {workers} worker processes",
                count,
                f"{secs['local']:.1f}",
                f"{count / secs['local']:.2f}",
            ],
            [
                f"dask LocalCluster, {workers} worker processes (`--scheduler`)",
                count,
                f"{secs['cluster']:.1f}",
                f"{count / secs['cluster']:.2f}",
            ],
        ]
        # One worker process grades one notebook at a time: worker-seconds per notebook.
        cost = secs["cluster"] * workers / count
        big = 10_000 * 7
        projection = [
            [n, f"{big * cost / n / 3600:.1f}", f"{n / cost:.1f}"] for n in (10, 50, 100, 500, 1000)
        ]
        return "\n".join(
            [
                f"The same generated class ({students} students x every chapter = {count} notebooks, "
                "sandboxed), graded by the local process pool and by a `distributed.LocalCluster` on "
                "this machine (wall-clock time of the whole command, start-up included). "
                f"grades.csv of the two runs byte-identical: {'yes' if same else 'NO'}.",
                "",
                table(["grader", "notebooks", "seconds", "notebooks/s"], rows),
                "",
                f"Measured cost: {cost:.2f} worker-seconds per notebook on this machine "
                f"({workers} cores shared with everything else). Projection for a class of "
                f"10,000 students x 7 chapters = {big:,} notebooks on N single-threaded workers of "
                "this speed, assuming the client and scheduler keep up (Dask documents about 1 ms of "
                "scheduler overhead per task; the client's saving of each page is not measured "
                "here):",
                "",
                table(["workers N", "hours", "notebooks/s"], projection),
            ]
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- build and tests ---------------------------------------------------------------------


def build_and_tests(skip_tests: bool) -> str:
    """Time a cold book build and the test suite (unless skipped)."""
    jb = str(Path(PY).parent / "jupyter-book")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        out = Path(tmp)
        cold = run([jb, "build", ".", "--path-output", out, "-W", "-n", "--keep-going"], cwd=ROOT)
        cached = run([jb, "build", ".", "--path-output", out, "-W", "-n", "--keep-going"], cwd=ROOT)
    rows = [
        ["book build, cold (executes every chapter)", f"{cold:.1f}"],
        ["book build, cached (nothing changed)", f"{cached:.1f}"],
    ]
    if not skip_tests:
        secs = run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT)
        rows.append(["full test suite (`make test` once set up)", f"{secs:.1f}"])
    return table(["what", "seconds"], rows)


# -- page weight -------------------------------------------------------------------------


def page_weight() -> str:
    """Bytes a first, uncached view of each _toc.yml page transfers, measured in Chromium.

    Serves the already built ``_build/html`` on 127.0.0.1 and loads every page in a fresh
    browser context (empty cache), summing headers and bodies of all finished requests.
    """
    import statistics

    from playwright.sync_api import sync_playwright

    from browsing import serve, toc_pages

    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        return "(no built site in _build/html: build the book first)"
    pages = toc_pages()
    server, origin = serve(html)
    sizes = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        for name in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            got: list[int] = []
            page.on(
                "requestfinished",
                lambda r, got=got: got.append(
                    r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]
                ),
            )
            page.goto(f"{origin}/{name}.html", wait_until="networkidle")
            page.wait_for_timeout(500)
            sizes.append(sum(got))
            context.close()
        browser.close()
    server.shutdown()
    mb = 1e6
    rows = [
        [
            "bytes per first page view (all requests, uncached), median over pages",
            f"{statistics.median(sizes) / mb:.2f} MB",
        ],
        ["bytes per first page view, max over pages", f"{max(sizes) / mb:.2f} MB"],
    ]
    return table(["what", "value"], rows)


# -- screens -------------------------------------------------------------------------------

#: (file stem, page, what to scroll to or None for the top of the page, phone?, dark?)
SCREENS = [
    *[
        (f"{short}-{size}-{mode}", page, None, size == "phone", mode == "dark")
        for short, page in [("ch01", "book/01-definition"), ("ch06", "book/06-attention-masking")]
        for size in ("phone", "desktop")
        for mode in ("light", "dark")
    ],
    *[
        (
            f"ch01-equation-phone-{mode}",
            "book/01-definition",
            "#equation-eq-softmax",
            True,
            mode == "dark",
        )
        for mode in ("light", "dark")
    ],
    *[
        (
            f"ch06-explorer-phone-{mode}",
            "book/06-attention-masking",
            ".sx-explorer",
            True,
            mode == "dark",
        )
        for mode in ("light", "dark")
    ],
    ("ch06-figure-phone-dark", "book/06-attention-masking", "figure", True, True),
]


def screens(folder: Path = ROOT / "benchmarks" / "screens") -> str:
    """Screenshots of the built site for people to look at, and a markdown list of them.

    Chapters 01 and 06 at 390 px (touch, as a phone) and 1280 px, in light and dark mode;
    a scrolling equation, an explorer and a figure on the phone; and the navigation opened
    the way a reader opens it (tapping the visible buttons on the phone).
    """
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from browsing import serve, wait_for_mathjax

    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        return "(no built site in _build/html: build the book first)"
    folder.mkdir(parents=True, exist_ok=True)
    server, origin = serve(html)
    made = []

    def context(browser, phone, dark):
        opts = {
            "viewport": {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800},
            "color_scheme": "dark" if dark else "light",
            "service_workers": "block",
        }
        if phone:
            opts.update(has_touch=True, is_mobile=True)
        return browser.new_context(**opts)

    def shot(page, stem):
        path = folder / f"{stem}.png"
        page.screenshot(path=path)
        # 256 colours are plenty for text and flat figures and halve the file
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
        made.append(stem)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for stem, name, target, phone, dark in SCREENS:
            ctx = context(browser, phone, dark)
            page = ctx.new_page()
            page.goto(f"{origin}/{name}.html")
            wait_for_mathjax(page)
            page.wait_for_timeout(400)
            if target:
                page.locator(target).first.scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, -90)")
                page.wait_for_timeout(300)
            shot(page, stem)
            ctx.close()
        for phone in (True, False):
            ctx = context(browser, phone, False)
            page = ctx.new_page()
            page.goto(f"{origin}/book/01-definition.html")
            page.wait_for_timeout(400)
            size = "phone" if phone else "desktop"
            toggle = page.locator(".primary-toggle:visible").first
            if phone:
                toggle.tap()
                page.wait_for_timeout(500)
                shot(page, f"nav-open-{size}")
                page.keyboard.press("Escape")
                page.wait_for_timeout(300)
                page.locator(".secondary-toggle:visible").first.tap()
                page.wait_for_timeout(500)
                shot(page, f"contents-open-{size}")
            else:  # open from the start at 1280 px; the toggle hides it
                shot(page, f"nav-open-{size}")
                toggle.click()
                page.wait_for_timeout(500)
                shot(page, f"nav-hidden-{size}")
            ctx.close()
        browser.close()
    server.shutdown()
    lines = [
        "Made by `bench.py --only screens` from the built site into `benchmarks/screens/`"
        " (390 x 844 CSS px with touch for the phone, 1280 x 800 for the desktop):",
        "",
    ]
    lines += [f"- [{stem}](screens/{stem}.png)" for stem in made]
    return "\n".join(lines)


def merge(old: str, new: str) -> str:
    """The old report with the sections that ``new`` has replaced by the new ones."""

    def split(text):
        parts, head = {}, None
        for line in text.splitlines():
            if line.startswith("## "):
                head = line
                parts[head] = []
            elif head:
                parts[head].append(line)
        return parts

    old_parts, new_parts = split(old), split(new)
    merged = old.split("\n## ", 1)[0].rstrip("\n")
    for head in list(old_parts) + [h for h in new_parts if h not in old_parts]:
        body = new_parts.get(head, old_parts.get(head))
        merged += "\n\n" + head + "\n" + "\n".join(body).strip("\n")
    return merged + "\n"


def main() -> int:
    """Run the benchmarks the arguments name and merge their tables into REPORT.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=["numerics", "scale", "grading", "cluster", "build", "tests", "weight", "screens"],
    )
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument(
        "--cluster-students",
        type=int,
        default=8,
        help="class size of the cluster section (x every chapter)",
    )
    parser.add_argument("--skip-stock", action="store_true", help="skip stock nbgrader")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "REPORT.md")
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(PY).parent}{os.pathsep}{os.environ['PATH']}"

    sections = [
        "# Benchmark report",
        "",
        "Made by `make bench` (`python benchmarks/bench.py`).",
        "",
        "## Machine",
        "",
        machine(),
    ]
    parts = (
        [args.only]
        if args.only
        else ["numerics", "scale", "grading", "cluster", "build", "tests", "weight", "screens"]
    )
    if "numerics" in parts:
        print("numerics ...", file=sys.stderr)
        sections += ["", "## Reference numerics against scipy and torch", "", numerics(bandwidth())]
    if "scale" in parts:
        print("softmax at scale ...", file=sys.stderr)
        sections += [
            "",
            "## Softmax at scale: chunked cross-entropy and flash attention",
            "",
            at_scale(),
        ]
    if "grading" in parts:
        print("grading ...", file=sys.stderr)
        sections += ["", "## Grading throughput", "", grading(args.students, args.skip_stock)]
    if "cluster" in parts:
        print("grading on a dask LocalCluster ...", file=sys.stderr)
        sections += ["", "## Grading on a Dask cluster", "", cluster_grading(args.cluster_students)]
    if "build" in parts or "tests" in parts:
        print("build and tests ...", file=sys.stderr)
        sections += [
            "",
            "## Build and test time",
            "",
            build_and_tests(skip_tests="tests" not in parts),
        ]
    if "weight" in parts:
        print("page weight ...", file=sys.stderr)
        sections += ["", "## Page weight", "", page_weight()]
    if "screens" in parts:
        print("screens ...", file=sys.stderr)
        sections += ["", "## The site on a phone and a desktop", "", screens()]
    report = "\n".join(sections) + "\n"
    if args.only and args.out.exists():
        report = merge(args.out.read_text(encoding="utf-8"), report)
    print(report)
    args.out.write_text(report, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
