"""Exact parameter counts of FTN and its baselines on the paper's backbones (ch2 Secs. 3.1–3.2, Tables 1–3).

Everything here is counted on real modules built without weights (torchvision ResNet-18/34/50, ``weights=None``;
open_clip ViT-B/32, ``pretrained=None``), never typed in:

* per conv layer, ch2 Sec. 3.1: fine-tuning stores T·k²·C_in·C_out, FTN stores k²·C_in·C_out + T·R·(C_out + C_in + k²);
* per task: the CP factors of every adapted conv (all but the stem, :mod:`paperlib.ftn`'s reading, or all), the BN
  Γ and β (2 per channel), the head;
* attention, ch2 Sec. 3.2: FTN (Q&V) 2LR(d_model + d + n), FTN (O) LR(d_model + d + n), LoRA on Q and V 4LR·d_model,
  full fine-tuning of the four attention matrices 4L·d_model², each checked against the adapters
  :func:`paperlib.ftn.adapt_attention` actually builds;
* the tables' "Params" multipliers under **one declared rule** (:func:`multiplier`): the shared trunk (without the
  classifier) plus, per target domain, its adapter and its BN Γ, β, over the trunk; heads excluded. The paper's own
  cells follow no single rule (spec Sec. 6.4), so :func:`multiplier_rows` prints each printed cell beside ours and
  flags where they differ at the printed precision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from torch import nn

from . import ftn
from .reference import CH2_TABLE1, CH2_TABLE2, CH2_TABLE3, CH2_TEXT

#: The paper's convolutional backbones (Tables 1, 2 and 4) and their classifier's module name.
RESNETS = ("resnet18", "resnet34", "resnet50")
PAPER_BACKBONE = {"I2S": "resnet50", "DomainNet": "resnet34", "NYUD": "resnet18"}
#: The target domains each table counts (Table 1: 5, Table 2: 6, Table 3: 5 datasets).
DOMAINS_PER_TABLE = {"I2S": 5, "DomainNet": 6, "ViT": 5}


@lru_cache(maxsize=None)
def _torchvision(name: str) -> nn.Module:
    import torchvision
    if name not in RESNETS:
        raise ValueError(f"backbone={name!r} is not one of the paper's ResNets; allowed: {RESNETS}")
    return torchvision.models.get_model(name, weights=None)


def convs(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def cp_per_rank(model: nn.Module, adapt_stem: bool = False) -> int:
    """Σ (C_out + C_in + k²) over the adapted convs: the per-task CP parameters at R = 1 (ch2 Sec. 3.1)."""
    layers = convs(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no nn.Conv2d")
    return sum(sum(ftn.conv_dims(m)) for i, (_, m) in enumerate(layers) if adapt_stem or i > 0)


def bn_affine(model: nn.Module) -> int:
    """Γ and β of every BatchNorm: 2 · Σ C (ch2 Eq. (3))."""
    return sum(2 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def trunk_parameters(model: nn.Module, classifier: str = "fc") -> int:
    """All parameters but the classifier's (``fc`` in torchvision's ResNets)."""
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith(f"{classifier}."))


def conv_weights(model: nn.Module) -> int:
    return sum(m.weight.numel() for _, m in convs(model))


def backbone_rows(names: Sequence[str] = RESNETS) -> list[dict]:
    """One row per ResNet: total, classifier, trunk, conv layers and weights, BN channels, and the rank-1 CP count
    per task without and with the stem conv (ch2 Sec. 4.1.1 prints the former for ResNet-34 and -50)."""
    paper = CH2_TEXT["rank1_params_per_task"]
    rows = []
    for name in names:
        m = _torchvision(name)
        label = f"ResNet-{name[6:]}"
        rows.append({"backbone": label, "all": sum(p.numel() for p in m.parameters()),
                     "classifier": sum(p.numel() for p in m.fc.parameters()), "trunk": trunk_parameters(m),
                     "conv layers": len(convs(m)), "conv weights": conv_weights(m),
                     "BN Γβ per task": bn_affine(m), "rank-1 CP (no stem)": cp_per_rank(m),
                     "rank-1 CP (all convs)": cp_per_rank(m, adapt_stem=True), "paper rank-1": paper.get(label)})
    return rows


def per_layer_rows(name: str, rank: int, tasks: int) -> list[dict]:
    """ch2 Sec. 3.1's per-layer formulas for every conv of backbone ``name``: T·k²C_inC_out (fine-tuning) against
    k²C_inC_out + T·R(C_out + C_in + k²) (FTN; the stem adapted too, as the formula is per layer)."""
    rows = []
    for layer, m in convs(_torchvision(name)):
        c_out, c_in, k2 = ftn.conv_dims(m)
        rows.append({"layer": layer, "k²": k2, "C_in": c_in, "C_out": c_out, "fine-tuning": tasks * k2 * c_in * c_out,
                     "FTN": k2 * c_in * c_out + tasks * rank * (c_out + c_in + k2)})
    return rows


def per_task_rows(ranks: dict[str, Sequence[int]] | None = None) -> list[dict]:
    """Per-task adapter parameters at the paper's ranks: CP factors (no stem), + BN Γβ, share of the trunk."""
    ranks = ranks or {"resnet50": CH2_TEXT["ranks"]["I2S"], "resnet34": CH2_TEXT["ranks"]["DomainNet"],
                      "resnet18": CH2_TEXT["ranks"]["NYUD"]}
    rows = []
    for name, rs in ranks.items():
        m = _torchvision(name)
        per, bn, trunk = cp_per_rank(m), bn_affine(m), trunk_parameters(m)
        for r in rs:
            rows.append({"backbone": f"ResNet-{name[6:]}", "R": r, "CP factors": r * per,
                         "% of trunk": 100 * r * per / trunk, "CP + BN Γβ": r * per + bn,
                         "% of trunk (with BN)": 100 * (r * per + bn) / trunk,
                         "CP incl. stem": r * cp_per_rank(m, adapt_stem=True)})
    return rows


