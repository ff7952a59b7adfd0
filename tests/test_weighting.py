"""Loss weighting (ch4 Sec. 3.2) on hand-computed sequences."""

import math

import pytest
import torch

from paperlib.weighting import CoV, Uncertainty, Uniform, make_weighting


def test_uniform_sums_the_losses():
    w = Uniform(3)
    assert float(w(torch.tensor([1.0, 2.0, 3.5]))) == 6.5
    assert w.weights().tolist() == [1.0, 1.0, 1.0]


def test_uncertainty_loss_and_gradient_by_hand():
    w = Uncertainty(2)
    with torch.no_grad():
        w.epsilon.copy_(torch.tensor([1.0, 2.0]))
    L = torch.tensor([3.0, 8.0])
    total = w(L)
    # 3/1 + 8/4 + log(1 + 1) + log(1 + 4)
    assert float(total) == pytest.approx(3.0 + 2.0 + math.log(2) + math.log(5))
    assert w.weights().tolist() == [1.0, 0.25]
    total.backward()
    # d/dε (L/ε² + log(1 + ε²)) = −2L/ε³ + 2ε/(1 + ε²)
    expected = [-2 * 3.0 / 1 + 2 * 1.0 / 2, -2 * 8.0 / 8 + 2 * 2.0 / 5]
    torch.testing.assert_close(w.epsilon.grad, torch.tensor(expected))
    assert Uncertainty(4).weights().tolist() == [1.0] * 4  # ε starts at 1: Uniform's weights


def test_cov_full_history_sequence_by_hand():
    w = CoV(2)
    steps = [([2.0, 4.0], [1.0, 1.0], 6.0),   # iteration 0: L0 = L, uniform weights (×T = 1 each)
             ([1.0, 2.0], [1.0, 1.0], 3.0),   # iteration 1: still uniform
             ([1.0, 4.0], [1.0, 1.0], 5.0)]   # iteration 2: std/mean of l equal for both tasks (0.25/0.75)
    for L, weights, total in steps:
        assert float(w(torch.tensor(L))) == pytest.approx(total)
        torch.testing.assert_close(w.weights(), torch.tensor(weights))
    # Before iteration 3 (population statistics of l over iterations 0–2): l0 = (1, 0.5, 2/3) with mean
    # 13/18 and variance 0.0432099; l1 = (1, 0.5, 4/3) with mean 17/18 and variance 0.1172840.
    std = torch.tensor([math.sqrt(0.0432099), math.sqrt(0.1172840)])
    ratio = std / torch.tensor([13 / 18, 17 / 18])
    weights = 2 * ratio / ratio.sum()
    total = w(torch.tensor([0.5, 1.0]))
    torch.testing.assert_close(w.weights(), weights, rtol=1e-5, atol=1e-6)
    assert float(total) == pytest.approx(float(weights[0] * 0.5 + weights[1] * 1.0), rel=1e-5)
    assert float(w.mean_loss[0]) == pytest.approx((2 + 1 + 1 + 0.5) / 4)  # the next step's L0: the running mean


def test_cov_weights_apply_to_raw_losses_and_detach_statistics():
    w = CoV(2)
    L = torch.tensor([2.0, 4.0], requires_grad=True)
    w(L).backward()
    assert L.grad.tolist() == [1.0, 1.0]  # the gradient flows only through the raw losses
    state = w.state_dict()
    assert {"iteration", "mean_loss", "mean_ratio", "m2_ratio", "std_ratio"} <= set(state)
    again = CoV(2)
    again.load_state_dict(state)
    assert int(again.iteration) == 1


def test_bad_inputs():
    with pytest.raises(ValueError, match="loss weighting"):
        make_weighting("gradnorm", 2)
    with pytest.raises(ValueError, match="number of tasks"):
        make_weighting("cov", 0)
    with pytest.raises(ValueError, match="vector of 2"):
        Uniform(2)(torch.ones(3))
    with pytest.raises(ValueError, match="initial ε"):
        Uncertainty(2, init=0.0)
    assert isinstance(make_weighting("cov", 3), CoV)
