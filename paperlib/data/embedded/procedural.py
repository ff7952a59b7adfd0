"""Procedural and photo-crop domains of the embedded benchmark (32×32 RGB, no download).

Six domains, each standing in for one of the papers' datasets (see :mod:`paperlib.data.standins`):

* ``shapes`` (CIFAR-10 / CIFAR-100 / ImageNet-to-Sketch "sketch"): ten geometric shapes (circle,
  square, triangle, star, hexagon, cross, ring, crescent, heart, arrow), filled or outlined, at random
  size, rotation, stretch and position, on smooth-noise, gradient or colour-noise backgrounds, with an
  occasional small distractor blob.
* ``textures`` (DTD, WikiArt): ten describable textures; five are random rotated crops of
  scikit-image's texture photographs (brick wall, grass, gravel, printed text, cratered moon surface),
  five are procedural (striped, polka-dotted, zigzagged, marbled, crosshatched). All are mapped to a
  random pair of colours, so the pattern, not the colour, tells the class.
* ``land_cover`` (EuroSAT, chapter 4's dissimilar domain): satellite-like tiles of EuroSAT's ten
  classes drawn from fractal noise, parcels, rows, roads, roofs and water; annual crop, permanent
  crop, pasture and herbaceous vegetation are deliberately close.
* ``aerial_scenes`` (RESISC45): ten top-down scenes (airport runway, baseball diamond, roundabout,
  parking lot, storage tanks, tennis court, bridge, harbor, circular farmland, stadium) on a ground
  texture at random rotation, scale and position.
* ``photo_scenes`` (SUN397, STL-10, ImageNet-to-Sketch "flowers"): crops of scikit-image's real
  photographs labelled by the photograph (astronaut, cat, coffee cup, rocket launch, deep space,
  tissue sample, retina scan, cameraman, coins) with flips and colour jitter.
* ``faces`` (FER2013, CUB in ImageNet-to-Sketch): cartoon faces with FER2013's seven expressions
  (eyebrow height and slant, eye opening, mouth curve, opening and asymmetry), with per-face noise on
  every feature so classes overlap a little, plus pose, lighting, hair, sunglasses and occlusions.

Disjoint regions for photo sources (``textures`` and ``photo_scenes``): every scikit-image picture is
cut by :func:`paperlib.data.embedded.photos.split_region`: along its longer axis the first 60 % is
``train``; the other 40 % is cut across the shorter axis into ``val`` (first 3/8: 15 % of the image)
and ``test`` (last 5/8: 25 %). A crop of a split lies wholly inside that split's region (rotated
crops included), and regions are cut out before any resizing, so test pixels never reach training
images. Crop sides are drawn as a fraction of the whole picture's shorter side, identically for all
splits, so no split sees larger or smaller crops: 0.2–0.36 for ``photo_scenes`` (unrotated; 0.375,
the ``val`` band's depth, is the most that fits) and up to 0.25 for the rotated texture crops (whose
turned square needs √2 more room).
"""

from __future__ import annotations

import math

import torch

from . import draw, ops, photos
from .base import IMAGE_SIZE, Domain, register

S = IMAGE_SIZE
TAU = 2 * math.pi


# ----------------------------------------------------------------------------------------- helpers
def _by_class(n_per_class: int, drawers, g: torch.Generator, size: int = S, channels: int = 3):
    """Balanced labels, then each class's images drawn in one batch by ``drawers[c](n, g)``."""
    labels = ops.balanced_labels(n_per_class, len(drawers), g)
    images = torch.empty(labels.numel(), channels, size, size)
    for c, fn in enumerate(drawers):
        images[labels == c] = fn(n_per_class, g)
    return images, labels


def _u(n, lo, hi, g):
    """Uniform per-sample values as (N, 1, 1, 1)."""
    return draw.col(ops.uniform(n, lo, hi, g))


def _p(n, p, g):
    """Per-sample Bernoulli(p) as a bool (N, 1, 1, 1)."""
    return (torch.rand(n, generator=g) < p).view(n, 1, 1, 1)


def _finish(x: torch.Tensor, g: torch.Generator, noise: tuple[float, float] = (0.0, 0.03)) -> torch.Tensor:
    """Pixel noise of a random strength per image, then uint8."""
    n = x.shape[0]
    x = x + _u(n, *noise, g) * torch.randn(x.shape, generator=g)
    return ops.to_uint8(x)


