"""Chapter 3 (paperlib.smooth, paperlib.search, paperlib.chapters.ch3_smooth_transfer): Eq. (4) and its limits,
the two-head loss of Eq. (3), BN statistics, the budgets and N grids of A.1/A.2, the search in resumable
rounds, and the chapter's parameters."""

from __future__ import annotations

import inspect
import math
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from validation import assert_rejected

from paperlib import smooth
from paperlib.chapters.ch3_smooth_transfer import PARAMS, Ch3Config
from paperlib.models.norm import DomainBatchNorm2d
from paperlib.reference import CH3_TABLE1, CH3_TEXT
from paperlib.search import SearchSpace, best_replacements, best_so_far, completed, search_rounds, sqlite_url
from paperlib.smooth import Schedule, schedule_weight

# --- Eq. (4) and its limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("t0, tau, alpha", [(0.0, 10.0, 0.0), (-120.0, 3.0, 1.5), (250.0, 0.5, -4.0)])
def test_eq4_is_one_half_at_the_switch_with_slope_one_over_four_tau(t0, tau, alpha):
    total = 1000
    mid = total / 2 + t0 + alpha * tau
    assert schedule_weight(mid, total, t0, tau, alpha) == pytest.approx(0.5, abs=1e-12)
    h = 1e-4
    lam = [schedule_weight(mid + d, total, t0, tau, alpha) for d in (-h, h)]
    slope = (lam[1] - lam[0]) / (2 * h)
    assert slope == pytest.approx(1 / (4 * tau), rel=1e-6)
    t = np.linspace(0, total, 2001)
    assert np.gradient(schedule_weight(t, total, t0, tau, alpha), t).max() <= 1 / (4 * tau) + 1e-9
    # the paper's form, [1 + exp(−(t − T/2 − t₀)/τ + α)]^(−1)
    for t in (mid - 3 * tau, mid + 2 * tau):
        assert schedule_weight(t, total, t0, tau, alpha) == pytest.approx(
            1 / (1 + math.exp(-(t - total / 2 - t0) / tau + alpha)))


def test_eq4_limits_are_the_step_and_the_constant_without_overflow():
    total, t0, alpha = 1000, 100.0, 2.0
    t = np.arange(1, total + 1)
    with np.errstate(all="raise"):  # no overflow warning at τ = 1e-9 or τ = 1e12
        step = schedule_weight(t, total, t0, 1e-9, alpha)
        flat = schedule_weight(t, total, t0, 1e12, alpha)
    away = t != total / 2 + t0  # at the switch itself the limit is σ(−α), not part of Eq. (5)
    assert np.array_equal(step[away], smooth.step_limit(t, total, t0)[away])  # Eq. (5): 0 before T/2 + t₀, 1 after
    assert step[598] == 0.0 and step[600] == 1.0 and step[599] == pytest.approx(smooth.constant_limit(alpha))
    assert np.abs(flat - smooth.constant_limit(alpha)).max() < 1e-9  # Eq. (6): σ(−α)
    assert smooth.constant_limit(0.0) == 0.5 and smooth.constant_limit(alpha) == pytest.approx(1 / (1 + math.e ** 2))
    with pytest.raises(ValueError, match="tau=0"):
        schedule_weight(1, total, 0.0, 0, 0.0)


def test_schedules_are_relative_to_t():
    s = Schedule("smooth", t0=0.25, tau=1e-6, alpha=0.0)
    for total in (40, 400):
        w = s.weights(total)
        assert len(w) == total and w[int(0.75 * total) - 2] == 0.0 and w[int(0.75 * total)] == 1.0
    assert (Schedule("constant", weight=0.3).weights(5) == 0.3).all()
    for bad in (dict(kind="smooth", tau=0.0), dict(kind="constant", weight=1.5), dict(kind="linear"),
                dict(kind="smooth", t0=math.inf)):
        with pytest.raises(ValueError):
            Schedule(**bad)


# --- Eq. (3) ------------------------------------------------------------------------------------------------

