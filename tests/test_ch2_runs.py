"""Chapter 2's runs and its pretrained ResNet: the recipe resumes bit-identically after a kill, the shipped file is
verified, every conv and ViT method trains and reports what it adds, runs resume to the same result."""

import dataclasses
import json

import pytest
import torch
from killing import orphans, run_until_killed
from safetensors.torch import load_file

from paperlib import ftn, ftn_counts
from paperlib import ftn_train as T
from paperlib import resnet_foundation as rf
from paperlib.config import cache_dir

TINY = dict(steps=6, batch_size=8, warmup=2, n_per_class=2, val_per_class=1, checkpoint_every=2)


def _pretrain(out, **kw):
    cfg = dict(TINY)
    every = cfg.pop("checkpoint_every")
    return rf.pretrain(rf.ResNetFoundationConfig(width=0.25, **cfg), out, progress=False, checkpoint_every=every, **kw)


def test_a_killed_pretraining_resumes_bit_identically(tmp_path):
    full = _pretrain(tmp_path / "full")
    run_until_killed(f"""
from test_ch2_runs import _pretrain
_pretrain({str(tmp_path / "resumed")!r})
""", kill_at=2)  # killed writing the step-4 checkpoint
    assert orphans(cache_dir() / "runs" / "resnet_foundation")
    resumed = _pretrain(tmp_path / "resumed")
    assert not orphans(cache_dir() / "runs" / "resnet_foundation")
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in full["history"]]
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_shipped_resnet_loads_verified_and_a_damaged_copy_is_a_clear_error(tmp_path):
    trunk, config = rf.load()
    assert config["source_domains"] == list(rf.SOURCE_DOMAINS) and not trunk.training
    share = [100 * r * ftn_counts.cp_per_rank(trunk) / ftn_counts.conv_weights(trunk) for r in (1, 16)]
    assert 0.5 < share[0] < 1.0 and 10 < share[1] < 13  # the paper's span of ranks, as a share of the trunk
    assert (rf.SHIPPED_DIR / "model.safetensors").stat().st_size < 20e6
    metrics = json.loads((rf.SHIPPED_DIR / "metrics.json").read_text())
    assert metrics["source_val_accuracy"] > 50
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((rf.SHIPPED_DIR / name).read_bytes())
    data = bytearray((tmp_path / "model.safetensors").read_bytes())
    data[-9] ^= 0xFF
    (tmp_path / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"), pytest.warns(UserWarning):
        rf.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="foundation-resnet"):
        rf.load(tmp_path / "nowhere")


def test_source_domains_are_none_of_chapter_2s_targets():
    from paperlib.data.standins import benchmark
    targets = {d for b in ("ch2_domainnet", "ch2_imagenet_to_sketch") for d in benchmark(b, "embedded")}
    assert len(benchmark("ch2_domainnet", "embedded")) == 6 and not targets & set(rf.SOURCE_DOMAINS)


def _small_trunk():
    torch.manual_seed(0)
    from paperlib.models.resnet_cifar import ResNetTrunk
    return ResNetTrunk(20, 0.25, norm="batch", act="relu").eval()


def _splits():
    return T.load_splits("printed_digits", "smoke", 16, 6, 3, 4)


@pytest.mark.parametrize("method,rank", [("fe", 0), ("fc_bn", 0), ("ftn", 2), ("ft", 0)])
def test_every_conv_method_trains_and_counts_what_it_adds(method, rank):
    trunk = _small_trunk()
    before = {k: v.clone() for k, v in trunk.state_dict().items()}
    run = T.ConvRun("printed_digits", method, rank, profile="smoke", protocol=T.CONV_PROTOCOLS["smoke"])
    result, artifacts = T.compute_conv(run, _splits(), trunk)
    assert all(torch.equal(v, trunk.state_dict()[k]) for k, v in before.items())  # the pretrained trunk untouched
    head = trunk.out_features * 10 + 10
    bn, cp = ftn_counts.bn_affine(trunk), ftn_counts.cp_per_rank(trunk)
    expected = {"fe": head, "fc_bn": head + bn, "ftn": head + bn + rank * cp,
                "ft": sum(p.numel() for p in trunk.parameters()) + head}[method]
    assert result["parameters"] == expected and 0 <= result["acc"] <= 100 and len(result["loss"]) >= 1
    assert ("delta_norms" in result) == (method == "ftn")
    assert artifacts["task"]


