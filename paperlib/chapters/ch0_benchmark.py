"""Chapter 0: the embedded benchmark (what the notebook ``ch0_embedded_benchmark`` calls).

Shows every generated domain, its class counts, how long generation takes, which paper dataset each
domain stands in for, and how hard each domain is for a small CNN trained briefly from scratch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
import torch
from tqdm.auto import tqdm

from ..config import SPLITS, check_choice, check_int_range, check_profile
from ..data import BENCHMARKS, get_dataset, list_datasets, stand_in_rows
from ..data.embedded import DOMAINS
from ..models import SmallCNN
from ..runs import cached_run
from ..train import TrainConfig, accuracy, train_classifier

#: Baseline epochs per profile (the baseline is "trained briefly": a difficulty probe, not a result).
BASELINE_EPOCHS = {"smoke": 1, "embedded": 3}
#: Learning rate of the baseline (AdamW, one-cycle); high because training is short.
BASELINE_LR = 1e-2


@dataclass(frozen=True)
class Ch0Config:
    """Validated parameters of chapter 0."""

    profile: str
    domains: tuple[str, ...]
    seed: int
    baseline_epochs: int
    baseline_width: int

    @classmethod
    def from_params(cls, profile: str = "embedded", domains: list[str] | None = None, seed: int = 0,
                    baseline_epochs: int | None = None, baseline_width: int = 16) -> "Ch0Config":
        """Check the notebook's parameters; raise ``ValueError`` naming a bad value and the allowed ones."""
        check_profile(profile)
        if profile == "paper":
            raise ValueError("chapter 0 describes the embedded benchmark; use profile 'smoke' or 'embedded'")
        domains = tuple(domains) if domains else tuple(list_datasets(profile))
        for d in domains:
            check_choice(d, DOMAINS, "embedded domain")
        if len(set(domains)) != len(domains):
            raise ValueError(f"domains has duplicates: {list(domains)}")
        epochs = BASELINE_EPOCHS[profile] if baseline_epochs is None else baseline_epochs
        return cls(profile, domains, check_int_range(seed, "seed", 0), check_int_range(epochs, "baseline_epochs", 1, 100),
                   check_int_range(baseline_width, "baseline_width", 4, 256))

    def summary(self) -> str:
        """One line for the notebook: what this run of the chapter does."""
        return (f"profile {self.profile}: {len(self.domains)} domains, seed {self.seed}; baseline SmallCNN "
                f"(width {self.baseline_width}), {self.baseline_epochs} epoch(s)")


def load_domains(cfg: Ch0Config) -> dict[str, dict[str, object]]:
    """Every split of every domain (generated on first use, then read from the cache)."""
    out = {}
    for name in tqdm(cfg.domains, desc="domains"):
        out[name] = {s: get_dataset(name, s, profile=cfg.profile, seed=cfg.seed) for s in SPLITS}
    return out


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


def baseline_accuracy(cfg: Ch0Config, data: dict[str, dict[str, object]]) -> pd.DataFrame:
    """Train a :class:`~paperlib.models.SmallCNN` per domain on its train split; accuracies in percent."""
    train_cfg = TrainConfig(epochs=cfg.baseline_epochs, lr=BASELINE_LR, seed=cfg.seed)
    rows = []
    for name in tqdm(cfg.domains, desc="baseline per domain"):
        splits = data[name]

        def run(name=name, splits=splits):
            torch.manual_seed(cfg.seed)
            x, y = splits["train"].tensors()
            model = SmallCNN(splits["train"].n_classes, width=cfg.baseline_width)
            start = time.perf_counter()
            losses = train_classifier(model, x, y, train_cfg, desc=name)
            seconds = time.perf_counter() - start
            return {"losses": losses, "train_seconds": seconds,
                    **{f"{s} accuracy": 100 * accuracy(model, *splits[s].tensors()) for s in SPLITS}}

        key = dict(domain=name, version=DOMAINS[name].version, profile=cfg.profile, seed=cfg.seed,
                   width=cfg.baseline_width, train=vars(train_cfg),
                   n_train=len(splits["train"]))
        res = cached_run("ch0_baseline", key, run)
        rows.append({"domain": name, "classes": splits["train"].n_classes,
                     "chance": 100 / splits["train"].n_classes, "train accuracy": res["train accuracy"],
                     "val accuracy": res["val accuracy"], "test accuracy": res["test accuracy"],
                     "final loss": res["losses"][-1], "train seconds": res["train_seconds"]})
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
