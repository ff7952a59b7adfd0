"""The glyph domains of the embedded benchmark (paperlib.data.embedded.glyphs): the generator
contract, determinism, and the disjoint pools of scikit-learn's handwritten digit scans."""

import numpy as np
import pytest
import torch

from paperlib.data import generate_domain
from paperlib.data.embedded import DOMAINS, glyphs, ops

CLASS_COUNTS = {
    "handwritten_digits": 10, "printed_digits": 10, "street_digits": 10, "seven_segment_digits": 10,
    "outline_digits": 10, "letters": 26, "font_styles": 12, "traffic_signs": 10,
}
NAMES = tuple(CLASS_COUNTS)
SPLITS = ("train", "val", "test")
N = 3  # images per class in the fast tests


def _gen(name, seed, split="train", n=N):
    g = torch.Generator()
    g.manual_seed(seed)
    return DOMAINS[name].generate(n, split, g)


def test_registered_with_names_and_templates():
    for name, n_classes in CLASS_COUNTS.items():
        d = DOMAINS[name]
        assert d.n_classes == n_classes
        assert 4 <= len(d.templates) <= 8 and all(t.count("{}") == 1 for t in d.templates)
        assert d.description and d.tags
    assert DOMAINS["printed_digits"].classnames == tuple("0123456789")
    assert DOMAINS["letters"].classnames == tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert "stop" in DOMAINS["traffic_signs"].classnames


@pytest.mark.parametrize("name", NAMES)
def test_contract(name):
    d = DOMAINS[name]
    x, y = _gen(name, 0, "val")
    assert x.dtype == torch.uint8 and tuple(x.shape) == (N * d.n_classes, 3, 32, 32)
    assert y.dtype == torch.int64 and torch.bincount(y, minlength=d.n_classes).tolist() == [N] * d.n_classes
    assert not torch.equal(y, y.sort().values)                         # shuffled, not grouped by class
    assert (x.float().std(dim=(1, 2, 3)) > 2).all()                    # no constant images
    assert len({bytes(im.numpy()) for im in x}) == len(x)              # no repeated images


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name):
    x1, y1 = _gen(name, 5, "test")
    x2, y2 = _gen(name, 5, "test")
    x3, _ = _gen(name, 6, "test")
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_generate_domain_end_to_end():
    x, y = generate_domain("traffic_signs", "train", 2, seed=0)
    x2, _ = generate_domain("traffic_signs", "test", 2, seed=0)
    assert x.shape == (20, 3, 32, 32) and not torch.equal(x, x2)   # splits are independent draws


def test_handwritten_pools_are_disjoint_and_cover_the_scans():
    pools = {s: glyphs.handwritten_pool(s) for s in SPLITS}
    sets = {s: set(p.tolist()) for s, p in pools.items()}
    assert all(len(sets[s]) == len(pools[s]) for s in SPLITS)
    assert not sets["train"] & sets["val"] and not sets["train"] & sets["test"] and not sets["val"] & sets["test"]
    assert set().union(*sets.values()) == set(range(1797))
    for split, fraction in glyphs.HANDWRITTEN_FRACTIONS.items():
        assert abs(len(pools[split]) / 1797 - fraction) < 0.01
    # the pools do not depend on the generation seed: the split is fixed once
    assert np.array_equal(glyphs.handwritten_pool("test"), pools["test"])


def test_handwritten_samples_come_from_their_split_pool():
    targets = glyphs._digit_scans()[1]
    for split in SPLITS:
        g = torch.Generator()
        g.manual_seed(3)
        labels, source = glyphs.handwritten_sources(20, split, g)
        assert set(source.tolist()) <= set(glyphs.handwritten_pool(split).tolist())
        assert np.array_equal(targets[source.numpy()], labels.numpy())
    with pytest.raises(ValueError, match="unknown split"):
        glyphs.handwritten_pool("training")


def test_handwritten_digits_are_white_on_black():
    x, _ = _gen("handwritten_digits", 1)
    border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], -1).float()
    assert border.mean() < 20 and x.float().amax(dim=(1, 2, 3)).min() > 200


def test_sample_atlas_matches_grid_sample_inside_the_tiles():
    g = torch.Generator()
    g.manual_seed(0)
    bank = torch.rand(4, 2, 16, 16, generator=g)
    index = torch.tensor([2, 0, 3, 1, 2])
    theta = ops.affine_theta(5, angle_deg=torch.linspace(-20, 20, 5), zoom=1.2, shift_x=0.05, shear_deg=5)
    out = ops.sample_atlas(bank, index, theta, out_size=8, fill=-1.0)
    grid = torch.nn.functional.affine_grid(theta, [5, 2, 8, 8], align_corners=False)
    ref = torch.nn.functional.grid_sample(bank[index], grid, align_corners=False)
    inner = (grid.abs() < 0.9).all(-1)[:, None].expand_as(out)
    assert torch.allclose(out[inner], ref[inner], atol=1e-4)
    assert (out[~(grid.abs() <= 1).all(-1)[:, None].expand_as(out)] == -1).all()   # outside the tile: fill


def test_gaussian_blur_keeps_the_mean_and_smooths():
    g = torch.Generator()
    g.manual_seed(0)
    x = torch.rand(2, 3, 32, 32, generator=g)
    y = ops.gaussian_blur(x, 1.5)
    assert y.shape == x.shape and y.std() < x.std() / 2
    assert torch.allclose(ops.gaussian_blur(torch.full((1, 1, 32, 32), 0.3), 2.0), torch.tensor(0.3), atol=1e-6)
