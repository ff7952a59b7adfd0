"""Chapter 4's training protocol (paperlib.mdl): schedules, run specs, probe set, mixed batches, resuming."""

import pytest
import torch
from killing import orphans, run_until_killed

from paperlib import mdl
from paperlib.mdl import PROTOCOLS, DomainData, MDLProtocol, RunSpec, bits, probe_indices, unbits
from paperlib.store import Checkpoint


def test_schedules_are_the_papers_and_scale_with_the_same_shape():
    paper = PROTOCOLS["paper"]
    assert (paper.lr, paper.momentum, paper.weight_decay, paper.batch_size) == (0.1, 0.9, 1e-4, 128)
    assert paper.schedule(1) == (250, (140, 210))
    assert paper.schedule(2) == paper.schedule(3) == (300, (150, 250))
    small = MDLProtocol(single_epochs=5)
    assert small.schedule(1) == (5, (3, 4)) and small.schedule(2) == (6, (3, 5))
    assert MDLProtocol(single_epochs=1).schedule(2) == (1, (1, 1))


@pytest.mark.parametrize("kwargs, match", [
    (dict(single_epochs=0), "single_epochs=0"), (dict(lr=0.0), "lr=0.0"), (dict(momentum=1.0), "momentum=1.0"),
    (dict(batch_size=1), "batch_size=1"), (dict(train_per_class=0), "train_per_class=0"),
    (dict(weight_decay=-1e-4), "weight_decay")])
def test_protocol_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MDLProtocol(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(weighting="gradnorm"), "unknown loss weighting 'gradnorm'"),
    (dict(width=0.3), "width=0.3"),
    (dict(width=0.0625), "divisible"),
    (dict(domains=("a",), weighting="cov"), "needs 2 or more domains"),
    (dict(domains=("a", "a")), "distinct"),
    (dict(domains=()), "distinct"),
    (dict(depth=18), "ResNet depth"),
    (dict(profile="huge"), "unknown profile 'huge'")])
def test_run_spec_rejects_bad_values(kwargs, match):
    args = dict(domains=("a", "b"), width=0.25, weighting="uniform", seed=0, protocol=PROTOCOLS["smoke"],
                profile="smoke")
    with pytest.raises(ValueError, match=match):
        RunSpec(**{**args, **kwargs})


def test_probe_takes_the_first_images_of_each_class():
    labels = torch.tensor([1, 0, 1, 0, 2, 2, 1])
    assert probe_indices(labels, 3, 2).tolist() == [1, 3, 0, 2, 4, 5]
    with pytest.raises(ValueError, match=r"classes \[0, 2\]"):
        probe_indices(labels, 3, 3)


def test_bits_round_trip():
    mask = torch.tensor([True, False, False, True])
    assert bits(mask) == "1001" and torch.equal(unbits("1001"), mask)


def _domain(name, n_classes=3, n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % n_classes
    x = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=g)
    x[:, 0] = (y * 80).to(torch.uint8).view(-1, 1, 1)  # learnable: the red channel encodes the class
    return DomainData(name, n_classes, x, y, x[:12].clone(), y[:12].clone(), probe_indices(y[:12], n_classes, 2))


def _spec(**kw):
    proto = MDLProtocol(single_epochs=2, lr=0.05, batch_size=8, image_size=8)
    return RunSpec(**{**dict(domains=("a", "b"), width=0.25, weighting="cov", seed=3, protocol=proto,
                             profile="smoke"), **kw})


