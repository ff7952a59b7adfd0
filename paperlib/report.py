"""Standard tables and figures of the book.

Every number a chapter shows is labelled with the profile and data it came from; these helpers put
that label into titles and captions.
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

#: The book's text column in inches at the figures' 100 dpi (sphinx-book-theme's column is about 690
#: px): a figure this wide is shown at its own size, so its text is as large on the page as it was set.
PAGE_WIDTH = 6.8
#: Height of one row of panels (inches).
PANEL_HEIGHT = 3.0


def use_book_style() -> None:
    """One look for every chapter's figures (each notebook calls this once): 100 dpi, figures the width
    of the page, text at 9–11 pt, seaborn's white grid. Figures with several panels stack them in rows
    of at most two (:func:`panels`) rather than shrink them."""
    import matplotlib as mpl
    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (PAGE_WIDTH, PANEL_HEIGHT + 0.6),
        "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
        "legend.fontsize": 8.5, "legend.title_fontsize": 9, "figure.titlesize": 11, "axes.titlelocation": "left",
        "legend.frameon": False,
    })


def panels(n: int, ncols: int = 2, height: float = PANEL_HEIGHT, **subplots) -> tuple[plt.Figure, list]:
    """A page-wide figure with ``n`` panels in rows of at most ``ncols`` (the axes as a flat list; the
    unused cells of the last row are removed)."""
    cols = min(n, ncols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(PAGE_WIDTH, height * rows + 0.6), squeeze=False, **subplots)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def finish(fig: plt.Figure, title: str, label: str | None = None) -> plt.Figure:
    """Title a figure (wrapped to the page; the profile label on a line of its own) and lay it out."""
    lines = textwrap.wrap(title, 95) + ([label] if label else [])
    fig.suptitle("\n".join(lines))
    fig.tight_layout()
    return fig


#: What makes the chapter being run a rehearsal of the paper profile (random weights, a fake data root), set by
#: :func:`paperlib.chapters.kit.note_rehearsal` from the validation cell; None for a real run.
_rehearsal: str | None = None


def set_rehearsal(note: str | None) -> None:
    """Label every number from now on as a rehearsal's (``note``), or not (None)."""
    global _rehearsal
    _rehearsal = note


def rehearsal() -> str | None:
    """The current rehearsal note (:func:`set_rehearsal`), or None."""
    return _rehearsal


def profile_label(profile: str, data: str) -> str:
    """The label every number carries, e.g. ``"profile: embedded · data: embedded benchmark"``; during a rehearsal
    of the paper profile it says so (``… · REHEARSAL: random weights …``), so every table and figure does."""
    label = f"profile: {profile} · data: {data}"
    return f"{label} · {_rehearsal}" if _rehearsal else label


def one_per_class(labels: torch.Tensor, n_classes: int, per_class: int = 1) -> list[int]:
    """Indices of the first ``per_class`` examples of each class, class by class."""
    out = []
    for c in range(n_classes):
        out += (labels == c).nonzero().flatten()[:per_class].tolist()
    return out


def mosaic(images: torch.Tensor, ncols: int, pad: int = 2) -> torch.Tensor:
    """Tile uint8 (N, C, H, W) images into one (H', W', C) uint8 array, row by row, white gaps."""
    n, c, h, w = images.shape
    rows = -(-n // ncols)
    out = torch.full((c, rows * (h + pad) + pad, ncols * (w + pad) + pad), 255, dtype=torch.uint8)
    for i in range(n):
        r, q = divmod(i, ncols)
        out[:, pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = images[i]
    return out.permute(1, 2, 0)


def domain_overview(samples: Sequence[tuple[str, torch.Tensor, Sequence[str]]], max_classes: int = 8,
                    title: str | None = None) -> plt.Figure:
    """One row per domain: one example image (uint8 C×H×W) per class, captioned with its class name.

    ``samples`` holds ``(domain name, images, class names)`` with one image per class in class order.
    Each row is drawn as one mosaic image, which keeps the figure fast to render.
    """
    cols = min(max_classes, max(len(imgs) for _, imgs, _ in samples))
    fig, axes = plt.subplots(len(samples), 1, figsize=(PAGE_WIDTH, len(samples) * 1.35), squeeze=False)
    for ax, (name, imgs, classnames) in zip(axes[:, 0], samples):
        k = min(len(imgs), cols)
        size = imgs.shape[-1]
        ax.imshow(mosaic(imgs[:k], cols, pad=size // 4), interpolation="nearest")
        ax.set_xticks([(size // 4) + q * (size + size // 4) + size / 2 for q in range(k)],
                      [textwrap.fill(str(c), 12, max_lines=2, placeholder="…") for c in classnames[:k]],
                      fontsize=7.5)
        ax.tick_params(length=0, pad=1)
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        for s in ax.spines.values():
            s.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.985 if title else 1))
    return fig


def class_grid(images: torch.Tensor, labels: torch.Tensor, classnames: Sequence[str], per_class: int = 8,
               title: str | None = None) -> plt.Figure:
    """One row per class with ``per_class`` examples of it (uint8 N×C×H×W images), as one mosaic."""
    n, size = len(classnames), images.shape[-1]
    blank = torch.full_like(images[0], 255)
    tiles = []
    for r in range(n):
        idx = (labels == r).nonzero().flatten()[:per_class].tolist()
        tiles += [images[i] for i in idx] + [blank] * (per_class - len(idx))
    fig, ax = plt.subplots(figsize=(per_class * 0.55 + 1.6, n * 0.55 + 0.4))
    ax.imshow(mosaic(torch.stack(tiles), per_class), interpolation="nearest")
    ax.set_yticks([2 + r * (size + 2) + size / 2 for r in range(n)], [str(c) for c in classnames], fontsize=9)
    ax.set_xticks([])
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    if title:
        ax.set_title(textwrap.fill(title, 60), fontsize=9)
    fig.tight_layout(pad=0.2)
    return fig


def accuracy_bars(df: pd.DataFrame, x: str, y: str, title: str, hue: str | None = None,
                  chance: str | None = None) -> plt.Figure:
    """A seaborn bar plot of accuracies in percent, sorted by ``y``; ``chance`` marks a per-bar floor."""
    order = df.groupby(x)[y].mean().sort_values().index
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6))
    sns.barplot(data=df, x=x, y=y, hue=hue, order=order, ax=ax, errorbar=None, color=None if hue else "#4C72B0")
    if chance is not None:
        floor = df.groupby(x)[chance].mean().reindex(order)
        ax.scatter(range(len(order)), floor.values, marker="_", s=300, color="black", zorder=3, label="chance")
        ax.legend()
    ax.set_ylim(0, 100)
    ax.set_xlabel("")
    ax.set_ylabel(f"{y} (%)")
    ax.set_title(textwrap.fill(title, 80))
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    fig.tight_layout()
    return fig
