"""scikit-image's bundled sample images as finite photo sources, split into disjoint regions.

Region rule (:func:`split_region`): along the image's longer axis the first 60 % is ``train``; the
remaining 40 % band is cut across the shorter axis into ``val`` (first 3/8 of it, 15 % of the image)
and ``test`` (last 5/8, 25 % of the image). Every crop of a split lies inside its region, and each
region is cut out *before* any resizing, so no pixel of one split's region influences another
split's images. Only images that ship inside the scikit-image wheel are used (no ``pooch`` fetch).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from . import ops

SPLITS = ("train", "val", "test")
TRAIN_FRACTION = 0.6   # of the longer axis
VAL_FRACTION = 0.375   # of the shorter axis, within the remaining band (0.4 × 0.375 = 15 % of the area)
#: Largest crop side, as a fraction of the image's shorter side, that fits every split's region.
MAX_SIDE_FRACTION = VAL_FRACTION


def split_region(h: int, w: int, split: str) -> tuple[int, int, int, int]:
    """The box ``(top, bottom, left, right)`` (half-open, pixels) of ``split`` in an ``h``×``w`` image."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if w >= h:
        a, b = round(TRAIN_FRACTION * w), round(VAL_FRACTION * h)
        return {"train": (0, h, 0, a), "val": (0, b, a, w), "test": (b, h, a, w)}[split]
    a, b = round(TRAIN_FRACTION * h), round(VAL_FRACTION * w)
    return {"train": (0, a, 0, w), "val": (a, h, 0, b), "test": (a, h, b, w)}[split]


@lru_cache(maxsize=None)
def source(name: str) -> torch.Tensor:
    """Sample image ``name`` of :mod:`skimage.data` as a float tensor (C, H, W) in [0, 1], C = 1 or 3."""
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)())
    if img.dtype == bool:
        img = img.astype(np.float32)
    elif img.dtype == np.uint8:
        img = img.astype(np.float32) / 255
    img = np.atleast_3d(img.astype(np.float32))[..., :3]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@lru_cache(maxsize=None)
def region_image(name: str, split: str, scale: float = 1.0) -> torch.Tensor:
    """The ``split`` region of source ``name``, cut out first and then resized by ``scale``."""
    img = source(name)
    top, bottom, left, right = split_region(img.shape[1], img.shape[2], split)
    reg = img[:, top:bottom, left:right]
    if scale != 1.0:
        h, w = max(1, round(reg.shape[1] * scale)), max(1, round(reg.shape[2] * scale))
        reg = torch.nn.functional.interpolate(reg[None], size=(h, w), mode="bilinear", antialias=True,
                                              align_corners=False)[0]
    return reg.contiguous()


def crops(name: str, split: str, n: int, g: torch.Generator, side: tuple[float, float], rotate: bool = False,
          flip: bool = True, scale: float = 1.0, out_size: int = 32) -> torch.Tensor:
    """``n`` random square crops (N, C, out, out) of the ``split`` region of source ``name``.

    ``side`` is the range of the crop side as a fraction of the *whole* image's shorter side (the
    same distribution for every split); ``rotate`` turns each crop by a uniform random angle (the
    rotated square still lies inside the region); ``scale`` shrinks the region first (antialiased)
    so that large crops are not aliased.
    """
    full = source(name)
    short = min(full.shape[1:])
    reg = region_image(name, split, scale)
    h, w = reg.shape[1:]
    sides = ops.uniform(n, side[0], side[1], g) * short * scale
    angles = ops.uniform(n, 0, 2 * math.pi, g) if rotate else torch.zeros(n)
    half = sides / 2 * (angles.cos().abs() + angles.sin().abs()) + 1.0  # half footprint + a pixel margin
    if bool((2 * half > min(h, w)).any()):
        raise ValueError(f"crops of {name!r} up to {side[1]} of the shorter side do not fit its {split} region")
    cx = half + ops.uniform(n, 0, 1, g) * (w - 2 * half)
    cy = half + ops.uniform(n, 0, 1, g) * (h - 2 * half)
    flips = (torch.rand(n, generator=g) < 0.5) if flip else None
    return ops.sample_crops(reg, torch.stack([cx, cy], 1), sides, angles, out_size=out_size, flip=flips)
