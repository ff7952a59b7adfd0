"""Fine-tuning runs (paperlib.finetune), the CLIP task layer (paperlib.clip_tasks) and edited-model evaluation
(paperlib.arithmetic), smoke-sized."""

import dataclasses

import pytest
import torch
from killing import orphans, run_until_killed

from paperlib import clip_tasks as ct
from paperlib import finetune as ft
from paperlib.arithmetic import EditedEncoder, evaluate, task_addition
from paperlib.models.clip import load_clip
from paperlib.store import Checkpoint, run_path

TASK = "textures"


@pytest.fixture(scope="module")
def bundle():
    return load_clip("smoke")


def cfg(**kw):
    return ft.FinetuneConfig(**{"task": TASK, "profile": "smoke", "iterations": 3, **kw})


def test_cosine_lr_warms_up_then_decays():
    lrs = [ft.cosine_lr(s, 1.0, 2, 10) for s in range(10)]
    assert lrs[:2] == [0.5, 1.0]
    assert lrs[2] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[2:], lrs[3:]))


@pytest.mark.parametrize("kw, match", [
    (dict(paradigm="sideways"), "paradigm"), (dict(lr=2.0), "lr"), (dict(iterations=0), "iterations"),
    (dict(task="MNIST"), "paper dataset"), (dict(profile="laptop"), "profile"), (dict(grad_clip=0.0), "grad_clip")])
def test_bad_configs_fail_before_training(bundle, kw, match):
    with pytest.raises(ValueError, match=match):
        ft.finetune(dataclasses.replace(cfg(), **kw), bundle, progress=False)


def test_protocol_defaults():
    paper = ft.FinetuneConfig(task="MNIST", profile="paper").resolved()
    assert (paper.iterations, paper.lr, paper.batch_size, paper.warmup, paper.weight_decay, paper.grad_clip) == \
        (2000, 1e-5, 128, 200, 0.1, 1.0)


@pytest.mark.parametrize("paradigm", ["non_linear", "linearized", "linear_only"])
def test_run_learns_caches_and_stores_its_task_vector(bundle, paradigm):
    run = ft.finetune(cfg(paradigm=paradigm, iterations=6, lr=3e-3), bundle, progress=False)
    tau = run.task_vector()
    enc, names = ct.build_encoder(bundle, paradigm)
    assert sorted(tau.names) == sorted(names) and tau.norm() > 0
    if paradigm == "linear_only":
        assert all(n.endswith(("in_proj_weight", "out_proj.weight")) for n in tau.names)
    assert run.result["trained_parameters"] == sum(v.numel() for _, v in tau.items())
    assert 0 <= run.test_accuracy <= 100
    again = ft.finetune(cfg(paradigm=paradigm, iterations=6, lr=3e-3), bundle, progress=False)
    assert again.result == run.result  # loaded from the run cache


