"""Chapter 2's tables: the exact parameter counts, Tables 1-3 analogues beside the paper's, the gaps the claims
rest on, and Table 4 as transcribed."""

from __future__ import annotations

import math

import pandas as pd

from ... import ftn_counts as fc
from ...reference import (
    CH2_TABLE1,
    CH2_TABLE1_DOMAINS,
    CH2_TABLE2,
    CH2_TABLE2_DOMAINS,
    CH2_TABLE3,
    CH2_TABLE3_DATASETS,
    CH2_TABLE4,
    CH2_TABLE4_TASKS,
)
from .config import BASELINE_LABELS, PAPER_BACKBONES, VIT_LABELS

PAPER_TABLES = {"i2s": (CH2_TABLE1, CH2_TABLE1_DOMAINS), "domainnet": (CH2_TABLE2, CH2_TABLE2_DOMAINS)}
#: Rows of the paper's tables that come from other papers (ch2 Sec. 4.1.1: "taken from TAPS"; Table 3: "obtained
#: from He et al. (2023)").
COPIED = {"Piggyback", "Packnet →", "Packnet ←", "Spot-Tune", "WTPB", "BA²", "TAPS", "Adashare", "LoRA",
          "KAdaptation", "Fine-tuning", "Feature extractor"}


def show(table: pd.DataFrame, caption: str, digits: int = 1):
    """A table as the chapter shows it: numbers to ``digits`` decimals with thousands separators, missing values as
    "–", and ``caption`` (which names the profile and data where the numbers are ours)."""
    return table.style.format(precision=digits, thousands=",", na_rep="–").set_caption(caption)


def method_label(method: str, rank: int = 0) -> str:
    return f"FTN, R={rank}" if method == "ftn" else BASELINE_LABELS[method]


def _order(method: str, rank: int) -> tuple:
    return ({"fe": 0, "fc_bn": 1, "ftn": 2, "ft": 3}[method], rank)


# --- Parameter counts (no training) -------------------------------------------------------------------------------

def shipped_shares(trunk, ranks) -> pd.DataFrame:
    """Per rank: the shipped ResNet's per-domain CP factors, with BN Γβ, and their share of its trunk, beside the
    share the paper's ranks take of ResNet-50 / ResNet-34."""
    per, bn, conv = fc.cp_per_rank(trunk), fc.bn_affine(trunk), sum(p.numel() for p in trunk.parameters())
    rows = [{"backbone": "shipped ResNet-20 ×¾", "R": r, "CP factors": r * per, "CP + BN Γβ": r * per + bn,
             "% of trunk": round(100 * r * per / conv, 2)} for r in ranks]
    for row in fc.per_task_rows({"resnet50": fc.CH2_TEXT["ranks"]["I2S"],
                                 "resnet34": fc.CH2_TEXT["ranks"]["DomainNet"]}):
        rows.append({"backbone": row["backbone"] + " (paper)", "R": row["R"], "CP factors": row["CP factors"],
                     "CP + BN Γβ": row["CP + BN Γβ"], "% of trunk": round(row["% of trunk"], 2)})
    return pd.DataFrame(rows).set_index(["backbone", "R"])


def backbones() -> pd.DataFrame:
    return pd.DataFrame(fc.backbone_rows()).set_index("backbone")


def multipliers() -> pd.DataFrame:
    df = pd.DataFrame(fc.multiplier_rows()).rename(columns={"paper": "paper (printed)"})
    df["ours total"] = df["ours total"].map(lambda v: f"{v / 1e6:.2f}M")
    df["differs"] = df["differs"].map({True: "⚠ differs", False: "matches"})
    return df.set_index(["table", "method"])


def vit_counts() -> pd.DataFrame:
    rows = fc.vit_rows("ViT-B-32", ranks=(1, 4, 8))
    df = pd.DataFrame(rows).set_index(["model", "R"])
    df.columns = [c.replace("ftn_qv", "FTN (Q&V)").replace("ftn_o", "FTN (O)").replace("lora_qv", "LoRA (Q, V)")
                  for c in df.columns]
    return df


def vit_totals() -> pd.DataFrame:
    df = pd.DataFrame(fc.vit_totals("ViT-B-32"))
    df["multiplier"] = df["multiplier"].map(lambda v: f"{v:.4f}×")
    return df.set_index("method")


# --- Tables 1-2 analogues -----------------------------------------------------------------------------------------

