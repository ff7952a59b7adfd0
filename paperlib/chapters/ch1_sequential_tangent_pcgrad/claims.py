"""Chapter 1's claims, checked on our numbers (:class:`~paperlib.chapters.kit.Claim`), and the
numbers its closing section cites."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ...finetune import PROTOCOLS
from ...reference import CH1_TABLE4_TEXT, CH1_TABLE5, CH1_TEXT
from ..kit import Claim, judge
from .config import Ch1Config
from .tables import forgetting_summary, paper_numbers

#: Forgetting beyond these (points) means a new task overwrites the earlier ones (closing section).
FORGETS_TARGETS, FORGETS_REFERENCES = 10.0, 15.0


def _paired(runs: pd.DataFrame, a: str, b: str, k: str) -> list[float]:
    A = runs[runs.method == a].set_index("seed")[k]
    B = runs[runs.method == b].set_index("seed")[k]
    return list((A - B).dropna())


def _paper_diff(a: str, b: str, k: str) -> str:
    pa, pb = paper_numbers(a)[0], paper_numbers(b)[0]
    return f"{pa[k] - pb[k]:+.1f}" if k in pa and k in pb else "direction only"


def _paper_range(k: str, lost: bool = False) -> str:
    """The range of the fine-tuned methods' change against CLIP in ch1 Table 5 and the text (points)."""
    base = CH1_TABLE5["CLIP"][k]
    values = [m[k] - base for name, m in {**CH1_TABLE5, **CH1_TEXT}.items() if name != "CLIP" and k in m]
    if lost:
        values = [-v for v in values]
    return f"{min(values):+.0f} to {max(values):+.0f}" + (" lost" if lost else "")


def claims(cfg: Ch1Config, runs: pd.DataFrame, orders: pd.DataFrame | None = None,
           sweeps: dict[str, pd.DataFrame] | None = None) -> list[Claim]:
    """The paper's claims (ch1 Secs. 5.3–5.4) checked on our numbers: paired differences over seeds
    judged by the book's one rule (:func:`~paperlib.chapters.kit.judge`); Table 4 and the sweeps of
    Figs. 3–5 run on the first seed only."""
    have = set(runs.method)
    n = int(runs.seed.nunique())
    out: list[Claim] = []

    def add(claim, a, b, k, paper=None, where="ch1 Table 3"):
        if {a, b} <= have:
            v, ci = judge(_paired(runs, a, b, k))
            out.append(Claim(where, claim, ci, v, n, paper or _paper_diff(a, b, k)))

    tuned = [m for m in runs.method.unique() if m != "CLIP"]
    if "CLIP" in have and tuned:
        gains = {m: float(np.mean(_paired(runs, m, "CLIP", "tgt"))) for m in tuned}
        worst = min(gains, key=gains.get)
        add(f"Every fine-tuning method raises target accuracy over CLIP (smallest gain: {worst})", worst, "CLIP", "tgt",
            _paper_range("tgt"))
        losses = {m: float(np.mean(_paired(runs, "CLIP", m, "ref"))) for m in tuned}
        least = min(losses, key=losses.get)
        add(f"Every fine-tuning method loses reference accuracy against CLIP (smallest loss: {least})", "CLIP",
            least, "ref", _paper_range("ref", lost=True))
    add("Sequential beats separate + merge, standard (S-Stand − B-Stand, tgt)", "S-Stand", "B-Stand", "tgt")
    add("Sequential beats separate + merge, standard (S-Stand − B-Stand, ref)", "S-Stand", "B-Stand", "ref")
    add("Sequential beats separate + merge, tangent (S-TL − B-TL, tgt)", "S-TL", "B-TL", "tgt")
    add("Sequential beats separate + merge, tangent (S-TL − B-TL, ref)", "S-TL", "B-TL", "ref")
    add("Tangent beats standard, separate (B-TL − B-Stand, tgt)", "B-TL", "B-Stand", "tgt")
    add("Tangent beats standard, separate (B-TL − B-Stand, ref)", "B-TL", "B-Stand", "ref")
    add("Tangent beats standard, sequential (S-TL − S-Stand, tgt)", "S-TL", "S-Stand", "tgt")
    add("Tangent beats standard, sequential (S-TL − S-Stand, ref)", "S-TL", "S-Stand", "ref")
    add("Calibration keeps more reference accuracy (S-TL-p0.5 − S-TL, ref)", "S-TL-p0.5", "S-TL", "ref")
    add("Stronger calibration keeps more (S-TL-p1 − S-TL-p0.5, ref)", "S-TL-p1", "S-TL-p0.5", "ref")
    multi = [m for m in runs.method.unique() if m.startswith("S-TL-p0.5-")]
    for m in multi:
        add(f"More calibration rounds keep more reference accuracy ({m} − S-TL-p0.5, ref)", m, "S-TL-p0.5", "ref")
    add("Sign agreement keeps more reference accuracy than none (S-TL-a0.5 − S-TL, ref)", "S-TL-a0.5", "S-TL", "ref")
    add("Sign agreement is better overall than none (S-TL-a0.5 − S-TL, all)", "S-TL-a0.5", "S-TL", "all")
    add("Projection beats sign agreement overall (S-TL-p0.5 − S-TL-a0.5, all)", "S-TL-p0.5", "S-TL-a0.5", "all")
    if len(have) > 2:
        means = runs.groupby("method", observed=True)["all"].mean()
        best = str(means.idxmax())
        out.append(Claim("ch1 Table 3", "A calibrated sequential method (S-TL-p / S-TL-a) is best overall (all)",
                         f"best: {best} ({means.max():.1f})", "yes" if best.startswith(("S-TL-p", "S-TL-a")) else "no",
                         n, "yes (S-TL-p0.5-11)"))
    if orders is not None and len(orders) > 1:
        std = float(orders["all"].std(ddof=0))
        bound = CH1_TABLE4_TEXT["std_below"]
        out.append(Claim("ch1 Table 4", f"S-TL-p0.5 is robust to the training order (std of 'all' over {len(orders)} "
                         f"orders below {bound:g} point)", f"{std:.2f}", "yes" if std < bound else "no", 1,
                         f"< {bound:g}"))
        cur = orders[orders.curriculum]
        if len(cur):
            ranks = {k: int((orders[k] > float(cur[k].iloc[0])).sum() + 1) for k in ("tgt", "all")}
            out.append(Claim("ch1 Table 4", "The curriculum order gives the best tgt and all of the orders",
                             f"rank {ranks['tgt']} and {ranks['all']} of {len(orders)}",
                             "yes" if ranks["tgt"] == ranks["all"] == 1 else "no", 1, "rank 1 and 1"))
    for kind, k, sign, where, text in (
            ("rounds", "ref", 1, "ch1 Fig. 3", "Reference accuracy rises with the calibration frequency n"),
            ("lr", "ref", -1, "ch1 Fig. 4", "Reference accuracy falls as the learning rate grows"),
            ("epochs", "tgt", 1, "ch1 Fig. 5", "Target accuracy rises with longer training"),
            ("epochs", "ref", -1, "ch1 Fig. 5", "Reference accuracy falls with longer training")):
        d = (sweeps or {}).get(kind)
        if d is not None and len(d) > 2:
            rho = float(stats.spearmanr(d["value"], d[k]).statistic)
            out.append(Claim(where, text, f"Spearman ρ = {rho:+.2f} over {len(d)} points",
                             "yes" if sign * rho > 0.5 else "no", 1, "yes"))
    return out


