import warnings

import pytest
import torch

from paperlib.data.cache import cached_tensors, content_key, load_verified, tensors_checksum


def _build_counter():
    calls = []

    def build():
        calls.append(1)
        return {"images": torch.arange(48, dtype=torch.uint8).view(1, 3, 4, 4), "labels": torch.tensor([3])}

    return build, calls


def test_content_key_depends_on_every_field_not_order():
    assert content_key({"a": 1, "b": 2}) == content_key({"b": 2, "a": 1})
    assert content_key({"a": 1, "b": 2}) != content_key({"a": 1, "b": 3})


def test_checksum_sees_dtype_shape_and_bytes():
    x = torch.zeros(4, dtype=torch.uint8)
    assert tensors_checksum({"x": x}) != tensors_checksum({"x": x.view(2, 2)})
    assert tensors_checksum({"x": x}) != tensors_checksum({"x": x.to(torch.int8)})
    y = x.clone()
    y[0] = 1
    assert tensors_checksum({"x": x}) != tensors_checksum({"x": y})


def test_built_once_then_loaded(tmp_path):
    build, calls = _build_counter()
    path = tmp_path / "entry.safetensors"
    first, meta1 = cached_tensors(path, build, metadata={"note": "x"})
    second, meta2 = cached_tensors(path, build)
    assert len(calls) == 1
    assert meta1 == meta2 and meta2["note"] == "x" and float(meta2["build_seconds"]) >= 0
    assert torch.equal(first["images"], second["images"]) and torch.equal(first["labels"], second["labels"])
    assert [p.name for p in tmp_path.iterdir()] == ["entry.safetensors"]  # no temporary file left behind


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_corrupted_entry_is_detected_and_regenerated(tmp_path, damage):
    build, calls = _build_counter()
    path = tmp_path / "entry.safetensors"
    good, _ = cached_tensors(path, build)
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[-5] ^= 0xFF  # a byte of tensor data: the file still parses, the checksum does not match
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw = bytearray(b"not a safetensors file")
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="regenerating"):
        again, _ = cached_tensors(path, build)
    assert len(calls) == 2
    assert torch.equal(again["images"], good["images"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_verified(path) is not None  # the rewritten file is sound
