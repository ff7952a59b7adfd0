"""Chapter 3's tables: Table 1 beside the paper's, the gaps the paper's claims rest on, the parameter
counts of the paper's models, the budgets and the search's summary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...reference import CH3_TABLE1, CH3_TEXT
from ...smooth import constant_limit, schedule_weight, step_limit
from ..kit import fmt_ci, paper_vs_ours
from .config import METHOD_LABELS, PAIR_LABELS, Ch3Config, target_pool


def paper_row(cfg: Ch3Config, pair: str, n: int) -> int | None:
    """The paper's N whose share of the target pool is nearest ours: row k of Table 1, where
    N = pool · 10^(−k/2) (A.1/A.2); ``None`` beyond the paper's six rows."""
    pool = target_pool(pair, cfg.profile, cfg.protocols[pair])
    k = round(-2 * math.log10(n / pool))
    rows = list(CH3_TABLE1[pair])
    return rows[k] if 0 <= k < len(rows) else None


def table1(cfg: Ch3Config, results: pd.DataFrame, label: str) -> pd.DataFrame:
    """ch3 Table 1: target test accuracy (%) of Target, Fine-tune, Multi-task and Ours per pair and N,
    ours as the mean over seeds [95 % interval], beside the paper's row of the same N/pool share."""
    rows = []
    for pair in cfg.pairs:
        for n in cfg.sizes[pair]:
            pn = paper_row(cfg, pair, n)
            for method in ("target", "finetune", "multitask", "ours"):
                vals = results[(results.pair == pair) & (results.n == n) & (results.method == method)].test
                rows.append({"pair": PAIR_LABELS[pair], "N (paper)": f"{pn:,}" if pn else "–", "N (ours)": n,
                             "method": METHOD_LABELS[method], "paper": CH3_TABLE1[pair][pn][method] if pn else None,
                             "ours": float(vals.mean()) if len(vals) else None,
                             "ours_text": fmt_ci(vals) if len(vals) else "–"})
    return paper_vs_ours(rows, label, index=["pair", "N (paper)", "N (ours)", "method"], digits=1)


def gaps(results: pd.DataFrame) -> pd.DataFrame:
    """Per (pair, N, seed): Ours minus the best baseline (the baseline with the highest mean test
    accuracy in that row), Fine-tune minus Multi-task and Target minus Fine-tune (percentage points)."""
    wide = results.pivot_table(index=["pair", "n", "seed"], columns="method", values="test")
    means = results.groupby(["pair", "n", "method"]).test.mean()
    out = []
    for (pair, n, seed), r in wide.iterrows():
        best = max(("target", "finetune", "multitask"), key=lambda m: means.get((pair, n, m), -np.inf))
        out.append(dict(pair=pair, n=n, seed=seed, best_baseline=best, ours_minus_best=r.get("ours") - r[best],
                        finetune_minus_multitask=r["finetune"] - r["multitask"],
                        target_minus_finetune=r["target"] - r["finetune"]))
    return pd.DataFrame(out)


GAP_LABELS = {"ours_minus_best": "Ours − best baseline", "finetune_minus_multitask": "Fine-tune − Multi-task",
              "target_minus_finetune": "Target − Fine-tune"}


def paper_gaps(pair: str, paper_n: int) -> dict[str, float]:
    """The same gaps in the paper's Table 1 row (derived in the spec, Sec. 3)."""
    r = CH3_TABLE1[pair][paper_n]
    best = max(r["target"], r["finetune"], r["multitask"])
    return {"ours_minus_best": round(r["ours"] - best, 1),
            "finetune_minus_multitask": round(r["finetune"] - r["multitask"], 1),
            "target_minus_finetune": round(r["target"] - r["finetune"], 1)}


def gaps_table(cfg: Ch3Config, results: pd.DataFrame, label: str) -> pd.DataFrame:
    """The gaps of :func:`gaps` (mean over seeds [interval]) beside the paper's at the same N/pool share:
    the comparison that carries over between datasets, where absolute accuracies do not."""
    g = gaps(results)
    rows = []
    for pair in cfg.pairs:
        for n in cfg.sizes[pair]:
            pn = paper_row(cfg, pair, n)
            mine = g[(g.pair == pair) & (g.n == n)]
            for key, name in GAP_LABELS.items():
                vals = mine[key].dropna()
                rows.append({"pair": PAIR_LABELS[pair], "N (paper)": f"{pn:,}" if pn else "–", "N (ours)": n,
                             "gap": name, "paper": paper_gaps(pair, pn)[key] if pn else None,
                             "ours": float(vals.mean()) if len(vals) else None,
                             "ours_text": fmt_ci(vals, signed=True) if len(vals) else "–"})
    return paper_vs_ours(rows, label, index=["pair", "N (paper)", "N (ours)", "gap"], digits=1)


