"""Glyph domains of the embedded benchmark: digits, letters, fonts and traffic signs.

Eight domains built from what the pinned packages ship (scikit-learn's handwritten digit scans,
matplotlib's bundled DejaVu, STIX and Computer Modern fonts) plus procedural drawing. Every source
tile (a glyph in a font, a sign, a seven-segment distance field, an upsampled scan) is rendered
*once* at 64×64 with PIL or torch and cached (:func:`glyph_bank`, :func:`baseline_bank`,
:func:`sign_bank`). Each image is then one affine warp of its tile straight to 32×32
(:func:`.ops.sample_atlas`, a single ``grid_sample`` over all images) followed by batched colour,
background, lighting, blur and noise operations from :mod:`.ops`; no Python loop runs per image.

Domains (classes; the paper datasets they stand in for, see :mod:`paperlib.data.standins`):

* ``handwritten_digits`` (10; MNIST, DomainNet quickdraw): real scans from ``load_digits``,
  upsampled, re-thresholded to a random stroke thickness, posed and jittered; white on black.
* ``printed_digits`` (10; CIFAR-10 as ch3's target, DomainNet clipart): 0–9 in 21 font styles,
  random pose, contrasting flat or gradient colours. The easy one.
* ``street_digits`` (10; SVHN, DomainNet real): a centred digit between cut-off neighbour digits
  in the same font, cluttered colour backgrounds, weak contrast, light falloff, blur, noise.
* ``seven_segment_digits`` (10; DomainNet infograph): procedural LED/LCD seven-segment digits,
  three segment styles, slant, glow, faint unlit segments.
* ``outline_digits`` (10; DomainNet sketch): hollow, jittery pencil or pen outlines of bold
  glyphs on plain, ruled or squared paper.
* ``letters`` (26; CIFAR-100 as ch3's source, and in ch2's ViT set): A–Z through exactly the
  ``printed_digits`` pipeline: the same image statistics with a different, larger label set.
* ``font_styles`` (12; fine-grained): one or two random characters; the class is the font they
  are set in. Several faces look alike (three roman serifs, two italics). It stood in for Stanford
  Cars until fine-tuning the tiny CLIP was measured to barely learn it (12 % to 14 %, issue 13);
  ``vehicles`` (:mod:`paperlib.data.embedded.vehicles`) does now, and this domain is pre-training
  corpus only.
* ``traffic_signs`` (10; GTSRB, ch4's TinyImageNet): sign shape, border colour and inner symbol
  define the class; squashed and sheared pose, sky/foliage/street backgrounds, strong lighting
  changes, blur.

Difficulty is deliberately uneven: ``printed_digits`` is easy, ``street_digits`` and ``font_styles``
are hard. ``handwritten_digits`` is the only finite source here: its 1797 scans are split once
(:func:`handwritten_pool`, stratified, seed 0) into disjoint train/val/test pools of 60/15/25 %.
The procedural domains draw each split independently from the split's own generator.
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ...config import check_split
from . import ops
from .base import IMAGE_SIZE, Domain, register

CANVAS = 64                     # side of the masks rendered once with PIL (2× the output size)
DIGITS = "0123456789"
UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"

#: Every text face matplotlib ships that has Latin digits and capitals (cmmi10 is left out: its
#: digits are old-style; the STIX "NonUni" and "Display" files hold no Latin glyphs).
TEXT_FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf", "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmti10.ttf", "cmb10.ttf",
)
#: Heavy faces, whose strokes are wide enough to leave a hollow inside when outlined.
BOLD_FONTS = (
    "DejaVuSans-Bold.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "STIXGeneralBol.ttf", "STIXGeneralBolIta.ttf", "cmb10.ttf",
)
#: Faces of ``outline_digits``: mostly bold (hollow outlines), a few regular ones, whose outlines
#: close up into single thick sketch lines.
OUTLINE_FONTS = BOLD_FONTS + ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Oblique.ttf")
#: The classes of ``font_styles``: (class name, font file). Several pairs are close on purpose
#: (three roman serif faces, two italics), which makes the domain fine-grained.
FONT_STYLES = (
    ("DejaVu Sans", "DejaVuSans.ttf"),
    ("DejaVu Sans bold", "DejaVuSans-Bold.ttf"),
    ("DejaVu Sans oblique", "DejaVuSans-Oblique.ttf"),
    ("DejaVu Serif", "DejaVuSerif.ttf"),
    ("DejaVu Serif italic", "DejaVuSerif-Italic.ttf"),
    ("DejaVu Sans Mono", "DejaVuSansMono.ttf"),
    ("STIX General", "STIXGeneral.ttf"),
    ("STIX General bold italic", "STIXGeneralBolIta.ttf"),
    ("Computer Modern Roman", "cmr10.ttf"),
    ("Computer Modern Sans", "cmss10.ttf"),
    ("Computer Modern Typewriter", "cmtt10.ttf"),
    ("Computer Modern italic", "cmti10.ttf"),
)
FONT_STYLE_CHARS = DIGITS + UPPERCASE + UPPERCASE.lower()


# --------------------------------------------------------------------------------------------------
# Glyph masks, rendered once


def _ink(font_file: str, char: str, px: int, anchor: str = "mm") -> tuple[Image.Image, tuple, tuple]:
    """Render ``char`` at ``px`` pixels on a roomy canvas; return the image, the ink box and the anchor point."""
    font = ImageFont.truetype(str(FONT_DIR / font_file), px)
    img = Image.new("L", (4 * px, 4 * px), 0)
    origin = (2 * px, 2 * px)
    ImageDraw.Draw(img).text(origin, char, font=font, fill=255, anchor=anchor)
    box = img.getbbox()
    if box is None:
        raise ValueError(f"font {font_file} has no visible glyph for {char!r}")
    return img, box, origin


@lru_cache(maxsize=None)
def glyph_bank(fonts: tuple[str, ...], chars: str, canvas: int = CANVAS, height: float = 0.8) -> torch.Tensor:
    """Masks of every ``char`` in every font, shape ``(len(fonts), len(chars), 1, canvas, canvas)``.

    Each glyph's ink box is scaled (aspect kept) to fit a square of ``height`` × ``canvas`` and
    centred, so all glyphs have about the same size whatever the font's metrics. Rendered at twice
    the size and reduced with Lanczos for smooth edges. Cached: do not modify the result in place.
    """
    side = round(height * canvas)
    out = np.zeros((len(fonts), len(chars), 1, canvas, canvas), np.float32)
    for i, font in enumerate(fonts):
        for j, char in enumerate(chars):
            img, box, _ = _ink(font, char, 2 * canvas)
            ink = img.crop(box)
            scale = side / max(ink.width, ink.height)
            w, h = max(1, round(ink.width * scale)), max(1, round(ink.height * scale))
            ink = ink.resize((w, h), Image.LANCZOS)
            x0, y0 = (canvas - w) // 2, (canvas - h) // 2
            out[i, j, 0, y0:y0 + h, x0:x0 + w] = np.asarray(ink, np.float32) / 255
    return torch.from_numpy(out)


@lru_cache(maxsize=None)
def baseline_bank(fonts: tuple[str, ...], chars: str, canvas: int = CANVAS,
                  cap_height: float = 0.42) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks that keep each font's own proportions: ``(masks, widths)``.

    Every font is sized so that its capital ``H`` is ``cap_height`` × ``canvas`` tall; glyphs sit on
    a common baseline (at 68 % of the height) and are centred horizontally on their ink. ``masks``
    has shape ``(len(fonts), len(chars), 1, canvas, canvas)``, ``widths`` ``(len(fonts),
    len(chars))`` holds each glyph's ink width as a fraction of ``canvas`` (to set two side by side).
    """
    ss = 2                                                    # supersampling factor
    masks = np.zeros((len(fonts), len(chars), 1, canvas, canvas), np.float32)
    widths = np.zeros((len(fonts), len(chars)), np.float32)
    for i, font in enumerate(fonts):
        _, (_, top, _, bottom), _ = _ink(font, "H", 100, anchor="ls")
        px = round(100 * cap_height * canvas * ss / (bottom - top))
        for j, char in enumerate(chars):
            img, (left, _, right, _), (ox, oy) = _ink(font, char, px, anchor="ls")
            cx, side = (left + right) / 2, canvas * ss
            crop = img.crop((round(cx - side / 2), round(oy - 0.68 * side),
                             round(cx + side / 2), round(oy + 0.32 * side)))
            masks[i, j, 0] = np.asarray(crop.resize((canvas, canvas), Image.LANCZOS), np.float32) / 255
            widths[i, j] = (right - left) / side
    return torch.from_numpy(masks), torch.from_numpy(widths)