def _tone_map(t: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Map an intensity pattern (N, 1, H, W) in [0, 1] to RGB between a random dark and light colour."""
    n = t.shape[0]
    dark = ops.random_colors(n, g, 0.0, 0.45)
    light = ops.random_colors(n, g, 0.5, 1.0)
    swap = _p(n, 0.25, g)  # sometimes light patterns on dark
    lo, hi = torch.where(swap, light, dark), torch.where(swap, dark, light)
    return draw.mix(lo, hi, t)


def _standardise(t: torch.Tensor, g: torch.Generator, contrast=(0.14, 0.24)) -> torch.Tensor:
    """Per-image zero-mean unit-std intensity, rescaled to a random contrast around 0.5."""
    n = t.shape[0]
    mean = t.mean(dim=(1, 2, 3), keepdim=True)
    std = t.std(dim=(1, 2, 3), keepdim=True)
    return (0.5 + (t - mean) / (std + 0.02) * _u(n, *contrast, g)).clamp(0, 1)


# ------------------------------------------------------------------------------------------ shapes
def _heart(u, v, r):
    sq = draw.box((u + v - 0.2 * r) / math.sqrt(2), (v - 0.2 * r - u) / math.sqrt(2), 0.5 * r, 0.5 * r)
    c1 = draw.circle(u + 0.354 * r, v + 0.154 * r, 0.5 * r)
    c2 = draw.circle(u - 0.354 * r, v + 0.154 * r, 0.5 * r)
    return draw.union(sq, c1, c2)


_SHAPES = {
    "circle": lambda u, v, r: draw.circle(u, v, r),
    "square": lambda u, v, r: draw.box(u, v, 0.75 * r, 0.75 * r),
    "triangle": lambda u, v, r: draw.polygon(u + 0.15 * r, v, 3, 1.05 * r),
    "star": lambda u, v, r: draw.star(u, v, 5, 1.05 * r, 0.45 * r),
    "hexagon": lambda u, v, r: draw.polygon(u, v, 6, 0.9 * r),
    "cross": lambda u, v, r: draw.union(draw.box(u, v, r, 0.3 * r), draw.box(u, v, 0.3 * r, r)),
    "ring": lambda u, v, r: draw.circle(u, v, 0.72 * r).abs() - 0.28 * r,
    "crescent": lambda u, v, r: draw.subtract(draw.circle(u, v, r), draw.circle(u - 0.5 * r, v + 0.1 * r, 0.82 * r)),
    "heart": _heart,
    "arrow": lambda u, v, r: draw.union(draw.box(u + 0.3 * r, v, 0.55 * r, 0.15 * r),
                                        draw.polygon(u - 0.38 * r, v, 3, 0.55 * r)),
}
_NO_OUTLINE = ("circle", "ring")


def _shape_background(n: int, g: torch.Generator) -> torch.Tensor:
    c0, c1 = ops.random_colors(n, g), ops.random_colors(n, g)
    noise2 = draw.mix(c0, c1, draw.fractal(n, g, cells=3, octaves=3))
    grad = ops.linear_gradient(n, g, c0, c1)
    colour_noise = draw.fractal(n, g, cells=2, octaves=2, channels=3) * 0.8 + 0.1
    kind = torch.randint(0, 3, (n, 1, 1, 1), generator=g)
    return torch.where(kind == 0, noise2, torch.where(kind == 1, grad, colour_noise))


def _shape_drawer(name: str):
    sdf = _SHAPES[name]

    def fn(n, g):
        bg = _shape_background(n, g)
        # a small distractor blob (circle or rounded square) under the main shape, sometimes
        du, dv = draw.frame(ops.uniform(n, -0.8, 0.8, g), ops.uniform(n, -0.8, 0.8, g), ops.uniform(n, 0, TAU, g))
        dr = _u(n, 0.08, 0.15, g)
        dd = torch.where(_p(n, 0.5, g), draw.circle(du, dv, dr), draw.box(du, dv, dr, dr * 0.7, 0.02))
        bg = draw.paint(bg, draw.fill(dd) * _p(n, 0.4, g), ops.random_colors(n, g))
        # the shape
        r = _u(n, 0.4, 0.72, g)
        room = (0.95 - r).clamp(min=0.05)
        cx, cy = ops.uniform(n, -1, 1, g) * room.flatten(), ops.uniform(n, -1, 1, g) * room.flatten()
        u, v = draw.frame(cx, cy, ops.uniform(n, 0, TAU, g))
        u = u * _u(n, 0.85, 1.18, g)
        d = sdf(u, v, r)
        outlined = _p(n, 0.0 if name in _NO_OUTLINE else 0.35, g)
        mask = torch.where(outlined, draw.stroke(d, _u(n, 0.08, 0.16, g)), draw.fill(d))
        fg = ops.contrasting_colors(bg.mean(dim=(2, 3), keepdim=True), g, 0.3)
        fg = fg * (0.85 + 0.3 * ops.smooth_noise(n, 1, g, cells=3))
        return draw.paint(bg, mask, fg)

    return fn


def generate_shapes(n_per_class: int, split: str, g: torch.Generator):
    images, labels = _by_class(n_per_class, [_shape_drawer(k) for k in _SHAPES], g)
    return _finish(images, g, (0.0, 0.04)), labels


# ---------------------------------------------------------------------------------------- textures
#: Real texture classes: scikit-image sources and crop side range (fraction of the shorter side).
_REAL_TEXTURES = {
    "brick wall": (("brick",), (0.15, 0.25)),
    "grass": (("grass",), (0.08, 0.24)),
    "gravel": (("gravel",), (0.1, 0.25)),
    "printed text": (("page",), (0.12, 0.25)),
    "cratered": (("moon",), (0.16, 0.25)),
}


def _real_texture(sources, side):
    def fn(n, g, split):
        counts = [n // len(sources) + (i < n % len(sources)) for i in range(len(sources))]
        parts = []
        for name, k in zip(sources, counts):
            parts.append(photos.crops(name, split, k, g, side, rotate=True, scale=_scale(name, 320))[:, :1])
        return torch.cat(parts)
    return fn


def _scale(name: str, short_side: int) -> float:
    """Shrink factor that brings source ``name``'s shorter side down to ``short_side`` pixels (≤ 1)."""
    return min(1.0, short_side / min(photos.source(name).shape[1:]))


def _stripes(t, duty, sharp=12.0):
    """Soft square wave of phase ``t`` (periods) with ``duty`` fraction high."""
    return torch.sigmoid(sharp * (torch.cos(TAU * t) - torch.cos(math.pi * torch.as_tensor(duty))))


def _tex_frame(n, g):
    return draw.frame(ops.uniform(n, -1, 1, g), ops.uniform(n, -1, 1, g), ops.uniform(n, 0, TAU, g))


def _striped(n, g, split):
    u, v = _tex_frame(n, g)
    wob = 0.08 * (draw.fractal(n, g, cells=3, octaves=2) - 0.5)
    return _stripes((v + wob) * _u(n, 1.3, 3.2, g), _u(n, 0.3, 0.6, g), _u(n, 4, 14, g))


def _polka(n, g, split):
    u, v = _tex_frame(n, g)
    f = _u(n, 1.6, 3.2, g)
    cu, cv = u * f, v * f
    cu = cu + 0.5 * torch.floor(cv) * _p(n, 0.5, g)  # hexagonal packing for some
    du, dv = torch.remainder(cu, 1) - 0.5, torch.remainder(cv, 1) - 0.5
    r = _u(n, 0.16, 0.32, g)
    return draw.fill((torch.hypot(du, dv) - r) / f)


def _zigzag(n, g, split):
    u, v = _tex_frame(n, g)
    k = _u(n, 1.2, 2.6, g)
    tri = 2 * (torch.remainder(u * k, 1) - 0.5).abs()  # triangle wave in [0, 1]
    amp = _u(n, 0.15, 0.35, g)
    return _stripes((v + amp * tri) * _u(n, 1.5, 3.0, g), _u(n, 0.35, 0.55, g))


def _marbled(n, g, split):
    u, v = _tex_frame(n, g)
    turb = draw.fractal(n, g, cells=2, octaves=3)
    p = torch.sin(TAU * (u * _u(n, 0.4, 0.9, g) + _u(n, 0.8, 1.6, g) * turb))
    veins = 1 - p.abs() ** _u(n, 0.15, 0.35, g)
    return (0.2 + 0.4 * turb + 0.6 * veins).clamp(0, 1)


def _crosshatched(n, g, split):
    u, v = _tex_frame(n, g)
    f = _u(n, 2.0, 4.0, g)
    ang = _u(n, 0.6, 1.57, g)  # second set of lines at 35°-90° to the first
    w = _u(n, 0.12, 0.25, g)
    a = _stripes(v * f, w, 20)
    b = _stripes((u * torch.sin(ang) + v * torch.cos(ang)) * f, w, 20)
    return torch.maximum(a, b * _u(n, 0.6, 1.0, g))


_PROCEDURAL_TEXTURES = {"striped": _striped, "polka-dotted": _polka, "zigzagged": _zigzag,
                        "marbled": _marbled, "crosshatched": _crosshatched}
_TEXTURES = {**{k: _real_texture(*v) for k, v in _REAL_TEXTURES.items()}, **_PROCEDURAL_TEXTURES}


def generate_textures(n_per_class: int, split: str, g: torch.Generator):
    drawers = [lambda n, g, fn=fn: fn(n, g, split) for fn in _TEXTURES.values()]
    t, labels = _by_class(n_per_class, drawers, g, channels=1)
    n = t.shape[0]
    t = _standardise(t, g)
    # uneven illumination, then a random colour pair
    t = (t * (0.8 + 0.4 * ops.gradient_ramp(n, g))).clamp(0, 1)
    return _finish(_tone_map(t, g), g, (0.0, 0.03)), labels


# -------------------------------------------------------------------------------------- land cover
_GREENS = [[0.30, 0.45, 0.20], [0.38, 0.52, 0.25], [0.45, 0.55, 0.28], [0.28, 0.40, 0.22]]
_CROPS = [[0.55, 0.50, 0.30], [0.62, 0.58, 0.36], [0.45, 0.55, 0.28], [0.50, 0.42, 0.30], [0.40, 0.50, 0.25],
          [0.68, 0.62, 0.42]]
_SOIL = [[0.50, 0.42, 0.32], [0.58, 0.50, 0.38], [0.45, 0.38, 0.30]]
_ROOFS = [[0.65, 0.35, 0.28], [0.55, 0.30, 0.25], [0.60, 0.58, 0.55], [0.45, 0.42, 0.42], [0.70, 0.50, 0.38]]
_WATER = [[0.10, 0.18, 0.30], [0.12, 0.22, 0.35], [0.08, 0.15, 0.22], [0.15, 0.25, 0.30]]


def _noisy(n, g, base, var=0.06, cells=4, octaves=3, jitter=0.05):
    """A field of palette colour ``base`` modulated by fractal noise of relative amplitude ``var``."""
    c = draw.palette(base, n, g, jitter)
    return (c * (1 + var * 2 * (draw.fractal(n, g, cells=cells, octaves=octaves) - 0.5))).clamp(0, 1)


def _rand_frame(n, g, spread=0.3):
    return draw.frame(ops.uniform(n, -spread, spread, g), ops.uniform(n, -spread, spread, g),
                      ops.uniform(n, 0, TAU, g))


def _annual_crop(n, g):
    u, v = _rand_frame(n, g, 0.6)
    out = _noisy(n, g, _CROPS, 0.1)
    # up to three more parcels split by lines in the frame, each with crop rows
    for cut in range(3):
        side = (u > _u(n, -0.6, 0.6, g)) if cut != 1 else (v > _u(n, -0.6, 0.6, g))
        other = _noisy(n, g, _CROPS, 0.1)
        rows = _stripes((v if cut != 1 else u) * _u(n, 3.5, 7.0, g), 0.5, 3)
        other = other * (1 - _u(n, 0.05, 0.2, g) * rows)
        out = torch.where(side & _p(n, 0.75, g), other, out)
    # field tracks along the parcel lines
    return out


def _permanent_crop(n, g):
    u, v = _rand_frame(n, g, 0.6)
    soil = _noisy(n, g, _SOIL + _CROPS[:2], 0.08)
    f = _u(n, 3.5, 6.0, g)
    du, dv = torch.remainder(u * f * _u(n, 1.0, 1.8, g), 1) - 0.5, torch.remainder(v * f, 1) - 0.5
    orchard = draw.fill((torch.hypot(du, dv) - _u(n, 0.2, 0.35, g)) / f)
    vineyard = _stripes(v * f, _u(n, 0.3, 0.5, g), 8)
    plants = torch.where(_p(n, 0.55, g), orchard, vineyard)
    out = draw.paint(soil, plants * _u(n, 0.6, 0.95, g), draw.palette(_GREENS, n, g, 0.05) * 0.8)
    # sometimes a neighbouring field
    return torch.where((u > _u(n, 0.2, 0.9, g)) & _p(n, 0.4, g), _noisy(n, g, _CROPS, 0.12), out)


def _pasture(n, g):
    out = _noisy(n, g, [[0.45, 0.58, 0.30], [0.50, 0.60, 0.32], [0.42, 0.55, 0.28]], 0.12, cells=2, octaves=2)
    u, v = _rand_frame(n, g, 0.6)
    hedge = draw.stroke(v + 0.05 * torch.sin(3 * u), _u(n, 0.05, 0.1, g)) * _p(n, 0.4, g)
    out = draw.paint(out, hedge, draw.palette(_GREENS, n, g) * 0.6)
    trees = (draw.fractal(n, g, cells=8, octaves=1) > _u(n, 0.82, 0.95, g)).float() * _p(n, 0.5, g)
    return draw.paint(out, trees, torch.tensor([0.18, 0.28, 0.14]).view(1, 3, 1, 1))


def _herbaceous(n, g):
    a = _noisy(n, g, [[0.42, 0.48, 0.28], [0.48, 0.45, 0.30], [0.35, 0.45, 0.25]], 0.15, cells=5, octaves=3)
    b = _noisy(n, g, [[0.55, 0.52, 0.35], [0.30, 0.38, 0.20], [0.50, 0.45, 0.32]], 0.15, cells=5, octaves=3)
    return draw.mix(a, b, draw.fractal(n, g, cells=4, octaves=3))


def _forest(n, g):
    c = draw.palette([[0.12, 0.22, 0.10], [0.16, 0.26, 0.13], [0.20, 0.28, 0.14], [0.14, 0.20, 0.12]], n, g, 0.03)
    crowns = draw.fractal(n, g, cells=10, octaves=2)
    out = c * (0.7 + 0.6 * crowns)
    clearing = draw.fractal(n, g, cells=2, octaves=1) > _u(n, 0.85, 1.1, g)
    return torch.where(clearing, _noisy(n, g, _GREENS, 0.1), out)


def _land_background(n, g):
    kind = _p(n, 0.5, g)
    return torch.where(kind, _pasture(n, g), _annual_crop(n, g))


def _highway(n, g):
    out = _land_background(n, g)
    u, v = _rand_frame(n, g, 0.35)
    w = _u(n, 0.15, 0.28, g)
    road = draw.fill(v.abs() - w / 2)
    grey = draw.palette([[0.45, 0.45, 0.47], [0.55, 0.55, 0.55], [0.38, 0.38, 0.40]], n, g, 0.04)
    out = draw.paint(out, road, grey)
    out = draw.paint(out, draw.stroke(v, 0.05) * 0.6, torch.ones(1, 3, 1, 1) * 0.85)
    # a slip road or crossing road on some tiles
    u2, v2 = draw.frame(ops.uniform(n, -0.5, 0.5, g), ops.uniform(n, -0.5, 0.5, g), ops.uniform(n, 0, TAU, g))
    out = draw.paint(out, draw.fill(v2.abs() - w / 3) * _p(n, 0.35, g), grey)
    cars = (torch.rand(n, 1, S, S, generator=g) < 0.06).float() * road
    return draw.paint(out, cars, ops.random_colors(n, g, 0.3, 1.0))


def _industrial(n, g):
    out = _noisy(n, g, [[0.50, 0.50, 0.48], [0.55, 0.52, 0.46], [0.45, 0.46, 0.45]], 0.1)
    u, v = _rand_frame(n, g, 0.2)
    for _ in range(4):
        cu, cv = _u(n, -0.8, 0.8, g), _u(n, -0.8, 0.8, g)
        hw, hh = _u(n, 0.15, 0.45, g), _u(n, 0.12, 0.35, g)
        roof = draw.palette([[0.80, 0.80, 0.80], [0.65, 0.68, 0.72], [0.55, 0.55, 0.58], [0.85, 0.83, 0.78],
                             [0.45, 0.50, 0.60]], n, g, 0.04)
        d = draw.box(u - cu, v - cv, hw, hh)
        out = draw.paint(out, draw.fill(d - 0.05) * 0.5, torch.zeros(1, 3, 1, 1))  # shadow/edge
        out = draw.paint(out, draw.fill(d) * _p(n, 0.85, g), roof)
    return out


def _residential(n, g):
    gardens = _noisy(n, g, _GREENS, 0.15, cells=6)
    u, v = _rand_frame(n, g, 0.5)
    f = _u(n, 2.2, 3.2, g)  # houses per unit
    cu, cv = u * f, v * f
    iu, iv = torch.floor(cu), torch.floor(cv)
    du, dv = torch.remainder(cu, 1) - 0.5, torch.remainder(cv, 1) - 0.5
    # roof colour varies per house: hash of the cell index
    h = torch.remainder(torch.sin(iu * 12.9898 + iv * 78.233) * 43758.5453, 1.0)
    roofs = torch.stack([draw.palette(_ROOFS, n, g, 0.04) for _ in range(3)])  # (3, N, 3, 1, 1)
    roof_col = torch.where(h < 0.33, roofs[0], torch.where(h < 0.66, roofs[1], roofs[2]))
    house = draw.fill(draw.box(du, dv, _u(n, 0.26, 0.36, g), _u(n, 0.22, 0.32, g)) / f)
    present = (h * 7 % 1 < _u(n, 0.75, 0.95, g)).float()
    out = draw.paint(gardens, house * present, roof_col)
    street = draw.fill((0.4 - dv.abs()) / f) * (torch.remainder(iv, 2) == 0)
    return draw.paint(out, street * 0.9, draw.palette([[0.5, 0.5, 0.5], [0.58, 0.56, 0.52]], n, g))


def _river(n, g):
    out = torch.where(_p(n, 0.5, g), _herbaceous(n, g), _land_background(n, g))
    u, v = _rand_frame(n, g, 0.3)
    centre = _u(n, 0.1, 0.35, g) * torch.sin(TAU * u * _u(n, 0.3, 0.8, g) + _u(n, 0, TAU, g))
    w = _u(n, 0.12, 0.3, g)
    d = (v - centre).abs() - w / 2
    out = draw.paint(out, draw.fill(d - 0.08) * _p(n, 0.6, g), torch.tensor([0.15, 0.25, 0.12]).view(1, 3, 1, 1))
    return draw.paint(out, draw.fill(d), _noisy(n, g, _WATER + [[0.20, 0.25, 0.22]], 0.15))


def _sea(n, g):
    water = _noisy(n, g, _WATER + [[0.05, 0.12, 0.25]], 0.15, cells=2, octaves=3)
    u, v = _rand_frame(n, g, 0.0)
    land_level = v + 0.5 * (draw.fractal(n, g, cells=3, octaves=3) - 0.5) - _u(n, 0.3, 0.9, g)
    coast = _p(n, 0.55, g).float() * draw.fill(-land_level)
    land = torch.where(_p(n, 0.5, g), _herbaceous(n, g), _noisy(n, g, _SOIL + _GREENS, 0.15))
    out = draw.paint(water, coast, land)
    beach = draw.stroke(land_level, 0.06) * coast.amax(dim=(2, 3), keepdim=True)
    return draw.paint(out, beach * 0.6, torch.tensor([0.72, 0.68, 0.55]).view(1, 3, 1, 1))


_LAND = {"annual crop": _annual_crop, "forest": _forest, "herbaceous vegetation": _herbaceous,
         "highway": _highway, "industrial buildings": _industrial, "pasture": _pasture,
         "permanent crop": _permanent_crop, "residential buildings": _residential, "river": _river,
         "sea or lake": _sea}


def generate_land_cover(n_per_class: int, split: str, g: torch.Generator):
    images, labels = _by_class(n_per_class, list(_LAND.values()), g)
    n = images.shape[0]
    # sensor/season variation: per-channel gain, haze, slight blur
    images = images * _u(n, 0.8, 1.2, g) * (1 + ops.uniform((n, 3, 1, 1), -0.08, 0.08, g))
    images = draw.mix(images, torch.full_like(images, 0.6), _u(n, 0.0, 0.25, g))
    return _finish(images, g, (0.005, 0.03)), labels


# ------------------------------------------------------------------------------------ aerial scenes
_GROUNDS = _GREENS + _SOIL + [[0.55, 0.55, 0.52], [0.62, 0.58, 0.48]]
_WHITE = torch.tensor([0.92, 0.92, 0.9]).view(1, 3, 1, 1)
_ASPHALT = [[0.30, 0.30, 0.32], [0.38, 0.38, 0.40], [0.25, 0.26, 0.28]]


def _ground(n, g):
    """Ground texture with clutter shared by all classes: a road and small buildings on some tiles."""
    a = _noisy(n, g, _GROUNDS, 0.15, cells=4)
    b = _noisy(n, g, _GROUNDS, 0.15, cells=4)
    out = draw.mix(a, b, (draw.fractal(n, g, cells=2, octaves=2) > 0.5).float() * 0.7)
    u, v = _rand_frame(n, g, 0.9)
    road = draw.fill(v.abs() - _u(n, 0.03, 0.08, g)) * _p(n, 0.35, g)
    out = draw.paint(out, road, draw.palette(_ASPHALT + [[0.55, 0.52, 0.48]], n, g))
    for _ in range(3):
        bu, bv = draw.frame(ops.uniform(n, -0.9, 0.9, g), ops.uniform(n, -0.9, 0.9, g), ops.uniform(n, 0, TAU, g))
        house = draw.fill(draw.box(bu, bv, _u(n, 0.05, 0.12, g), _u(n, 0.05, 0.1, g))) * _p(n, 0.3, g)
        out = draw.paint(out, house, draw.palette(_ROOFS, n, g))
    return out


def _scene_frame(n, g, spread=0.25, scale=(0.8, 1.25)):
    """Local frame of a scene object at a random position/rotation, divided by a random scale."""
    s = _u(n, *scale, g)
    u, v = _rand_frame(n, g, spread)
    return u / s, v / s, s


def _runway(n, g):
    out = _ground(n, g)
    u, v, s = _scene_frame(n, g, 0.2, (0.8, 1.3))
    asphalt = draw.palette(_ASPHALT, n, g, 0.03)
    out = draw.paint(out, draw.fill((v.abs() - 0.16) * s), asphalt)
    dash = (torch.sin(TAU * u * 2.5) > 0).float()
    out = draw.paint(out, draw.stroke(v * s, 0.04) * dash, _WHITE)
    out = draw.paint(out, draw.stroke((v.abs() - 0.13) * s, 0.03) * 0.7, _WHITE)
    taxi = v - _u(n, 0.45, 0.7, g)
    out = draw.paint(out, draw.fill((taxi.abs() - 0.05) * s), asphalt * 1.15)
    link = draw.fill(draw.box(u - _u(n, -0.6, 0.6, g), v - 0.3, 0.05, 0.3) * s)
    return draw.paint(out, link, asphalt * 1.15)


def _baseball(n, g):
    out = _noisy(n, g, _GREENS, 0.1)
    u, v, s = _scene_frame(n, g, 0.15, (1.0, 1.4))
    hv = v - 0.5  # home plate at (0, 0.5), field extends towards -v
    rho, ang = torch.hypot(u, hv), torch.atan2(u, -hv)
    fan = draw.fill((rho - 1.1) * s) * (ang.abs() < math.pi / 4 + 0.05).float()
    out = draw.paint(out, fan * 0.6, draw.palette(_GREENS, n, g) * 1.25)  # mown outfield
    infield = draw.fill((rho - 0.62) * s) * (ang.abs() < math.pi / 4 + 0.12).float()
    dirt = draw.palette([[0.72, 0.52, 0.35], [0.66, 0.48, 0.32], [0.76, 0.60, 0.42]], n, g, 0.04)
    out = draw.paint(out, infield, dirt)
    r45 = math.sqrt(0.5)
    diamond = draw.box((u + hv) * r45, (u - hv) * r45, 0.22, 0.22)  # grass square inside the bases
    out = draw.paint(out, draw.fill((diamond + 0.03) * s), draw.palette(_GREENS, n, g))
    lines = draw.stroke((u.abs() + hv) * r45 * s, 0.04) * (hv < 0.02).float()
    return draw.paint(out, lines * (rho < 1.1).float(), _WHITE)


def _roundabout(n, g):
    out = _ground(n, g)
    u, v, s = _scene_frame(n, g, 0.15, (0.8, 1.2))
    asphalt = draw.palette(_ASPHALT, n, g, 0.03)
    rho, ang = torch.hypot(u, v), torch.atan2(v, u)
    arms = torch.zeros_like(u)
    k = torch.randint(3, 5, (n, 1, 1, 1), generator=g).float()
    sector = TAU / k
    a = torch.remainder(ang + sector / 2, sector) - sector / 2
    arms = draw.fill((rho * torch.sin(a).abs() - 0.08) * s) * (rho * torch.cos(a) > 0).float()
    out = draw.paint(out, arms, asphalt)
    out = draw.paint(out, draw.fill(((rho - 0.38).abs() - 0.1) * s), asphalt)
    island = draw.fill((rho - 0.27) * s)
    return draw.paint(out, island, draw.palette(_GREENS, n, g) * 1.1)


def _parking(n, g):
    out = _ground(n, g)
    u, v, s = _scene_frame(n, g, 0.25, (0.9, 1.3))
    asphalt = draw.palette(_ASPHALT, n, g, 0.03)
    lot = draw.fill(draw.box(u, v, 0.9, 0.75) * s)
    out = draw.paint(out, lot, asphalt)
    f_u, f_v = 1 / 0.14, 1 / 0.3  # slots along u, rows along v
    iu, iv = torch.floor(u * f_u), torch.floor(v * f_v)
    du, dv = torch.remainder(u * f_u, 1) - 0.5, torch.remainder(v * f_v, 1) - 0.5
    h = torch.remainder(torch.sin(iu * 12.9898 + iv * 78.233) * 43758.5453, 1.0)
    car = draw.fill(draw.box(du / f_u, dv / f_v, 0.04, 0.09) * s) * lot * (h < _u(n, 0.5, 0.9, g)).float()
    colours = torch.stack([ops.random_colors(n, g, 0.2, 1.0) for _ in range(3)])
    col = torch.where(h < 0.2, colours[0], torch.where(h < 0.5, colours[1], colours[2]))
    out = draw.paint(out, draw.stroke(du / f_u * s, 0.02) * lot * 0.4, _WHITE)
    return draw.paint(out, car, col)


def _tanks(n, g):
    out = _noisy(n, g, _SOIL + [[0.55, 0.55, 0.52]], 0.12)
    u, v, s = _scene_frame(n, g, 0.2, (0.8, 1.2))
    k = torch.randint(2, 4, (n, 1, 1, 1), generator=g).float()  # tanks per row, two rows
    pitch = 1.5 / k
    iu = torch.minimum(torch.floor(u / pitch + k / 2).clamp(min=0), k - 1)
    cu = (iu - (k - 1) / 2) * pitch
    row = torch.where(v < 0, -0.4, 0.4) * _u(n, 0.9, 1.2, g)
    r = pitch * _u(n, 0.28, 0.42, g)
    d = torch.hypot(u - cu, v - row) - r
    shadow = torch.hypot(u - cu - 0.08, v - row - 0.08) - r
    present = (torch.remainder(torch.sin(iu * 3.1 + row * 7.7) * 999.1, 1) < 0.85).float()
    out = draw.paint(out, draw.fill(shadow * s) * present * 0.6, torch.zeros(1, 3, 1, 1))
    tank = draw.palette([[0.88, 0.88, 0.86], [0.78, 0.78, 0.80], [0.70, 0.72, 0.72]], n, g, 0.03)
    out = draw.paint(out, draw.fill(d * s) * present, tank)
    return draw.paint(out, draw.stroke((d + r * 0.25) * s, 0.03) * present * 0.5, tank * 0.7)


def _tennis(n, g):
    out = _ground(n, g)
    u, v, s = _scene_frame(n, g, 0.2, (0.9, 1.35))
    two = _p(n, 0.4, g)
    uc = torch.where(two, torch.remainder(u + 0.25, 0.5) - 0.25, u)  # two courts side by side
    surround = draw.fill(draw.box(u, v, torch.where(two, 0.55, 0.3), 0.55) * s)
    court_col = draw.palette([[0.25, 0.45, 0.30], [0.25, 0.35, 0.55], [0.65, 0.35, 0.25], [0.35, 0.55, 0.35]], n, g)
    out = draw.paint(out, surround, court_col * 0.85)
    court = draw.box(uc, v, 0.17, 0.42)
    out = draw.paint(out, draw.fill(court * s) * surround, court_col * 1.15)
    lines = draw.stroke(court * s, 0.035) + draw.stroke(v * s, 0.035) * (uc.abs() < 0.17).float() \
        + draw.stroke((v.abs() - 0.22) * s, 0.03) * (uc.abs() < 0.13).float() \
        + draw.stroke(uc * s, 0.03) * (v.abs() < 0.22).float()
    return draw.paint(out, lines.clamp(0, 1) * surround, _WHITE)


def _bridge(n, g):
    out = _ground(n, g)
    u, v, s = _scene_frame(n, g, 0.15, (0.8, 1.2))
    water = _noisy(n, g, _WATER, 0.15)
    w = _u(n, 0.3, 0.55, g)
    bank = v.abs() - w - 0.06 * torch.sin(3 * u + _u(n, 0, TAU, g))
    out = draw.paint(out, draw.fill(bank * s), water)
    road = draw.fill((u.abs() - 0.09) * s)
    out = draw.paint(out, draw.fill((u - 0.06).abs() * s - 0.1) * (bank < 0).float() * 0.5, torch.zeros(1, 3, 1, 1))
    out = draw.paint(out, road, draw.palette(_ASPHALT, n, g) * 1.3)
    return draw.paint(out, draw.stroke(u * s, 0.025) * 0.5, _WHITE)


def _harbor(n, g):
    out = _noisy(n, g, [[0.55, 0.55, 0.52], [0.50, 0.48, 0.45]], 0.1)
    u, v, s = _scene_frame(n, g, 0.0, (0.8, 1.2))
    shore = _u(n, -0.5, 0.0, g)
    water = _noisy(n, g, _WATER, 0.12)
    sea = v > shore
    out = torch.where(sea, water, out)
    pitch = _u(n, 0.35, 0.5, g)
    pu = torch.remainder(u + _u(n, 0, 1, g), pitch) - pitch / 2
    length = _u(n, 0.5, 1.0, g)
    pier = draw.fill(draw.box(pu, v - shore - length / 2, 0.04, length / 2) * s)
    out = draw.paint(out, pier, torch.tensor([0.7, 0.7, 0.68]).view(1, 3, 1, 1))
    # boats moored beside the piers
    bu = pu - 0.1
    bi = torch.floor((v - shore) / 0.16)
    bv = torch.remainder(v - shore, 0.16) - 0.08
    boat_here = (torch.remainder(torch.sin(bi * 5.3 + torch.floor((u + 10) / pitch) * 1.7) * 999, 1) < 0.6).float()
    boat = draw.fill(draw.ellipse(bu, bv, 0.05, 0.028) * s) * boat_here * sea.float() * ((v - shore) < length).float()
    return draw.paint(out, boat, _WHITE)


def _circular_farm(n, g):
    out = _noisy(n, g, _SOIL + [[0.62, 0.55, 0.42], [0.70, 0.62, 0.48]], 0.12)
    u, v, s = _scene_frame(n, g, 0.5, (0.9, 1.5))
    pitch = 1.05
    cu, cv = torch.remainder(u, pitch) - pitch / 2, torch.remainder(v, pitch) - pitch / 2
    iu, iv = torch.floor(u / pitch), torch.floor(v / pitch)
    h = torch.remainder(torch.sin(iu * 12.9898 + iv * 78.233) * 43758.5453, 1.0)
    cols = torch.stack([draw.palette(_GREENS + [[0.35, 0.6, 0.25], [0.5, 0.62, 0.3]], n, g, 0.05) * 1.1
                        for _ in range(3)])
    col = torch.where(h < 0.33, cols[0], torch.where(h < 0.66, cols[1], cols[2]))
    rho = torch.hypot(cu, cv)
    disc = draw.fill((rho - 0.48) * s) * (h < 0.85).float()
    out = draw.paint(out, disc, col)
    ang = torch.atan2(cv, cu)
    half = (ang > h * TAU - math.pi).float()  # half-harvested sector on some circles
    return draw.paint(out, disc * half * 0.25, torch.zeros(1, 3, 1, 1))


def _stadium(n, g):
    out = _ground(n, g)
    u, v, s = _scene_frame(n, g, 0.15, (0.8, 1.1))
    stands = draw.ellipse(u, v, 0.95, 0.7)
    stand_colours = draw.palette([[0.6, 0.6, 0.62], [0.7, 0.68, 0.65], [0.5, 0.5, 0.55]], n, g)
    out = draw.paint(out, draw.fill(stands * s), stand_colours)
    track = draw.ellipse(u, v, 0.72, 0.5)
    track_col = draw.palette([[0.65, 0.32, 0.25], [0.58, 0.36, 0.30], [0.45, 0.45, 0.50]], n, g)
    out = draw.paint(out, draw.fill(track * s), track_col)
    pitch = draw.box(u, v, 0.5, 0.3, 0.05)
    out = draw.paint(out, draw.fill(pitch * s), draw.palette(_GREENS, n, g) * 1.1)
    lines = draw.stroke(pitch * s, 0.03) + draw.stroke(u * s, 0.03) * (v.abs() < 0.3).float()
    return draw.paint(out, lines.clamp(0, 1) * 0.8, _WHITE)


_AERIAL = {"airport runway": _runway, "baseball diamond": _baseball, "roundabout": _roundabout,
           "parking lot": _parking, "storage tanks": _tanks, "tennis court": _tennis, "bridge": _bridge,
           "harbor": _harbor, "circular farmland": _circular_farm, "stadium": _stadium}


def generate_aerial_scenes(n_per_class: int, split: str, g: torch.Generator):
    images, labels = _by_class(n_per_class, list(_AERIAL.values()), g)
    n = images.shape[0]
    images = images * _u(n, 0.8, 1.15, g) * (1 + ops.uniform((n, 3, 1, 1), -0.06, 0.06, g))
    return _finish(images, g, (0.005, 0.03)), labels


# ------------------------------------------------------------------------------------ photo scenes
#: class -> scikit-image source; grey sources stay grey (with a faint tint from the colour jitter).
_PHOTOS = {"astronaut": "astronaut", "cat": "chelsea", "coffee cup": "coffee", "rocket launch": "rocket",
           "deep space": "hubble_deep_field", "tissue sample": "immunohistochemistry", "retina scan": "retina",
           "cameraman": "camera", "coins": "coins"}
PHOTO_SIDE = (0.2, 0.36)  # crop side as a fraction of the photograph's shorter side


def _photo_drawer(name):
    def fn(n, g, split):
        x = photos.crops(name, split, n, g, PHOTO_SIDE, rotate=False, flip=True, scale=_scale(name, 200))
        x = ops.gray_to_rgb(x)
        tint = 1 + ops.uniform((n, 3, 1, 1), -0.05, 0.05, g)
        return ops.color_jitter(x * tint, g, brightness=0.25, contrast=0.25, saturation=0.3)
    return fn


def generate_photo_scenes(n_per_class: int, split: str, g: torch.Generator):
    drawers = [lambda n, g, fn=_photo_drawer(src): fn(n, g, split) for src in _PHOTOS.values()]  # noqa: B008
    images, labels = _by_class(n_per_class, drawers, g)
    return _finish(images, g, (0.0, 0.02)), labels


# ------------------------------------------------------------------------------------------- faces
FACE_RES = 64  # faces are drawn at 64×64 and shrunk with antialiasing
#: Expression parameters per FER2013 class: brow height, brow slant (inner end up > 0), eye opening,
#: mouth curve (smile > 0), mouth opening, mouth width, mouth asymmetry, brow asymmetry.
_EXPRESSIONS = {
    "angry":    (-0.7, -1.0, 0.75, -0.25, 0.0, 0.9, 0.0, 0.0),
    "disgust":  (-0.4, -0.4, 0.55, -0.45, 0.1, 0.85, 0.8, 0.6),
    "fear":     (0.8, 0.9, 1.35, -0.3, 0.45, 1.1, 0.0, 0.0),
    "happy":    (0.1, 0.0, 0.85, 1.0, 0.2, 1.15, 0.0, 0.0),
    "sad":      (0.1, 1.0, 0.75, -0.85, 0.0, 0.9, 0.0, 0.0),
    "surprise": (1.2, 0.1, 1.5, 0.0, 1.0, 0.55, 0.0, 0.0),
    "neutral":  (0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0),
}
_EXPR_NOISE = (0.3, 0.3, 0.18, 0.25, 0.12, 0.1, 0.2, 0.2)
#: Probability of an extra-open mouth (laughing, shouting) for some classes.
_OPEN_MOUTH = {"happy": 0.4, "angry": 0.25}


def _face_drawer(name):
    params = _EXPRESSIONS[name]
    p_open = _OPEN_MOUTH.get(name, 0.0)

    mean = torch.tensor(params)
    noise = torch.tensor(_EXPR_NOISE)

    def fn(n, g):
        R = FACE_RES
        p = mean + noise * torch.randn(n, len(params), generator=g)
        brow_h, tilt, eye_open, curve, m_open, m_width, m_asym, b_asym = (draw.col(c) for c in p.unbind(1))
        eye_open, m_open, m_width = eye_open.clamp(min=0.25), m_open.clamp(min=0), m_width.clamp(min=0.4)
        side = torch.where(_p(n, 0.5, g), 1.0, -1.0)  # which side an asymmetry favours
        m_asym, b_asym = m_asym * side, b_asym * side
        m_open = m_open + _p(n, p_open, g) * _u(n, 0.25, 0.55, g)

        bg = draw.mix(_u(n, 0, 1, g), _u(n, 0, 1, g), draw.fractal(n, g, cells=2, octaves=3, size=R))
        a = _u(n, 0.68, 0.88, g)  # face half-width (image units)
        cx, cy = ops.uniform(n, -0.12, 0.12, g), ops.uniform(n, -0.05, 0.18, g)
        u, v = draw.frame(cx, cy, ops.uniform(n, -0.3, 0.3, g), size=R)
        U, V = u / a, v / a  # face units
        U = U * _u(n, 0.9, 1.1, g)
        skin = _u(n, 0.4, 0.85, g)
        light = 1 + _u(n, -0.25, 0.25, g) * U  # side lighting
        face = draw.fill(draw.ellipse(U, V, 1.0, 1.28) * a, R)
        img = draw.mix(bg, skin * light, face)
        hair_col = _u(n, 0.05, 0.3, g)
        hair = draw.fill(draw.ellipse(U, V + 0.25, 1.12, 1.25) * a, R) * (V < -0.78 + 0.15 * U.abs() ** 2).float()
        img = draw.mix(img, hair_col, hair * _p(n, 0.75, g))
        dark = skin * 0.25

        # eyebrows: inner end at |U| = 0.15, outer at 0.6; inner end raised by `tilt`
        by = -0.45 - 0.1 * brow_h
        for sgn in (-1.0, 1.0):
            lift = b_asym * 0.08 * sgn
            d = draw.segment(U, V, sgn * 0.15, by - 0.1 * tilt + lift, sgn * 0.6, by + 0.03 * tilt + lift) - 0.055
            img = draw.mix(img, dark, draw.fill(d * a, R) * face)
        # eyes: sclera then iris
        eh = 0.085 * eye_open
        sunglasses = _p(n, 0.1, g)
        for sgn in (-1.0, 1.0):
            ex, ey = U - sgn * 0.38, V + 0.2
            sclera = draw.fill(draw.ellipse(ex, ey, 0.17, eh) * a, R)
            img = draw.mix(img, (skin + 0.35).clamp(max=1), sclera * 0.8)
            iris = draw.fill(torch.maximum(draw.circle(ex, ey, 0.08), draw.ellipse(ex, ey, 0.17, eh)) * a, R)
            img = draw.mix(img, dark * 0.5, iris)
            glasses = draw.fill(draw.ellipse(ex, ey + 0.02, 0.26, 0.17) * a, R)
            img = torch.where(sunglasses, draw.mix(img, torch.full_like(img, 0.05), glasses), img)
        # nose
        img = draw.mix(img, dark * 1.6, draw.fill((draw.segment(U, V, 0.0, 0.0, 0.05, 0.22) - 0.03) * a, R) * 0.4)
        # mouth: centre line y(x) with curve and asymmetry, optionally open
        mw = 0.36 * m_width
        xs = (U / mw).clamp(-1, 1)
        my = 0.55 + 0.06 * curve
        yc = my - curve * 0.13 * (xs ** 2 - 0.33) + m_asym * 0.1 * xs
        line = torch.hypot((U.abs() - mw).clamp(min=0), V - yc) - 0.04
        img = draw.mix(img, dark, draw.fill(line * a, R))
        env = (1 - xs ** 2).clamp(min=0).sqrt() * 0.16 * m_open
        inside = torch.maximum((V - yc - env * 1.3), (yc - env * 0.6 - V)) * (U.abs() < mw).float() \
            + (U.abs() - mw).clamp(min=0)
        img = draw.mix(img, dark * 0.4, draw.fill(inside * a, R) * (m_open > 0.02).float())

        # occlusion: a hand/object patch over part of the face, on some images
        ou, ov = draw.frame(ops.uniform(n, -0.6, 0.6, g), ops.uniform(n, -0.3, 0.8, g), ops.uniform(n, 0, TAU, g), R)
        occ = draw.fill(draw.ellipse(ou, ov, _u(n, 0.2, 0.4, g), _u(n, 0.12, 0.25, g)), R) * _p(n, 0.12, g)
        img = draw.mix(img, _u(n, 0.2, 0.9, g), occ)
        return img

    return fn


def generate_faces(n_per_class: int, split: str, g: torch.Generator):
    images, labels = _by_class(n_per_class, [_face_drawer(k) for k in _EXPRESSIONS], g,
                               size=FACE_RES, channels=1)
    n = images.shape[0]
    images = ops.resize(images, S)
    images = ops.color_jitter(images, g, brightness=0.2, contrast=0.3)
    images = images * (1 + ops.uniform((n, 3, 1, 1), -0.04, 0.04, g))  # faint colour cast, RGB output
    return _finish(images, g, (0.0, 0.05)), labels


# ---------------------------------------------------------------------------------------- registry
register(Domain(
    "shapes", tuple(_SHAPES), (
        "a photo of a {}.", "a drawing of a {}.", "a {} shape.", "a simple icon of a {}.",
        "a {} on a colourful background.", "a small picture of a {}."),
    "Geometric shapes, filled or outlined, at random size, rotation and position on noisy, gradient "
    "or colourful backgrounds, sometimes with a small distractor.",
    generate_shapes, version=2, tags=("procedural", "objects")))

register(Domain(
    "textures", tuple(_TEXTURES), (
        "a photo of a {} texture.", "a photo of a {} pattern.", "a photo of a {} thing.",
        "a photo of a {} object.", "a photo of the {} texture.", "a photo of the {} pattern."),
    "Describable textures: rotated crops of scikit-image's texture photographs and procedural "
    "patterns, in random colour pairs.",
    generate_textures, version=2, tags=("photo", "procedural", "textures")))

register(Domain(
    "land_cover", tuple(_LAND), (
        "a centered satellite photo of {}.", "a centered satellite photo of a {}.",
        "a centered satellite photo of the {}.", "a satellite photo of {}.",
        "a satellite image showing {}.", "an overhead view of {}."),
    "Procedural satellite-like land-cover tiles with EuroSAT's ten classes.",
    generate_land_cover, tags=("procedural", "remote_sensing")))

register(Domain(
    "aerial_scenes", tuple(_AERIAL), (
        "satellite imagery of {}.", "aerial imagery of {}.", "satellite photo of {}.",
        "aerial photo of {}.", "satellite view of {}.", "aerial view of {}."),
    "Top-down procedural scenes (runways, roundabouts, parking lots...) on ground textures at "
    "random rotation, scale and position.",
    generate_aerial_scenes, tags=("procedural", "remote_sensing")))

register(Domain(
    "photo_scenes", tuple(_PHOTOS), (
        "a photo of the {}.", "a cropped photo of the {}.", "a close-up photo of the {}.",
        "a low resolution photo of the {}.", "a bright photo of the {}.", "a dark photo of the {}."),
    "Random crops of scikit-image's sample photographs, labelled by photograph, with flips and "
    "colour jitter; splits crop disjoint regions.",
    generate_photo_scenes, tags=("photo", "scenes")))

register(Domain(
    "faces", tuple(_EXPRESSIONS), (
        "a photo of a face showing the emotion: {}.", "a face with the expression: {}.",
        "a greyscale photo of a face, emotion: {}.", "facial expression: {}.",
        "a cropped photo of a face labelled {}.", "a close-up of a face, expression {}."),
    "Greyish cartoon faces whose expression (brows, eyes, mouth) is one of FER2013's seven classes, "
    "with pose, lighting, hair, sunglasses and occlusions.",
    generate_faces, tags=("procedural", "faces")))