def multiplier(backbone: str, method: str, domains: int, rank: int = 0) -> tuple[int, float]:
    """(total, total / trunk) under the book's declared rule: trunk + D × per-domain parameters, heads excluded.

    Per domain: ``"FT"`` a whole trunk, ``"FE"`` nothing, ``"FC+BN"`` BN Γβ, ``"FTN"`` the rank-``rank`` CP factors
    (no stem) plus BN Γβ."""
    m = _torchvision(backbone)
    trunk = trunk_parameters(m)
    per = {"FT": trunk, "FE": 0, "FC+BN": bn_affine(m), "FTN": rank * cp_per_rank(m) + bn_affine(m)}
    if method not in per:
        raise ValueError(f"method={method!r} is unknown; allowed: {tuple(per)}")
    total = trunk + domains * per[method]
    return total, total / trunk


_PRINTED = re.compile(r"^\[?(?P<mult>[\d.]+)×")


def printed_multiplier(cell: str) -> tuple[float, int] | None:
    """(value, decimals) of the first multiplier printed in a Params cell such as ``"1.004× (23.95M)"``."""
    m = _PRINTED.match(cell)
    if not m:
        return None
    text = m.group("mult")
    return float(text), len(text.partition(".")[2])


def multiplier_rows() -> list[dict]:
    """Every FT/FE/FC+BN/FTN Params cell of Tables 1–2 beside ours (:func:`multiplier`), flagged where ours, at
    the paper's printed precision, differs. Fine-tuning uses one trunk per domain plus the source model (the
    tables' 6× for 5 and 6 domains count the pretrained network once; ours: D + 1 for Table 1, D for Table 2, as
    printed)."""
    rows = []
    for table, paper, key in (("Table 1", CH2_TABLE1, "I2S"), ("Table 2", CH2_TABLE2, "DomainNet")):
        backbone, d = PAPER_BACKBONE[key], DOMAINS_PER_TABLE[key]
        for method, (cell, _, _) in paper.items():
            kind, rank = _method_kind(method)
            if kind is None:
                continue
            if kind == "FT":  # copies besides the shared one: Table 1 counts ImageNet as a sixth task (6× for 5)
                domains = d if key == "I2S" else d - 1
            else:
                domains = d
            total, ours = multiplier(backbone, kind, domains, rank)
            printed = printed_multiplier(cell)
            value, decimals = printed if printed else (None, 2)
            ours_printed = round(ours, decimals)
            rows.append({"table": table, "method": method, "paper": cell, "ours": f"{ours:.4f}×",
                         "ours total": total, "differs": value is not None and abs(ours_printed - value) > 1e-9})
    return rows


