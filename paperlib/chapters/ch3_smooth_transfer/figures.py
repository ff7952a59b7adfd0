"""Chapter 3's figures: Fig. 1 redrawn from ch3 Eq. (4), a Fig. 2 analogue (the best λ_ω(t) per N with its
early-stopping time), the search's convergence (footnote 2), Table 1 as a picture and the BN ablation."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...reference import CH3_TABLE1
from ...smooth import Schedule, schedule_weight
from .config import METHOD_LABELS, PAIR_LABELS, Ch3Config, target_pool

#: λ axis from 0 to 1 with a little room above and below, so steps at 0 and 1 stay visible.
LAMBDA_LIMITS = (-1 / 20, 1 + 1 / 20)
COLORS = {"target": "#7f7f7f", "finetune": "#1f77b4", "multitask": "#ff7f0e", "ours": "#2ca02c",
          "multitask_searched": "#d62728"}


def fig1(total: int = 1000):
    """ch3 Fig. 1 from ch3 Eq. (4): (a, b) pre-training-then-fine-tuning, τ → 0, switching at T/2 + t₀ with
    t₀ = −T/4 and +T/4; (c, d) multi-task learning, τ → ∞, with α = −1 and +1 (the spec's choice of ω; the
    paper's figure gives none); and one smooth schedule between them."""
    t = np.arange(1, total + 1)
    cases = [("(a) step, t₀ = −T/4", -total / 4, 1e-3 * total, 0.0),
             ("(b) step, t₀ = +T/4", total / 4, 1e-3 * total, 0.0),
             ("(c) constant, α = −1", 0.0, 1e3 * total, -1.0), ("(d) constant, α = +1", 0.0, 1e3 * total, 1.0),
             ("smooth: t₀ = 0, τ = T/10, α = 0", 0.0, 0.1 * total, 0.0)]
    fig, axes = plt.subplots(1, len(cases), figsize=(13, 2.6), sharey=True)
    for ax, (name, t0, tau, alpha) in zip(axes, cases):
        ax.plot(t / total, schedule_weight(t, total, t0, tau, alpha), color="k")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("t / T")
        ax.set_ylim(*LAMBDA_LIMITS)
    axes[0].set_ylabel("λ_ω(t)")
    fig.tight_layout()
    return fig


def fig2(cfg: Ch3Config, search: pd.DataFrame, top: int = 3):
    """The Fig. 2 analogue: per pair and N, the best trial's λ_ω(t) (thick) with its early-stopping time
    (dashed), and the next ``top`` − 1 trials (thin), to show how flat the optimum is."""
    pairs = list(cfg.pairs)
    ncol = max(len(cfg.sizes[p]) for p in pairs)
    fig, axes = plt.subplots(len(pairs), ncol, figsize=(3.2 * ncol, 2.6 * len(pairs)), squeeze=False, sharey=True)
    for i, pair in enumerate(pairs):
        for j, n in enumerate(cfg.sizes[pair]):
            ax = axes[i, j]
            trials = search[(search.pair == pair) & (search.n == n)].sort_values(["val", "trial"],
                                                                                  ascending=[False, True])
            for rank, r in enumerate(trials.head(top).itertuples()):
                lam = Schedule("smooth", t0=r.t0, tau=r.tau, alpha=r.alpha).weights(int(r.steps))
                x = np.arange(1, int(r.steps) + 1) / r.steps
                ax.plot(x, lam, color="C2" if rank == 0 else "0.6", lw=2.2 if rank == 0 else 1,
                        label=f"val {r.val:.1f}%" + (" (best)" if rank == 0 else ""), zorder=3 - rank)
                if rank == 0:
                    ax.axvline(r.best_step / r.steps, color="C0", ls="--", lw=1.2)
            ax.set_title(f"{PAIR_LABELS[pair]}, N = {n}", fontsize=9)
            ax.set_xlabel("t / T")
            ax.set_ylim(*LAMBDA_LIMITS)
            ax.legend(fontsize=7, loc="best")
        axes[i, 0].set_ylabel("λ_ω(t)")
        for j in range(len(cfg.sizes[pair]), ncol):
            axes[i, j].axis("off")
    fig.tight_layout()
    return fig


def convergence(cfg: Ch3Config, search: pd.DataFrame, conv: pd.DataFrame):
    """Best-so-far target validation accuracy against the trial, per pair and N; rounds shaded; the
    legend gives how often the best was replaced (the paper: 5.8 on average over 99 trials)."""
    fig, axes = plt.subplots(1, len(cfg.pairs), figsize=(5.5 * len(cfg.pairs), 3.2), squeeze=False)
    for ax, pair in zip(axes[0], cfg.pairs):
        k = cfg.search[pair][0]
        for j, n in enumerate(cfg.sizes[pair]):
            g = search[(search.pair == pair) & (search.n == n)].sort_values("trial")
            best = np.maximum.accumulate(g.val.to_numpy())
            reps = conv[(conv.pair == pair) & (conv.n == n)].replacements.iloc[0]
            x = np.arange(1, len(best) + 1)
            ax.step(x, best, where="post", color=f"C{j}", label=f"N = {n}: best replaced {reps}×")
            ax.plot(x, g.val, ".", color=f"C{j}", alpha=0.5)
        rounds = cfg.search[pair][1]
        for r in range(0, rounds, 2):
            ax.axvspan(r * k + 0.5, (r + 1) * k + 0.5, color="0.93", zorder=0)
        ax.set_xlabel(f"trial (rounds of {k}, shaded alternately)")
        ax.set_ylabel("target validation accuracy (%)")
        ax.set_title(PAIR_LABELS[pair], fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def table1_figure(cfg: Ch3Config, results: pd.DataFrame, label: str):
    """Table 1 as a picture: test accuracy against N/pool per method, ours (mean and seeds) beside the
    paper's, one row of panels per pair."""
    fig, axes = plt.subplots(len(cfg.pairs), 2, figsize=(10, 3.2 * len(cfg.pairs)), squeeze=False)
    for i, pair in enumerate(cfg.pairs):
        pool = target_pool(pair, cfg.profile, cfg.protocols[pair])
        ax = axes[i, 0]
        for method in ("target", "finetune", "multitask", "ours"):
            d = results[(results.pair == pair) & (results.method == method)]
            if not len(d):
                continue
            m = d.groupby("n").test.mean()
            ax.plot(m.index / pool, m.values, "o-", color=COLORS[method], label=METHOD_LABELS[method])
            ax.plot(d.n / pool, d.test, ".", color=COLORS[method], alpha=0.4)
        ax.set_title(f"ours ({label}): {PAIR_LABELS[pair]}", fontsize=9)
        ax = axes[i, 1]
        paper = CH3_TABLE1[pair]
        pool_paper = max(paper)
        for method in ("target", "finetune", "multitask", "ours"):
            ax.plot([n / pool_paper for n in paper], [paper[n][method] for n in paper], "o-", color=COLORS[method],
                    label=METHOD_LABELS[method])
        ax.set_title(f"paper, Table 1: {PAIR_LABELS[pair]}", fontsize=9)
        for ax in axes[i]:
            ax.set_xscale("log")
            ax.set_xlabel("N / target pool")
            ax.set_ylabel("target test accuracy (%)")
        axes[i, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def ablation_figure(ablation: pd.DataFrame):
    """Test accuracy with shared and dataset-specific BN statistics, per N, for Multi-task and Ours. Without
    ablation runs (``bn_ablation=False``, the paper profile's default) the figure says so, so that the chapter's
    reference to it still resolves."""
    if not len(ablation):
        fig, ax = plt.subplots(figsize=(6, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, "No BN ablation in this run (parameter bn_ablation=False):\nnothing to compare.",
                ha="center", va="center", fontsize=9)
        return fig
    keys = list(dict.fromkeys(zip(ablation.pair, ablation.n, ablation.method)))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(keys)), 3))
    x = np.arange(len(keys))
    for off, bn, color in ((-0.2, "shared", "#9467bd"), (0.2, "specific", "#8c564b")):
        vals = [ablation[(ablation.pair == p) & (ablation.n == n) & (ablation.method == m) & (ablation.bn == bn)]
                .test.mean() for p, n, m in keys]
        ax.bar(x + off, vals, width=0.4, color=color, label=f"{bn} statistics")
    ax.set_xticks(x, [f"{METHOD_LABELS[m]}\nN = {n}" for _, n, m in keys], fontsize=8)
    ax.set_ylabel("target test accuracy (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


__all__ = ["COLORS", "ablation_figure", "convergence", "fig1", "fig2", "table1_figure"]
