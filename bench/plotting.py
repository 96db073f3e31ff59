"""One log-scale line chart per bench, written as PNG (matplotlib is the optional
``.[bench]`` extra; without it the benches still write their JSON)."""

from __future__ import annotations

import sys


def pyplot():
    """matplotlib.pyplot on the file-only backend, or None (said once on stderr)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install '.[bench]'): no plot", file=sys.stderr)
        return None
    return plt


def line_chart(path, xs, series, xlabel: str, ylabel: str, title: str = "") -> None:
    """``series``: [(label, ys, style)]."""
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ys, style in series:
        ax.plot(xs, ys, style, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