def closing_numbers(cfg: Ch1Config, runs: pd.DataFrame, calibration: pd.DataFrame | None,
                    trajectory: pd.DataFrame | None, tower_parameters: int) -> dict[str, object]:
    """The numbers and computed phrases the closing section cites (glued by the notebook)."""
    nan = float("nan")
    out: dict[str, object] = dict(profile=cfg.profile, n_seeds=len(cfg.seeds))
    means = runs.groupby("method", observed=True)[["tgt", "ref", "all"]].mean()
    tuned = means.drop(index="CLIP") if "CLIP" in means.index else means.iloc[0:0]
    clip = means.loc["CLIP"] if "CLIP" in means.index else None
    for k in ("tgt", "ref"):
        have = clip is not None and len(tuned)
        out[f"{k}_change_min"] = float(tuned[k].min() - clip[k]) if have else nan
        out[f"{k}_change_max"] = float(tuned[k].max() - clip[k]) if have else nan
    out["paper_tgt_change"], out["paper_ref_change"] = _paper_range("tgt"), _paper_range("ref", lost=True)
    later = calibration.iloc[:, 1].dropna() if calibration is not None and len(calibration) else pd.Series(dtype=float)
    out["conflict_min"] = float(later.min()) if len(later) else nan
    out["conflict_max"] = float(later.max()) if len(later) else nan
    if trajectory is not None:
        f = forgetting_summary(trajectory, cfg)
        out.update({f"forget_{k}": v for k, v in f.items()})
        overwrites = f["own"] - f["final"] > FORGETS_TARGETS or f["ref_start"] - f["ref_end"] > FORGETS_REFERENCES
    else:
        out.update({f"forget_{k}": nan for k in ("own", "final", "ref_start", "ref_end")})
        overwrites = None
    out["premise"] = {True: "does not hold", False: "holds",
                      None: "could not be checked (S-TL was not run)"}[overwrites]
    paper = PROTOCOLS["paper"]
    out.update(tower_mparams=tower_parameters / 1e6, iterations=cfg.iterations, lr=cfg.lr,
               paper_iterations=paper.iterations, paper_lr=paper.lr)
    return out


__all__ = ["FORGETS_REFERENCES", "FORGETS_TARGETS", "claims", "closing_numbers"]
