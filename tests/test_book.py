"""The site builds strictly, shows computed numbers, and leaks no solutions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from autograder import course_dir

from conftest import CHAPTERS, FORBIDDEN, ROOT, normalised, solution_lines


def test_every_chapter_page_is_built(site):
    toc = (ROOT / "_toc.yml").read_text()
    for page in re.findall(r"file:\s*(\S+)", toc):
        assert (site / f"{page}.html").is_file(), page


def test_site_holds_no_solution_code_or_hidden_tests(site):
    secrets = {aid: solution_lines(aid) for aid in CHAPTERS}
    for path in site.rglob("*"):
        if (
            path.suffix not in (".html", ".ipynb", ".md", ".py", ".txt", ".js")
            or "_static" in path.parts
        ):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in FORBIDDEN:
            assert marker not in text, (path, marker)
        text = normalised(text)
        for lines in secrets.values():
            leaked = [line for line in lines if line in text]
            assert not leaked, (path, leaked[:3])


def test_site_publishes_the_kit_and_links_it(site, built_book):
    """The "Get the exercises" page links the kit's zip and wheel, byte for byte the kit
    that `make student-kit` built; the kit's own leak test is in test_kit.py."""
    from autograder import kit

    page = (site / "book" / "get-the-exercises.html").read_text(encoding="utf-8")
    for name in (kit.ZIP_NAME, kit.wheel_name()):
        published = list((site / "_downloads").rglob(name))
        assert len(published) == 1, name
        assert published[0].read_bytes() == (built_book.kit / name).read_bytes()
        assert f'{published[0].relative_to(site).as_posix()}"' in page.replace("../", "")
    intro = (site / "book" / "intro.html").read_text(encoding="utf-8")
    assert "get-the-exercises.html" in intro


def test_downloads_are_the_student_notebooks(site):
    downloads = list((site / "_downloads").rglob("*.ipynb"))
    for path in downloads:
        assert "NotImplementedError" in path.read_text(encoding="utf-8"), path
        released = course_dir.RELEASED / path.stem / path.name
        assert released.read_bytes() == path.read_bytes(), path


def test_worked_example_numbers_are_computed(site):
    """The chapter shows softmax([2, 1, 0.1]) as computed by the reference."""
    from scipy.special import softmax as scipy_softmax

    from course.reference import softmax

    p = softmax([2.0, 1.0, 0.1])
    np.testing.assert_allclose(p, scipy_softmax([2.0, 1.0, 0.1]), rtol=1e-12)
    page = (site / "book" / "01-definition.html").read_text(encoding="utf-8")
    for value in p:
        assert f"{value:.3f}" in page, f"{value:.3f} missing from the chapter"


def test_maths_is_served_locally(site):
    page = (site / "book" / "01-definition.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert any("mathjax/tex-chtml.js" in s for s in scripts), scripts
    remote = [s for s in scripts if s.startswith(("http:", "https:", "//"))]
    assert not remote, remote
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


@pytest.mark.slow  # runs every notebook under nbval in a fresh process
def test_solution_notebooks_run_clean_under_nbval(tmp_path):
    """The instructor notebooks run top to bottom in a real kernel (nbval)."""
    notebooks = [str(course_dir.notebook_path(a)) for a in CHAPTERS]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "-W",
            "ignore",
            "--rootdir",
            str(tmp_path),
            *notebooks,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", done.stdout)


@pytest.mark.slow  # runs every notebook under nbval in a fresh process
def test_released_notebooks_fail_under_nbval(tmp_path):
    """A stub notebook cannot pass: its solution cells raise NotImplementedError."""
    notebook = course_dir.notebook_path(CHAPTERS[0], course_dir.RELEASED)
    copy = tmp_path / notebook.name
    shutil.copy(notebook, copy)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "-W",
            "ignore",
            "--rootdir",
            str(tmp_path),
            str(copy),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1 and "NotImplementedError" in done.stdout


def page_text(site, name: str) -> str:
    """The visible text of a built page, tags removed and spaces collapsed."""
    import html

    raw = (site / "book" / f"{name}.html").read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", "", raw, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", raw)))


