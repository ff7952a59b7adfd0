"""CLIP models and zero-shot heads (paperlib.models.clip) and the shipped foundation model."""

import json

import open_clip
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from paperlib.models.clip import (
    SHIPPED_CONFIG,
    SHIPPED_WEIGHTS,
    TINY_MODEL,
    ImageEncoder,
    create_clip,
    load_clip,
    model_id,
    zero_shot_head,
    zero_shot_weights,
)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return create_clip(TINY_MODEL, None)


def test_zero_shot_weights_follow_the_protocol(tiny):
    """Encode each template, normalise, average over templates, normalise, scale by the logit scale."""
    tok = open_clip.get_tokenizer(TINY_MODEL)
    classes, templates = ["cat", "dog", "bird"], ["a photo of a {}.", "a drawing of a {}."]
    w = zero_shot_weights(tiny, tok, classes, templates)
    with torch.no_grad():
        e = F.normalize(tiny.encode_text(tok([t.format(c) for c in classes for t in templates])), dim=-1)
        expected = F.normalize(e.view(3, 2, -1).mean(1), dim=-1) * tiny.logit_scale.exp()
    assert w.shape == (3, tiny.text_projection.shape[1])
    torch.testing.assert_close(w, expected)
    torch.testing.assert_close(w.norm(dim=1), torch.full((3,), float(tiny.logit_scale.detach().exp())))


def test_head_is_cached_and_frozen(tiny, tmp_path):
    head = zero_shot_head(tiny, TINY_MODEL, None, ["a", "b"], ["{}."], cache=tmp_path)
    again = zero_shot_head(tiny, TINY_MODEL, None, ["a", "b"], ["{}."], cache=tmp_path)
    assert len(list(tmp_path.glob("*.safetensors"))) == 1
    torch.testing.assert_close(head.weight, again.weight)
    assert list(head.parameters()) == []
    z = torch.randn(4, head.weight.shape[1])
    torch.testing.assert_close(head(z), F.normalize(z, dim=-1) @ head.weight.t())


def test_bad_inputs(tiny):
    tok = open_clip.get_tokenizer(TINY_MODEL)
    with pytest.raises(ValueError, match="CLIP model"):
        create_clip("ViT-Q-99", None)
    with pytest.raises(ValueError, match="templates"):
        zero_shot_weights(tiny, tok, ["a"], ["no placeholder"])
    with pytest.raises(ValueError, match="at least one class"):
        zero_shot_weights(tiny, tok, [], ["{}"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        create_clip(TINY_MODEL, "/nonexistent/weights.safetensors")
    with pytest.raises(ValueError, match="profile 'paper'"):
        load_clip("embedded", "ViT-B-32")


def test_image_encoder_resizes_and_normalises(tiny):
    enc = ImageEncoder(tiny.visual).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
        std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
        torch.testing.assert_close(enc(x), tiny.visual((x - mean) / std))
        assert enc(torch.rand(2, 3, 48, 48)).shape == (2, tiny.text_projection.shape[1])


def test_shipped_foundation_model():
    """The shipped model: under 20 MB, checksum matches its config, recorded zero-shot in [25, 75]%."""
    from safetensors.torch import load_file

    from paperlib.store import tensors_checksum
    assert SHIPPED_WEIGHTS.stat().st_size < 20 * 2**20
    config = json.loads(SHIPPED_CONFIG.read_text())
    assert tensors_checksum(load_file(SHIPPED_WEIGHTS)) == config["sha256"]
    metrics = json.loads(SHIPPED_CONFIG.with_name("metrics.json").read_text())
    assert 25 <= metrics["zero_shot_test_mean"] <= 75
    assert len(metrics["zero_shot_test"]) == 8


def test_shipped_zero_shot_is_reproducible():
    """Recomputing one task's zero-shot test accuracy from the shipped file gives the recorded number."""
    from paperlib.foundation import zero_shot_accuracy
    model = create_clip(TINY_MODEL, "shipped")
    metrics = json.loads(SHIPPED_CONFIG.with_name("metrics.json").read_text())
    got = zero_shot_accuracy(model, "test", tasks=("textures",))
    assert got["textures"] == pytest.approx(metrics["zero_shot_test"]["textures"], abs=0.2)


def test_the_shipped_model_loads_without_open_clips_random_init_warning(caplog):
    """open_clip warns "No pretrained weights loaded ... initialized randomly" for a model built without a
    weights tag; the shipped weights are loaded right after, so the book's pages must not show it."""
    import logging

    from paperlib.models.clip import TINY_MODEL, create_clip
    with caplog.at_level(logging.WARNING):
        create_clip(TINY_MODEL, "shipped")
    assert not [r for r in caplog.records if "No pretrained weights" in r.getMessage()]
    with caplog.at_level(logging.WARNING):
        create_clip(TINY_MODEL, None)  # truly random: the warning stays
    assert [r for r in caplog.records if "No pretrained weights" in r.getMessage()]


def test_weights_files_are_identified_by_their_bytes(tmp_path):
    """Two candidate models of one architecture: same file name, same size, different weights. Their
    run-cache identities must differ (a name-and-size identity once made them share cached runs)."""
    a, b = tmp_path / "a" / "model.safetensors", tmp_path / "b" / "model.safetensors"
    for path, fill in ((a, 0.0), (b, 1.0)):
        path.parent.mkdir()
        save_file({"w": torch.full((4,), fill)}, str(path))
    assert a.stat().st_size == b.stat().st_size
    assert model_id(TINY_MODEL, a) != model_id(TINY_MODEL, b)
    assert model_id(TINY_MODEL, a) == model_id(TINY_MODEL, str(a))
