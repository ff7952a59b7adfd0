"""Chapter 2's figures: a Fig. 2 analogue (accuracy against rank per domain), accuracy against added parameters
(Pareto), the per-layer ‖ΔW‖/‖W‖ heatmap (the supplement's, which the text only mentions) and the pretraining curve
of the shipped ResNet."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .config import BENCHMARK_LABELS
from .tables import rank_curve

#: Heatmap rows per inch of figure height.
ROWS_PER_INCH = 4.5
MARKERS = {"Feature-Extractor": "s", "FC and BN only": "D", "Fine-Tuning": "*", "Feature extractor": "s",
           "Fine-tuning": "*", "LoRA": "v", "FTN (Q&V)": "o", "FTN (O)": "^"}


def fig_rank(conv: pd.DataFrame, benchmarks) -> plt.Figure:
    """ch2 Fig. 2 analogue: test accuracy (mean over seeds) against rank per domain; R = 0 is "FC and BN only".
    Feature-Extractor and Fine-Tuning (mean over domains) are the grey lines. Ranks are evenly spaced."""
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(5.2 * len(benchmarks), 3.6), squeeze=False)
    for ax, b in zip(axes[0], benchmarks):
        curve = rank_curve(conv, b)
        ranks = sorted(curve["rank"].unique())
        pos = {r: i for i, r in enumerate(ranks)}
        for domain, g in curve.groupby("domain", sort=False):
            g = g.sort_values("rank")
            ax.plot([pos[r] for r in g["rank"]], g.acc, marker="o", ms=3, label=domain)
        mean = curve.groupby("rank").acc.mean()
        ax.plot([pos[r] for r in mean.index], mean.values, color="k", lw=2.5, label="mean")
        df = conv[conv.benchmark == b]
        for method, style in (("fe", ":"), ("ft", "--")):
            if (df.method == method).any():
                level = df[df.method == method].groupby("seed").acc.mean().mean()
                ax.axhline(level, color="grey", ls=style, lw=1.2,
                           label="Feature-Extractor (mean)" if method == "fe" else "Fine-Tuning (mean)")
        ax.set_xticks(range(len(ranks)), ["0\n(BN only)" if r == 0 else str(r) for r in ranks])
        ax.set_xlabel("rank R")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(BENCHMARK_LABELS[b], fontsize=10)
    axes[0, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    return fig


def fig_pareto(points: pd.DataFrame) -> plt.Figure:
    """Mean accuracy against the parameters one domain adds (heads excluded; symmetric-log axis so 0 shows), one
    panel per part of the chapter; the upper-left is better."""
    parts = list(dict.fromkeys(points.part))
    fig, axes = plt.subplots(1, len(parts), figsize=(4.6 * len(parts), 3.4), squeeze=False)
    for ax, part in zip(axes[0], parts):
        g = points[points.part == part].sort_values("added")
        for r in g.itertuples():
            ax.scatter(max(r.added, 0), r.acc, marker=MARKERS.get(r.method, "o"), s=40,
                       color="C0" if r.method.startswith("FTN") else "C1")
            ax.annotate(r.method, (max(r.added, 0), r.acc), fontsize=7, xytext=(4, -3), textcoords="offset points")
        ax.set_xscale("symlog", linthresh=100)
        ax.set_xlabel("parameters added per domain (heads excluded)")
        ax.set_ylabel("mean test accuracy (%)")
        ax.set_title(BENCHMARK_LABELS.get(part, "ViT attention (Table 3)"), fontsize=10)
    fig.tight_layout()
    return fig


def fig_delta_norms(norms: pd.DataFrame) -> plt.Figure:
    """‖ΔW_l‖/‖W_l‖ of the trained FTN updates per conv layer (rows, input to output) and rank (columns)."""
    fig, ax = plt.subplots(figsize=(2.2 + 0.9 * norms.shape[1], norms.shape[0] / ROWS_PER_INCH + 1.2))
    im = ax.imshow(norms.values, aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(norms)), [n.replace(".conv", "") for n in norms.index], fontsize=6)
    ax.set_xticks(range(norms.shape[1]), [f"R={r}" for r in norms.columns])
    for (i, j), v in np.ndenumerate(norms.values):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=5, color="w" if v < np.nanmax(norms.values) / 2
                else "k")
    fig.colorbar(im, ax=ax, label="‖ΔW‖ / ‖W‖")
    fig.tight_layout()
    return fig


def fig_pretraining(metrics: dict) -> plt.Figure:
    """The shipped ResNet's pretraining loss (mean per 50 steps) and learning rate."""
    h = pd.DataFrame(metrics["history"])
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.plot(h.step, h.loss, color="C0")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss", color="C0")
    twin = ax.twinx()
    twin.plot(h.step, h.lr, color="C1", lw=1)
    twin.set_ylabel("learning rate", color="C1")
    fig.tight_layout()
    return fig


__all__ = ["fig_delta_norms", "fig_pareto", "fig_pretraining", "fig_rank"]
