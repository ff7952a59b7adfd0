"""Vectorised image operations shared by the embedded domain generators.

Images are float tensors in ``[0, 1]`` of shape ``(N, C, H, W)`` until :func:`to_uint8`. Every
random draw takes the caller's ``torch.Generator`` so generation is deterministic for a seed.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

from .base import IMAGE_SIZE


def uniform(shape, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    """Uniform samples in ``[lo, hi)`` of the given shape."""
    if isinstance(shape, int):
        shape = (shape,)
    return lo + (hi - lo) * torch.rand(shape, generator=g)


def balanced_labels(n_per_class: int, n_classes: int, g: torch.Generator) -> torch.Tensor:
    """``n_per_class`` copies of each label ``0..n_classes-1`` in a random order (int64)."""
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    return labels[torch.randperm(labels.numel(), generator=g)]


def resize(x: torch.Tensor, size: int = IMAGE_SIZE) -> torch.Tensor:
    """Resize (N, C, H, W) to ``size``×``size``, antialiased when shrinking."""
    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


@lru_cache(maxsize=None)
def _bicubic_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) matrix of 1-D bicubic upsampling as ``F.interpolate(..., align_corners=True)`` does it."""
    eye = torch.eye(n_in).view(1, 1, n_in, n_in)
    return F.interpolate(eye, size=(n_out, n_in), mode="bicubic", align_corners=True)[0, 0]


def smooth_noise(n: int, channels: int, g: torch.Generator, cells: int = 4,
                 size: int = IMAGE_SIZE, octaves: int = 1) -> torch.Tensor:
    """Value noise in ``[0, 1]``: uniform noise on a ``cells``×``cells`` lattice, upsampled
    bicubically; ``octaves`` > 1 adds finer lattices at half the amplitude each (fractal noise)."""
    out = torch.zeros(n, channels, size, size)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = cells * 2**o
        base = torch.rand(n, channels, c + 1, c + 1, generator=g)
        up = _bicubic_matrix(c + 1, size)        # separable: the same result as F.interpolate, faster
        out += amp * (up @ base @ up.T)
        total += amp
        amp /= 2
    return (out / total).clamp(0, 1)


