"""The dataset objects :func:`paperlib.data.get_dataset` returns.

Both kinds are torch ``Dataset`` objects yielding ``(image, label)`` with ``label`` an ``int``, and
both carry what the CLIP chapters need to build zero-shot heads: ``classnames`` and ``templates``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


class TensorImageDataset(Dataset):
    """An in-memory image dataset (the embedded benchmark).

    ``images`` is a ``uint8`` tensor (N, C, H, W); items are float tensors in ``[0, 1]`` (passed
    through ``transform`` if given). :meth:`tensors` returns the whole split at once, which is much
    faster than a ``DataLoader`` for the small CPU models of the embedded profile.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, name: str, split: str, profile: str,
                 classnames: Sequence[str], templates: Sequence[str],
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None, info: dict | None = None):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be a uint8 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels shape {tuple(labels.shape)} does not match {images.shape[0]} images")
        self.images = images
        self.labels = labels.long()
        self.name, self.split, self.profile = name, split, profile
        self.classnames = list(classnames)
        self.templates = list(templates)
        self.transform = transform
        self.info = dict(info or {})

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int):
        x = self.images[index].float().div_(255)
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[index])

    @property
    def targets(self) -> list[int]:
        return self.labels.tolist()

    @property
    def n_classes(self) -> int:
        return len(self.classnames)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images as one float tensor in ``[0, 1]`` and all labels (no transform applied)."""
        return self.images.float().div_(255), self.labels

    def __repr__(self) -> str:
        c, h, w = self.images.shape[1:]
        return (f"TensorImageDataset(name={self.name!r}, split={self.split!r}, profile={self.profile!r}, "
                f"n={len(self)}, classes={self.n_classes}, image={c}x{h}x{w})")


class LabeledDataset(Dataset):
    """A wrapper that attaches ``classnames`` and ``templates`` to another dataset (the papers' data)."""

    def __init__(self, base: Dataset, *, name: str, split: str, classnames: Sequence[str],
                 templates: Sequence[str], targets: Sequence[int] | None = None, profile: str = "paper",
                 info: dict | None = None):
        self.base = base
        self.name, self.split, self.profile = name, split, profile
        self.classnames = list(classnames)
        self.templates = list(templates)
        self._targets = list(targets) if targets is not None else None
        self.info = dict(info or {})

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        x, y = self.base[index]
        return x, int(y)

    @property
    def targets(self) -> list[int]:
        if self._targets is None:
            self._targets = [int(self.base[i][1]) for i in range(len(self.base))]
        return self._targets

    @property
    def n_classes(self) -> int:
        return len(self.classnames)

    def __repr__(self) -> str:
        return (f"LabeledDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, "
                f"classes={self.n_classes})")


def adapt_images(images: torch.Tensor, image_size: int | None, channels: int) -> torch.Tensor:
    """Resize a uint8 (N, C, H, W) batch to ``image_size`` and convert to ``channels`` (1 or 3)."""
    x = images
    if channels == 1 and x.shape[1] == 3:
        w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        x = (x.float() * w).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    elif channels == 3 and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1).contiguous()
    if image_size is not None and x.shape[-1] != image_size:
        x = F.interpolate(x.float(), size=(image_size, image_size), mode="bicubic", antialias=True,
                          align_corners=False).round().clamp(0, 255).to(torch.uint8)
    return x


def limited(dataset: Dataset, n: int | None) -> Dataset:
    """``dataset``, or its first ``n`` items in one fixed (seed-0) permutation, kept in the split's order: what an
    ``eval_images`` parameter evaluates on (a rehearsal of the paper profile, or a quick look before a full run;
    None: the whole split). The same ``n`` always picks the same images."""
    if n is None or len(dataset) <= n:
        return dataset
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n].sort().values
    return torch.utils.data.Subset(dataset, order.tolist())
