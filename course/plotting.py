"""One look for every figure of the book: readable sizes, labels and colours.

Figures are drawn at most :data:`MAX_WIDTH_IN` inches wide with text of at least
:data:`MIN_FONT_PT` points, so that on a 390 px phone (where an image is shown about
342 px wide) every text is at least ~10 px tall; wider layouts stack their panels.
They are saved with a transparent background: in dark mode the site's figures.css
(course/sphinx_ext.py) inverts their lightness, so the page's own background shows
through with light text on it (tests/test_figures.py measures both).

Call :func:`style` once at the top of a chapter. In a notebook (or a book page
being built) it also makes figures display, and glue, as SVG images whose bytes
depend only on the figure: no date, fixed ids.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
from cycler import cycler

#: Colour-blind-safe palette (Okabe & Ito, 2008).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

#: The widest figure the book draws, in inches (72 SVG units each).
MAX_WIDTH_IN = 5.2
#: The smallest font the style sets, in points (SVG units).
MIN_FONT_PT = 11


def style() -> None:
    """Apply the course's figure style (call once per page)."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")  # matplotlib writes no build date
    plt.rcParams.update(
        {
            "figure.figsize": (MAX_WIDTH_IN, 3.4),
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "font.size": MIN_FONT_PT,
            "axes.titlesize": 12,
            "axes.labelsize": MIN_FONT_PT,
            "legend.fontsize": MIN_FONT_PT,
            "xtick.labelsize": MIN_FONT_PT,
            "ytick.labelsize": MIN_FONT_PT,
            # Transparent backgrounds (IPython's print_figure passes the figure's facecolor,
            # so savefig.transparent alone would not reach glued figures).
            "figure.facecolor": "none",
            "axes.facecolor": "none",
            "savefig.transparent": True,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.prop_cycle": cycler(color=PALETTE),
            "legend.frameon": False,
            "svg.hashsalt": "softmax-course",
            "svg.fonttype": "path",
            "path.simplify": False,
        }
    )
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")
