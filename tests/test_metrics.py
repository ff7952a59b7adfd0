import math
from collections import Counter

import numpy as np
import pytest
import torch

from paperlib.metrics import (
    DISENTANGLEMENT_GRID,
    accuracy,
    disentanglement_error,
    kl_divergence,
    normalized_accuracies,
    normalized_accuracy,
    prediction_disagreement,
)


def test_accuracy_on_logits_and_predictions():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 1])
    assert accuracy(logits, labels) == 75.0
    assert accuracy(torch.tensor([1, 1, 0, 1]), labels) == 50.0
    with pytest.raises(ValueError, match="3 predictions but 4 labels"):
        accuracy(logits[:3], labels)
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_normalized_accuracy_eq5():
    multi, single = {"a": 45.0, "b": 80.0}, {"a": 90.0, "b": 80.0}
    assert normalized_accuracies(multi, single) == {"a": 50.0, "b": 100.0}
    assert normalized_accuracy(multi, single) == 75.0
    with pytest.raises(ValueError, match="'c'"):
        normalized_accuracy(multi, {**single, "c": 1.0})
    with pytest.raises(ValueError, match="at least one"):
        normalized_accuracy({}, {})
    with pytest.raises(ValueError, match="'a': 0"):
        normalized_accuracy(multi, {"a": 0.0, "b": 80.0})


def test_prediction_disagreement():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 5.0]])
    b = torch.tensor([[0.0, 1.0], [0.0, 2.0], [3.0, 1.0], [1.0, 0.0]])
    assert prediction_disagreement(a, b) == 0.5 and prediction_disagreement(a, a) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        prediction_disagreement(a, b[:2])


def test_kl_divergence():
    x = torch.randn(5, 7)
    assert kl_divergence(x, x) == 0.0 and kl_divergence(x, x + 3.0) == pytest.approx(0.0, abs=1e-12)
    # p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ ln 2 + ½ ln(2/3) = ½ ln(4/3)
    p, q = torch.tensor([[0.0, 0.0]], dtype=torch.float64), torch.tensor([[0.0, math.log(3.0)]], dtype=torch.float64)
    assert kl_divergence(p, q) == pytest.approx(0.5 * math.log(4 / 3), rel=1e-12)
    # mean over inputs; the second input contributes 0
    assert kl_divergence(torch.cat([p, p]), torch.cat([q, p])) == pytest.approx(0.25 * math.log(4 / 3), rel=1e-12)
    assert kl_divergence(q, p) != pytest.approx(kl_divergence(p, q))  # not symmetric


def test_disentanglement_grid_is_appendix_a():
    assert len(DISENTANGLEMENT_GRID) == 15 and DISENTANGLEMENT_GRID[0] == -2.0 and DISENTANGLEMENT_GRID[-1] == 2.0
    assert DISENTANGLEMENT_GRID[7] == 0.0
    np.testing.assert_allclose(np.diff(DISENTANGLEMENT_GRID), 4 / 14)


def mean_abs(a, b) -> float:
    return float((a - b).abs().mean())


def test_disentangled_outputs_give_zero():
    x = [torch.randn(4, 3), torch.randn(4, 3)]
    u = [torch.randn(3), torch.randn(3)]

    def outputs(c, t):  # task t's inputs only see task t's coefficient
        return x[t] + c[t] * u[t]

    xi = disentanglement_error(outputs, kl_divergence, DISENTANGLEMENT_GRID)
    assert xi.shape == (15, 15) and np.all(xi == 0.0)


def test_linear_interference_has_closed_form():
    # Proposition 1 with Σ_{t≠i} τ_t^T x ≠ 0: f = base + c1 u + c2 v on both tasks'
    # inputs, so ξ(α1, α2) = |α2| mean|v| + |α1| mean|u|.
    base, u, v = torch.zeros(2, 4), torch.tensor([1.0, -1.0, 0.0, 2.0]), torch.tensor([0.5, 0.5, 0.5, 0.5])
    grid = [-1.0, 0.0, 0.5, 2.0]
    calls = Counter()

    def outputs(c, t):
        calls[c, t] += 1
        return base + c[0] * u + c[1] * v

    xi = disentanglement_error(outputs, mean_abs, grid)
    expected = np.array([[abs(a2) * 0.5 + abs(a1) * 1.0 for a2 in grid] for a1 in grid])
    np.testing.assert_allclose(xi, expected, rtol=1e-6)
    assert max(calls.values()) == 1  # every (coefficients, task) computed once
    assert all(calls[(a, 0.0), 0] == 1 and calls[(0.0, a), 1] == 1 for a in grid)
    assert len(calls) == 2 * len(grid) ** 2


