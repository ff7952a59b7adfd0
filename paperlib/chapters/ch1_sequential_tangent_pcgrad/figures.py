"""Chapter 1's figures: ch1 Fig. 2 (accuracy by dataset), Figs. 3–5 (the sweeps), and a stage-by-stage
forgetting heatmap, which is not a figure of the paper."""

from __future__ import annotations

import pandas as pd

from ...report import PAGE_WIDTH, finish, panels
from .config import Ch1Config

#: Rows of the forgetting heatmap per inch of figure height.
HEATMAP_ROWS_PER_INCH = 2.2


def display_name(task: str, cfg: Ch1Config) -> str:
    paper = cfg.paper_names[task]
    return task if paper == task else f"{task}\n({paper})"


def fig2(acc: pd.DataFrame, cfg: Ch1Config, label: str):
    """Fig. 2: accuracy by dataset and method (mean over seeds; bars show the seeds' standard deviation)."""
    import seaborn as sns
    d = acc.copy()
    d["dataset"] = [display_name(t, cfg) for t in d.task]
    fig, axes = panels(2, ncols=1, height=3.3)  # targets above, references below
    for ax, role, tasks in zip(axes, ("target tasks", "reference tasks"), (cfg.targets, cfg.references)):
        order = [display_name(t, cfg) for t in tasks]
        sns.barplot(d[d.dataset.isin(order)], x="dataset", y="accuracy", hue="method", order=order, errorbar="sd",
                    ax=ax, palette="tab10", err_kws={"linewidth": 0.8}, legend=ax is axes[0])
        ax.set_ylim(0, 100)
        ax.set_ylabel("test accuracy (%)")
        ax.set_xlabel("")
        ax.set_title(role)
    axes[0].legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8)
    return finish(fig, "Fig. 2 · accuracy by dataset and method (bars: the seeds' standard deviation)", label)


def forgetting_figure(traj: pd.DataFrame, cfg: Ch1Config, method: str, label: str):
    """Heatmap of :meth:`Chapter1.forgetting`: test accuracy (%) of each task (columns; targets, then
    references) after each training stage (rows, top to bottom)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    cols = [*cfg.targets, *cfg.references]
    d = traj[cols].copy()
    d.columns = [display_name(t, cfg).replace("\n", " ") for t in cols]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, len(d) / HEATMAP_ROWS_PER_INCH + 2.6))
    sns.heatmap(d, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, cbar_kws={"label": "test accuracy (%)"},
                annot_kws={"size": 8.5}, ax=ax)
    ax.axvline(len(cfg.targets), color="white", lw=2)
    ax.set_ylabel("after training on")
    ax.set_xlabel("evaluated task (targets | references)")
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    for t in ax.get_xticklabels():
        t.set_horizontalalignment("right")
    return finish(fig, f"{method}, one task after another (seed {cfg.seeds[0]})", label)


def sweep_figure(sweeps: dict[str, pd.DataFrame], cfg: Ch1Config, label: str):
    """Figs. 3–5: tgt / ref / all accuracy against n, the learning rate and the training length."""
    titles = {"rounds": ("Fig. 3: calibration frequency", "rounds n"),
              "lr": (f"Fig. 4: learning rate\n(S-TL-p0.5-{cfg.sweep_rounds})", "peak learning rate"),
              "epochs": (f"Fig. 5: training length\n(S-TL-p0.5-{cfg.sweep_rounds})", "iterations per task")}
    fig, axes = panels(len(sweeps) + 1)
    for ax, (kind, d) in zip(axes, sweeps.items()):
        x = d["iterations per task"] if kind == "epochs" else d["value"]
        for k, color in (("tgt", "#4C72B0"), ("ref", "#DD8452"), ("all", "#55A868")):
            ax.plot(x, d[k], marker="o", color=color, label={"tgt": "targets", "ref": "references", "all": "all"}[k])
        if kind == "lr":
            ax.set_xscale("log")
        ax.set_title(titles[kind][0])
        ax.set_xlabel(titles[kind][1])
        ax.set_ylabel("mean test accuracy (%)")
    axes[-1].axis("off")
    axes[-1].legend(*axes[0].get_legend_handles_labels(), loc="center")
    return finish(fig, f"Figs. 3–5 · the sweeps (seed {cfg.seeds[0]})", label)


__all__ = ["display_name", "fig2", "forgetting_figure", "sweep_figure"]
