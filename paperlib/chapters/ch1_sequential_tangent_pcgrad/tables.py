"""Chapter 1's tables: ch1 Table 3 / 5 beside the paper's (numbers from :mod:`paperlib.reference`),
Table 4 over training orders, calibration conflict rates and the forgetting summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...reference import CH1_TABLE5, CH1_TEXT
from ...sequential import parse_method, summarize
from ..kit import fmt_ci, paper_vs_ours
from .config import Ch1Config


def per_run(acc: pd.DataFrame, targets, references) -> pd.DataFrame:
    """tgt / ref / all per (method, seed)."""
    rows = []
    for (m, s), d in acc.groupby(["method", "seed"], observed=True):
        rows.append(dict(method=m, seed=s, **summarize(dict(zip(d.task, d.accuracy)), targets, references)))
    return pd.DataFrame(rows)


def paper_numbers(method: str) -> tuple[dict, str]:
    """The paper's tgt/ref/all for a method (%) and where they come from ('ch1 Table 5', 'ch1 text', or '')."""
    if method in CH1_TABLE5:
        return CH1_TABLE5[method], "ch1 Table 5"
    m = parse_method(method)
    if m.calibration == "pcgrad" and m.c == 0.5 and m.rounds > 1:
        return CH1_TEXT["S-TL-p0.5-11"], "ch1 text (n = 11)"
    if method in CH1_TEXT:
        return CH1_TEXT[method], "ch1 text"
    return {}, ""


def table3(runs: pd.DataFrame, methods, label: str) -> pd.DataFrame:
    """ch1 Table 3 / 5: per method and measure (tgt, ref, all), ours (mean [95% CI] over seeds) beside
    the paper's, with the difference of the means (points) and where the paper's number comes from."""
    rows = []
    for m in methods:
        d = runs[runs.method == m]
        if d.empty:
            continue
        paper, source = paper_numbers(m)
        for k in ("tgt", "ref", "all"):
            rows.append({"method": m, "mean over": k, "paper": paper.get(k), "ours": float(d[k].mean()),
                         "ours_text": fmt_ci(d[k]), "paper source": source or "–", "seeds": len(d)})
    return paper_vs_ours(rows, label, index=["method", "mean over"], digits=1, wide="mean over")


def table4(orders: pd.DataFrame) -> pd.DataFrame:
    """Table 4: mean, standard deviation, min and max of tgt / ref / all over the orders run,
    plus the curriculum order's value and its rank among them (1 = best)."""
    rows = []
    for k in ("tgt", "ref", "all"):
        v = orders[k]
        cur = orders.loc[orders.curriculum, k]
        rank = int((v > float(cur.iloc[0])).sum() + 1) if len(cur) else None
        rows.append(dict(row=k, mean=v.mean(), std=v.std(ddof=0), min=v.min(), max=v.max(),
                         curriculum=float(cur.iloc[0]) if len(cur) else np.nan, rank=rank))
    return pd.DataFrame(rows).set_index("row").round(2)


def calibration_table(extras: pd.DataFrame) -> pd.DataFrame:
    """How often calibration acted: per calibrated method, the mean conflict rate over its calibrated
    segments (projection: share of (step, reference) pairs with g·v < 0; sign: share of gradient
    components scaled), on the first task (pre-calibration) and the later ones."""
    rows = []
    for _, r in extras.dropna(subset=["segments"]).iterrows():
        first, *later = [s["conflict_rate"] for s in r["segments"]]
        later = [x for x in later if x is not None]
        if first is not None or later:
            rows.append(dict(method=r["method"], first_task=np.nan if first is None else first,
                             later_tasks=np.mean(later) if later else np.nan))
    if not rows:
        return pd.DataFrame()
    d = pd.DataFrame(rows)
    out = d.groupby("method", sort=False)[["first_task", "later_tasks"]].mean() * 100
    out.columns = ["conflict rate, first task (%)", "conflict rate, later tasks (%)"]
    return out.round(1)


def forgetting_summary(traj: pd.DataFrame, cfg: Ch1Config) -> dict[str, float]:
    """From :meth:`Chapter1.forgetting`: ``own`` = mean accuracy of each target right after its own
    (first-round) training, ``final`` = the same targets at the end, ``ref_start`` / ``ref_end`` = the
    references' mean before training and at the end (points)."""
    stages = list(traj.index)
    own = [float(traj.iloc[stages.index(t)][t]) for t in cfg.targets if t in stages]
    final = traj.iloc[-1]
    return {"own": float(np.mean(own)), "final": float(np.mean([final[t] for t in cfg.targets if t in stages])),
            "ref_start": float(traj.iloc[0][list(cfg.references)].mean()),
            "ref_end": float(final[list(cfg.references)].mean())}


__all__ = ["calibration_table", "forgetting_summary", "paper_numbers", "per_run", "table3", "table4"]