def test_eq3_reduces_to_one_dataset_and_the_unused_head_gets_no_gradient():
    torch.manual_seed(0)
    trunk = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8))
    trunk.out_features = 8
    net = smooth.TwoHeadNet(trunk, 3, 5)
    xt, xs = torch.randn(4, 12), torch.randn(4, 12)
    yt, ys = torch.tensor([0, 1, 2, 0]), torch.tensor([4, 3, 2, 1])
    for weight, used, unused in ((1.0, 0, 1), (0.0, 1, 0)):
        net.zero_grad()
        lt, ls = net.heads[0](net.trunk(xt)), net.heads[1](net.trunk(xs))
        loss = smooth.two_head_loss(lt, yt, ls, ys, weight)
        expected = F.cross_entropy(lt, yt) if weight == 1.0 else F.cross_entropy(ls, ys)
        assert torch.equal(loss, expected)
        loss.backward()
        assert all(torch.count_nonzero(p.grad) == 0 for p in net.heads[unused].parameters())
        assert all(torch.count_nonzero(p.grad) > 0 for p in net.heads[used].parameters())
    with torch.no_grad():
        lt, ls = net.heads[0](net.trunk(xt)), net.heads[1](net.trunk(xs))
        assert smooth.two_head_loss(lt, yt, ls, ys, 0.3).item() == pytest.approx(
            (0.3 * F.cross_entropy(lt, yt) + 0.7 * F.cross_entropy(ls, ys)).item())


# --- BN treatments ----------------------------------------------------------------------------------------

def _net(domains: int) -> smooth.TwoHeadNet:
    torch.manual_seed(0)
    proto = smooth.STLProtocol(arch="wrn", width=1, dropout=0.0, bn="specific" if domains == 2 else "shared")
    return smooth.TwoHeadNet(proto.trunk(domains), 10, 10)


def test_shared_and_specific_bn_differ_and_each_datasets_statistics_see_only_its_data():
    torch.manual_seed(1)
    xt, xs = torch.randn(8, 3, 16, 16), torch.randn(8, 3, 16, 16) * 3 + 2
    shared, specific = _net(1), _net(2)
    weights = {k: v for k, v in shared.state_dict().items() if "running" not in k and "num_batches" not in k}
    specific.load_state_dict(weights, strict=False)  # the same weights; only the statistics differ
    lt_shared, _ = shared.joint_logits(xt, xs, "shared")
    lt_specific, _ = specific.joint_logits(xt, xs, "specific")
    assert not torch.allclose(lt_shared, lt_specific)  # joint vs per-dataset batch moments
    first = next(m for m in specific.trunk.modules() if isinstance(m, DomainBatchNorm2d))
    assert first.running_mean.shape[0] == 2
    source_stats = first.running_mean[1].clone()
    specific.logits(xt * 7, smooth.TARGET)  # a target-only forward leaves the source statistics alone
    assert torch.equal(first.running_mean[1], source_stats)
    target_stats = first.running_mean[0].clone()
    specific.joint_logits(xt, xs * 5, "specific")
    moved = first.running_mean[0].clone()
    specific.logits(xs * 9, smooth.SOURCE)  # a source-only forward leaves the target statistics alone
    assert torch.equal(first.running_mean[0], moved) and not torch.equal(moved, target_stats)
    # evaluation uses the target's own statistics: a target batch in eval mode does not depend on the source's
    specific.eval()
    out = specific.logits(xt, smooth.TARGET)
    with torch.no_grad():
        first.running_mean[1].add_(100.0)
    assert torch.equal(specific.logits(xt, smooth.TARGET), out)


# --- budgets and N grids (A.1/A.2, derived in the spec) -----------------------------------------------------

def test_joint_budgets_are_pretraining_plus_finetuning_on_the_whole_target():
    assert smooth.joint_epochs(200, 45_000, 50_000) == 380
    assert smooth.joint_epochs(160, 65_931, 60_000) == pytest.approx(335.8, abs=0.05)
    assert round(smooth.joint_epochs(160, 65_931, 60_000)) == CH3_TEXT["joint_epochs"]["digits"] == 336
    assert 380 * smooth.steps_per_epoch(50_000, 128) == 148_580
    assert 336 * smooth.steps_per_epoch(60_000, 128) == 157_584


