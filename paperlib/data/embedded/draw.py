"""Vectorised 2-D drawing with signed distance functions, for the procedural domains.

Coordinates span ``[-1, 1]`` across the image (pixel centres, ``x`` to the right, ``y`` down), so
one pixel is ``2 / size`` wide. Shape functions return signed distances (negative inside) in those
units, broadcast over a batch: per-sample parameters are tensors of shape (N, 1, 1, 1). :func:`fill`
and :func:`stroke` turn distances into antialiased masks in ``[0, 1]``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

from . import ops
from .base import IMAGE_SIZE


@lru_cache(maxsize=8)
def coords(size: int = IMAGE_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates ``(x, y)`` in ``[-1, 1]``, each of shape (1, 1, size, size)."""
    t = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1
    y, x = torch.meshgrid(t, t, indexing="ij")
    return x[None, None], y[None, None]


def col(v) -> torch.Tensor:
    """A per-sample value (N,) as (N, 1, 1, 1) for broadcasting against images."""
    return torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1, 1, 1)


def frame(cx, cy, angle, size: int = IMAGE_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """Image coordinates moved to centre ``(cx, cy)`` and rotated by ``angle`` (radians): the local
    frame ``(u, v)`` of a shape drawn there (each (N, 1, size, size))."""
    x, y = coords(size)
    dx, dy = x - col(cx), y - col(cy)
    c, s = torch.cos(col(angle)), torch.sin(col(angle))
    return c * dx + s * dy, -s * dx + c * dy


def fill(d: torch.Tensor, size: int = IMAGE_SIZE, soft: float = 1.0) -> torch.Tensor:
    """Antialiased inside-mask of the signed distance ``d`` (ramp over ``soft`` pixels)."""
    return (0.5 - d * (size / 2) / soft).clamp(0, 1)


def stroke(d: torch.Tensor, width, size: int = IMAGE_SIZE) -> torch.Tensor:
    """Mask of a line of total ``width`` (image units) along the zero level of ``d``."""
    return fill(d.abs() - width / 2, size)


def circle(u, v, r):
    return torch.hypot(u, v) - r


def ellipse(u, v, a, b):
    """Approximate signed distance to an axis-aligned ellipse of half-axes ``a``, ``b``."""
    return (torch.hypot(u / a, v / b) - 1) * torch.minimum(torch.as_tensor(a), torch.as_tensor(b))


def box(u, v, hw, hh, radius=0.0):
    """Rectangle of half-width ``hw`` and half-height ``hh``, corners rounded by ``radius``."""
    qx, qy = u.abs() - hw + radius, v.abs() - hh + radius
    return torch.hypot(qx.clamp(min=0), qy.clamp(min=0)) + torch.maximum(qx, qy).clamp(max=0) - radius


def segment(u, v, ax, ay, bx, by):
    """Distance to the segment from ``(ax, ay)`` to ``(bx, by)`` (unsigned; subtract a half-width)."""
    ex, ey = bx - ax, by - ay
    wx, wy = u - ax, v - ay
    t = ((wx * ex + wy * ey) / (ex * ex + ey * ey + 1e-12)).clamp(0, 1)
    return torch.hypot(wx - t * ex, wy - t * ey)


def star(u, v, n: int, r_outer, r_inner):
    """``n``-pointed star with a tip on the +u axis; ``r_inner = r_outer·cos(π/n)`` is a regular polygon."""
    sector = 2 * math.pi / n
    a = torch.remainder(torch.atan2(v, u) + sector / 2, sector) - sector / 2
    a = a.abs()
    rho = torch.hypot(u, v)
    px, py = rho * torch.cos(a), rho * torch.sin(a)
    ax, ay = r_outer, 0.0
    bx, by = r_inner * math.cos(sector / 2), r_inner * math.sin(sector / 2)
    dist = segment(px, py, ax, ay, bx, by)
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    return torch.where(cross > 0, -dist, dist)


def polygon(u, v, n: int, r):
    """Regular ``n``-gon of circumradius ``r`` with a vertex on the +u axis."""
    return star(u, v, n, r, r * math.cos(math.pi / n))


def union(*ds):
    out = ds[0]
    for d in ds[1:]:
        out = torch.minimum(out, d)
    return out


def subtract(d, cut):
    return torch.maximum(d, -cut)


def mix(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation ``a + (b - a)·t``."""
    return a + (b - a) * t


def fractal(n: int, g: torch.Generator, cells: int = 4, octaves: int = 3, size: int = IMAGE_SIZE,
            channels: int = 1) -> torch.Tensor:
    """Fractal value noise re-centred to mean 0.5 and stretched to roughly fill ``[0, 1]``."""
    z = ops.smooth_noise(n, channels, g, cells=cells, size=size, octaves=octaves)
    lo = z.amin(dim=(2, 3), keepdim=True)
    hi = z.amax(dim=(2, 3), keepdim=True)
    return (z - lo) / (hi - lo + 1e-6)


def palette(base: list[list[float]] | torch.Tensor, n: int, g: torch.Generator, jitter: float = 0.06) -> torch.Tensor:
    """``n`` colours (N, 3, 1, 1) drawn from rows of ``base`` (RGB in [0, 1]) with per-channel jitter."""
    base = torch.as_tensor(base, dtype=torch.float32).reshape(-1, 3)
    idx = torch.randint(0, base.shape[0], (n,), generator=g)
    return (base[idx] + ops.uniform((n, 3), -jitter, jitter, g)).clamp(0, 1).view(n, 3, 1, 1)


def paint(canvas: torch.Tensor, mask: torch.Tensor, color) -> torch.Tensor:
    """``canvas`` with ``color`` (colour or image) painted through ``mask``."""
    return ops.composite(mask, color, canvas)
