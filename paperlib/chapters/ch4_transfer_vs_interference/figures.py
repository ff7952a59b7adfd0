"""Chapter 4's figures: ch4 Figs. 2–6 (and the supplement's S1–S3, S5–S8 where they are the same
panels), and the loss weights λ_t during training, which is not a figure of the paper."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...report import PAGE_WIDTH, PANEL_HEIGHT, finish, panels
from .config import METRIC_LABELS, METRICS, WEIGHTING_LABELS, Ch4Config
from .tables import fits


def _log_params_axis(ax, params: pd.Series):
    ticks = sorted(params.unique())
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{p / 1000:.0f}K" for p in ticks])
    ax.minorticks_off()
    ax.set_xlabel("trunk parameters (log)")


def _metric_panels(data: pd.DataFrame, title: str, label: str, **lineplot) -> plt.Figure:
    """PerfGain, Interference and Transfer against log parameters, one panel each (ch4 Figs. 2, 3,
    S6–S8), and the legend in the fourth cell of the 2 × 2 grid."""
    fig, axes = panels(4)
    for ax, m in zip(axes, METRICS):
        sns.lineplot(data=data, x="params", y=m, markers=True, ax=ax, **lineplot)
        _log_params_axis(ax, data.params)
        ax.set_ylabel(METRIC_LABELS[m])
        if m == "perf_gain":
            ax.axhline(0, color="grey", lw=0.8)
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()
    axes[3].axis("off")
    axes[3].legend(handles, labels, loc="center")
    return finish(fig, title, label)


def fig2(scores: pd.DataFrame, label: str):
    """Fig. 2: PerfGain, Interference and Transfer averaged over all joint models at each width, per
    weighting, against log parameters (error bars: standard error over models)."""
    return _metric_panels(scores, "Fig. 2 · mean over joint models at each width", label, hue="weighting",
                          style="weighting", dashes=False, errorbar="se", hue_order=list(WEIGHTING_LABELS),
                          err_style="bars")


def fig3(scores: pd.DataFrame, domain: str, cfg: Ch4Config, label: str):
    """Fig. 3 (and the columns of Figs. S6–S8): the three metrics on one domain for each pairing and
    weighting against log parameters (mean over seeds)."""
    part = scores[scores.domain == domain].copy()
    part["partner"] = part.partner.map(lambda p: f"with {p} ({cfg.name(p)})")
    return _metric_panels(part, f"Fig. 3 · metrics on {domain} (stands in for {cfg.name(domain)})", label,
                          hue="partner", style="weighting", errorbar=None)


def fig4(scores: pd.DataFrame, label: str):
    """Fig. 4 / Fig. S1: Transfer against Interference, one dot per joint model and domain, with the
    best-fit line and R² per weighting."""
    f = fits(scores)
    ws = [w for w in WEIGHTING_LABELS if w in set(scores.weighting)]
    fig, axes = panels(len(ws), sharex=True, sharey=True)
    for ax, w in zip(axes, ws):
        part = scores[scores.weighting == w]
        sns.scatterplot(data=part, x="interference", y="transfer", hue="domain", style="width", ax=ax, s=30)
        if w in f.index:
            r = f.loc[w]
            xs = np.linspace(part.interference.min(), part.interference.max(), 10)
            ax.plot(xs, r.intercept + r.slope * xs, color="black", lw=1)
            ax.set_title(f"{WEIGHTING_LABELS[w]}: R² = {r.r2:.2f}, m = {r.slope:.2f}")
        ax.set_xlabel(METRIC_LABELS["interference"])
        ax.set_ylabel(METRIC_LABELS["transfer"])
        ax.legend(fontsize=7, ncol=2)
    return finish(fig, "Fig. 4 / S1 · transfer vs interference, one dot per joint model and domain", label)


def fig5(steps: pd.DataFrame, label: str):
    """Fig. 5 (transfer gain per capacity step) and Fig. S5 (interference drop), per domain."""
    fig, axes = panels(2, ncols=1)
    for ax, col, title in zip(axes, ("transfer_gain", "interference_drop"),
                              ("Fig. 5 · transfer gain", "Fig. S5 · interference drop")):
        sns.barplot(data=steps, x="step", y=col, hue="domain", ax=ax)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel("points (%)")
        ax.set_xlabel("capacity step (trunk parameters)")
        ax.set_title(title)
        ax.legend(loc="best")
    return finish(fig, "Per capacity step, mean over pairings and weightings", label)


def fig6(diffs: pd.DataFrame, label: str):
    """Fig. 6 / S2 / S3: transfer with the more similar partner minus the less similar one, per weighting
    (bars per domain and width), and the absolute interference and transfer differences averaged over
    domains against log parameters."""
    ws = [w for w in WEIGHTING_LABELS if w in set(diffs.weighting)]
    fig, axes = panels(len(ws) + 1)
    for ax, w in zip(axes, ws):
        part = diffs[diffs.weighting == w].assign(width=lambda df: df.width.map(lambda v: f"{v:g}x"))
        sns.barplot(data=part, x="domain", y="d_transfer", hue="width", ax=ax)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"{WEIGHTING_LABELS[w]}: Δ transfer (similar − dissimilar)")
        ax.set_ylabel("points (%)")
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=15)
        ax.legend(title="width")
    ax = axes[-1]
    absd = diffs.assign(abs_i=diffs.d_interference.abs(), abs_t=diffs.d_transfer.abs())
    sns.lineplot(data=absd, x="params", y="abs_i", hue="weighting", marker="o", errorbar=None, ax=ax)
    sns.lineplot(data=absd, x="params", y="abs_t", hue="weighting", marker="s", errorbar=None, ax=ax,
                 linestyle="--", legend=False)
    _log_params_axis(ax, absd.params)
    ax.set_ylabel("|Δ| (points), mean over domains")
    ax.set_title("|Δ interference| (solid, 6c), |Δ transfer| (dashed, S3)")
    ax.legend()
    return finish(fig, "Fig. 6 · more vs less similar pairing", label)


def weights_figure(history: pd.DataFrame, label: str):
    """Not a figure of the paper: the mean loss weight λ_t per epoch of the dynamic weightings, per width."""
    part = history[history.weighting != "uniform"].assign(width=lambda df: df.width.map(lambda v: f"{v:g}x"))
    if part.empty:
        return None
    g = sns.relplot(data=part, x="epoch", y="weight", hue="domain", style="width", row="weighting", kind="line",
                    errorbar=None, height=PANEL_HEIGHT - 0.4, aspect=(PAGE_WIDTH - 1.8) / (PANEL_HEIGHT - 0.4),
                    facet_kws=dict(sharey=False))
    g.figure.suptitle(f"Loss weights λ_t during training (mean over pairings and seeds)\n{label}")
    g.tight_layout()  # the grid's own layout keeps room for its legend
    return g.figure


__all__ = ["fig2", "fig3", "fig4", "fig5", "fig6", "weights_figure"]