def test_mixed_batches_hold_both_domains():
    order = mdl._epoch_order(48, 3, 0)
    domain = (order >= 24).long()  # the first 24 pooled images are domain a's
    batches = domain[:48 // 8 * 8].view(-1, 8)
    assert ((batches == 0).any(1) & (batches == 1).any(1)).any()
    assert not torch.equal(mdl._epoch_order(48, 3, 0), mdl._epoch_order(48, 3, 1))


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    data = [_domain("a"), _domain("b", seed=1)]
    spec = _spec()
    full, hist = mdl.train(spec, data)
    ckpt = Checkpoint(spec.kind, spec.config(), root=tmp_path)
    mdl.train(spec, data, checkpoint=ckpt, stop_after_epoch=1)
    assert ckpt.load() is not None and ckpt.load()[1]["epoch"] == 1
    resumed, hist2 = mdl.train(spec, data, checkpoint=ckpt)
    for (k, v), w in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(v, w, atol=1e-6), k
    assert torch.allclose(torch.tensor(hist2["loss"]), torch.tensor(hist["loss"]), atol=1e-5)
    assert len(hist["weights"]) == spec.protocol.schedule(2)[0]
    assert hist["lr"] == pytest.approx([0.05, 0.005])  # 2 joint epochs, ×0.1 after the first


def test_run_caches_scores_features_and_weights():
    data = {"a": _domain("a"), "b": _domain("b", seed=1)}
    probe = mdl.probe_images([data["a"], data["b"]])
    single = _spec(domains=("a",), weighting="uniform")
    r = mdl.run(single, data, probe=probe)
    assert set(r["domains"]) == {"a"} and len(r["domains"]["a"]["correct"]) == 12
    assert r["domains"]["a"]["acc"] == pytest.approx(100 * unbits(r["domains"]["a"]["correct"]).double().mean().item())
    assert mdl.probe_features(single).shape == (len(probe), 16)
    assert mdl.run(single, data, probe=probe) == r  # cached
    joint = mdl.run(_spec(), data)
    assert set(joint["domains"]) == {"a", "b"} and len(joint["history"]["weights"][0]) == 2
    with pytest.raises(ValueError, match="probe"):
        mdl.run(_spec(domains=("b",), weighting="uniform"), data)
    with pytest.raises(ValueError, match=r"data for \['a'\]"):
        mdl.train(_spec(), [data["a"]])


def test_paper_domains_load_as_uint8_tensors(tmp_path, monkeypatch):
    from test_real_datasets import make_cifar100, make_miniplaces  # small files in the real formats

    make_miniplaces(tmp_path)
    make_cifar100(tmp_path)
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path / "cache"))
    proto = MDLProtocol(probe_per_class=1)
    d = mdl.load_domain("MiniPlaces", "paper", proto, str(tmp_path))
    assert d.train_x.dtype == torch.uint8 and d.train_x.shape == (18, 3, 32, 32) and len(d.test_y) == 4
    assert d.n_classes == 3 and sorted(d.test_y[d.probe].tolist()) == [0, 1, 2]
    again = mdl.load_domain("MiniPlaces", "paper", proto, str(tmp_path))  # from the decoded cache
    assert torch.equal(again.train_x, d.train_x)
    # CIFAR-100 trains on all 50,000 official training images (here 40): train + held-out val
    assert len(mdl._paper_tensors("CIFAR100", "train", proto, str(tmp_path))["labels"]) == 40
    with pytest.raises(ValueError, match="probe set needs 1 test images of every class"):
        mdl.load_domain("CIFAR100", "paper", proto, str(tmp_path))  # the 5 test images miss most classes
    with pytest.raises(FileNotFoundError, match="tiny-imagenet-200"):
        mdl.load_domain("TinyImageNet100", "paper", proto, str(tmp_path))


def test_a_killed_run_resumes_bit_identically_with_decays_after_the_kill(tmp_path):
    """A real SIGKILL during a checkpoint write, with both lr decays *after* the interruption: the
    resumed run must decay on schedule (JSON once turned MultiStepLR's int milestones into strings,
    so a resumed run never decayed again) and end with the uninterrupted run's weights."""
    spec = _spec(protocol=MDLProtocol(single_epochs=4, lr=0.05, batch_size=8, image_size=8))
    epochs, milestones = spec.protocol.schedule(2)
    assert (epochs, milestones) == (5, (2, 4))
    data = [_domain("a"), _domain("b", seed=1)]
    full, hist = mdl.train(spec, data)
    run_until_killed(f"""
from test_mdl import _domain, _spec
from paperlib import mdl
from paperlib.mdl import MDLProtocol
from paperlib.store import Checkpoint
from killing import orphans, run_until_killed
spec = _spec(protocol=MDLProtocol(single_epochs=4, lr=0.05, batch_size=8, image_size=8))
ckpt = Checkpoint(spec.kind, spec.config(), root={str(tmp_path)!r})
mdl.train(spec, [_domain("a"), _domain("b", seed=1)], checkpoint=ckpt, checkpoint_seconds=0)
""", kill_at=2)  # killed while writing the checkpoint after epoch 2: the one after epoch 1 stands
    assert orphans(tmp_path)
    ckpt = Checkpoint(spec.kind, spec.config(), root=tmp_path)
    assert ckpt.load()[1]["epoch"] == 1 and not orphans(tmp_path)
    resumed, hist2 = mdl.train(spec, data, checkpoint=ckpt)
    assert hist2["lr"] == hist["lr"] == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005])
    assert hist2["loss"] == hist["loss"]
    for (k, v), w in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(v, w), k