def limits_table(total: int = 1000) -> pd.DataFrame:
    """ch3 Eqs. (5)–(6) checked on ch3 Eq. (4): the largest gap between λ_ω(t) and its limit over t = 1..T,
    for τ/T shrinking to 0 (step, t₀ = 0.1·T, α = 1) and growing to ∞ (constant, α = 1)."""
    t = np.arange(1, total + 1)
    rows = []
    for tau in (1e-1, 1e-3, 1e-6, 1e-9):
        lam = schedule_weight(t, total, 0.1 * total, tau * total, 1.0)
        step = step_limit(t, total, 0.1 * total)
        away = np.abs(t - (total / 2 + 0.1 * total)) > 1  # the step itself is where the limit depends on α
        rows.append({"limit": "τ → 0: step at T/2 + t₀ (Eq. (5))", "τ/T": f"{tau:g}",
                     "max |λ − limit|": float(np.abs(lam - step)[away].max())})
    for tau in (1e1, 1e3, 1e6, 1e9):
        lam = schedule_weight(t, total, 0.1 * total, tau * total, 1.0)
        rows.append({"limit": "τ → ∞: constant σ(−α) (Eq. (6))", "τ/T": f"{tau:g}",
                     "max |λ − limit|": float(np.abs(lam - constant_limit(1.0)).max())})
    return pd.DataFrame(rows).set_index(["limit", "τ/T"])


def budgets(cfg: Ch3Config, steps: pd.DataFrame) -> pd.DataFrame:
    """Iterations per run kind (A.1/A.2): the paper's epochs and ours, and the joint/single ratio."""
    rows = []
    for pair in cfg.pairs:
        p = cfg.protocols[pair]
        for r in steps[steps.pair == pair].itertuples():
            rows.append({"pair": PAIR_LABELS[pair], "N": r.n, "target only / fine-tune (T)": r.target,
                         "source pre-training (T)": r.source, "Multi-task / Ours (T)": r.joint,
                         "single-dataset epochs": p.single_epochs,
                         "paper: single / joint epochs": f"{CH3_TEXT['single_epochs'][pair]} / "
                                                          f"{CH3_TEXT['joint_epochs'][pair]}"})
    return pd.DataFrame(rows).set_index(["pair", "N"])


def convergence_table(conv: pd.DataFrame) -> pd.DataFrame:
    """The search per (pair, N): trials, best validation accuracy and how often the best was replaced,
    beside the paper's mean of 5.8 replacements over 99 trials (footnote 2)."""
    out = conv.rename(columns={"pair": "pair", "n": "N", "trials": "trials", "best_val": "best val. acc. (%)",
                               "replacements": "best replaced (times)"}).copy()
    out["pair"] = out["pair"].map(PAIR_LABELS)
    out["paper: replaced (mean, 99 trials)"] = CH3_TEXT["best_replacements_mean"]
    return out.set_index(["pair", "N"])


def ablation_table(ablation: pd.DataFrame, cfg: Ch3Config) -> pd.DataFrame:
    """Test accuracy (%) with each BN treatment (A.1 shared, A.2 dataset-specific statistics), first seed,
    and specific minus shared."""
    if not len(ablation):
        return pd.DataFrame()
    t = ablation.pivot_table(index=["pair", "n", "method"], columns="bn", values="test")
    t["specific − shared"] = t["specific"] - t["shared"]
    t = t.rename(columns={"shared": "shared statistics", "specific": "dataset-specific statistics"})
    t.index = t.index.set_levels([t.index.levels[0].map(PAIR_LABELS), t.index.levels[1],
                                  t.index.levels[2].map(METHOD_LABELS)])
    t.index.names = ["pair", "N", "method"]
    return t.sort_index(level=[0, 1, 2], ascending=[True, False, True]).round(1)


def step_limit_table(limit: pd.DataFrame) -> pd.DataFrame:
    """Fine-tune beside ch3 Eq. (5)'s limit trained inside Smooth Transfer Learning, first seed (test and
    validation accuracy, %), and the difference."""
    t = limit.copy()
    t["pair"] = t["pair"].map(PAIR_LABELS)
    t["limit − Fine-tune"] = t["limit"] - t["finetune"]
    t = t.rename(columns={"n": "N", "finetune": "Fine-tune (test)", "limit": "Eq. (5) limit (test)",
                          "finetune_val": "Fine-tune (val.)", "limit_val": "Eq. (5) limit (val.)"})
    return t.set_index(["pair", "N"])[["Fine-tune (test)", "Eq. (5) limit (test)", "limit − Fine-tune",
                                      "Fine-tune (val.)", "Eq. (5) limit (val.)"]]


__all__ = ["GAP_LABELS", "ablation_table", "budgets", "convergence_table", "gaps", "gaps_table", "limits_table",
           "paper_gaps", "paper_row", "step_limit_table", "table1"]
