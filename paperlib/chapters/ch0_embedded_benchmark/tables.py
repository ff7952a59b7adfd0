"""Chapter 0's tables: class counts, generation times, and which paper dataset each domain stands in for."""

from __future__ import annotations

import pandas as pd
import torch

from ...data import BENCHMARKS, stand_in_rows
from ...data.embedded import DOMAINS


def class_counts(data: dict[str, dict[str, object]]) -> pd.DataFrame:
    """Classes, images per split and images per class (min–max over classes) for each domain."""
    rows = []
    for name, splits in data.items():
        row = {"domain": name, "classes": splits["train"].n_classes}
        for s, ds in splits.items():
            counts = torch.bincount(ds.labels, minlength=ds.n_classes)
            row[s] = len(ds)
            row[f"{s} per class"] = (f"{counts.min().item()}" if counts.min() == counts.max()
                                     else f"{counts.min().item()}–{counts.max().item()}")
        rows.append(row)
    return pd.DataFrame(rows).set_index("domain")


def generation_times(data: dict[str, dict[str, object]]) -> pd.DataFrame:
    """Seconds it took to generate all three splits of each domain, as recorded in the cache entries
    when they were made (a warm cache reports the time of the run that filled it)."""
    rows = []
    for name, splits in data.items():
        seconds = sum(ds.info["generation_seconds"] for ds in splits.values())
        images = sum(len(ds) for ds in splits.values())
        rows.append({"domain": name, "seconds": seconds, "images": images, "images per second": images / seconds})
    return pd.DataFrame(rows).set_index("domain")


def stand_in_matrix() -> pd.DataFrame:
    """Embedded domain × benchmark → the paper dataset it stands in for there (blank: not used)."""
    rows = pd.DataFrame(stand_in_rows())
    matrix = rows.pivot_table(index="embedded", columns="benchmark", values="paper", aggfunc=", ".join)
    matrix = matrix.reindex(index=sorted(DOMAINS), columns=list(BENCHMARKS)).fillna("")
    matrix.index.name = "domain"
    return matrix


def stand_in_reasons() -> pd.DataFrame:
    """Per embedded domain: what its images look like and why it is a fair stand-in."""
    rows = pd.DataFrame(stand_in_rows())
    out = []
    for name in sorted(DOMAINS):
        mine = rows[rows.embedded == name]
        reasons = "; ".join(dict.fromkeys(f"{r.paper}: {r.why}" for r in mine.itertuples()))
        out.append({"domain": name, "images": DOMAINS[name].description, "why it stands in": reasons or "—"})
    return pd.DataFrame(out).set_index("domain")


__all__ = ["class_counts", "generation_times", "stand_in_matrix", "stand_in_reasons"]