def test_n_grids_are_the_papers():
    assert smooth.n_grid(45_000, 6, 10) == tuple(CH3_TABLE1["objects"])
    assert smooth.n_grid(65_931, 6) == tuple(CH3_TABLE1["digits"])
    with pytest.raises(ValueError):
        smooth.n_grid(0, 3)


def test_subsets_are_nested_and_seeded():
    subsets = smooth.nested_subsets(500, [500, 158, 50, 16], seed=3)
    sets = {n: set(s.tolist()) for n, s in subsets.items()}
    assert [len(sets[n]) for n in (500, 158, 50, 16)] == [500, 158, 50, 16]
    assert sets[16] < sets[50] < sets[158] < sets[500]
    assert all(torch.equal(a, b) for a, b in zip(subsets.values(), smooth.nested_subsets(500, [500, 158, 50, 16], 3)
                                                  .values()))
    with pytest.raises(ValueError, match=r"target sizes \[600\]"):
        smooth.nested_subsets(500, [600])


def test_learning_rate_warms_up_linearly_then_anneals_to_the_final_rate():
    total, peak, final = 400, 0.1, 1e-3
    lrs = [smooth.learning_rate(t, total, peak, final) for t in range(1, total + 1)]
    assert lrs[:10] == pytest.approx([peak * t / 10 for t in range(1, 11)])  # 2.5 % of 400 = 10 steps
    assert lrs[10] == pytest.approx(peak) and lrs[-1] == pytest.approx(final)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))


# --- the search -------------------------------------------------------------------------------------------

def _toy(omegas):
    return [-(w["t0"] - 0.1) ** 2 - (math.log10(w["tau"]) + 1) ** 2 - 0.01 * w["alpha"] ** 2 for w in omegas]


def _trials(study):
    return [(t.number, t.user_attrs["round"], t.params, t.value) for t in completed(study)]


def test_a_search_resumed_between_rounds_ends_with_the_same_trials(tmp_path):
    space = SearchSpace()
    whole = search_rounds("s", sqlite_url(tmp_path / "a.sqlite3"), _toy, space=space, per_round=2, rounds=4)
    url = sqlite_url(tmp_path / "b.sqlite3")
    search_rounds("s", url, _toy, space=space, per_round=2, rounds=2)
    resumed = search_rounds("s", url, _toy, space=space, per_round=2, rounds=4)
    assert _trials(resumed) == _trials(whole) and len(_trials(whole)) == 8
    assert [r for _, r, _, _ in _trials(whole)] == [0, 0, 1, 1, 2, 2, 3, 3]
    again = search_rounds("s", url, _toy, space=space, per_round=2, rounds=4)  # finished: nothing new
    assert _trials(again) == _trials(whole)


