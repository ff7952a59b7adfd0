"""``vehicles``: side views of ten kinds of car (the Stanford Cars stand-in of the task-arithmetic
benchmark; 32×32 RGB, no download).

Stanford Cars is fine-grained: 196 models told apart by the proportions of one kind of object. Here
ten body types (sedan, hatchback, station wagon, coupe, SUV, pickup truck, minivan, bus, sports car,
limousine) are drawn from one parametric side view: a rounded body, a cabin whose front and rear
slopes, length and position along the body differ by type, windows with a pillar, two wheels. Each
type has its own mean proportions and every image jitters each of them by about ±8 %, so neighbouring
types (sedan and limousine, hatchback and station wagon, SUV and minivan) overlap a little. Colour,
size, position, facing direction, sky, road and pixel noise are random, so the shape, not the paint,
tells the class.
"""

from __future__ import annotations

import torch

from . import draw, ops
from .base import IMAGE_SIZE, Domain, register

S = IMAGE_SIZE

#: Mean proportions per type, in units of a medium car's length: body length and height, cabin
#: height, where the cabin starts and ends along the body (0 = rear, 1 = front), the run of the rear
#: and front slopes, wheel radius, ground clearance.
_TYPES = {
    "sedan": dict(length=1.00, body=0.20, cabin=0.18, cab_from=0.26, cab_to=0.68, rear=0.12, front=0.14,
                  wheel=0.095, clear=0.05),
    "hatchback": dict(length=0.80, body=0.22, cabin=0.20, cab_from=0.06, cab_to=0.64, rear=0.10, front=0.14,
                      wheel=0.095, clear=0.05),
    "station wagon": dict(length=1.00, body=0.20, cabin=0.18, cab_from=0.03, cab_to=0.68, rear=0.02, front=0.14,
                          wheel=0.095, clear=0.05),
    "coupe": dict(length=0.95, body=0.19, cabin=0.14, cab_from=0.28, cab_to=0.62, rear=0.15, front=0.13,
                  wheel=0.095, clear=0.045),
    "SUV": dict(length=0.95, body=0.30, cabin=0.21, cab_from=0.04, cab_to=0.70, rear=0.03, front=0.09,
                wheel=0.13, clear=0.08),
    "pickup truck": dict(length=1.05, body=0.26, cabin=0.22, cab_from=0.40, cab_to=0.72, rear=0.0, front=0.07,
                         wheel=0.12, clear=0.08),
    "minivan": dict(length=0.95, body=0.28, cabin=0.25, cab_from=0.03, cab_to=0.80, rear=0.03, front=0.24,
                    wheel=0.10, clear=0.05),
    "bus": dict(length=1.30, body=0.48, cabin=0.0, cab_from=0.0, cab_to=1.0, rear=0.0, front=0.0,
                wheel=0.10, clear=0.05),
    "sports car": dict(length=0.95, body=0.14, cabin=0.12, cab_from=0.32, cab_to=0.64, rear=0.19, front=0.18,
                       wheel=0.10, clear=0.03),
    "limousine": dict(length=1.30, body=0.19, cabin=0.17, cab_from=0.20, cab_to=0.74, rear=0.12, front=0.14,
                      wheel=0.09, clear=0.05),
}
CLASSNAMES = tuple(_TYPES)
TEMPLATES = ("a photo of a {}.", "a photo of the {}, a type of car.", "a side view of a {}.",
             "a low resolution photo of a {}.", "a drawing of a {}.", "a photo of my {}.")
DESCRIPTION = ("Side views of ten car body types (sedan, hatchback, station wagon, coupe, SUV, pickup, minivan, "
               "bus, sports car, limousine) told apart by their proportions, in random colours, sizes and "
               "positions on sky-and-road backgrounds.")

_PAINT = [[0.75, 0.1, 0.1], [0.1, 0.2, 0.6], [0.85, 0.85, 0.85], [0.15, 0.15, 0.15], [0.9, 0.75, 0.1],
          [0.2, 0.5, 0.25], [0.55, 0.55, 0.6], [0.9, 0.45, 0.1], [0.4, 0.15, 0.45], [0.95, 0.95, 0.9]]


def _half_plane(u, v, px, py, dx, dy):
    """Signed distance from the line through ``(px, py)`` along ``(dx, dy)``: positive on the side
    that ``(-dy, dx)`` points to."""
    norm = torch.hypot(dx, dy).clamp(min=1e-6)
    return ((u - px) * (-dy) + (v - py) * dx) / norm


