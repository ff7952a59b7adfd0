"""Standard tables and figures of the book.

Every number a chapter shows is labelled with the profile and data it came from; these helpers put
that label into titles and captions.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch


def profile_label(profile: str, data: str) -> str:
    """The label every number carries, e.g. ``"profile: embedded · data: embedded benchmark"``."""
    return f"profile: {profile} · data: {data}"


def one_per_class(labels: torch.Tensor, n_classes: int, per_class: int = 1) -> list[int]:
    """Indices of the first ``per_class`` examples of each class, class by class."""
    out = []
    for c in range(n_classes):
        out += (labels == c).nonzero().flatten()[:per_class].tolist()
    return out


def domain_overview(samples: Sequence[tuple[str, torch.Tensor, Sequence[str]]], max_classes: int = 12,
                    title: str | None = None) -> plt.Figure:
    """One row per domain: one example image (uint8 C×H×W) per class, captioned with its class name.

    ``samples`` holds ``(domain name, images, class names)`` with one image per class in class order.
    """
    cols = min(max_classes, max(len(imgs) for _, imgs, _ in samples))
    fig, axes = plt.subplots(len(samples), cols, figsize=(cols * 0.95, len(samples) * 1.12), squeeze=False)
    for r, (name, imgs, classnames) in enumerate(samples):
        for c in range(cols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if c < len(imgs) and c < max_classes:
                ax.imshow(imgs[c].permute(1, 2, 0).numpy(), interpolation="nearest")
                ax.set_title(str(classnames[c])[:14], fontsize=6, pad=2)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig


def class_grid(images: torch.Tensor, labels: torch.Tensor, classnames: Sequence[str], per_class: int = 8,
               title: str | None = None) -> plt.Figure:
    """A grid with one row per class and ``per_class`` examples of it (uint8 N×C×H×W images)."""
    n = len(classnames)
    fig, axes = plt.subplots(n, per_class, figsize=(per_class * 0.6 + 1.6, n * 0.62), squeeze=False)
    for r in range(n):
        idx = (labels == r).nonzero().flatten()[:per_class]
        for c in range(per_class):
            ax = axes[r, c]
            ax.axis("off")
            if c < idx.numel():
                ax.imshow(images[idx[c]].permute(1, 2, 0).numpy(), interpolation="nearest")
        axes[r, 0].text(-0.15, 0.5, str(classnames[r]), transform=axes[r, 0].transAxes, ha="right", va="center",
                        fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=0.2)
    return fig


def accuracy_bars(df: pd.DataFrame, x: str, y: str, title: str, hue: str | None = None,
                  chance: str | None = None) -> plt.Figure:
    """A seaborn bar plot of accuracies in percent, sorted by ``y``; ``chance`` marks a per-bar floor."""
    order = df.groupby(x)[y].mean().sort_values().index
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    sns.barplot(data=df, x=x, y=y, hue=hue, order=order, ax=ax, errorbar=None, color=None if hue else "#4C72B0")
    if chance is not None:
        floor = df.groupby(x)[chance].mean().reindex(order)
        ax.scatter(range(len(order)), floor.values, marker="_", s=300, color="black", zorder=3, label="chance")
        ax.legend(fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_xlabel("")
    ax.set_ylabel(y)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    fig.tight_layout()
    return fig