def exact_softmax_by_ratios(row) -> list[float]:
    """p_i = 1 / sum_j exp(z_j - z_i), in 50-digit decimal arithmetic (an independent form)."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 50
        z = [decimal.Decimal(float(v)) for v in row]
        return [float(1 / sum((zj - zi).exp() for zj in z)) for zi in z]


def test_ch03_mean_shift_claims_hold_and_are_shown(site):
    from scipy.special import logsumexp

    from course.reference import stable_softmax

    text = page_text(site, "03-stability")
    wide = np.array([0.0, 800.0, 800.0])  # spread 800, yet the mean shift is fine
    e = np.exp(wide - wide.mean())
    np.testing.assert_allclose(e / e.sum(), stable_softmax(wide), rtol=1e-15)
    assert f"only {wide.max() - wide.mean():.2f} below its maximum" in text
    ties = np.array([0.0, 709.0, 709.0, 709.0])  # each term fits, the sum does not
    with np.errstate(over="ignore"):
        e = np.exp(ties - ties.min())
        assert np.isfinite(e).all() and np.isinf(e.sum())
    assert f"({logsumexp(ties) - ties.min():.2f} here)" in text
    assert "any row whose spread exceeds" not in text


def test_ch03_figure_measures_against_an_exact_reference(site):
    from course.reference import stable_softmax

    text = page_text(site, "03-stability")
    base = np.array([0.0, 1.0, 2.0, 3.0])
    shown = []
    for dtype, span in ((np.float32, 130), (np.float64, 820)):
        Z = (base + np.linspace(-span, span, 3281)[:, None]).astype(dtype)
        exact = np.array([exact_softmax_by_ratios(row) for row in Z])
        err = (np.abs(stable_softmax(Z).astype(np.float64) - exact) / exact).max()
        assert err < 4 * np.finfo(dtype).eps
        shown.append(f"{err:.1e}")
    assert f"largest relative error is {shown[0]} in float32 and {shown[1]} in float64" in text
    assert "float64 reference" not in text


def test_ch04_sterbenz_claims_hold_and_are_shown(site):
    text = page_text(site, "04-log-sum-exp")
    rng = np.random.default_rng(1974)
    y = rng.uniform(1, 1e4, 100_000).astype(np.float32)
    x = (y * rng.uniform(0.5, 2.0, y.size)).astype(np.float32)
    ok = (y / 2 <= x) & (x <= 2 * y)
    assert ((x - y)[ok] == (x.astype(np.float64) - y.astype(np.float64))[ok]).all()
    # The chapter's own experiment, redrawn: scores c + u, u in [-5, 5], 10 classes.
    rng = np.random.default_rng(404)
    shares = []
    for c in (1e0, 1e1, 1e2, 1e3, 1e4, 1e5):
        z = (c + rng.uniform(-5, 5, size=(1000, 10))).astype(np.float32)
        m = z.max(axis=-1, keepdims=True)
        shares.append(np.mean((z - m) == (z.astype(np.float64) - m.astype(np.float64))))
    assert shares[0] < 1 and shares[2:] == [1.0] * 4
    assert f"{100 * shares[0]:.0f}% of the differences still come out exact" in text
    assert "from offset 100 on" in text
    assert "deeper reason for the name" not in text


def test_new_pages_show_computed_numbers(site):
    from scipy.special import logsumexp

    from course.reference import softmax

    notation = page_text(site, "notation")
    z = np.array([1000.0, 1001.0, 1002.0])
    assert f"{logsumexp(z):.4f}" in notation
    assert f"{logsumexp(z) - z[0]:.4f}" in notation  # the cross-entropy for y = 0
    where = page_text(site, "where-next")
    scores = np.array([1.0, 0.8, 0.1])
    lo, hi = scores.min() - 1, scores.max()  # sparsemax threshold, by bisection
    for _ in range(200):
        tau = (lo + hi) / 2
        lo, hi = (tau, hi) if np.maximum(scores - tau, 0).sum() > 1 else (lo, tau)
    sparse = np.maximum(scores - tau, 0)
    assert sparse[2] == 0
    assert f"returns ({sparse[0]:.2f}, {sparse[1]:.2f}, 0)" in where
    assert all(f"{p:.3f}" in where for p in softmax(scores))
    K, alpha = 5, 0.1
    assert f"{np.log((1 - alpha + alpha / K) / (alpha / K)):.4f}" in where
    definition = page_text(site, "01-definition")
    for context in ([5.0, 4.9, 4.8], [2.0, -1.0, -2.0]):
        assert f"{softmax(context)[0]:.3f}" in definition


def test_cross_references_resolve(site):
    """Links written as [chapter NN](NN-name.md) become links to built pages."""
    for page in (
        "01-definition",
        "03-stability",
        "04-log-sum-exp",
        "06-attention-masking",
        "notation",
        "where-next",
    ):
        raw = (site / "book" / f"{page}.html").read_text(encoding="utf-8")
        targets = set(re.findall(r'href="((?:\d\d-[a-z-]+|notation|where-next)\.html)[#"]', raw))
        assert targets, page
        for target in targets:
            assert (site / "book" / target).is_file(), (page, target)
