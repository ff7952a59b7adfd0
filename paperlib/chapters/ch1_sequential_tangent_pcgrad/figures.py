"""Chapter 1's figures: ch1 Fig. 2 (accuracy by dataset), Figs. 3–5 (the sweeps), and a stage-by-stage
forgetting heatmap, which is not a figure of the paper."""

from __future__ import annotations

import pandas as pd

from .config import Ch1Config


def display_name(task: str, cfg: Ch1Config) -> str:
    paper = cfg.paper_names[task]
    return task if paper == task else f"{task}\n({paper})"


def fig2(acc: pd.DataFrame, cfg: Ch1Config, label: str):
    """Fig. 2: accuracy by dataset and method (mean over seeds; bars show the seeds' standard deviation)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    d = acc.copy()
    d["dataset"] = [display_name(t, cfg) for t in d.task]
    order = [display_name(t, cfg) for t in (*cfg.targets, *cfg.references)]
    fig, ax = plt.subplots(figsize=(12, 4.2))
    sns.barplot(d, x="dataset", y="accuracy", hue="method", order=order, errorbar="sd", ax=ax, palette="tab10",
                err_kws={"linewidth": 0.8})
    ax.axvline(len(cfg.targets) - 0.5, color="grey", lw=1, ls="--")
    ax.text(len(cfg.targets) / 2 - 0.5, 101, "target tasks", ha="center", fontsize=8)
    ax.text(len(cfg.targets) + len(cfg.references) / 2 - 0.5, 101, "reference tasks", ha="center", fontsize=8)
    ax.set_ylim(0, 108)
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlabel("")
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, ncol=len(d.method.unique()), loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    ax.set_title(f"Accuracy by dataset (Fig. 2) · {label}", fontsize=9)
    fig.tight_layout()
    return fig


def forgetting_figure(traj: pd.DataFrame, cfg: Ch1Config, method: str, label: str):
    """Heatmap of :meth:`Chapter1.forgetting`: test accuracy (%) of each task (columns; targets, then
    references) after each training stage (rows, top to bottom)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    cols = [*cfg.targets, *cfg.references]
    d = traj[cols].copy()
    d.columns = [display_name(t, cfg).replace("\n", " ") for t in cols]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(d) + 1.6))
    sns.heatmap(d, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, cbar_kws={"label": "test accuracy (%)"},
                annot_kws={"size": 7}, ax=ax)
    ax.axvline(len(cfg.targets), color="white", lw=2)
    ax.set_ylabel("after training on")
    ax.set_xlabel("evaluated task (targets | references)")
    ax.tick_params(labelsize=7)
    ax.set_title(f"{method}, one task after another (seed {cfg.seeds[0]}) · {label}", fontsize=9)
    fig.tight_layout()
    return fig


def sweep_figure(sweeps: dict[str, pd.DataFrame], cfg: Ch1Config, label: str):
    """Figs. 3–5: tgt / ref / all accuracy against n, the learning rate and the training length."""
    import matplotlib.pyplot as plt
    titles = {"rounds": ("Fig. 3: calibration frequency", "rounds n"),
              "lr": (f"Fig. 4: learning rate (S-TL-p0.5-{cfg.sweep_rounds})", "peak learning rate"),
              "epochs": (f"Fig. 5: training length (S-TL-p0.5-{cfg.sweep_rounds})", "iterations per task")}
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.3), squeeze=False)
    for ax, (kind, d) in zip(axes[0], sweeps.items()):
        x = d["iterations per task"] if kind == "epochs" else d["value"]
        for k, color in (("tgt", "#4C72B0"), ("ref", "#DD8452"), ("all", "#55A868")):
            ax.plot(x, d[k], marker="o", color=color, label={"tgt": "targets", "ref": "references", "all": "all"}[k])
        if kind == "lr":
            ax.set_xscale("log")
        ax.set_title(titles[kind][0], fontsize=8)
        ax.set_xlabel(titles[kind][1], fontsize=8)
        ax.set_ylabel("mean test accuracy (%)", fontsize=8)
        ax.legend(fontsize=7)
    fig.suptitle(f"{label} · seed {cfg.seeds[0]}", fontsize=8)
    fig.tight_layout()
    return fig


__all__ = ["display_name", "fig2", "forgetting_figure", "sweep_figure"]