def _method_kind(method: str) -> tuple[str | None, int]:
    if method.startswith("Fine-"):
        return "FT", 0
    if method.startswith("Feature-"):
        return "FE", 0
    if method.startswith("FC and BN"):
        return "FC+BN", 0
    if method.startswith("FTN, R="):
        return "FTN", int(method.split("=")[1])
    return None, 0


# --- ViT ----------------------------------------------------------------------------------------------------------

def vit_dims(visual: nn.Module) -> dict[str, int]:
    """L (attention blocks), d_model, n (heads), d = d_model / n of a ViT's attention modules."""
    mods = ftn.attention_modules(visual)
    d_model, n = mods[0].embed_dim, mods[0].num_heads
    return {"L": len(mods), "d_model": d_model, "n": n, "d": d_model // n}


def attention_formula(variant: str, L: int, d_model: int, n: int, rank: int) -> int:
    """ch2 Sec. 3.2's adapter counts (``"full"``: the four attention matrices fine-tuned, 4L·d_model²)."""
    d = d_model // n
    return {"ftn_qv": 2 * L * rank * (d_model + d + n), "ftn_o": L * rank * (d_model + d + n),
            "lora_qv": 4 * L * rank * d_model, "full": 4 * L * d_model ** 2}[variant]


def built_adapter_parameters(visual: nn.Module, variant: str, rank: int) -> int:
    """Trainable parameters of the adapters :func:`paperlib.ftn.adapt_attention` would register on ``visual``
    (one :class:`~paperlib.ftn.AttentionDelta` per attention module, built here without touching ``visual``)."""
    return sum(ftn.AttentionDelta(variant, m.embed_dim, m.num_heads, rank, ftn.PAPER_ALPHA[variant]).num_parameters()
               for m in ftn.attention_modules(visual))


@lru_cache(maxsize=None)
def open_clip_visual(name: str) -> nn.Module:
    """An open_clip model's image tower built without weights (no download)."""
    import logging

    import open_clip
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # open_clip warns that no weights were loaded: here that is the point
    try:
        return open_clip.create_model(name, pretrained=None).visual
    finally:
        root.setLevel(level)


def vit_rows(name: str = "ViT-B-32", ranks: Sequence[int] = (1, 4, 8), visual: nn.Module | None = None) -> list[dict]:
    """Per-task adapter parameters of each variant at each rank: the formula and the count of the built adapters."""
    visual = visual if visual is not None else open_clip_visual(name)
    dims = vit_dims(visual)
    rows = []
    for r in ranks:
        row = {"model": name, "R": r}
        for v in ftn.ATTENTION_VARIANTS:
            row[v] = attention_formula(v, dims["L"], dims["d_model"], dims["n"], r)
            row[f"{v} (built)"] = built_adapter_parameters(visual, v, r)
        rows.append(row)
    return rows


def vit_totals(name: str = "ViT-B-32", rank: int | None = None, visual: nn.Module | None = None) -> list[dict]:
    """Table 3's totals under the declared rule: the image tower + D × adapter (heads excluded), beside the paper's
    printed cells."""
    visual = visual if visual is not None else open_clip_visual(name)
    rank = CH2_TEXT["vit_rank"] if rank is None else rank
    base = sum(p.numel() for p in visual.parameters())
    dims = vit_dims(visual)
    d = DOMAINS_PER_TABLE["ViT"]
    rows = []
    for method, variant in (("Fine-tuning", None), ("Feature extractor", "fe"), ("LoRA", "lora_qv"),
                            ("FTN (Q&V)", "ftn_qv"), ("FTN (O)", "ftn_o")):
        per = base if variant is None else 0 if variant == "fe" else \
            attention_formula(variant, dims["L"], dims["d_model"], dims["n"], rank)
        total = d * per if variant is None else base + d * per
        cell, extra, _, _ = CH2_TABLE3[method]
        rows.append({"method": method, "per dataset": per, "total": total, "multiplier": total / base,
                     "paper total": cell, "paper per dataset": extra})
    return rows


__all__ = ["DOMAINS_PER_TABLE", "PAPER_BACKBONE", "RESNETS", "attention_formula", "backbone_rows", "bn_affine",
           "built_adapter_parameters", "conv_weights", "convs", "cp_per_rank", "multiplier", "multiplier_rows",
           "open_clip_visual", "per_layer_rows", "per_task_rows", "printed_multiplier",
           "trunk_parameters", "vit_dims", "vit_rows", "vit_totals"]
