"""Fine-tuning runs trained together (paperlib.batched) are the runs trained one by one."""

from __future__ import annotations

import pytest
import torch
from killing import orphans, run_until_killed

from paperlib import batched
from paperlib import finetune as ft
from paperlib.models.clip import load_clip
from paperlib.store import run_path


@pytest.fixture(scope="module")
def bundle():
    return load_clip("smoke")


def cfg(task, seed, **kw):
    return ft.FinetuneConfig(**{"task": task, "seed": seed, "profile": "smoke", "iterations": 3, "lr": 3e-3, **kw})


@pytest.mark.parametrize("paradigm", ["non_linear", "linear_only"])
def test_runs_trained_together_equal_runs_trained_alone(bundle, paradigm):
    """Same task vectors (to float rounding) and losses as serial fine-tuning, for runs that differ in
    task, number of classes and seed; gradient clipping acts per run (the lr makes it clip)."""
    cfgs = [cfg("textures", 0, paradigm=paradigm, grad_clip=0.05).resolved(),
            cfg("land_cover", 3, paradigm=paradigm, grad_clip=0.05).resolved()]
    thetas, histories, _, _ = batched.train_together(cfgs, bundle, progress=False)
    for c, theta, history in zip(cfgs, thetas, histories):
        alone = ft.finetune(c, bundle, progress=False)
        tau = alone.task_vector().to_tensors()
        theta0 = dict(bundle.image_encoder().named_parameters())
        got = torch.cat([(theta[n] - theta0[n].detach()).flatten() for n in tau])
        want = torch.cat([t.flatten() for t in tau.values()])
        # float rounding only (measured ~5e-5): Adam's first steps move each element by about ±lr whatever the size
        # of its gradient, so single elements whose gradient is ~0 can differ more than the whole vector does
        assert (got - want).norm() <= 1e-3 * want.norm()
        assert history == pytest.approx(alone.result["loss"], rel=1e-4)


def test_finetune_many_caches_what_finetune_loads(bundle):
    cfgs = [cfg("textures", 7), cfg("land_cover", 7), cfg("textures", 7, paradigm="linearized")]
    runs = batched.finetune_many(cfgs, bundle, progress=False)
    assert [r.config.task for r in runs] == ["textures", "land_cover", "textures"]
    assert runs[0].result["trained_together"] == 2 and "trained_together" not in runs[2].result
    again = ft.finetune(cfgs[1], bundle, progress=False)  # loads the batched run from the cache
    assert again.result == runs[1].result


def test_runs_that_cannot_train_together_are_refused(bundle):
    with pytest.raises(ValueError, match="share everything but task and seed"):
        batched.train_together([cfg("textures", 0).resolved(), cfg("textures", 0, lr=1e-3).resolved()], bundle)
    with pytest.raises(ValueError, match="'linearized' does not train batched"):
        batched.train_together([cfg("textures", 0, paradigm="linearized").resolved()], bundle)


def test_a_killed_group_resumes_to_the_same_result(bundle):
    """A real SIGKILL while writing the group's second checkpoint (step 4 of 6): the group resumes
    from step 2 and ends where an uninterrupted group ends."""
    cfgs = [cfg("textures", 21, paradigm="linear_only", iterations=6), cfg("land_cover", 21, paradigm="linear_only",
                                                                           iterations=6)]
    full = batched.finetune_many(cfgs, bundle, progress=False)
    for c in cfgs:
        run_path("finetune", ft._identity(c.resolved(), bundle)).unlink()
    run_until_killed("""
from paperlib import batched
from paperlib import finetune as ft
from paperlib.models.clip import load_clip
cfgs = [ft.FinetuneConfig(task=t, seed=21, profile="smoke", paradigm="linear_only", iterations=6, lr=3e-3)
        for t in ("textures", "land_cover")]
batched.finetune_many(cfgs, load_clip("smoke"), progress=False)
""", kill_at=2)
    folder = run_path("finetune", ft._identity(cfgs[0].resolved(), bundle)).parent.parent  # every kind's runs
    assert orphans(folder)
    resumed = batched.finetune_many(cfgs, bundle, progress=False)
    assert not orphans(folder)
    for a, b in zip(full, resumed):
        assert b.result["steps_resumed_from"] == 2
        assert b.result["loss"] == a.result["loss"]
        assert (a.task_vector() - b.task_vector()).norm() == 0


def test_training_units_group_what_can_train_together_costliest_first(bundle):
    cfgs = [cfg(t, s).resolved() for s in range(5) for t in ("textures", "land_cover")]  # 10 non-linear runs
    cfgs += [cfg("textures", s, paradigm="linearized").resolved() for s in range(2)]
    cfgs += [cfg("textures", s, paradigm="linear_only").resolved() for s in range(3)]
    units = batched.training_units(cfgs + cfgs[:2], bundle, together=4)  # a repeated run counts once
    sizes = [(u[0].paradigm, len(u)) for u in units]
    assert sorted(sizes) == sorted([("non_linear", 4), ("non_linear", 3), ("non_linear", 3), ("linearized", 1),
                                    ("linearized", 1), ("linear_only", 3)])
    assert sizes[:3] == [("non_linear", 4), ("non_linear", 3), ("non_linear", 3)]  # costliest first
    assert set(c for u in units for c in u) == set(cfgs) and sum(map(len, units)) == len(cfgs)
    # enough units for the workers to share a group; cached runs are not trained again
    assert [len(u) for u in batched.training_units(cfgs[:4], bundle, together=16, parts=2)] == [2, 2]
    batched.finetune_many(cfgs[:2], bundle, progress=False)
    assert set(c for u in batched.training_units(cfgs, bundle, together=4) for c in u) == set(cfgs[2:])


def test_paper_runs_train_alone_and_together_is_validated(bundle, monkeypatch):
    """The paper protocol trains every run alone (``Protocol.together`` = 1: vmap over ViT-B/32 copies was 8x
    slower than plain steps in the rehearsal and multiplies memory); other profiles still group, and a bad
    ``together`` is named."""
    assert ft.PROTOCOLS["paper"].together == 1 and ft.PROTOCOLS["smoke"].together > 1
    cfgs = [cfg(t, s, lr=2e-3).resolved() for s in (7, 8) for t in ("textures", "land_cover")]  # runs no test trains
    assert sorted(map(len, batched.training_units(cfgs, bundle))) == [4]  # the profile's default groups them
    monkeypatch.setitem(ft.PROTOCOLS, "smoke", ft.PROTOCOLS["paper"])
    assert [len(u) for u in batched.training_units(cfgs, bundle)] == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="together=0 is not allowed"):
        batched.training_units(cfgs, bundle, together=0)