def test_disentanglement_error_on_predictions():
    # one input per task; task 0 flips class when α2 > 0, task 1 never flips: ξ = 1(α2 > 0)
    def outputs(c, t):
        return torch.tensor([[1.0, 0.0]]) if t == 1 or c[1] <= 0 else torch.tensor([[0.0, 1.0]])

    xi = disentanglement_error(outputs, prediction_disagreement, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(xi, [[0, 0, 1]] * 3)


def test_bad_disentanglement_grid():
    with pytest.raises(ValueError, match="non-empty"):
        disentanglement_error(lambda c, t: torch.zeros(1, 1), mean_abs, [])
    with pytest.raises(ValueError, match="nan"):
        disentanglement_error(lambda c, t: torch.zeros(1, 1), mean_abs, [0.0, math.nan])


# --- ch4: transfer, interference, CKA ---------------------------------------------------------------

def test_transfer_scores_on_a_hand_built_example():
    from paperlib.metrics import transfer_scores
    # 10 samples; the single-domain model gets the first 6 right. The multi-domain model keeps 4 of
    # them (k = 4) and newly solves 3 of the other 4 (k' = 3).
    single = torch.tensor([True] * 6 + [False] * 4)
    multi = torch.tensor([True, True, True, True, False, False, True, True, True, False])
    s = transfer_scores(single, multi)
    assert (s.k, s.k_prime, s.n_correct, s.n) == (4, 3, 6, 10)
    assert s.perf_gain == pytest.approx(100 * (4 + 3 - 6) / 10)  # +10: accuracy 70% vs 60%
    assert s.interference == pytest.approx(100 * 2 / 6)
    assert s.transfer == pytest.approx(100 * 3 / 4)
    every = transfer_scores(torch.ones(3, dtype=torch.bool), torch.tensor([True, False, True]))
    assert math.isnan(every.transfer) and every.interference == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match="boolean"):
        transfer_scores(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="same non-empty"):
        transfer_scores(torch.ones(3, dtype=torch.bool), torch.ones(2, dtype=torch.bool))


def test_correct_from_logits():
    from paperlib.metrics import correct
    logits = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert correct(logits, torch.tensor([1, 1, 1])).tolist() == [True, False, True]


def test_linear_cka_reference_values_and_invariances():
    from paperlib.metrics import linear_cka
    np.random.seed(1337)
    X = np.random.randn(100, 10)
    Y = np.random.randn(100, 10) + X
    assert linear_cka(X, Y) == pytest.approx(0.55761, abs=1e-5)  # Kornblith et al.'s published values
    assert linear_cka(X, Y, debiased=True) == pytest.approx(0.51346, abs=1e-5)
    q, _ = np.linalg.qr(np.random.randn(10, 10))
    assert linear_cka(X @ q, 3.0 * Y) == pytest.approx(linear_cka(X, Y))  # orthogonal + isotropic scaling
    assert linear_cka(X, X) == pytest.approx(1.0)
    assert linear_cka(torch.tensor(X), torch.tensor(Y)) == pytest.approx(linear_cka(X, Y))
    with pytest.raises(ValueError, match="same samples"):
        linear_cka(X, Y[:50])
    with pytest.raises(ValueError, match="constant"):
        linear_cka(np.ones((5, 2)), Y[:5])


def test_paired_ttest():
    from scipy import stats

    from paperlib.metrics import paired_ttest
    a, b = [1.0, 2.0, 3.5, 4.0], [0.5, 1.0, 3.0, 3.0]
    t, p = paired_ttest(a, b)
    assert (t, p) == pytest.approx((stats.ttest_rel(a, b).statistic, stats.ttest_rel(a, b).pvalue))
    with pytest.raises(ValueError, match="equally long"):
        paired_ttest([1.0, 2.0], [1.0])