def _trapezoid(u, v, x0, x1, y_bottom, y_top, rear, front):
    """A cabin: bottom edge from ``x0`` to ``x1`` at ``y_bottom``, top edge ``rear`` in from ``x0``
    and ``front`` in from ``x1`` at ``y_top`` (``y`` grows downwards)."""
    d = torch.maximum(y_top - v, v - y_bottom)
    d = torch.maximum(d, -_half_plane(u, v, x0, y_bottom, rear, y_top - y_bottom))
    return torch.maximum(d, _half_plane(u, v, x1, y_bottom, -front, y_top - y_bottom))


def _vehicle_drawer(kind: str):
    mean = _TYPES[kind]

    def fn(n, g):
        p = {k: draw.col(v * (1 + ops.uniform(n, -0.08, 0.08, g))) for k, v in mean.items()}
        scale = draw.col(ops.uniform(n, 1.35, 1.65, g)) / max(1.0, mean["length"] ** 0.5)
        cx = ops.uniform(n, -0.12, 0.12, g)
        ground = ops.uniform(n, 0.45, 0.72, g)
        u, v = draw.frame(cx, ground, torch.zeros(n))
        facing = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
        u, v = u * draw.col(facing) / scale, v / scale  # car units: x to the front, ground at v = 0
        half = p["length"] / 2
        body_bottom, body_top = -p["clear"], -p["clear"] - p["body"]

        # sky, road and the road's edge
        sky = ops.linear_gradient(n, g, ops.random_colors(n, g, 0.55, 1.0), ops.random_colors(n, g, 0.35, 0.9))
        road = ops.random_colors(n, g, 0.15, 0.45) * (0.9 + 0.2 * draw.fractal(n, g, cells=4, octaves=2))
        img = draw.paint(sky, draw.fill(-v * scale), road)

        body = draw.box(u, v - (body_bottom + body_top) / 2, half, p["body"] / 2, 0.035)
        has_cabin = p["cabin"] > 0.01
        x0, x1 = -half + p["cab_from"] * p["length"], -half + p["cab_to"] * p["length"]
        cabin = _trapezoid(u, v, x0, x1, body_top + 0.01, body_top - p["cabin"], p["rear"], p["front"])
        shape = torch.where(has_cabin, torch.minimum(body, cabin), body)
        paint = draw.palette(_PAINT, n, g, 0.08)
        shade = 0.85 + 0.25 * (v - body_top) / (body_bottom - body_top + 1e-6)  # lighter towards the roof
        img = draw.paint(img, draw.fill(shape * scale), paint * (1.15 - 0.3 * shade.clamp(0, 1)))

        # windows: the cabin shrunk, split by a pillar; the bus has a row of them in its body
        glass = ops.random_colors(n, g, 0.1, 0.35) + torch.tensor([0.0, 0.05, 0.12]).view(1, 3, 1, 1)
        cab_win = torch.maximum(_trapezoid(u, v, x0 + 0.04, x1 - 0.04, body_top - 0.005, body_top - p["cabin"] + 0.03,
                                           p["rear"], p["front"]),
                                0.012 - (u - (x0 + x1) / 2 - 0.02).abs())
        pitch = draw.col(ops.uniform(n, 0.14, 0.18, g))
        bus_win = torch.maximum(draw.box(u + 0.03, v - (body_top + 0.12), half - 0.12, 0.07),
                                0.015 - ((torch.remainder(u + half, pitch) - pitch / 2).abs()))
        windows = torch.where(has_cabin, cab_win, bus_win)
        img = draw.paint(img, draw.fill(windows * scale), glass)

        # two wheels, tyre and hub
        for at in (-half + 0.2 * p["length"].clamp(max=1.0), half - 0.18 * p["length"].clamp(max=1.0)):
            tyre = draw.circle(u - at, v + p["wheel"], p["wheel"])
            img = draw.paint(img, draw.fill(tyre * scale), torch.full((n, 3, 1, 1), 0.06))
            hub = draw.circle(u - at, v + p["wheel"], 0.45 * p["wheel"])
            img = draw.paint(img, draw.fill(hub * scale), torch.full((n, 3, 1, 1), 0.6))
        return img

    return fn


def generate_vehicles(n_per_class: int, split: str, g: torch.Generator):
    labels = ops.balanced_labels(n_per_class, len(_TYPES), g)
    images = torch.empty(labels.numel(), 3, S, S)
    for c, kind in enumerate(_TYPES):
        images[labels == c] = _vehicle_drawer(kind)(n_per_class, g)
    n = images.shape[0]
    images = images + draw.col(ops.uniform(n, 0.0, 0.04, g)) * torch.randn(images.shape, generator=g)
    return ops.to_uint8(images), labels


__all__ = ["CLASSNAMES", "DESCRIPTION", "TEMPLATES", "generate_vehicles"]


register(Domain("vehicles", CLASSNAMES, TEMPLATES, DESCRIPTION, generate_vehicles, tags=("procedural", "objects",
                                                                                        "fine_grained")))