def random_colors(n: int, g: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    """``n`` RGB colours (N, 3, 1, 1) with channels uniform in ``[lo, hi)``."""
    return uniform((n, 3, 1, 1), lo, hi, g)


def contrasting_colors(bg: torch.Tensor, g: torch.Generator, min_delta: float = 0.35) -> torch.Tensor:
    """Colours whose mean brightness differs from ``bg`` (N, 3, 1, 1) by at least ``min_delta``."""
    n = bg.shape[0]
    fg = random_colors(n, g)
    bright = bg.mean(dim=(1, 2, 3), keepdim=True)
    target = torch.where(bright > 0.5, uniform((n, 1, 1, 1), 0.0, max(0.0, 0.5 - min_delta / 2), g),
                         uniform((n, 1, 1, 1), min(1.0, 0.5 + min_delta / 2), 1.0, g))
    # Shift the colour so its mean brightness equals the target, keeping the hue as far as clamping allows.
    return (fg + target - fg.mean(dim=1, keepdim=True)).clamp(0, 1)


def composite(fg_mask: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
    """Alpha-blend ``fg`` (colour or image) over ``bg`` with ``fg_mask`` (N, 1, H, W) in ``[0, 1]``."""
    return fg_mask * fg + (1 - fg_mask) * bg


def add_noise(x: torch.Tensor, g: torch.Generator, sigma: float) -> torch.Tensor:
    """Add Gaussian pixel noise of standard deviation ``sigma`` and clamp to ``[0, 1]``."""
    return (x + sigma * torch.randn(x.shape, generator=g)).clamp(0, 1)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Float ``[0, 1]`` to ``uint8`` ``[0, 255]`` (rounded)."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def gray_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) to (N, 3, H, W)."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def _per_sample(v, n: int) -> torch.Tensor:
    """A float or tensor broadcast to shape ``(n,)``."""
    return torch.as_tensor(v, dtype=torch.float32).expand(n)


def affine_theta(n: int, angle_deg=0.0, zoom=1.0, shift_x=0.0, shift_y=0.0, shear_deg=0.0,
                 squash=1.0) -> torch.Tensor:
    """Per-image affine maps as ``F.affine_grid`` matrices (N, 2, 3) (output to input coordinates).

    Parameters are floats or (N,) tensors. The content is squashed horizontally by ``squash`` (<1
    narrows it, like a sign seen from the side), sheared by ``shear_deg`` (positive leans the top to
    the right, like italics), rotated counter-clockwise by ``angle_deg``, zoomed by ``zoom`` (>1
    enlarges) about the centre, then moved by ``(shift_x, shift_y)`` fractions of the image width
    (positive: right, down). The shift is in output coordinates, so it
    does not depend on the rotation. To place content at an offset ``d`` (grid units) of the
    *input* first, subtract ``d`` from the last column.
    """
    angle = _per_sample(angle_deg, n) * math.pi / 180
    shear = torch.tan(_per_sample(shear_deg, n) * math.pi / 180)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)   # y points down
    shr = torch.zeros(n, 2, 2)
    shr[:, 0, 0], shr[:, 0, 1], shr[:, 1, 1] = _per_sample(squash, n), -shear, 1.0
    forward = _per_sample(zoom, n)[:, None, None] * rot @ shr       # input (content) -> output coords
    inverse = torch.linalg.inv(forward)
    shift = 2 * torch.stack([_per_sample(shift_x, n), _per_sample(shift_y, n)], -1)   # grid spans [-1, 1]
    return torch.cat([inverse, -(inverse @ shift[:, :, None])], 2)


def _affine_grid_xy(theta: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The x and y parts (N, size, size) of ``F.affine_grid(theta, ..., align_corners=False)``,
    computed by broadcasting (an order of magnitude faster on the CPU for small images)."""
    c = (torch.arange(size, dtype=torch.float32) + 0.5) * (2 / size) - 1
    x, y = c.view(1, 1, size), c.view(1, size, 1)
    t = theta.reshape(-1, 6, 1, 1)
    return t[:, 0] * x + (t[:, 1] * y + t[:, 2]), t[:, 3] * x + (t[:, 4] * y + t[:, 5])


def sample_atlas(bank: torch.Tensor, index: torch.Tensor, theta: torch.Tensor, out_size: int = IMAGE_SIZE,
                 displacement: torch.Tensor | None = None, fill: float = 0.0) -> torch.Tensor:
    """Warp tile ``bank[index[i]]`` by ``theta[i]`` for every ``i``: (N, C, out_size, out_size).

    ``bank`` (K, C, H, W) holds a few source tiles (glyph masks, sign drawings) used by many images.
    The tiles are stacked into one atlas and sampled with a single ``grid_sample`` call, so no
    per-image copy of a (large) tile is made: cost grows with the output size only. ``theta`` (N, 2,
    3) are ``F.affine_grid`` matrices (:func:`affine_theta`), ``displacement`` (N, out, out, 2) an
    optional extra offset of the sampling grid (:func:`smooth_displacement`). Outside its tile an
    image reads ``fill``. Bilinear; sampling a tile of twice the output size at zoom 1 averages 2×2
    pixels, which antialiases well enough for masks.
    """
    k, c, h, w = bank.shape
    n = index.numel()
    gx, gy = _affine_grid_xy(theta, out_size)
    if displacement is not None:
        gx, gy = gx + displacement[..., 0], gy + displacement[..., 1]
    inside = (gx.abs() <= 1) & (gy.abs() <= 1)
    atlas_y = (index.view(n, 1, 1).float() + (gy.clamp(-1, 1) + 1) / 2) * (2 / k) - 1
    grid = torch.stack([gx, atlas_y], -1).reshape(1, n * out_size, out_size, 2)
    atlas = bank.float().permute(1, 0, 2, 3).reshape(1, c, k * h, w)
    out = F.grid_sample(atlas, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    out = out.view(c, n, out_size, out_size).transpose(0, 1)
    return torch.where(inside[:, None], out, torch.tensor(fill, dtype=out.dtype))


@lru_cache(maxsize=None)
def _blur_matrix(size: int, sigma: float) -> torch.Tensor:
    """(size, size) matrix of a 1-D Gaussian blur with reflect padding (``F.pad(mode="reflect")``)."""
    radius = min(size - 1, max(1, math.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    weights = weights / weights.sum()
    m = torch.zeros(size, size)
    for i in range(size):
        j = (i + offsets).abs()
        j = torch.where(j > size - 1, 2 * (size - 1) - j, j)
        m[i].index_add_(0, j, weights)
    return m


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with standard deviation ``sigma`` pixels (reflect
    padding), as two small matrix products (much faster on the CPU than ``conv2d`` for 32×32 images)."""
    if sigma <= 0:
        return x
    return _blur_matrix(x.shape[-2], float(sigma)) @ x @ _blur_matrix(x.shape[-1], float(sigma)).T


def random_blur(x: torch.Tensor, g: torch.Generator, max_sigma: float, levels: int = 4) -> torch.Tensor:
    """Blur each image with a random one of ``levels`` strengths from 0 (sharp) to ``max_sigma``."""
    choice = torch.randint(0, levels, (x.shape[0],), generator=g)
    out = x.clone()
    for level in range(1, levels):
        idx = (choice == level).nonzero().flatten()
        if idx.numel():
            out[idx] = gaussian_blur(x[idx], max_sigma * level / (levels - 1))
    return out


def dilate(x: torch.Tensor, radius: int = 1) -> torch.Tensor:
    """Grey-level dilation (maximum over a ``2*radius+1`` square) of (N, C, H, W)."""
    return F.max_pool2d(x, 2 * radius + 1, stride=1, padding=radius) if radius > 0 else x


def erode(x: torch.Tensor, radius: int = 1) -> torch.Tensor:
    """Grey-level erosion (minimum over a ``2*radius+1`` square) of (N, C, H, W)."""
    return -dilate(-x, radius)


def gradient_ramp(n: int, g: torch.Generator, size: int = IMAGE_SIZE) -> torch.Tensor:
    """A ramp from 0 to 1 across each image in a random direction, shape (N, 1, size, size)
    (a mixing weight; :func:`linear_gradient` gives colour images)."""
    angle = uniform(n, 0, 2 * math.pi, g)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    proj = cos * coords[None, None, :] + sin * coords[None, :, None]
    extent = cos.abs() + sin.abs()
    return (0.5 + 0.5 * proj / extent)[:, None]


def smooth_displacement(n: int, g: torch.Generator, magnitude: float, cells: int = 4,
                        size: int = IMAGE_SIZE) -> torch.Tensor:
    """A smooth random offset field (N, size, size, 2) in ``grid_sample`` units, each component
    within ``±magnitude`` image widths."""
    return (smooth_noise(n, 2, g, cells=cells, size=size) - 0.5).permute(0, 2, 3, 1) * 4 * magnitude


def random_lighting(x: torch.Tensor, g: torch.Generator, gain: tuple[float, float] = (0.6, 1.2),
                    gradient: float = 0.4) -> torch.Tensor:
    """Scale each image's brightness by a random ``gain`` and a linear light falloff of random
    direction and strength up to ``gradient`` (relative), clamped to ``[0, 1]``."""
    n, _, h, _ = x.shape
    k = uniform((n, 1, 1, 1), gain[0], gain[1], g)
    slope = uniform((n, 1, 1, 1), 0, gradient, g)
    return (x * k * (1 + slope * (gradient_ramp(n, g, h) - 0.5))).clamp(0, 1)


def sample_crops(src: torch.Tensor, centers: torch.Tensor, sides: torch.Tensor, angles: torch.Tensor | None = None,
                 out_size: int = IMAGE_SIZE, supersample: int = 2, flip: torch.Tensor | None = None) -> torch.Tensor:
    """Square crops of one source image ``src`` (C, H, W), resampled to ``out_size`` (N, C, out, out).

    ``centers`` (N, 2) are (x, y) in pixel units of ``src`` (pixel ``j`` spans ``[j, j+1)``), ``sides``
    (N,) the crop sides in pixels, ``angles`` (N,) rotations in radians, ``flip`` (N,) bools mirroring
    a crop left-right. The crops are sampled bilinearly on a ``supersample``-times finer grid, then
    shrunk with antialiasing; all crops go through one ``grid_sample`` call (no copy of ``src`` per
    crop). The caller keeps the rotated square (half-diagonal ``side/√2``) inside ``src``.
    """
    n, (c, h, w) = centers.shape[0], src.shape
    r = out_size * supersample
    t = (torch.arange(r, dtype=torch.float32) + 0.5) / r - 0.5  # unit-square sample offsets
    gy, gx = torch.meshgrid(t, t, indexing="ij")
    gx, gy = gx.expand(n, r, r), gy.expand(n, r, r)
    if flip is not None:
        gx = torch.where(flip.view(n, 1, 1), -gx, gx)
    ang = torch.zeros(n) if angles is None else angles
    cos, sin = torch.cos(ang).view(n, 1, 1), torch.sin(ang).view(n, 1, 1)
    s = sides.view(n, 1, 1).float()
    px = centers[:, 0].view(n, 1, 1) + s * (cos * gx - sin * gy)
    py = centers[:, 1].view(n, 1, 1) + s * (sin * gx + cos * gy)
    grid = torch.stack([2 * px / w - 1, 2 * py / h - 1], -1).reshape(1, n * r, r, 2)
    out = F.grid_sample(src[None].float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    out = out.view(c, n, r, r).transpose(0, 1)
    return resize(out, out_size)


def color_jitter(x: torch.Tensor, g: torch.Generator, brightness: float = 0.0, contrast: float = 0.0,
                 saturation: float = 0.0) -> torch.Tensor:
    """Per-image random brightness (multiplicative, ``1 ± brightness``), contrast (about the image
    mean, ``1 ± contrast``) and saturation (blend with the grey image, ``1 ± saturation``)."""
    n = x.shape[0]
    x = x * uniform((n, 1, 1, 1), 1 - brightness, 1 + brightness, g)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * uniform((n, 1, 1, 1), 1 - contrast, 1 + contrast, g)
    grey = x.mean(dim=1, keepdim=True)
    x = grey + (x - grey) * uniform((n, 1, 1, 1), 1 - saturation, 1 + saturation, g)
    return x.clamp(0, 1)


def linear_gradient(n: int, g: torch.Generator, c0: torch.Tensor, c1: torch.Tensor,
                    size: int = IMAGE_SIZE) -> torch.Tensor:
    """Images (N, 3, size, size) shading from colour ``c0`` to ``c1`` (N, 3, 1, 1) along a random
    direction (:func:`gradient_ramp` as the mixing weight)."""
    return c0 + (c1 - c0) * gradient_ramp(n, g, size)