# --------------------------------------------------------------------------------------------------
# Shared pieces


def _pose(n: int, g: torch.Generator, rotate_deg: float = 0.0, zoom: tuple[float, float] = (1.0, 1.0),
          shift: float = 0.0, shear_deg: float = 0.0) -> torch.Tensor:
    """Random affine matrices (:func:`.ops.affine_theta`): rotation in ``±rotate_deg``, zoom in
    ``zoom``, shift in ``±shift`` of the width along x and y, shear in ``±shear_deg``."""
    return ops.affine_theta(n, ops.uniform(n, -rotate_deg, rotate_deg, g), ops.uniform(n, *zoom, g),
                            ops.uniform(n, -shift, shift, g), ops.uniform(n, -shift, shift, g),
                            ops.uniform(n, -shear_deg, shear_deg, g))


def _placed(theta: torch.Tensor, offset_x: torch.Tensor) -> torch.Tensor:
    """``theta`` with the content first moved by ``offset_x`` (N,) canvas widths (a neighbour glyph)."""
    theta = theta.clone()
    theta[:, 0, 2] -= 2 * offset_x
    return theta


def _plain_backgrounds(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat colours, or (half of the time) a gentle two-colour gradient: ``(images, mean colours)``."""
    c1 = ops.random_colors(n, g)
    c2 = (c1 + ops.uniform((n, 3, 1, 1), -0.2, 0.2, g)).clamp(0, 1)
    c2 = torch.where(torch.rand(n, 1, 1, 1, generator=g) < 0.5, c1, c2)
    ramp = ops.gradient_ramp(n, g)
    return torch.lerp(c1, c2, ramp), (c1 + c2) / 2


def _finish(x: torch.Tensor, g: torch.Generator, noise: tuple[float, float]) -> torch.Tensor:
    """Gaussian pixel noise of a per-image strength in ``noise``, then ``uint8``."""
    sigma = ops.uniform((x.shape[0], 1, 1, 1), noise[0], noise[1], g)
    return ops.to_uint8(ops.add_noise(x, g, sigma))


def _rendered_text(chars: str, fonts: tuple[str, ...], n_per_class: int, g: torch.Generator):
    """The printed-glyph pipeline shared by ``printed_digits`` and ``letters`` (same image
    statistics, different label sets): one glyph per image in a random font and pose, a colour
    contrasting with a flat or gradient background, light noise."""
    labels = ops.balanced_labels(n_per_class, len(chars), g)
    n = labels.numel()
    font = torch.randint(0, len(fonts), (n,), generator=g)
    tiles = glyph_bank(fonts, chars).flatten(0, 1)
    mask = ops.sample_atlas(tiles, font * len(chars) + labels, _pose(n, g, 12, (0.75, 1.05), 0.06, 8))
    bg, bg_mean = _plain_backgrounds(n, g)
    fg = ops.contrasting_colors(bg_mean, g, min_delta=0.4)
    return _finish(ops.composite(mask, fg, bg), g, (0.0, 0.03)), labels


# --------------------------------------------------------------------------------------------------
# handwritten_digits (MNIST)

HANDWRITTEN_FRACTIONS = {"train": 0.60, "val": 0.15, "test": 0.25}


@lru_cache(maxsize=1)
def _digit_scans() -> tuple[torch.Tensor, np.ndarray]:
    """scikit-learn's 1797 digit scans as (1797, 1, 8, 8) floats in [0, 1], and their labels.

    Reads the CSV that ``sklearn.datasets.load_digits`` reads (64 pixel values 0–16 and the label
    per row) without importing scikit-learn, which takes seconds; falls back to ``load_digits``.
    """
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz" if spec else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",")
        pixels, targets = table[:, :-1], table[:, -1]
    else:  # pragma: no cover - a scikit-learn that stores its data elsewhere
        from sklearn.datasets import load_digits

        digits = load_digits()
        pixels, targets = digits.data, digits.target
    scans = torch.tensor(pixels / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
    return scans, targets.astype(np.int64)


@lru_cache(maxsize=1)
def _scan_tiles() -> torch.Tensor:
    """The scans padded to 12×12 and upsampled bicubically to 48×48 (smooth grey strokes)."""
    x = torch.nn.functional.pad(_digit_scans()[0], (2, 2, 2, 2))
    return torch.nn.functional.interpolate(x, size=(48, 48), mode="bicubic", align_corners=False).clamp(0, 1)


@lru_cache(maxsize=None)
def _pools() -> dict[str, np.ndarray]:
    _, targets = _digit_scans()
    rng = np.random.default_rng(0)
    pools = {split: [] for split in HANDWRITTEN_FRACTIONS}
    for c in range(10):                       # stratified: every split gets each digit's share
        idx = rng.permutation(np.flatnonzero(targets == c))
        a = round(len(idx) * HANDWRITTEN_FRACTIONS["train"])
        b = a + round(len(idx) * HANDWRITTEN_FRACTIONS["val"])
        for split, part in zip(HANDWRITTEN_FRACTIONS, (idx[:a], idx[a:b], idx[b:])):
            pools[split].append(part)
    return {split: np.sort(np.concatenate(parts)) for split, parts in pools.items()}


def handwritten_pool(split: str) -> np.ndarray:
    """Indices into ``sklearn.datasets.load_digits()`` that split ``split`` may use.

    A fixed, stratified permutation (seed 0, independent of the generation seed) puts 60 % of each
    digit's scans in ``train``, 15 % in ``val`` and 25 % in ``test``; the pools are disjoint.
    """
    return _pools()[check_split(split)].copy()


def handwritten_sources(n_per_class: int, split: str, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Balanced labels and, for each, a random scan index from that digit's part of the split's pool."""
    scans_targets = _digit_scans()[1]
    pool = handwritten_pool(split)
    labels = ops.balanced_labels(n_per_class, 10, g)
    source = torch.empty_like(labels)
    for c in range(10):
        where = (labels == c).nonzero().flatten()
        members = torch.from_numpy(pool[scans_targets[pool] == c])
        source[where] = members[torch.randint(0, len(members), (len(where),), generator=g)]
    return labels, source


def generate_handwritten_digits(n_per_class: int, split: str, g: torch.Generator):
    """MNIST-like: a scan upsampled smoothly, thresholded at a random level (stroke thickness),
    posed by a random affine map, white on black with a little noise."""
    labels, source = handwritten_sources(n_per_class, split, g)
    n = labels.numel()
    jitter = ops.smooth_displacement(n, g, 0.012, cells=3)
    x = ops.sample_atlas(_scan_tiles(), source, _pose(n, g, 12, (0.95, 1.2), 0.05, 12), displacement=jitter)
    level = ops.uniform((n, 1, 1, 1), 0.25, 0.6, g)                         # low level: thick strokes
    floor = torch.sigmoid(-level / 0.07)                                     # keep the background at 0
    x = ((torch.sigmoid((x - level) / 0.07) - floor) / (1 - floor)).clamp(0, 1)
    return _finish(ops.gray_to_rgb(x), g, (0.0, 0.03)), labels


# --------------------------------------------------------------------------------------------------
# printed_digits and letters (CIFAR-10 / CIFAR-100 pair of chapter 3)


def generate_printed_digits(n_per_class: int, split: str, g: torch.Generator):
    """Digits 0–9 in 21 font styles, random pose and contrasting colours (the easy domain)."""
    return _rendered_text(DIGITS, TEXT_FONTS, n_per_class, g)


def generate_letters(n_per_class: int, split: str, g: torch.Generator):
    """Capitals A–Z through exactly the pipeline of ``printed_digits``."""
    return _rendered_text(UPPERCASE, TEXT_FONTS, n_per_class, g)


# --------------------------------------------------------------------------------------------------
# street_digits (SVHN)


def _cluttered_backgrounds(n: int, g: torch.Generator) -> torch.Tensor:
    """Two colours mixed by fractal noise and a ramp, plus per-channel colour blotches."""
    c1, c2 = ops.random_colors(n, g), ops.random_colors(n, g)
    mix = ops.uniform((n, 1, 1, 1), 0.3, 1.0, g)
    pattern = mix * ops.smooth_noise(n, 1, g, cells=3, octaves=3) + (1 - mix) * ops.gradient_ramp(n, g)
    blotches = (ops.smooth_noise(n, 3, g, cells=5, octaves=2) - 0.5) * ops.uniform((n, 1, 1, 1), 0, 0.4, g)
    return (torch.lerp(c1, c2, pattern) + blotches).clamp(0, 1)


def generate_street_digits(n_per_class: int, split: str, g: torch.Generator):
    """SVHN-like: a centred digit, cut-off neighbour digits in the same font and colour, cluttered
    backgrounds, weak contrast, light falloff, blur and noise (harder than ``printed_digits``)."""
    labels = ops.balanced_labels(n_per_class, 10, g)
    n = labels.numel()
    tiles = glyph_bank(TEXT_FONTS, DIGITS).flatten(0, 1)
    font = torch.randint(0, len(TEXT_FONTS), (n,), generator=g)
    theta = _pose(n, g, 10, (0.75, 1.1), 0.05, 10)
    mask = ops.sample_atlas(tiles, font * 10 + labels, theta)
    for side in (-1, 1):                                  # neighbours, each present 70 % of the time
        other = font * 10 + torch.randint(0, 10, (n,), generator=g)
        gap = side * ops.uniform(n, 0.56, 0.75, g)
        present = (torch.rand(n, 1, 1, 1, generator=g) < 0.7).float()
        mask = torch.maximum(mask, present * ops.sample_atlas(tiles, other, _placed(theta, gap)))
    bg = _cluttered_backgrounds(n, g)
    fg = ops.contrasting_colors(bg.mean(dim=(2, 3), keepdim=True), g, min_delta=0.25)
    x = ops.composite(mask, fg, bg)
    x = ops.random_lighting(x, g, gain=(0.55, 1.15), gradient=0.6)
    x = ops.random_blur(x, g, max_sigma=1.1)
    return _finish(x, g, (0.01, 0.06)), labels


# --------------------------------------------------------------------------------------------------
# seven_segment_digits

#: Segments a–g as (x0, y0, x1, y1) in units of the digit's half width/half height.
_SEGMENTS = {
    "a": (-1, -1, 1, -1), "b": (1, -1, 1, 0), "c": (1, 0, 1, 1), "d": (-1, 1, 1, 1),
    "e": (-1, 0, -1, 1), "f": (-1, -1, -1, 0), "g": (-1, 0, 1, 0),
}
_SEGMENTS_ON = ("abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg", "abcdfg")


@lru_cache(maxsize=None)
def _segment_fields(canvas: int = CANVAS) -> torch.Tensor:
    """Distance-like fields to the nearest lit / unlit segment of each digit, for three segment
    styles (rounded, square, pointed hexagon): tiles (3 * 10, 2, canvas, canvas), tile
    ``style * 10 + digit``, channels lit and unlit, in canvas pixels.

    A segment of half thickness ``t`` is the set where the field is below ``t``. Warping the smooth
    field and thresholding afterwards gives crisp edges at any pose and thickness.
    """
    half_w, half_h, gap = 0.2 * canvas, 0.34 * canvas, 0.05 * canvas
    ys, xs = torch.meshgrid(torch.arange(canvas) + 0.5 - canvas / 2, torch.arange(canvas) + 0.5 - canvas / 2,
                            indexing="ij")
    fields = {}
    for name, (x0, y0, x1, y1) in _SEGMENTS.items():
        x0, x1, y0, y1 = x0 * half_w, x1 * half_w, y0 * half_h, y1 * half_h
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_len = math.hypot(x1 - x0, y1 - y0) / 2 - gap
        ux, uy = (x1 - x0) / (2 * (half_len + gap)), (y1 - y0) / (2 * (half_len + gap))
        along = ((xs - cx) * ux + (ys - cy) * uy).abs()
        across = ((xs - cx) * -uy + (ys - cy) * ux).abs()
        rounded = torch.hypot((along - half_len).clamp(min=0), across)
        square = torch.maximum(along - half_len, across)
        pointed = torch.maximum(across, along + across - half_len)
        fields[name] = torch.stack([rounded, square, pointed])
    far = torch.full((3, canvas, canvas), float(canvas))
    lit = torch.stack([torch.stack([fields[s] for s in on]).amin(0) for on in _SEGMENTS_ON], 1)
    unlit = torch.stack([torch.stack([fields[s] for s in "abcdefg" if s not in on] or [far]).amin(0)
                         for on in _SEGMENTS_ON], 1)
    return torch.stack([lit, unlit], 2).flatten(0, 1)


def generate_seven_segment_digits(n_per_class: int, split: str, g: torch.Generator):
    """Seven-segment digits: random segment style and thickness, italic slant, LED look (glowing
    colour on dark) or LCD look (dark segments on grey-green), faint unlit segments."""
    labels = ops.balanced_labels(n_per_class, 10, g)
    n = labels.numel()
    style = torch.randint(0, 3, (n,), generator=g)
    thick = ops.uniform((n, 1, 1, 1), 2.5, 5.0, g)                      # half thickness in canvas px
    zoom = ops.uniform(n, 0.85, 1.2, g)
    theta = ops.affine_theta(n, angle_deg=ops.uniform(n, -5, 5, g), zoom=zoom, shear_deg=ops.uniform(n, -2, 14, g),
                             squash=ops.uniform(n, 0.85, 1.15, g), shift_x=ops.uniform(n, -0.06, 0.06, g),
                             shift_y=ops.uniform(n, -0.05, 0.05, g))
    field = ops.sample_atlas(_segment_fields(), style * 10 + labels, theta, fill=float(CANVAS))
    pixel = CANVAS / IMAGE_SIZE / zoom.view(n, 1, 1, 1)                  # one output pixel in field units
    both = ((thick - field) / pixel + 0.5).clamp(0, 1)
    lit, unlit = both[:, :1], both[:, 1:]

    led = torch.rand(n, 1, 1, 1, generator=g) < 0.55
    palette = torch.tensor([[1.0, 0.15, 0.1], [0.2, 1.0, 0.3], [1.0, 0.65, 0.1], [0.3, 0.6, 1.0],
                            [0.3, 1.0, 1.0], [0.95, 0.95, 0.9]])
    glow_colour = palette[torch.randint(0, len(palette), (n,), generator=g)][:, :, None, None]
    glow_colour = (glow_colour * ops.uniform((n, 1, 1, 1), 0.7, 1.0, g)).clamp(0, 1)
    dark_bg = ops.random_colors(n, g, 0.0, 0.15)
    lcd_bg = torch.tensor([0.62, 0.68, 0.55]).view(1, 3, 1, 1) * ops.uniform((n, 1, 1, 1), 0.75, 1.3, g) \
        + ops.uniform((n, 3, 1, 1), -0.06, 0.06, g)
    lcd_ink = ops.random_colors(n, g, 0.02, 0.25)
    bg = torch.where(led, dark_bg, lcd_bg).expand(n, 3, IMAGE_SIZE, IMAGE_SIZE)
    bg = bg + (ops.smooth_noise(n, 1, g, cells=4) - 0.5) * 0.1
    ink = torch.where(led, glow_colour, lcd_ink)
    off_alpha = ops.uniform((n, 1, 1, 1), 0.0, 0.22, g) * (torch.rand(n, 1, 1, 1, generator=g) < 0.7)
    x = ops.composite(unlit * off_alpha, ink, bg)
    x = ops.composite(lit, ink, x)
    glow = ops.gaussian_blur(lit, 1.5) * ops.uniform((n, 1, 1, 1), 0.2, 0.7, g) * led
    x = x + glow * glow_colour
    x = ops.random_lighting(x.clamp(0, 1), g, gain=(0.75, 1.1), gradient=0.3)
    x = ops.random_blur(x, g, max_sigma=0.7, levels=3)
    return _finish(x, g, (0.0, 0.03)), labels


# --------------------------------------------------------------------------------------------------
# outline_digits (sketch style)


def _paper(n: int, g: torch.Generator) -> torch.Tensor:
    """Light paper: warm/cool off-white with faint fibres; ruled lines on a third, squares on a tenth."""
    tint = torch.tensor([1.0, 0.97, 0.9]).view(1, 3, 1, 1) ** ops.uniform((n, 1, 1, 1), -0.5, 1.5, g)
    paper = tint * ops.uniform((n, 1, 1, 1), 0.82, 1.0, g)
    paper = paper + (ops.smooth_noise(n, 1, g, cells=8, octaves=2) - 0.5) * ops.uniform((n, 1, 1, 1), 0, 0.12, g)
    kind = torch.rand(n, generator=g)
    spacing = ops.uniform((n, 1, 1, 1), 6, 10, g)
    offset = ops.uniform((n, 1, 1, 1), 0, 10, g)
    pos = torch.arange(IMAGE_SIZE, dtype=torch.float32)
    rows = (((pos.view(1, 1, -1, 1) + offset) % spacing) < 1).float()
    cols = (((pos.view(1, 1, 1, -1) + offset) % spacing) < 1).float()
    lines = torch.where((kind < 0.33).view(n, 1, 1, 1), rows, torch.zeros(()))
    lines = torch.where((kind > 0.9).view(n, 1, 1, 1), torch.maximum(rows, cols), lines)
    line_colour = torch.tensor([0.55, 0.7, 0.95]).view(1, 3, 1, 1)
    return ops.composite(0.45 * lines, line_colour, paper.clamp(0, 1))


@lru_cache(maxsize=1)
def _outline_tiles() -> torch.Tensor:
    """Outlines (dilation minus erosion) of the digit glyphs: tiles (fonts * 10, 1, 64, 64)."""
    masks = glyph_bank(OUTLINE_FONTS, DIGITS, height=0.85).flatten(0, 1)
    return (ops.dilate(masks, 1) - ops.erode(masks, 1)).clamp(0, 1)


def generate_outline_digits(n_per_class: int, split: str, g: torch.Generator):
    """Sketch-like: the outline (dilation minus erosion) of a glyph, mostly bold, with jittery,
    sometimes doubled or broken strokes of uneven pressure, in pencil or pen colours on paper with
    the odd graphite smudge."""
    labels = ops.balanced_labels(n_per_class, 10, g)
    n = labels.numel()
    index = torch.randint(0, len(OUTLINE_FONTS), (n,), generator=g) * 10 + labels
    theta = _pose(n, g, 15, (0.7, 1.1), 0.08, 12)
    tiles = _outline_tiles()
    stroke = ops.sample_atlas(tiles, index, theta, displacement=ops.smooth_displacement(n, g, 0.035, cells=4))
    # A second, differently jittered pass over the same outline on 40 % of the images (sketchy look).
    again = (torch.rand(n, generator=g) < 0.4).nonzero().flatten()
    retrace = ops.sample_atlas(tiles, index[again], theta[again],
                               displacement=ops.smooth_displacement(len(again), g, 0.035, cells=4))
    stroke[again] = torch.maximum(stroke[again], ops.uniform((len(again), 1, 1, 1), 0.3, 0.8, g) * retrace)
    pressure = 0.55 + 0.45 * ops.smooth_noise(n, 1, g, cells=3)
    gaps = ((ops.smooth_noise(n, 1, g, cells=6) - ops.uniform((n, 1, 1, 1), -0.3, 0.22, g)) / 0.1).clamp(0, 1)
    stroke = stroke * pressure * gaps
    pencil = ops.random_colors(n, g, 0.1, 0.4).mean(1, keepdim=True).expand(n, 3, 1, 1)
    pen = torch.tensor([0.1, 0.15, 0.5]).view(1, 3, 1, 1) + ops.uniform((n, 3, 1, 1), -0.1, 0.1, g)
    ink = torch.where(torch.rand(n, 1, 1, 1, generator=g) < 0.6, pencil, pen.clamp(0, 1))
    smudge = ops.smooth_noise(n, 1, g, cells=3) ** 3 * ops.uniform((n, 1, 1, 1), 0.0, 0.5, g)
    smudge = smudge * (torch.rand(n, 1, 1, 1, generator=g) < 0.35)
    x = ops.composite(smudge, pencil, _paper(n, g))
    x = ops.composite(stroke.clamp(0, 1), ink, x)
    return _finish(x, g, (0.0, 0.02)), labels


# --------------------------------------------------------------------------------------------------
# painted_digits (DomainNet's "painting": chapter 2's sixth domain)


def _canvas(n: int, g: torch.Generator) -> torch.Tensor:
    """A painted background: two to three palette colours blended by fractal noise, with a fine
    woven canvas texture."""
    c1, c2, c3 = (ops.random_colors(n, g, 0.15, 0.95) for _ in range(3))
    mix = ops.smooth_noise(n, 1, g, cells=2, octaves=3)
    accent = (ops.smooth_noise(n, 1, g, cells=3) > ops.uniform((n, 1, 1, 1), 0.55, 0.9, g)).float()
    base = torch.lerp(torch.lerp(c1, c2, mix), c3, 0.7 * ops.gaussian_blur(accent, 1.5))
    pos = torch.arange(IMAGE_SIZE, dtype=torch.float32)
    weave = (torch.sin(pos.view(1, 1, -1, 1) * 2.1) * torch.sin(pos.view(1, 1, 1, -1) * 2.1)) * 0.03
    return (base + weave).clamp(0, 1)


def _brush_strokes(n: int, g: torch.Generator, length_cells: int, across_cells: int) -> torch.Tensor:
    """Streaky value noise stretched along a random direction: the texture a flat brush leaves."""
    streak = ops.smooth_noise(n, 1, g, cells=across_cells, size=IMAGE_SIZE)
    theta = ops.affine_theta(n, ops.uniform(n, -90, 90, g), 1.0)
    theta[:, :, 0] *= across_cells / max(1, length_cells)  # stretch the lattice along one axis
    return ops.sample_atlas(streak, torch.arange(n), theta, fill=0.5)


def generate_painted_digits(n_per_class: int, split: str, g: torch.Generator):
    """Painting-like: a bold digit laid on in thick brush strokes (streaky, uneven paint with
    ragged edges that bleed into the background) over a painted canvas of blended colours, in
    the palette of the picture, sometimes with a darker contour or a second coat."""
    labels = ops.balanced_labels(n_per_class, 10, g)
    n = labels.numel()
    tiles = glyph_bank(BOLD_FONTS, DIGITS, height=0.8).flatten(0, 1)
    index = torch.randint(0, len(BOLD_FONTS), (n,), generator=g) * 10 + labels
    theta = _pose(n, g, 14, (0.75, 1.05), 0.07, 10)
    mask = ops.sample_atlas(tiles, index, theta, displacement=ops.smooth_displacement(n, g, 0.03, cells=5))
    ragged = ops.smooth_noise(n, 1, g, cells=8) - 0.5
    mask = ((mask + 0.6 * ragged * (mask * (1 - mask) * 4)) * 1.2 - 0.1).clamp(0, 1)
    canvas = _canvas(n, g)
    paint = ops.contrasting_colors(canvas.mean(dim=(2, 3), keepdim=True), g, min_delta=0.3)
    strokes = _brush_strokes(n, g, 2, 10)
    shade = 0.65 + 0.6 * (strokes - 0.5)
    fg = (paint * shade + 0.08 * (ops.smooth_noise(n, 3, g, cells=4) - 0.5)).clamp(0, 1)
    contour = (ops.dilate(mask, 1) - mask).clamp(0, 1) * (torch.rand(n, 1, 1, 1, generator=g) < 0.35)
    x = ops.composite(0.6 * contour, paint * 0.35, canvas)
    x = ops.composite(mask * ops.uniform((n, 1, 1, 1), 0.75, 1.0, g), fg, x)
    x = x + 0.05 * (_brush_strokes(n, g, 3, 12) - 0.5)          # the brush texture over everything
    x = ops.random_blur(x.clamp(0, 1), g, max_sigma=0.6)
    return _finish(x, g, (0.0, 0.02)), labels


# --------------------------------------------------------------------------------------------------
# font_styles (Stanford Cars: fine-grained)


def generate_font_styles(n_per_class: int, split: str, g: torch.Generator):
    """The class is the font: one or two random characters (digits, capitals, lower case) in that
    font on a body height common to all fonts, random colours, small rotation. No shear, since
    slant tells italics from upright faces."""
    fonts = tuple(f for _, f in FONT_STYLES)
    labels = ops.balanced_labels(n_per_class, len(fonts), g)
    n = labels.numel()
    bank, widths = baseline_bank(fonts, FONT_STYLE_CHARS)
    tiles, n_chars = bank.flatten(0, 1), len(FONT_STYLE_CHARS)
    chars = torch.randint(0, n_chars, (2, n), generator=g)
    pair = torch.rand(n, generator=g) < 0.5
    w1, w2 = widths[labels, chars[0]], widths[labels, chars[1]] * pair
    gap = ops.uniform(n, 0.03, 0.08, g) * pair
    total = w1 + gap + w2
    zoom = torch.minimum(ops.uniform(n, 0.85, 1.35, g), 0.82 / total)       # pairs must fit the width
    theta = ops.affine_theta(n, angle_deg=ops.uniform(n, -6, 6, g), zoom=zoom,
                             shift_x=ops.uniform(n, -0.04, 0.04, g), shift_y=ops.uniform(n, -0.03, 0.08, g))
    mask = ops.sample_atlas(tiles, labels * n_chars + chars[0], _placed(theta, -total / 2 + w1 / 2))
    second = ops.sample_atlas(tiles, labels * n_chars + chars[1], _placed(theta, total / 2 - w2 / 2))
    mask = torch.maximum(mask, second * pair.view(n, 1, 1, 1))
    bg, bg_mean = _plain_backgrounds(n, g)
    fg = ops.contrasting_colors(bg_mean, g, min_delta=0.35)
    return _finish(ops.composite(mask, fg, bg), g, (0.0, 0.03)), labels


# --------------------------------------------------------------------------------------------------
# traffic_signs (GTSRB)

TRAFFIC_SIGNS = ("speed limit 30", "speed limit 50", "speed limit 80", "stop", "yield", "no entry",
                 "turn left", "turn right", "priority road", "general caution")
_RED, _BLUE, _WHITE = (200, 25, 35, 255), (25, 75, 170, 255), (245, 245, 240, 255)
_BLACK, _YELLOW = (20, 20, 20, 255), (250, 190, 10, 255)


def _regular_polygon(cx: float, cy: float, r: float, sides: int, start_deg: float) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(math.radians(start_deg + 360 * k / sides)),
             cy + r * math.sin(math.radians(start_deg + 360 * k / sides))) for k in range(sides)]


