"""The procedural and photo-crop domains of the embedded benchmark (paperlib.data.embedded.procedural,
and the car side views of paperlib.data.embedded.vehicles)."""

import math

import pytest
import torch

from paperlib.data.embedded import DOMAINS, photos, procedural

NAMES = ("shapes", "textures", "land_cover", "aerial_scenes", "photo_scenes", "faces", "vehicles")
N = 3  # images per class in the fast tests


def _gen(name, seed, split="train", n=N):
    g = torch.Generator()
    g.manual_seed(seed)
    return DOMAINS[name].generate(n, split, g)


@pytest.mark.parametrize("name", NAMES)
def test_contract(name):
    d = DOMAINS[name]
    x, y = _gen(name, 0, "val")
    assert x.dtype == torch.uint8 and tuple(x.shape) == (N * d.n_classes, 3, 32, 32)
    assert y.dtype == torch.int64 and torch.bincount(y, minlength=d.n_classes).tolist() == [N] * d.n_classes
    assert 4 <= len(d.templates) <= 8 and all(t.count("{}") == 1 for t in d.templates)
    # no constant images, and images differ from each other
    assert (x.float().std(dim=(1, 2, 3)) > 2).all()
    assert len({bytes(im.numpy()) for im in x}) == len(x)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name):
    x1, y1 = _gen(name, 5, "test")
    x2, y2 = _gen(name, 5, "test")
    x3, _ = _gen(name, 6, "test")
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_class_names():
    assert DOMAINS["shapes"].n_classes == 10
    assert DOMAINS["textures"].n_classes == 10
    assert DOMAINS["aerial_scenes"].n_classes == 10
    assert 8 <= DOMAINS["photo_scenes"].n_classes <= 12
    assert DOMAINS["land_cover"].classnames == (
        "annual crop", "forest", "herbaceous vegetation", "highway", "industrial buildings", "pasture",
        "permanent crop", "residential buildings", "river", "sea or lake")
    assert DOMAINS["faces"].classnames == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert DOMAINS["vehicles"].n_classes == 10 and "fine_grained" in DOMAINS["vehicles"].tags
    # at least half of the texture classes crop real photographs
    assert len(procedural._REAL_TEXTURES) * 2 >= DOMAINS["textures"].n_classes


@pytest.mark.parametrize("hw", [(512, 512), (300, 451), (1411, 1411), (191, 384), (660, 550), (7, 13)])
def test_split_regions_partition_the_image(hw):
    h, w = hw
    cover = torch.zeros(h, w, dtype=torch.int64)
    areas = {}
    for split in photos.SPLITS:
        top, bottom, left, right = photos.split_region(h, w, split)
        assert 0 <= top < bottom <= h and 0 <= left < right <= w
        cover[top:bottom, left:right] += 1
        areas[split] = (bottom - top) * (right - left) / (h * w)
    assert (cover == 1).all()  # disjoint and covering
    if min(h, w) > 100:
        assert areas["train"] == pytest.approx(0.6, abs=0.01)
        assert areas["val"] == pytest.approx(0.15, abs=0.01)
        assert areas["test"] == pytest.approx(0.25, abs=0.01)


def test_crops_only_see_their_region(monkeypatch):
    """A probe image whose pixels hold their split's id: every crop of a split sees only that id."""
    h, w = 300, 451
    probe = torch.zeros(1, h, w)
    for i, split in enumerate(photos.SPLITS):
        top, bottom, left, right = photos.split_region(h, w, split)
        probe[:, top:bottom, left:right] = i / 2
    real_source = photos.source
    monkeypatch.setattr(photos, "source", lambda name: probe if name == "_probe" else real_source(name))
    try:
        for i, split in enumerate(photos.SPLITS):
            g = torch.Generator().manual_seed(i)
            x = photos.crops("_probe", split, 64, g, (0.2, 0.25), rotate=True, scale=0.8)
            assert torch.allclose(x, torch.full_like(x, i / 2), atol=1e-5)
    finally:
        photos.region_image.cache_clear()


def test_largest_crops_fit_every_region():
    """The largest crop of each real source (rotated for textures) fits all three regions."""
    configs = [(src, side[1], True, procedural._scale(src, 320))
               for srcs, side in procedural._REAL_TEXTURES.values() for src in srcs]
    configs += [(src, procedural.PHOTO_SIDE[1], False, procedural._scale(src, 200))
                for src in procedural._PHOTOS.values()]
    for src, hi, rotate, scale in configs:
        for split in photos.SPLITS:
            g = torch.Generator().manual_seed(0)
            x = photos.crops(src, split, 16, g, (hi, hi), rotate=rotate, scale=scale)
            assert x.shape[-2:] == (32, 32) and torch.isfinite(x).all()
        short = min(photos.source(src).shape[1:]) * scale
        assert hi * short * (math.sqrt(2) if rotate else 1) <= photos.MAX_SIDE_FRACTION * short