def test_a_search_killed_in_the_middle_of_a_round_resumes_with_the_same_trials(tmp_path):
    space = SearchSpace()
    whole = search_rounds("s", sqlite_url(tmp_path / "a.sqlite3"), _toy, space=space, per_round=3, rounds=3)
    url = sqlite_url(tmp_path / "b.sqlite3")
    code = f"""
import math, os, signal
from paperlib.search import SearchSpace, search_rounds
{inspect.getsource(_toy)}
calls = [0]
def evaluate(omegas):
    calls[0] += 1
    if calls[0] == 3:  # round 2's trials are asked and stored, then the process dies before telling them
        os.kill(os.getpid(), signal.SIGKILL)
    return _toy(omegas)
search_rounds("s", {url!r}, evaluate, space=SearchSpace(), per_round=3, rounds=3)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    resumed = search_rounds("s", url, _toy, space=space, per_round=3, rounds=3)
    assert _trials(resumed) == _trials(whole)


def test_search_bookkeeping():
    assert best_so_far([1, 3, 2, 5]) == [1, 3, 3, 5]
    assert best_replacements([1, 3, 2, 5, 5]) == 2 and best_replacements([4]) == 0
    with pytest.raises(ValueError, match="tau"):
        SearchSpace(tau=(0.0, 1.0))
    with pytest.raises(ValueError, match="t0"):
        SearchSpace(t0=(0.5, -0.5))


# --- the chapter's parameters -----------------------------------------------------------------------------

def test_defaults_per_profile():
    c = Ch3Config.from_params(profile="embedded")
    assert c.pairs == ("digits",) and c.sizes["digits"] == (300, 95, 30) and c.search["digits"] == (3, 3)
    assert len(c.seeds) >= 2 and c.bn_ablation and c.space == SearchSpace()
    s = Ch3Config.from_params(profile="smoke", sizes=[13, 40])
    assert s.sizes["digits"] == (40, 13) and s.search["digits"] == (2, 2)
    assert Ch3Config.from_params(profile="smoke", per_round=5, rounds=7).search["digits"] == (5, 7)
    assert CH3_TEXT["tpe_rounds"] == {"objects": (11, 9), "digits": (9, 11)}


@pytest.mark.parametrize("given, names", [
    (dict(pairs=["cifar"]), ["pairs", "'cifar' is unknown", "digits"]),
    (dict(sizes=[10_000]), ["sizes", "10000", "300 target training images"]),
    (dict(per_round=0), ["per_round=0", "below the range"]),
    (dict(rounds=0), ["rounds=0", "below the range"]),
    (dict(tau_range=[0.0, 1.0]), ["tau_range", "log domain"]),
    (dict(t0_range=[0.5, -0.5]), ["t0_range", "low < high"]),
    (dict(alpha_range=[1.0]), ["alpha_range", "at least 2 items"]),
    (dict(alpha_range=[-1.0, 0.0, 1.0]), ["alpha_range", "two numbers"]),
    (dict(multitask_weight=1.5), ["multitask_weight=1.5", "above the range"]),
    (dict(executor="localhost:8786"), ["executor='localhost:8786'", "not a Dask scheduler address"]),
    (dict(executor="tcp://127.0.0.1:1"), ["executor='tcp://127.0.0.1:1'", "no Dask scheduler answers"]),
    (dict(seed=[0]), ["'seed' (did you mean 'seeds'?)"]),
])
def test_bad_parameters_name_themselves_before_any_work(given, names):
    assert_rejected(Ch3Config, PARAMS, dict(profile="embedded", **given), names)


def test_a_size_larger_than_the_pool_says_the_pool():
    with pytest.raises(ValueError, match=r"sizes=\[301\]: N = \[301\] larger than the 300 target training images"):
        Ch3Config.from_params(profile="embedded", sizes=[301])


def test_paper_pairs_load_from_files_in_the_real_formats(tmp_path):
    """The paper profile's loading on a few images per dataset in the official formats (CIFAR pickles,
    MNIST idx, SVHN .mat; tests/test_real_datasets.py writes them): 32×32 RGB uint8 everywhere (MNIST
    resized and repeated to three channels), the target's training set split into pool and validation,
    the source's whole training set."""
    from test_real_datasets import make_cifar10, make_cifar100, make_mnist, make_svhn

    from paperlib.chapters.ch3_smooth_transfer import PROTOCOLS
    for make in (make_cifar10, make_cifar100, make_mnist, make_svhn):
        make(tmp_path)
    digits = smooth.load_pair("digits", "paper", PROTOCOLS["paper"]["digits"], str(tmp_path), target_val=4)
    objects = smooth.load_pair("objects", "paper", PROTOCOLS["paper"]["objects"], str(tmp_path), target_val=2)
    for d in (digits, objects):
        for x in (d.target_x, d.val_x, d.test_x, d.source_x):
            assert x.dtype == torch.uint8 and tuple(x.shape[1:]) == (3, 32, 32)
    assert (len(digits.target_y), len(digits.val_y), len(digits.test_y), len(digits.source_y)) == (16, 4, 3, 30)
    assert (len(objects.target_y), len(objects.val_y), len(objects.test_y), len(objects.source_y)) == (18, 2, 6, 40)
    assert (digits.n_target_classes, digits.n_source_classes) == (10, 10)
    assert (objects.n_target_classes, objects.n_source_classes) == (10, 100)
    assert torch.equal(digits.source_x[:, 0], digits.source_x[:, 1])  # grey MNIST repeated to RGB