def accuracy_table(conv: pd.DataFrame, benchmark: str, trunk_size: int) -> pd.DataFrame:
    """Tables 1/2 analogue: per method, test accuracy (%) per domain (mean over seeds), the mean over domains, the
    parameters one domain adds and the multiplier (trunk + D × that, heads excluded, over the trunk)."""
    df = conv[conv.benchmark == benchmark]
    domains = list(dict.fromkeys(df.domain))
    rows = []
    for (method, rank), g in sorted(df.groupby(["method", "rank"]), key=lambda kv: _order(*kv[0])):
        per_seed = g.pivot_table(index="seed", columns="domain", values="acc")[domains]
        row = {"method": method_label(method, rank)}
        row.update({d: per_seed[d].mean() for d in domains})
        row["mean"] = per_seed.mean(axis=1).mean()
        added = _added(method, g, trunk_size)
        row["params / domain"] = int(added)
        row["multiplier"] = f"{len(domains)}×" if method == "ft" else \
            f"{(trunk_size + len(domains) * added) / trunk_size:.4f}×"
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def _added(method: str, g: pd.DataFrame, trunk_size: int) -> float:
    """Parameters a domain adds besides its head: a whole trunk (FT), BN Γβ and factors (FC+BN, FTN), none (FE)."""
    if method == "ft":
        return float(trunk_size)
    return float((g["parameters"] - g["head"]).mean())


def paper_table(benchmark: str) -> pd.DataFrame:
    """The paper's Table 1 or 2 as printed (means as printed; rows from other papers marked)."""
    table, domains = PAPER_TABLES[benchmark]
    rows = []
    for method, (params, accs, mean) in table.items():
        rows.append({"method": method + (" (copied)" if method in COPIED else ""), "Params": params,
                     **dict(zip(domains, accs)), "mean": mean})
    return pd.DataFrame(rows).set_index("method")


def _mean(g: pd.DataFrame, method: str, rank: int = 0) -> float:
    return g[(g.method == method) & (g["rank"] == rank)].acc.mean()