def test_an_interrupted_conv_run_resumes_to_the_same_result():
    run = T.ConvRun("printed_digits", "ftn", 1, seed=3, profile="smoke", protocol=T.CONV_PROTOCOLS["smoke"])
    reference, ref_tensors = T.compute_conv(run, _splits(), _small_trunk())
    assert T.compute_conv(run, _splits(), _small_trunk(), stop_after=2)[0] == {"stopped": 2}
    resumed, tensors = T.compute_conv(run, _splits(), _small_trunk())
    assert resumed["acc"] == reference["acc"] and resumed["loss"] == reference["loss"]
    assert all(torch.equal(tensors["task"][k], ref_tensors["task"][k]) for k in ref_tensors["task"])


def test_run_validation():
    with pytest.raises(ValueError, match="rank"):
        T.ConvRun("printed_digits", "ftn", 0)
    with pytest.raises(ValueError, match="rank"):
        T.ConvRun("printed_digits", "fc_bn", 2)
    with pytest.raises(ValueError, match="method"):
        T.ConvRun("printed_digits", "lora", 0)
    with pytest.raises(ValueError, match="one learning rate per method"):
        dataclasses.replace(T.CONV_PROTOCOLS["smoke"], lr=(("ftn", 0.1),))
    with pytest.raises(ValueError, match="alpha"):
        T.ViTRun("shapes", "ftn_o", alpha=0)


@pytest.fixture(scope="module")
def clip():
    from paperlib.models.clip import load_clip
    bundle = load_clip("smoke")
    data = T.load_splits("shapes", "smoke", 32, 5, 3, 4)
    from paperlib.data import get_dataset
    ds = get_dataset("shapes", "test", "smoke")
    return bundle, data, bundle.head(ds.classnames, ds.templates).weight


@pytest.mark.parametrize("method", T.VIT_METHODS)
def test_every_vit_method_trains_and_counts_its_adapters(clip, method):
    bundle, data, head = clip
    run = T.ViTRun("shapes", method, profile="smoke", protocol=T.VIT_PROTOCOLS["smoke"])
    result, artifacts = T.compute_vit(run, data, bundle, head)
    dims = ftn_counts.vit_dims(bundle.model.visual)
    expected = {"linear_probe": 0, "ft": sum(p.numel() for p in bundle.model.visual.parameters())}.get(
        method) if method in ("linear_probe", "ft") else ftn_counts.attention_formula(method, dims["L"],
                                                                                       dims["d_model"], dims["n"], 4)
    assert result["adapter"] == expected and result["head"] == head.numel()
    assert 0 <= result["acc"] <= 100 and artifacts["trained"]
    # the shipped model's encoder is untouched by the run (adapters are added to a copy)
    assert not any(isinstance(m, ftn.AttentionDelta) for m in bundle.model.modules())


def test_paper_runs_stream_real_format_files_accumulate_and_take_steps_from_epochs(tmp_path):
    """The paper profile's path on tiny files in DomainNet's and CIFAR-10's real formats: data streamed through a
    DataLoader with TAPS's transforms, gradient accumulation, steps from epochs, the ViT on open_clip's transform."""
    from test_real_datasets import make_cifar10, make_domainnet

    from paperlib.models.clip import load_clip
    make_domainnet(tmp_path)
    make_cifar10(tmp_path)
    splits = T.load_paper_splits("DomainNet:clipart", str(tmp_path), image_size=32, workers=0)
    assert splits.n_classes == 3 and len(splits.train) + len(splits.val) == 12 and len(splits.test) == 3
    proto = dataclasses.replace(T.CONV_PROTOCOLS["paper"], epochs=None, steps=2, batch_size=4, image_size=32)
    assert proto.accumulate == 8
    proto = dataclasses.replace(proto, accumulate=2)
    assert T.steps_of(dataclasses.replace(proto, epochs=3), splits) == 3 * (len(splits.train) // 8)
    for method, rank in (("fe", 0), ("ftn", 1)):
        run = T.ConvRun("DomainNet:clipart", method, rank, profile="paper", protocol=proto, weights="test")
        result, artifacts = T.compute_conv(run, splits, _small_trunk())
        assert result["steps"] == 2 and len(result["loss"]) == 1 and result["n_test"] == 3 and artifacts["task"]
    bundle = load_clip("smoke")
    vit = T.load_vit_paper_splits("CIFAR10", str(tmp_path), bundle, workers=0)
    x, _ = vit.train[0]
    assert x.shape == (3, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
    vproto = dataclasses.replace(T.VIT_PROTOCOLS["paper"], epochs=None, steps=2, batch_size=4)
    head = bundle.head(vit.train.classnames, vit.train.templates).weight
    result, _ = T.compute_vit(T.ViTRun("CIFAR10", "ftn_o", profile="paper", protocol=vproto), vit, bundle, head)
    assert result["steps"] == 2 and result["adapter"] > 0
