"""Training data for runs whose datasets do not fit in memory (the ``paper`` profile): a split is a torch
``Dataset`` read from disk and transformed per item, and a run draws its batches through a ``DataLoader`` in the
same order as the in-memory runs (:func:`batch_indices`: a permutation per epoch, a function of the seed and the
step), so a resumed run continues with the batches it would have drawn.

Random augmentation on loader workers is not part of that order: a resumed ``paper`` run sees the same images in the
same batches, with different random crops and flips than an uninterrupted one would have drawn.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

#: ImageNet's channel statistics, the normalisation of torchvision's ``IMAGENET1K_V1`` weights.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _order(n: int, seed: int, epoch: int) -> Tensor:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> Tensor:
    """The indices of (micro-)batch ``step``: consecutive slices of per-epoch permutations (a function of seed and
    step, so resuming needs no RNG state). ``ValueError`` when there are fewer items than one batch."""
    if n < batch_size:
        raise ValueError(f"batch_size={batch_size} is larger than the {n} training items")
    per_epoch = n // batch_size
    epoch, k = divmod(step, per_epoch)
    return _order(n, seed, epoch)[k * batch_size:(k + 1) * batch_size]


class StepSampler(Sampler[int]):
    """The items of micro-batches ``start`` … ``stop − 1`` of :func:`batch_indices`, in order (a DataLoader with
    ``batch_size`` equal to the run's then yields exactly those batches)."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int, stop: int):
        self.n, self.batch_size, self.seed, self.start, self.stop = n, batch_size, seed, start, stop

    def __iter__(self) -> Iterator[int]:
        for k in range(self.start, self.stop):
            yield from batch_indices(self.n, self.batch_size, self.seed, k).tolist()

    def __len__(self) -> int:
        return max(0, self.stop - self.start) * self.batch_size


def step_loader(dataset: Dataset, batch_size: int, seed: int, start: int, stop: int, *, workers: int = 8,
                pin_memory: bool = False) -> DataLoader:
    """A DataLoader over micro-batches ``start`` … ``stop − 1`` of a training split."""
    sampler = StepSampler(len(dataset), batch_size, seed, start, stop)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, pin_memory=pin_memory,
                      drop_last=False)


def eval_loader(dataset: Dataset, batch_size: int = 256, *, workers: int = 8, pin_memory: bool = False) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers, pin_memory=pin_memory)


def taps_transforms(size: int = 224):
    """(train, eval) transforms of TAPS's code (ch2 Sec. 4.1.1 follows its settings): RandomResizedCrop and flips
    for training; Resize to size·256/224 and CenterCrop for evaluation (TAPS's ``loaders.py``; its DomainNet script
    resizes to 224 instead); ImageNet normalisation."""
    from torchvision import transforms as T
    norm = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    test = T.Compose([T.Resize(round(size * 256 / 224)), T.CenterCrop(size), T.ToTensor(), norm])
    return train, test


__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "StepSampler", "batch_indices", "eval_loader", "step_loader",
           "taps_transforms"]