def gaps(conv: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Per seed, mean over the benchmark's domains: FE, FC+BN, FTN at its lowest and highest rank and FT, and the
    differences the claims read (FC+BN − FE, its share of FT − FE, FTN(low) − FC+BN, FTN(high) − FT)."""
    df = conv[conv.benchmark == benchmark]
    ranks = sorted(df[df.method == "ftn"]["rank"].unique())
    rows = []
    for seed, g in df.groupby("seed"):
        row = {"seed": seed, "fe": _mean(g, "fe"), "fc_bn": _mean(g, "fc_bn"), "ft": _mean(g, "ft")}
        if ranks:
            row["ftn_low"], row["ftn_high"] = _mean(g, "ftn", ranks[0]), _mean(g, "ftn", ranks[-1])
        rows.append(row)
    out = pd.DataFrame(rows).set_index("seed")
    out["bn_minus_fe"] = out.fc_bn - out.fe
    out["bn_share_of_ft_gap"] = 100 * out.bn_minus_fe / (out.ft - out.fe)
    if ranks:
        out["ftn_low_minus_bn"] = out.ftn_low - out.fc_bn
        out["ftn_high_minus_ft"] = out.ftn_high - out.ft
        out["ftn_high_minus_low"] = out.ftn_high - out.ftn_low
    return out


def paper_gaps(benchmark: str) -> dict[str, float]:
    """The same differences from the paper's Table 1 or 2 (its lowest and highest FTN rows)."""
    table, _ = PAPER_TABLES[benchmark]
    mean = {m: v[2] for m, v in table.items()}
    ftn_rows = [m for m in table if m.startswith("FTN, R=")]
    low, high = mean[ftn_rows[0]], mean[ftn_rows[-1]]
    fe, bn, ft = mean["Feature-Extractor"], mean["FC and BN only"], mean["Fine-Tuning"]
    return {"bn_minus_fe": bn - fe, "bn_share_of_ft_gap": 100 * (bn - fe) / (ft - fe), "ftn_low_minus_bn": low - bn,
            "ftn_high_minus_ft": high - ft, "ftn_high_minus_low": high - low, "ftn_high_minus_bn": high - bn}


def rank_curve(conv: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Fig. 2's data: per domain and rank (0 = FC and BN only), test accuracy mean over seeds."""
    df = conv[(conv.benchmark == benchmark) & conv.method.isin(["fc_bn", "ftn"])]
    return df.groupby(["domain", "rank"], sort=False).acc.mean().reset_index()


def delta_norms(conv: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """‖ΔW_l‖/‖W_l‖ per adapted layer (rows) and rank (columns), mean over the benchmark's domains and seeds."""
    df = conv[(conv.benchmark == benchmark) & (conv.method == "ftn")]
    rows = [dict(rank=r.rank, layer=d["layer"], value=d["relative_norm"]) for r in df.itertuples()
            for d in (r.delta_norms or [])]
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame(rows).groupby(["layer", "rank"], sort=False).value.mean().unstack("rank")
    return out


# --- Table 3 analogue ---------------------------------------------------------------------------------------------

def vit_table(vit: pd.DataFrame) -> pd.DataFrame:
    """Table 3 analogue: per method, test accuracy (%) per dataset (mean over seeds), mean, the adapter parameters
    one dataset adds (heads excluded, as in the paper) and their ratio to LoRA's."""
    datasets = list(dict.fromkeys(vit.dataset))
    lora = vit[vit.method == "lora_qv"].adapter.mean() if (vit.method == "lora_qv").any() else math.nan
    rows = []
    for method, g in vit.groupby("method", sort=False):
        per_seed = g.pivot_table(index="seed", columns="dataset", values="acc")[datasets]
        row = {"method": VIT_LABELS[method], **{d: per_seed[d].mean() for d in datasets},
               "mean": per_seed.mean(axis=1).mean(), "adapter params / dataset": int(g.adapter.mean()),
               "÷ LoRA": g.adapter.mean() / lora if method != "linear_probe" else 0.0}
        rows.append(row)
    if (vit.method == "linear_probe").any():
        zs = vit[vit.method == "linear_probe"].groupby("dataset").zero_shot.first()[datasets]
        rows.insert(0, {"method": "zero-shot (start)", **zs.to_dict(), "mean": zs.mean(),
                        "adapter params / dataset": 0, "÷ LoRA": 0.0})
    return pd.DataFrame(rows).set_index("method")


def paper_table3() -> pd.DataFrame:
    rows = [{"method": m + (" (copied)" if m in COPIED else ""), "# total params": total,
             "# additional params": extra or "–", **dict(zip(CH2_TABLE3_DATASETS, accs)), "mean": mean}
            for m, (total, extra, accs, mean) in CH2_TABLE3.items()]
    return pd.DataFrame(rows).set_index("method")


def pilot_table(path) -> pd.DataFrame:
    """The learning-rate pilot (``book/pilots/ch2_learning_rates.json``): mean validation and test accuracy (%) per
    part, method and learning rate over the pilot's domains, the chosen rate marked."""
    import json
    from pathlib import Path
    record = json.loads(Path(path).read_text())
    rows = []
    for part, key in (("conv", "conv"), ("conv", "conv_ftn_factors"), ("vit", "vit")):
        df = pd.DataFrame(record[key]["rows"])
        for (method, lr), g in df.groupby(["method", "lr"]):
            name = "ftn factors (BN, head at fc_bn's)" if key == "conv_ftn_factors" else \
                "ftn (one rate)" if part == "conv" and method == "ftn" else method
            chosen = record["chosen"][part][method] == lr and name != "ftn (one rate)"
            rows.append({"part": part, "method": name, "lr": lr, "val": g.val.mean(), "test": g.test.mean(),
                         "steps": int(g["steps"].iloc[0]) if "steps" in g else 100,
                         "domains": ", ".join(dict.fromkeys(g.get("domain", g.get("dataset")))),
                         "chosen": "◀" if chosen else ""})
    return pd.DataFrame(rows).set_index(["part", "method", "lr"])


def table4() -> pd.DataFrame:
    """Table 4 as transcribed (NYUD-v2; not reproduced here, see the chapter)."""
    rows = [{"method": m, "Params": p, **dict(zip(CH2_TABLE4_TASKS, v))} for m, (p, v) in CH2_TABLE4.items()]
    return pd.DataFrame(rows).set_index("method")


def pareto(conv: pd.DataFrame, vit: pd.DataFrame, trunk_sizes: dict[str, int]) -> pd.DataFrame:
    """Per method: mean accuracy over domains and seeds against the parameters one domain adds (heads excluded),
    for each convolutional benchmark and the ViT datasets."""
    rows = []
    for (b, method, rank), g in conv.groupby(["benchmark", "method", "rank"]):
        rows.append(dict(part=b, method=method_label(method, rank), added=_added(method, g, trunk_sizes[b]),
                         acc=g.groupby("seed").acc.mean().mean()))
    for method, g in vit.groupby("method"):
        rows.append(dict(part="vit", method=VIT_LABELS[method], added=float(g.adapter.mean()),
                         acc=g.groupby("seed").acc.mean().mean()))
    return pd.DataFrame(rows)


__all__ = ["PAPER_BACKBONES", "accuracy_table", "backbones", "delta_norms", "gaps", "multipliers", "paper_gaps",
           "paper_table", "paper_table3", "pareto", "pilot_table", "rank_curve",
           "shipped_shares", "show", "table4", "vit_counts", "vit_table", "vit_totals"]
