"""paperlib.store: checksummed tensors and records, the run cache, checkpoints, atomic writes."""

import json
import warnings
from dataclasses import dataclass

import pytest
import torch

from paperlib.store import (
    Checkpoint,
    artifact_path,
    cached_run,
    cached_tensors,
    content_key,
    load_scheduler_state,
    load_tensors,
    load_verified,
    run_key,
    run_path,
    save_tensors,
    scheduler_state,
    tensors_checksum,
)


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
    second, meta2 = cached_tensors(path, build, metadata={"note": "x"})
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
    with pytest.warns(UserWarning, match="entry.safetensors.*regenerating"):
        again, _ = cached_tensors(path, build)
    assert len(calls) == 2
    assert torch.equal(again["images"], good["images"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_verified(path) is not None  # the rewritten file is sound


def test_a_copied_entry_of_another_spec_is_rebuilt(tmp_path):
    """Copying another valid entry over a dataset file must not pass: the stored spec is compared."""
    build, calls = _build_counter()
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"

    def zeros():
        return {"images": torch.zeros(1, 3, 4, 4, dtype=torch.uint8), "labels": torch.tensor([0])}

    cached_tensors(a, build, metadata={"domain": "a", "seed": "0"})
    cached_tensors(b, zeros, metadata={"domain": "b", "seed": "0"})
    b.write_bytes(a.read_bytes())
    with pytest.warns(UserWarning, match=r"b\.safetensors.*another spec"):
        t, meta = cached_tensors(b, zeros, metadata={"domain": "b", "seed": "0"})
    assert meta["domain"] == "b" and int(t["images"].sum()) == 0


# --- The run cache ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cfg:
    lr: float
    tasks: tuple


def test_run_is_computed_once_then_loaded(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"acc": 0.5, "per_task": [1, 2]}

    cfg = Cfg(0.1, ("a", "b"))
    assert cached_run("demo", cfg, compute, root=tmp_path) == {"acc": 0.5, "per_task": [1, 2]}
    assert cached_run("demo", cfg, compute, root=tmp_path) == {"acc": 0.5, "per_task": [1, 2]}
    assert len(calls) == 1
    record = json.loads(run_path("demo", cfg, tmp_path).read_text())
    assert record["config"] == {"lr": 0.1, "tasks": ["a", "b"]} and record["kind"] == "demo"
    cached_run("demo", cfg, compute, root=tmp_path, force=True)
    assert len(calls) == 2


def test_identity_depends_on_config_and_kind():
    assert run_key("a", {"x": 1}) != run_key("a", {"x": 2})
    assert run_key("a", {"x": 1}) != run_key("b", {"x": 1})
    assert run_key("a", {"x": 1}) != run_key("a", {"x": 1}, code_version="other")
    assert run_key("a", Cfg(1.0, (1,))) == run_key("a", {"lr": 1.0, "tasks": [1]})


def test_run_keys_do_not_change():
    """Moving code must not invalidate the run cache: keys hash (kind, config, code version) only."""
    before_the_move = "5a444b0de9e2a9af"  # paperlib.runs.run_key of the same run before the store existed
    assert run_key("finetune", {"task": "textures", "seed": 0}, code_version="0.1.0") == before_the_move


def _damage(path, how):
    raw = path.read_bytes()
    if how == "half written":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "bad byte":
        i = raw.index(b'"result"')
        path.write_bytes(raw[:i] + b"\xff" + raw[i + 1:])
    elif how == "flipped digit":
        assert b"10.0" in raw
        path.write_bytes(raw.replace(b"10.0", b"90.0"))
    elif how == "wrong shape":
        path.write_text("[1, 2, 3]")
    elif how == "no checksum":
        rec = json.loads(raw)
        del rec["sha256"]
        path.write_text(json.dumps(rec))
    elif how == "another run's record":
        path.write_bytes(run_path("demo", {"x": 2}, path.parents[1]).read_bytes())


@pytest.mark.parametrize("how", ["half written", "bad byte", "flipped digit", "wrong shape", "no checksum",
                                 "another run's record"])
def test_a_damaged_result_is_recomputed_with_a_warning_naming_the_file(tmp_path, how):
    cached_run("demo", {"x": 2}, lambda: {"acc": 20.0}, root=tmp_path)
    cached_run("demo", {"x": 1}, lambda: {"acc": 10.0}, root=tmp_path)
    path = run_path("demo", {"x": 1}, tmp_path)
    _damage(path, how)
    with pytest.warns(UserWarning, match=path.name):
        assert cached_run("demo", {"x": 1}, lambda: {"acc": 10.0}, root=tmp_path) == {"acc": 10.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cached_run("demo", {"x": 1}, lambda: {"acc": -1.0}, root=tmp_path) == {"acc": 10.0}


def test_a_run_with_a_damaged_or_missing_artifact_is_recomputed(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        save_tensors({"w": torch.arange(4.0)}, artifact_path("demo", {"x": 1}, "model", tmp_path))
        return {"n": len(calls)}

    cached_run("demo", {"x": 1}, compute, root=tmp_path, artifacts=("model",))
    path = artifact_path("demo", {"x": 1}, "model", tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="model.safetensors"):
        assert cached_run("demo", {"x": 1}, compute, root=tmp_path, artifacts=("model",)) == {"n": 2}
    path.unlink()
    with pytest.warns(UserWarning, match="missing"):
        assert cached_run("demo", {"x": 1}, compute, root=tmp_path, artifacts=("model",)) == {"n": 3}
    assert torch.equal(load_tensors(path)["w"], torch.arange(4.0))


def test_non_plain_config_is_refused(tmp_path):
    with pytest.raises(TypeError, match="plain values"):
        cached_run("demo", {"model": object()}, lambda: 1, root=tmp_path)


def test_load_tensors_names_the_damaged_file(tmp_path):
    path = tmp_path / "tau.safetensors"
    save_tensors({"a": torch.ones(3)}, path)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.warns(UserWarning, match="tau.safetensors"), pytest.raises(FileNotFoundError, match="tau.safetensors"):
        load_tensors(path)


# --- Checkpoints -----------------------------------------------------------------------------------

def test_checkpoint_round_trip_and_damage(tmp_path):
    ckpt = Checkpoint("demo", {"x": 1}, root=tmp_path)
    assert ckpt.load() is None
    ckpt.save({"w": torch.ones(2)}, {"step": 3, "history": [1.0, 0.5]})
    tensors, state = ckpt.load()
    assert torch.equal(tensors["w"], torch.ones(2)) and state == {"step": 3, "history": [1.0, 0.5]}
    ckpt.state_path.write_text(ckpt.state_path.read_text().replace('"step": 3', '"step": 4'))
    with pytest.warns(UserWarning, match="ckpt.json"):
        assert ckpt.load() is None
    other = Checkpoint("demo", {"x": 2}, root=tmp_path)
    ckpt.save({"w": torch.ones(2)}, {"step": 3})
    other.state_path.write_bytes(ckpt.state_path.read_bytes())
    other.tensors_path.write_bytes(ckpt.tensors_path.read_bytes())
    with pytest.warns(UserWarning, match="another config"):
        assert other.load() is None
    ckpt.clear()
    assert not ckpt.state_path.exists() and not ckpt.tensors_path.exists()


def test_orphaned_temporary_files_are_removed(tmp_path):
    ckpt = Checkpoint("demo", {"x": 1}, root=tmp_path)
    ckpt.save({"w": torch.ones(2)}, {"step": 1})
    orphan = ckpt.tensors_path.with_name(f".{ckpt.tensors_path.name}.abc123.tmp")
    orphan.write_bytes(b"x" * 1000)
    assert ckpt.load() is not None and not orphan.exists()
    orphan.write_bytes(b"x")
    ckpt.clear()
    assert not orphan.exists()


def test_scheduler_state_survives_json():
    """MultiStepLR's milestones are a Counter with int keys; through plain JSON they became strings
    and the schedule never decayed again after a resume."""
    def make():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        return opt, torch.optim.lr_scheduler.MultiStepLR(opt, [2, 4], gamma=0.1)

    opt, sched = make()
    opt.step()
    sched.step()
    saved = json.loads(json.dumps(scheduler_state(sched)))
    opt2, sched2 = make()
    load_scheduler_state(sched2, saved)
    for _ in range(4):
        opt.step()
        opt2.step()
        sched.step()
        sched2.step()
        assert opt2.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.01)


def test_records_of_before_the_checksum_are_adopted_only_when_explicitly_asked(tmp_path):
    from paperlib.store import adopt_unchecksummed_records
    good = run_path("demo", {"x": 1}, tmp_path)
    good.parent.mkdir(parents=True)
    good.write_text(json.dumps({"kind": "demo", "config": {"x": 1}, "code_version": "0.1.0", "result": 5}))
    moved = run_path("demo", {"x": 2}, tmp_path)  # a record under another run's name
    moved.write_text(json.dumps({"kind": "demo", "config": {"x": 1}, "code_version": "0.1.0", "result": 6}))
    with pytest.warns(UserWarning, match="checksummed"):
        assert cached_run("demo", {"x": 1}, lambda: 7, root=tmp_path, force=False) == 7  # not trusted on read
    good.write_text(json.dumps({"kind": "demo", "config": {"x": 1}, "code_version": "0.1.0", "result": 5}))
    assert adopt_unchecksummed_records(tmp_path) == {"adopted": 1, "checksummed": 0, "skipped": 1}
    assert cached_run("demo", {"x": 1}, lambda: 7, root=tmp_path) == 5
