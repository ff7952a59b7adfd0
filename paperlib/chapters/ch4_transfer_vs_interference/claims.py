"""Chapter 4's claims, checked on our numbers (:class:`~paperlib.chapters.kit.Claim`), and the
numbers its closing section cites."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ...reference import CH4_PVALUES
from ..kit import Claim
from .config import METRICS, Ch4Config
from .tables import SIGNIFICANCE, cka_order, fits, paper_cka_range


def _yn(ok: bool | None, partly: bool = False) -> str:
    """A verdict of the book's vocabulary for a claim that held (``ok``), held in part, or could not be judged."""
    return "inconclusive" if ok is None else "yes" if ok else ("partly" if partly else "no")


def claims(cfg: Ch4Config, single: pd.DataFrame, scores: pd.DataFrame, cka: pd.DataFrame,
           tt: pd.DataFrame, diffs: pd.DataFrame, steps: pd.DataFrame) -> list[Claim]:
    """One claim or hypothesis of ch4 Secs. 4.1–4.4 and S3–S4 each, checked on our numbers: ``yes``
    when it held (with p < SIGNIFICANCE where a test applies), ``partly`` when some of its parts held."""
    out: list[Claim] = []

    def add(section, claim, ours, verdict, paper=""):
        where = f"ch4 {'Sec. ' if section[0].isdigit() else ''}{section}"
        out.append(Claim(where, claim, ours, verdict, len(cfg.seeds), paper))

    widest, narrowest = max(cfg.widths), min(cfg.widths)
    # Sec. 4.1: weightings differ only at the largest width, where CoV wins on PerfGain.
    pg = tt[tt.metric == "perf_gain"] if len(tt) else tt
    if len(pg):
        top = pg[pg.width == f"{widest:g}x"]
        rest = pg[pg.width != f"{widest:g}x"]
        cov_rows = top[(top.a == "uncertainty") & (top.b == "cov") | (top.a == "uniform") & (top.b == "cov")]
        cov_wins = bool(len(cov_rows)) and all(r.significant and r["diff"] < 0 for _, r in cov_rows.iterrows())
        quiet = not rest.significant.any() if len(rest) else True
        ours = "; ".join(f"{r.a} − {r.b}: {r['diff']:+.1f} (p = {r.p:.3f})" for _, r in top.iterrows())
        add("4.1", f"Weightings differ in PerfGain only at the largest width ({widest:g}x), where CoV beats "
            f"Uniform and Uncertainty (paired t-tests, α = {SIGNIFICANCE:g})",
            f"at {widest:g}x: {ours}; significant at smaller widths: {int(rest.significant.sum()) if len(rest) else 0}",
            _yn(cov_wins and quiet, partly=cov_wins or quiet),
            f"p = {CH4_PVALUES[('cov', 'uniform')]} (vs Uniform), "
            f"{CH4_PVALUES[('cov', 'uncertainty')]} (vs Uncertainty)")
    # Sec. 4.2: less interference correlates with more transfer.
    f = fits(scores)
    if "all" in f.index:
        r = f.loc["all"]
        add("4.2", "Less interference correlates with more transfer (negative slope of the best-fit line)",
            f"slope {r.slope:.2f}, R² = {r.r2:.2f}, r = {r.r:.2f}, p = {r.p:.2g} over {int(r.n)} domain scores",
            _yn(r.r < 0 and r.p < SIGNIFICANCE), "negative linear relationship for every weighting (Fig. 4, S1)")
    # Sec. 4.2: the metrics complement each other (on the Tiny-ImageNet stand-in, Fig. 3).
    tiny = next((d for d in cfg.domains if cfg.paper_names[d] == "TinyImageNet100"), cfg.domains[0])
    part = scores[scores.domain == tiny].groupby("width")[list(METRICS)].mean()
    if len(part) >= 2:
        lo, hi = part.loc[narrowest], part.loc[widest]
        ok_lo = lo.perf_gain < 0 and lo.transfer > 0
        ok_hi = hi.perf_gain > 0 and hi.interference > 0
        add("4.2", f"On {cfg.name(tiny)} the smallest width has negative PerfGain but non-zero transfer, the largest "
            "positive PerfGain but non-zero interference",
            f"{tiny}: {narrowest:g}x PerfGain {lo.perf_gain:+.1f}, transfer {lo.transfer:.1f}; {widest:g}x PerfGain "
            f"{hi.perf_gain:+.1f}, interference {hi.interference:.1f}", _yn(ok_lo and ok_hi, partly=ok_lo or ok_hi))
    # Sec. 4.3: greater capacity, less interference and more transfer.
    if scores.width.nunique() >= 2:
        ri = stats.spearmanr(scores.params, scores.interference, nan_policy="omit")
        rt = stats.spearmanr(scores.params, scores.transfer, nan_policy="omit")
        ok_i, ok_t = ri.statistic < 0 and ri.pvalue < SIGNIFICANCE, rt.statistic > 0 and rt.pvalue < SIGNIFICANCE
        add("4.3", "Greater capacity leads to less interference and more transfer",
            f"Spearman ρ(params, interference) = {ri.statistic:+.2f} (p = {ri.pvalue:.2g}), ρ(params, transfer) = "
            f"{rt.statistic:+.2f} (p = {rt.pvalue:.2g})", _yn(ok_i and ok_t, partly=ok_i or ok_t))
    # Sec. 4.3: transfer gain positive, shrinking, faster convergence for easier domains.
    if len(steps) and steps.step.nunique() >= 2:
        per = {d: g.transfer_gain.to_numpy() for d, g in steps.groupby("domain")}
        positive = all((g > 0).all() for g in per.values())
        shrinking = all((np.diff(g) < 0).all() for g in per.values())
        acc = single.groupby("domain").acc.mean()
        # convergence: the last step's gain relative to the first (smaller = converged faster)
        conv = {d: g[-1] / g[0] if g[0] > 0 else math.nan for d, g in per.items()}
        order_acc = list(acc.sort_values(ascending=False).index)
        order_conv = sorted(conv, key=lambda d: conv[d])
        add("4.3", "Transfer gain per capacity step is always positive and shrinks as capacity grows; easier domains "
            "(higher independent accuracy) converge faster",
            f"all gains > 0: {positive}; shrinking for every domain: {shrinking}; easiest → hardest: "
            f"{' > '.join(order_acc)}; fastest → slowest convergence: {' > '.join(order_conv)}",
            _yn(positive and shrinking and order_acc == order_conv,
                partly=positive or shrinking or order_acc == order_conv))
    # Sec. 4.4: a more similar pairing gives more transfer and less interference.
    if len(diffs):
        more_t = (diffs.d_transfer > 0).mean()
        less_i = (diffs.d_interference < 0).mean()
        bt = stats.binomtest(int((diffs.d_transfer > 0).sum()), len(diffs), alternative="greater").pvalue
        bi = stats.binomtest(int((diffs.d_interference < 0).sum()), len(diffs), alternative="greater").pvalue
        add("4.4", "A more similar pairing yields more transfer and less interference",
            f"more transfer in {100 * more_t:.0f}% of {len(diffs)} (domain, width, weighting) cells (sign test p = "
            f"{bt:.2g}); less interference in {100 * less_i:.0f}% (p = {bi:.2g})",
            _yn(bt < SIGNIFICANCE and bi < SIGNIFICANCE, partly=bt < SIGNIFICANCE or bi < SIGNIFICANCE),
            "transfer: yes for all Uniform models; interference: no clear pattern (ch4 S2.3)")
    # S3, ch4 Eq. (4): the similarity order of the pairings.
    order = cka_order(cka, cfg)
    if order["as ch4 Eq. (4)"].notna().all():
        same = order["as ch4 Eq. (4)"].all()
        consistent = order.order.nunique() == 1
        add("S3", "CKA orders the pairings CIFAR–Places < Places–ImageNet < CIFAR–ImageNet at every width "
            "(ch4 Eq. (4))",
            f"our orders: {'; '.join(f'{w}: {o}' for w, o in order.order.items())}",
            _yn(same, partly=consistent), "consistent for all four widths")
    # S4: independent accuracy rises with width with shrinking gains.
    acc = single.groupby(["domain", "width"]).acc.mean().unstack("width")
    if acc.shape[1] >= 2:
        gains = acc.diff(axis=1).iloc[:, 1:]
        rising = bool((gains > 0).all().all())
        shrinking = bool((gains.diff(axis=1).iloc[:, 1:] < 0).all().all()) if gains.shape[1] >= 2 else True
        add("S4", "Independent accuracy rises with width, with shrinking gains",
            "gains per step: " + "; ".join(f"{d}: {', '.join(f'{g:+.1f}' for g in row)}"
                                           for d, row in gains.iterrows()),
            _yn(rising and shrinking, partly=rising))
    return out


def closing_numbers(cfg: Ch4Config, single: pd.DataFrame, scores: pd.DataFrame, cka: pd.DataFrame) -> dict:
    """The numbers and computed phrases the closing section cites (glued by the notebook)."""
    acc = single.groupby("width").acc.mean()
    best = float(acc.idxmax())
    lo, hi = paper_cka_range()
    p = cfg.protocol
    return dict(acc_min=float(acc.min()), acc_max=float(acc.max()), **{f"mean_{m}": float(scores[m].mean())
                                                                      for m in METRICS},
                peak_width=best, peak_acc=float(acc[best]), widest=float(acc.index.max()),
                widest_acc=float(acc.iloc[-1]),
                capacity_trend="rises up to the widest model" if best == acc.index.max() else
                "peaks before the widest model",
                cka_mean=float(cka.cka.mean()) if len(cka) else math.nan, paper_cka_low=lo, paper_cka_high=hi,
                single_epochs=p.schedule(1)[0], joint_epochs=p.schedule(2)[0],
                train_per_class=p.train_per_class if p.train_per_class is not None else math.nan,
                n_seeds=len(cfg.seeds), profile=cfg.profile)


__all__ = ["claims", "closing_numbers"]
