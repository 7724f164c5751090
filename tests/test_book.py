"""The site builds strictly, shows computed numbers, and leaks no solutions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import course_dir
from conftest import CHAPTERS, ROOT
from test_release import FORBIDDEN, normalised, solution_lines

HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def site():
    """Build the book exactly as `make book` does: the student kit, then the site, with
    warnings as errors."""
    kit = subprocess.run([sys.executable, "-m", "autograder", "kit", "--out", "_build/kit"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert kit.returncode == 0, kit.stderr
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", ".", "-W", "-n", "--keep-going"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return HTML


def test_every_chapter_page_is_built(site):
    toc = (ROOT / "_toc.yml").read_text()
    for page in re.findall(r"file:\s*(\S+)", toc):
        assert (site / f"{page}.html").is_file(), page


def test_site_holds_no_solution_code_or_hidden_tests(site):
    secrets = {aid: solution_lines(aid) for aid in CHAPTERS}
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".ipynb", ".md", ".py", ".txt", ".js") or \
                "_static" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in FORBIDDEN:
            assert marker not in text, (path, marker)
        text = normalised(text)
        for aid, lines in secrets.items():
            leaked = [line for line in lines if line in text]
            assert not leaked, (path, leaked[:3])


def test_site_publishes_the_kit_and_links_it(site):
    """The "Get the exercises" page links the kit's zip and wheel, byte for byte the kit
    that `make student-kit` built; the kit's own leak test is in test_kit.py."""
    from autograder import kit

    page = (site / "book" / "get-the-exercises.html").read_text(encoding="utf-8")
    for name in (kit.ZIP_NAME, kit.wheel_name()):
        published = list((site / "_downloads").rglob(name))
        assert len(published) == 1, name
        assert published[0].read_bytes() == (ROOT / "_build" / "kit" / name).read_bytes()
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


def test_solution_notebooks_run_clean_under_nbval(tmp_path):
    """The instructor notebooks run top to bottom in a real kernel (nbval)."""
    notebooks = [str(course_dir.notebook_path(a)) for a in CHAPTERS]
    done = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q",
                           "-p", "no:cacheprovider", "-o", "addopts=", "-W", "ignore",
                           "--rootdir", str(tmp_path), *notebooks],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", done.stdout)


def test_released_notebooks_fail_under_nbval(tmp_path):
    """A stub notebook cannot pass: its solution cells raise NotImplementedError."""
    notebook = course_dir.notebook_path(CHAPTERS[0], course_dir.RELEASED)
    copy = tmp_path / notebook.name
    shutil.copy(notebook, copy)
    done = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q",
                           "-p", "no:cacheprovider", "-o", "addopts=", "-W", "ignore",
                           "--rootdir", str(tmp_path), str(copy)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "NotImplementedError" in done.stdout