def _draw_sign(kind: str, border: float, font_file: str, size: int) -> Image.Image:
    """One sign as an RGBA image: ``border`` is the border width relative to the sign's radius."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c, r = size / 2, 0.47 * size
    b = border * r

    def disc(radius, fill):
        d.ellipse([c - radius, c - radius, c + radius, c + radius], fill=fill)

    def text(s, px, fill, cy=c):
        d.text((c, cy), s, font=ImageFont.truetype(str(FONT_DIR / font_file), round(px)), fill=fill, anchor="mm")

    def triangle(up: bool):
        rt = 1.12 * r                                  # circumradius that fits the canvas width
        cy = c + (rt / 4 if up else -rt / 4)           # centre the bounding box
        start = -90 if up else 90
        d.polygon(_regular_polygon(c, cy, rt, 3, start), fill=_RED)
        d.polygon(_regular_polygon(c, cy, rt - 2.2 * b, 3, start), fill=_WHITE)
        return cy

    if kind.startswith("speed limit"):
        disc(r, _RED)
        disc(r - b, _WHITE)
        text(kind.split()[-1], 0.95 * r, _BLACK)
    elif kind == "stop":
        d.polygon(_regular_polygon(c, c, r, 8, 22.5), fill=_WHITE)
        d.polygon(_regular_polygon(c, c, r * 0.9, 8, 22.5), fill=_RED)
        text("STOP", 0.55 * r, _WHITE)
    elif kind == "yield":
        triangle(up=False)
    elif kind == "no entry":
        disc(r, _RED)
        d.rectangle([c - 0.68 * r, c - 0.17 * r, c + 0.68 * r, c + 0.17 * r], fill=_WHITE)
    elif kind in ("turn left", "turn right"):
        disc(r, _BLUE)
        s = -1 if kind == "turn left" else 1
        shaft = [(c - s * 0.55 * r, c - 0.13 * r), (c + s * 0.1 * r, c - 0.13 * r),
                 (c + s * 0.1 * r, c + 0.13 * r), (c - s * 0.55 * r, c + 0.13 * r)]
        head = [(c + s * 0.62 * r, c), (c + s * 0.05 * r, c - 0.42 * r), (c + s * 0.05 * r, c + 0.42 * r)]
        d.polygon(shaft, fill=_WHITE)
        d.polygon(head, fill=_WHITE)
    elif kind == "priority road":
        d.polygon(_regular_polygon(c, c, r, 4, 0), fill=_BLACK)
        d.polygon(_regular_polygon(c, c, r * 0.94, 4, 0), fill=_WHITE)
        d.polygon(_regular_polygon(c, c, r * (0.62 - border / 2), 4, 0), fill=_YELLOW)
    elif kind == "general caution":
        cy = triangle(up=True)
        text("!", 1.0 * r, _BLACK, cy=cy + 0.12 * r)
    else:
        raise ValueError(kind)
    return img


@lru_cache(maxsize=None)
def sign_bank(canvas: int = CANVAS) -> torch.Tensor:
    """Every sign in 4 variants (thin/thick border × two fonts), shape (10, 4, 4, canvas, canvas):
    premultiplied RGB and alpha in [0, 1], drawn at 4× and reduced with Lanczos."""
    fonts = ("DejaVuSans-Bold.ttf", "DejaVuSansMono-Bold.ttf")
    variants = [(border, font) for border in (0.15, 0.22) for font in fonts]
    out = np.zeros((len(TRAFFIC_SIGNS), len(variants), 4, canvas, canvas), np.float32)
    for i, kind in enumerate(TRAFFIC_SIGNS):
        for j, (border, font) in enumerate(variants):
            img = _draw_sign(kind, border, font, 4 * canvas).resize((canvas, canvas), Image.LANCZOS)
            rgba = np.asarray(img, np.float32).transpose(2, 0, 1) / 255
            out[i, j, :3], out[i, j, 3] = rgba[:3] * rgba[3:], rgba[3]
    return torch.from_numpy(out)


def _outdoor_backgrounds(n: int, g: torch.Generator) -> torch.Tensor:
    """Sky (vertical gradient with clouds), foliage (fractal greens and browns) or street (greys),
    with a sign pole behind the sign half of the time."""
    size = IMAGE_SIZE
    rows = ((torch.arange(size, dtype=torch.float32) + 0.5) / size).view(1, 1, size, 1)
    top = torch.stack([ops.uniform(n, 0.3, 0.65, g), ops.uniform(n, 0.5, 0.8, g), ops.uniform(n, 0.8, 1.0, g)], 1)
    haze = rows * ops.uniform((n, 1, 1, 1), 0.2, 0.9, g)                     # paler towards the horizon
    sky = torch.lerp(top[:, :, None, None], torch.full((1, 3, 1, 1), 0.92), haze)
    sky = torch.lerp(sky, torch.ones(()), 0.6 * ops.smooth_noise(n, 1, g, cells=3, octaves=2) ** 2)
    dark = torch.stack([ops.uniform(n, 0.05, 0.25, g), ops.uniform(n, 0.2, 0.45, g), ops.uniform(n, 0.02, 0.2, g)], 1)
    light = torch.stack([ops.uniform(n, 0.3, 0.6, g), ops.uniform(n, 0.4, 0.7, g), ops.uniform(n, 0.1, 0.35, g)], 1)
    foliage = torch.lerp(dark[:, :, None, None], light[:, :, None, None], ops.smooth_noise(n, 1, g, cells=4, octaves=3))
    grey = ops.uniform((n, 1, 1, 1), 0.25, 0.7, g) + ops.uniform((n, 3, 1, 1), -0.05, 0.05, g)
    street = grey + 0.25 * (ops.smooth_noise(n, 1, g, cells=2, octaves=2) - 0.5) + 0.2 * (ops.gradient_ramp(n, g) - 0.5)
    kind = torch.randint(0, 3, (n, 1, 1, 1), generator=g)
    bg = torch.where(kind == 0, sky, torch.where(kind == 1, foliage, street)).clamp(0, 1)
    cols = (torch.arange(size, dtype=torch.float32) + 0.5).view(1, 1, 1, size)
    pole_x = size / 2 + ops.uniform((n, 1, 1, 1), -3, 3, g)
    pole = ((cols - pole_x).abs() < ops.uniform((n, 1, 1, 1), 0.8, 1.8, g)) & (rows > 0.5)
    pole = pole & (torch.rand(n, 1, 1, 1, generator=g) < 0.5)
    return ops.composite(pole.float(), ops.uniform((n, 1, 1, 1), 0.35, 0.65, g), bg)


def generate_traffic_signs(n_per_class: int, split: str, g: torch.Generator):
    """GTSRB-like: a sign template (4 variants per class) with colour fading and tint, a squashed,
    sheared, rotated pose, over an outdoor background; strong lighting changes, blur, noise."""
    labels = ops.balanced_labels(n_per_class, len(TRAFFIC_SIGNS), g)
    n = labels.numel()
    bank = sign_bank()
    index = labels * bank.shape[1] + torch.randint(0, bank.shape[1], (n,), generator=g)
    theta = ops.affine_theta(n, angle_deg=ops.uniform(n, -8, 8, g), zoom=ops.uniform(n, 0.6, 0.95, g),
                             shear_deg=ops.uniform(n, -8, 8, g), squash=ops.uniform(n, 0.7, 1.0, g),
                             shift_x=ops.uniform(n, -0.06, 0.06, g), shift_y=ops.uniform(n, -0.06, 0.06, g))
    sign = ops.sample_atlas(bank.flatten(0, 1), index, theta)
    rgb, alpha = sign[:, :3], sign[:, 3:]                                       # premultiplied colour
    rgb = rgb * ops.uniform((n, 3, 1, 1), 0.85, 1.1, g)                         # tint
    rgb = torch.lerp(rgb, alpha * rgb.mean(1, keepdim=True), ops.uniform((n, 1, 1, 1), 0, 0.35, g))  # fading
    x = rgb + (1 - alpha) * _outdoor_backgrounds(n, g)
    x = ops.random_lighting(x.clamp(0, 1), g, gain=(0.35, 1.25), gradient=0.6)
    x = ops.random_blur(x, g, max_sigma=1.0)
    return _finish(x, g, (0.01, 0.05)), labels


# --------------------------------------------------------------------------------------------------
# Registration

_DIGIT_NAMES = tuple(DIGITS)

register(Domain(
    name="handwritten_digits",
    classnames=_DIGIT_NAMES,
    templates=('a photo of the number: "{}".', "a handwritten digit {}.", "the number {} written by hand.",
               "a scan of a handwritten {}.", "a white handwritten digit {} on a black background.",
               "a pen-written number {}."),
    description="scikit-learn's handwritten digit scans, upsampled, re-thickened and jittered; white on black",
    generate=generate_handwritten_digits,
    tags=("digits", "glyphs", "handwritten", "finite-source"),
))
register(Domain(
    name="printed_digits",
    classnames=_DIGIT_NAMES,
    templates=('a photo of the number: "{}".', "the digit {} printed in a font.", "a printed number {}.",
               "a typeset digit {} on a coloured background.", "the number {} in a clean font.",
               "a rendering of the digit {}."),
    description="digits in 21 matplotlib font styles, random pose, flat or gradient contrasting colours",
    generate=generate_printed_digits,
    tags=("digits", "glyphs", "printed"),
))
register(Domain(
    name="street_digits",
    classnames=_DIGIT_NAMES,
    templates=('a photo of the house number: "{}".', 'a street sign showing "{}".',
               "a blurry photo of the number {}.", "a house number {} on a wall.",
               "a cropped photo of the digit {} between other digits.", "a street view image of the number {}."),
    description="a centred digit between cut-off neighbour digits on cluttered colour backgrounds, "
                "uneven lighting, blur and noise",
    generate=generate_street_digits,
    tags=("digits", "glyphs", "cluttered"),
))
register(Domain(
    name="seven_segment_digits",
    classnames=_DIGIT_NAMES,
    templates=("a seven-segment display showing {}.", "the digit {} on a digital clock.",
               "an LCD display showing the number {}.", "a glowing LED digit {}.",
               "the number {} on a calculator screen.", "a digital readout of {}."),
    description="procedural seven-segment LED/LCD digits with slant, segment style, glow and faint unlit segments",
    generate=generate_seven_segment_digits,
    tags=("digits", "procedural", "display"),
))
register(Domain(
    name="outline_digits",
    classnames=_DIGIT_NAMES,
    templates=("a sketch of the number {}.", "an outline drawing of the digit {}.",
               "a hollow digit {} drawn on paper.", "a pencil sketch of the number {}.",
               "a doodle of the digit {}.", "the outline of the number {} on a sheet of paper."),
    description="jittery pencil or pen outlines of bold digit glyphs on plain, ruled or squared paper",
    generate=generate_outline_digits,
    tags=("digits", "glyphs", "sketch"),
))
register(Domain(
    name="painted_digits",
    classnames=_DIGIT_NAMES,
    templates=("a painting of the number {}.", "the digit {} painted with a brush.", "an oil painting of a {}.",
               "a brushstroke digit {} on canvas.", "a painted number {}.", "artwork showing the digit {}."),
    description="bold digits laid on in streaky brush strokes with ragged edges over painted canvases of blended "
                "colours",
    generate=generate_painted_digits,
    tags=("digits", "glyphs", "painting"),
))
register(Domain(
    name="letters",
    classnames=tuple(UPPERCASE),
    templates=('a photo of the letter: "{}".', "the letter {} printed in a font.", "a capital letter {}.",
               "an uppercase {} on a coloured background.", "the character {} in a typeface.",
               "a rendering of the letter {}."),
    description="capital letters A-Z in 21 matplotlib font styles (the printed_digits pipeline)",
    generate=generate_letters,
    tags=("letters", "glyphs", "printed"),
))
register(Domain(
    name="font_styles",
    classnames=tuple(name for name, _ in FONT_STYLES),
    templates=("text written in the {} font.", "a letter printed in {}.", "characters typeset in {}.",
               "a sample of the {} typeface.", "a glyph in the {} font.", "a type specimen of {}."),
    description="one or two random characters; the class is which of 12 fonts they are set in (fine-grained)",
    generate=generate_font_styles,
    tags=("fonts", "glyphs", "fine-grained"),
))
register(Domain(
    name="traffic_signs",
    classnames=TRAFFIC_SIGNS,
    templates=('a photo of a "{}" traffic sign.', 'a zoomed in photo of a "{}" traffic sign.',
               'a centered photo of a "{}" road sign.', "a blurry photo of the {} sign.",
               "a road sign meaning {}.", 'a traffic sign: "{}".'),
    description="traffic-sign-like symbols (shape, border colour and inner symbol define the class) in varied "
                "pose and lighting over sky, foliage or street backgrounds",
    generate=generate_traffic_signs,
    tags=("signs", "procedural", "object-like"),
))
