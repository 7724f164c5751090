"""One look for every figure of the book: readable sizes, labels and colours.

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


def style() -> None:
    """Apply the course's figure style (call once per page)."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")  # matplotlib writes no build date
    plt.rcParams.update({
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": cycler(color=PALETTE),
        "legend.frameon": False,
        "svg.hashsalt": "softmax-course",
        "svg.fonttype": "path",
        "path.simplify": False,
    })
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")
