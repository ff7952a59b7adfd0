"""Chapter 0's experiment: every split of every domain, and a small CNN trained briefly on each (a
difficulty probe, through the run cache)."""

from __future__ import annotations

import time

import pandas as pd
import torch
from tqdm.auto import tqdm

from ...config import SPLITS
from ...data import get_dataset
from ...data.embedded import DOMAINS
from ...models import SmallCNN
from ...store import cached_run
from ...train import TrainConfig, accuracy, train_classifier
from .config import BASELINE_LR, Ch0Config


def load_domains(cfg: Ch0Config) -> dict[str, dict[str, object]]:
    """Every split of every domain (generated on first use, then read from the cache)."""
    out = {}
    for name in tqdm(cfg.domains, desc="domains"):
        out[name] = {s: get_dataset(name, s, profile=cfg.profile, seed=cfg.seed) for s in SPLITS}
    return out


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
            losses = train_classifier(model, x, y, train_cfg, desc=name, device=cfg.device)
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


__all__ = ["baseline_accuracy", "load_domains"]
