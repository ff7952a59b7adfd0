"""Chapter 5's figures: ch5 Fig. 3 (single-task accuracy), Figs. 4 and 7 (disentanglement error),
Fig. 5 (task-vector cosines), and two that are not in the paper: one-vector interference and the
α search curves, and the shipped foundation model's pre-training."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...report import PAGE_WIDTH, finish, panels
from .config import PARADIGM_LABELS, Ch5Config


def fig3(single: pd.DataFrame, label: str):
    """Fig. 3 style: each paradigm's single-task accuracy against non-linear fine-tuning, per task."""
    import matplotlib.pyplot as plt
    d = single.drop(index="mean")
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    lo = float(np.nanmin(d[[c for c in d.columns if c != "zero-shot"]].values)) - 3
    for col, marker, color in (("linearized", "^", "#DD8452"), ("linear_only", "o", "#4C72B0")):
        if col in d and "non_linear" in d:
            ax.scatter(d["non_linear"], d[col], marker=marker, s=40, color=color,
                       label=f"{PARADIGM_LABELS[col]} vs non-linear")
    ax.plot([lo, 100], [lo, 100], "--", color="grey", lw=1, label="equal accuracy")
    ax.set_xlim(lo, 100)
    ax.set_ylim(lo, 100)
    ax.set_xlabel("non-linear fine-tuning accuracy (%)")
    ax.set_ylabel("linear / linearized fine-tuning accuracy (%)")
    ax.legend(loc="lower right")
    return finish(fig, "Fig. 3 · single-task accuracy per task", label)


def disentanglement_figure(xi: dict, pair: tuple[str, str], paradigms, grid, label: str):
    """Fig. 4 / 7 style: ξ(α1, α2) heatmaps, representation (top) and classification (bottom); the red
    box is the α search space [0, 1]²."""
    from matplotlib.patches import Rectangle
    fig, axes = panels(2 * len(paradigms), height=3.2)  # a row per paradigm: representation | classification
    g = np.asarray(grid)
    step = (g[1] - g[0]) if len(g) > 1 else 1.0
    ext = [g[0] - step / 2, g[-1] + step / 2, g[0] - step / 2, g[-1] + step / 2]
    for col, kind in enumerate(("representation", "classification")):
        vmax = max(float(np.max(xi[(pair, p)][kind])) for p in paradigms) or 1.0
        for row, p in enumerate(paradigms):
            ax = axes[2 * row + col]
            im = ax.imshow(xi[(pair, p)][kind].T, origin="lower", extent=ext, cmap="magma_r", vmin=0, vmax=vmax)
            ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor="red", lw=1.2))
            ax.set_xlabel(f"α1 ({pair[0]})")
            ax.set_ylabel(f"α2 ({pair[1]})")
            ax.grid(False)
            ax.set_title(f"{PARADIGM_LABELS[p]}: {kind}" + (" (KL)" if col == 0 else " (pred. error)"))
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return finish(fig, f"Figs. 4 and 7 · disentanglement error ξ, {pair[0]} – {pair[1]}", label)


def cosine_figure(cos: dict[str, pd.DataFrame], label: str):
    """Fig. 5 style: cosine similarity of task vectors, one heatmap per paradigm."""
    import seaborn as sns
    fig, axes = panels(len(cos), height=3.9)
    for ax, (p, m) in zip(axes, cos.items()):
        sns.heatmap(m, ax=ax, vmin=0, vmax=1, cmap="rocket_r", annot=True, fmt=".2f", annot_kws={"size": 7.5},
                    cbar=False, square=True)
        ax.set_title(PARADIGM_LABELS[p])
    return finish(fig, "Fig. 5 · cosine similarity of task vectors", label)


def interference_figure(inter: dict[str, pd.DataFrame], label: str):
    """Heatmaps of :meth:`Chapter5.interference`: rows add one task's vector (α = 1), columns are the
    evaluated tasks; red is a loss against the pre-trained model, blue a gain."""
    import seaborn as sns
    lim = max(float(np.abs(m.values).max()) for m in inter.values()) or 1.0
    fig, axes = panels(len(inter), height=3.9)
    for ax, (p, m) in zip(axes, inter.items()):
        sns.heatmap(m, ax=ax, vmin=-lim, vmax=lim, center=0, cmap="RdBu", annot=True, fmt=".0f",
                    annot_kws={"size": 7.5}, cbar=False, square=True)
        ax.set_title(PARADIGM_LABELS[p])
        ax.set_xlabel("evaluated task")
        ax.set_ylabel("task vector added (α = 1)")
    return finish(fig, "Accuracy change against the pre-trained model (points), one task vector at α = 1", label)


def foundation_figure(summary: dict):
    """Pre-training loss and per-task zero-shot accuracy of the shipped model."""
    h, r = summary["history"], summary["recipe"].dropna(subset=["zero_shot_test"])
    fig, (a, b) = panels(2)
    a.plot(h.step, h.loss)
    a.set_xlabel("pre-training step")
    a.set_ylabel("contrastive loss")
    a.set_title("pre-training loss")
    r = r.sort_values("zero_shot_test")
    b.barh(r.index, r.zero_shot_test, color="#4C72B0")
    b.set_xlim(0, 100)
    b.set_xlabel("zero-shot test accuracy (%)")
    b.set_title("zero-shot accuracy per task")
    return finish(fig, "The shipped paperlib-tiny-ViT-8", "profile: embedded · data: embedded benchmark")


def alpha_curves(addition: pd.DataFrame, cfg: Ch5Config, label: str):
    """Validation normalized accuracy against α for each paradigm (mean over seeds)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.4))
    for p in cfg.paradigms:
        d = addition[addition.setting == p]
        curves = pd.DataFrame(list(d.val_curve)).astype(float)
        curves.columns = [float(c) for c in curves.columns]
        ax.plot(curves.columns, curves.mean(), marker=".", label=PARADIGM_LABELS[p])
    ax.set_xlabel("α")
    ax.set_ylabel("val normalized acc. (%)")
    ax.legend()
    return finish(fig, "Task addition: choosing α on the validation splits (mean over seeds)", label)


__all__ = ["alpha_curves", "cosine_figure", "disentanglement_figure", "fig3", "foundation_figure",
           "interference_figure"]