def test_interrupted_run_resumes_to_the_same_result(bundle, monkeypatch):
    """A run killed after its checkpoint resumes from it and ends where an uninterrupted run ends."""
    c = cfg(paradigm="non_linear", iterations=4, seed=7)
    full = ft.finetune(c, bundle, progress=False)
    ident = ft._identity(c.resolved(), bundle)
    run_path("finetune", ident).unlink()  # forget the result, keep nothing else

    calls = {"n": 0}
    real = torch.nn.utils.clip_grad_norm_

    def dying(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # after the checkpoint at step 2 (smoke protocol: every 2 steps)
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", dying)
    with pytest.raises(KeyboardInterrupt):
        ft.finetune(c, bundle, progress=False)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", real)
    assert Checkpoint("finetune", ident).load() is not None
    resumed = ft.finetune(c, bundle, progress=False)
    assert resumed.result["steps_resumed_from"] == 2
    assert resumed.result["loss"] == pytest.approx(full.result["loss"], rel=1e-5)
    a, b = full.task_vector(), resumed.task_vector()
    assert (a - b).norm() <= 1e-5 * a.norm()
    assert Checkpoint("finetune", ident).load() is None  # cleared once finished


def test_edited_encoder_linearized_shortcut_is_exact(bundle):
    """θ0 + Σ c_t τ_t through the affine shortcut equals the linearized model evaluated at that θ."""
    runs = {t: ft.finetune(ft.FinetuneConfig(task=t, paradigm="linearized", profile="smoke", iterations=3, lr=3e-3),
                           bundle, progress=False) for t in ("textures", "land_cover")}
    vectors = {t: r.task_vector() for t, r in runs.items()}
    edited = EditedEncoder(bundle, "linearized", vectors)
    x = torch.rand(5, 3, 32, 32)
    got = edited.features({"textures": 0.7, "land_cover": -1.3}, x, "x")
    direct, _ = ct.build_encoder(bundle, "linearized")
    theta0 = {k: v.clone() for k, v in ct.encoder_state(direct).items()}  # live views otherwise
    ct.load_encoder_state(direct, (0.7 * vectors["textures"] + (-1.3) * vectors["land_cover"]).apply(theta0))
    torch.testing.assert_close(got, ct.features(direct, x), rtol=1e-4, atol=1e-5)
    shared = edited.features({"textures": 0.4, "land_cover": 0.4}, x, "x")  # one group: J(τ1 + τ2)
    ct.load_encoder_state(direct, (0.4 * (vectors["textures"] + vectors["land_cover"])).apply(theta0))
    torch.testing.assert_close(shared, ct.features(direct, x), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(edited.features({}, x, "x"), ct.features(ct.build_encoder(bundle, "non_linear")[0], x),
                               rtol=1e-4, atol=1e-5)
    once = EditedEncoder(bundle, "linearized", vectors, memoise=False)  # one JVP, nothing kept
    torch.testing.assert_close(once.features({"textures": 0.7, "land_cover": -1.3}, x, "x"), got, rtol=1e-4, atol=1e-5)
    assert not once._memo
    edited.set_vectors({"textures": vectors["land_cover"]})  # another edit, same encoder, nothing stale
    ct.load_encoder_state(direct, (0.5 * vectors["land_cover"]).apply(theta0))
    torch.testing.assert_close(edited.features({"textures": 0.5}, x, "x"), ct.features(direct, x), rtol=1e-4, atol=1e-5)


def test_task_addition_reports_test_at_the_val_best_alpha(bundle):
    runs = {t: ft.finetune(ft.FinetuneConfig(task=t, profile="smoke", iterations=3, lr=3e-3), bundle, progress=False)
            for t in ("textures", "land_cover")}
    edited = EditedEncoder(bundle, "non_linear", {t: r.task_vector() for t, r in runs.items()})
    sets = {}
    for t in runs:
        ds = ct.task_data(t, "val", "smoke", bundle)
        x, y = ds.tensors()
        sets[t] = (x, y, bundle.head(ds.classnames, ds.templates), f"val:{t}")
    single = {t: r.val_accuracy for t, r in runs.items()}
    res = task_addition(edited, sets, sets, single, single, grid=(0.0, 0.5, 1.0))
    best = max(res["val_curve"], key=lambda a: (res["val_curve"][a], -float(a)))
    assert res["alpha"] == float(best)
    assert res["test"] == evaluate(edited, {t: res["alpha"] for t in runs}, sets)
    with pytest.raises(ValueError, match="α grid"):
        task_addition(edited, sets, sets, single, single, grid=(-0.5, 1.0))


def test_a_killed_run_resumes_to_the_same_result(bundle):
    """A real SIGKILL while writing the second checkpoint (step 4 of 6): the run resumes from step 2,
    past the orphaned temporary file, and ends exactly where an uninterrupted run ends."""
    c = cfg(paradigm="linear_only", iterations=6, seed=11)
    full = ft.finetune(c, bundle, progress=False)
    ident = ft._identity(c.resolved(), bundle)
    run_path("finetune", ident).unlink()
    run_until_killed(f"""
from paperlib import clip_tasks as ct
from paperlib import finetune as ft
from paperlib.models.clip import load_clip
ft.finetune(ft.FinetuneConfig(task={TASK!r}, profile="smoke", paradigm="linear_only", iterations=6, seed=11),
            load_clip("smoke"), progress=False)
""", kill_at=2)
    folder = run_path("finetune", ident).parent
    assert orphans(folder)
    resumed = ft.finetune(c, bundle, progress=False)
    assert not orphans(folder)
    assert resumed.result["steps_resumed_from"] == 2
    assert resumed.result["loss"] == full.result["loss"]
    assert (full.task_vector() - resumed.task_vector()).norm() == 0


def test_a_corrupt_task_vector_is_recomputed_not_raised(bundle):
    """A damaged task-vector file once logged "regenerating it" and then raised; its run is recomputed."""
    c = cfg(paradigm="linear_only", iterations=2, seed=5)
    run = ft.finetune(c, bundle, progress=False)
    raw = bytearray(run.vector_path.read_bytes())
    raw[-2] ^= 0xFF
    run.vector_path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match=run.vector_path.name):
        again = ft.finetune(c, bundle, progress=False)
    assert again.result["loss"] == run.result["loss"]
    assert (again.task_vector() - run.task_vector()).norm() == 0
