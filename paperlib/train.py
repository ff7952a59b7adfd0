"""Plain supervised training on in-memory tensors (the embedded profile's small CPU models).

Chapter-specific loops (linearized, sequential, joint, smooth-transfer) live with their chapters;
this module holds the shared basics: a seeded mini-batch loop and accuracy evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import check_int_range, check_lr


def cosine_lr(step: int, lr: float, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine annealing to 0 at ``total`` (ch5 Appendix A; Ilharco et
    al.'s ``cosine_lr``); chapter 2's runs and its pretrained ResNet use the same schedule."""
    if step < warmup:
        return lr * (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))) * lr


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`train_classifier` (a run's identity in the run cache)."""

    epochs: int = 3
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    seed: int = 0

    def __post_init__(self):
        check_int_range(self.epochs, "epochs", 1)
        check_int_range(self.batch_size, "batch_size", 1)
        check_int_range(self.seed, "seed", 0)
        check_lr(self.lr)
        if not (0 <= self.weight_decay < 1):
            raise ValueError(f"weight_decay={self.weight_decay!r} is out of range; allowed: [0, 1)")


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
                     progress: bool = True, desc: str = "train", device: str = "cpu") -> list[float]:
    """Train ``model`` with AdamW and a one-cycle schedule (warm-up, then cosine decay); return the mean loss per epoch.

    ``x`` (N, C, H, W) float and ``y`` (N,) int64 are whole in memory; batches are drawn from a
    permutation seeded by ``cfg.seed`` (same seed, same numbers on the CPU). The model moves to
    ``device``; each batch is moved there as it is drawn.
    """
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"need as many labels as images (got {x.shape[0]} images, {y.shape[0]} labels)")
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-x.shape[0] // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch,
                                                pct_start=0.15)
    model.train()
    losses = []
    bar = tqdm(total=cfg.epochs * steps_per_epoch, desc=desc, disable=not progress, leave=False)
    for _ in range(cfg.epochs):
        perm = torch.randperm(x.shape[0], generator=g)
        total = 0.0
        for i in range(0, x.shape[0], cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            loss = F.cross_entropy(model(x[idx].to(device)), y[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * idx.numel()
            bar.update()
        losses.append(total / x.shape[0])
    bar.close()
    return losses


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Predicted labels for ``x`` in eval mode (computed on the model's device, returned on the CPU)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(x[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, x.shape[0], batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)`` as a fraction."""
    return (predict(model, x) == y).float().mean().item()
