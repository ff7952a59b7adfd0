"""Gradient surgery (ch1 Secs. 3.2, 3.3, 5.4): PCGrad, projection and sign-agreement calibration."""

import pytest
import torch
from torch import nn

from paperlib import surgery as S


def test_projection_c1_makes_a_conflicting_gradient_orthogonal():
    g = torch.tensor([1.0, -2.0, 0.5])
    v = torch.tensor([-1.0, 1.0, 2.0])  # g·v = -2 < 0: conflict
    out = S.ProjectionCalibrator([v], 1.0)(g)
    assert float(out @ v) == pytest.approx(0.0, abs=1e-6)
    torch.testing.assert_close(out, g - (-2.0 / 6.0) * v)
    half = S.ProjectionCalibrator([v], 0.5)(g)
    torch.testing.assert_close(half, g - 0.5 * (-2.0 / 6.0) * v)
    assert float(half @ v) == pytest.approx(-1.0)


def test_projection_leaves_agreeing_gradients_and_c0_alone():
    g = torch.tensor([1.0, 2.0, 0.0])
    v = torch.tensor([1.0, 0.0, 3.0])  # g·v = 1 > 0
    assert torch.equal(S.ProjectionCalibrator([v], 1.0)(g), g)
    conflicting = torch.tensor([-1.0, 0.0, 0.0])
    assert torch.equal(S.ProjectionCalibrator([v], 0.0)(conflicting), conflicting)


def test_projection_applies_references_in_turn_and_skips_zero_norms():
    g = torch.tensor([1.0, 1.0])
    v1, v2 = torch.tensor([-1.0, 0.0]), torch.tensor([-1.0, -1.0])
    # against v1: g -> (0, 1); then (0, 1)·v2 = -1 < 0 -> (0, 1) - (-1/2)(-1, -1) = (-0.5, 0.5)
    out = S.ProjectionCalibrator([v1, torch.zeros(2), v2], 1.0)(g)
    torch.testing.assert_close(out, torch.tensor([-0.5, 0.5]))
    assert torch.isfinite(S.ProjectionCalibrator([torch.zeros(2)], 1.0)(g)).all()
    assert torch.equal(S.ProjectionCalibrator([], 1.0)(g), g)


def test_task_vectors_are_updates_so_the_reference_is_their_negative():
    names = ["a", "b"]
    tau = {"a": torch.tensor([1.0]), "b": torch.tensor([0.0, 1.0])}  # the other task moved +a, +b
    cal = S.ProjectionCalibrator.from_task_vectors([tau], names, 1.0)
    agree = torch.tensor([-1.0, 0.0, -1.0])  # update -g = (+1, 0, +1) goes the same way as tau
    assert torch.equal(cal(agree), agree)
    against = torch.tensor([1.0, 0.0, 0.0])  # update (-1, 0, 0) undoes tau's first component
    out = cal(against)
    assert float(out @ S.flatten(tau, names)) == pytest.approx(0.0)


def test_pcgrad_two_conflicting_gradients_by_hand():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])  # g1·g2 = -1
    # g1' = g1 - (-1/2) g2 = (0.5, 0.5); g2' = g2 - (-1/1) g1 = (0, 1); sum (0.5, 1.5)
    torch.testing.assert_close(S.pcgrad([g1, g2]), torch.tensor([0.5, 1.5]))
    agreeing = torch.tensor([1.0, 1.0])  # g1·agreeing = 1 > 0: nothing to project
    torch.testing.assert_close(S.pcgrad(torch.stack([g1, agreeing])), g1 + agreeing)


def test_pcgrad_without_conflicts_is_the_plain_sum_and_one_gradient_is_itself():
    g = torch.tensor([[1.0, 0.2, 0.0], [0.5, 1.0, 0.1], [0.1, 0.3, 1.0]])
    torch.testing.assert_close(S.pcgrad(g, generator=torch.Generator().manual_seed(3)), g.sum(0))
    torch.testing.assert_close(S.pcgrad(g[:1]), g[0])


def test_sign_calibration_scales_exactly_the_disagreeing_components():
    g = torch.tensor([1.0, -1.0, 2.0, -2.0, 3.0, 0.0])
    r1 = torch.tensor([1.0, 1.0, -1.0, 0.0, 0.0, -1.0])
    r2 = torch.tensor([1.0, 0.0, 0.0, 0.0, -2.0, 1.0])
    out = S.SignCalibrator([r1, r2], 0.5)(g)
    # component 0 agrees with both; 1 disagrees with r1; 2 with r1; 3 has no signed reference; 4 with r2; 5 is zero
    torch.testing.assert_close(out, torch.tensor([1.0, -0.5, 1.0, -2.0, 1.5, 0.0]))
    assert torch.equal(S.SignCalibrator([r1, r2], 1.0)(g)[[1, 2, 4]], torch.zeros(3))
    assert torch.equal(S.SignCalibrator([r1, r2], 0.0)(g), g)
    assert torch.equal(S.SignCalibrator([], 0.5)(g), g)


def test_flat_gradients_round_trip_through_parameters():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model(torch.randn(4, 3)).sum().backward()
    params = list(model.parameters())
    vec = S.gradient_vector(params)
    assert vec.numel() == sum(p.numel() for p in params)
    S.set_gradient_vector(params, 2 * vec)
    torch.testing.assert_close(S.gradient_vector(params), 2 * vec)
    with pytest.raises(ValueError, match="entries"):
        S.set_gradient_vector(params, vec[:-1])


@pytest.mark.parametrize("c", [-0.1, 1.5, "0.5", True, float("nan")])
def test_bad_strength_raises(c):
    with pytest.raises(ValueError, match="calibration strength"):
        S.ProjectionCalibrator([torch.ones(2)], c)


def test_unknown_method_and_missing_names_raise():
    with pytest.raises(ValueError, match="unknown calibration method 'agr'"):
        S.make_calibrator("agr", [torch.ones(2)], 0.5)
    with pytest.raises(KeyError, match="'b'"):
        S.flatten({"a": torch.ones(1)}, ["a", "b"])


def test_flat_gradients_receive_backward_in_place_and_calibrate_in_place():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    params = list(model.parameters())
    flat = S.FlatGradients(params)
    x = torch.randn(5, 3)
    for _ in range(2):  # accumulation into the views survives zero_() and a second backward
        flat.zero_()
        model(x).pow(2).sum().backward()
        flat.check()
    reference = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    reference.load_state_dict(model.state_dict())
    reference(x).pow(2).sum().backward()
    torch.testing.assert_close(flat.vector, S.gradient_vector(list(reference.parameters())))
    v = -flat.vector.clone() + 0.1 * torch.randn_like(flat.vector)  # conflicts with the gradient
    expected = S.ProjectionCalibrator([v], 1.0)(flat.vector)
    S.ProjectionCalibrator([v], 1.0).apply_(flat.vector)
    torch.testing.assert_close(flat.vector, expected)
    assert float(flat.vector @ v) == pytest.approx(0.0, abs=1e-4)
    torch.testing.assert_close(S.gradient_vector(params), expected)  # the .grad views changed with it
    model.zero_grad(set_to_none=True)
    with pytest.raises(RuntimeError, match="no longer a view"):
        flat.check()


def test_sign_apply_in_place_matches_call():
    g = torch.tensor([1.0, -1.0, 2.0, 0.0])
    cal = S.SignCalibrator([torch.tensor([-1.0, -1.0, 0.0, 1.0])], 0.25)
    expected = cal(g)
    torch.testing.assert_close(expected, torch.tensor([0.75, -1.0, 2.0, 0.0]))
    assert torch.equal(cal.apply_(g), expected) and torch.equal(g, expected)


def test_projection_through_the_gram_matrix_equals_projecting_in_turn():
    g0 = torch.Generator().manual_seed(0)
    for _ in range(5):
        refs = torch.randn(3, 50, generator=g0, dtype=torch.float64)
        g = torch.randn(50, generator=g0, dtype=torch.float64)
        expected, conflicts = g.clone(), 0
        for v in refs:  # the paper's Gram-Schmidt, one reference after another
            dot = float(expected @ v)
            if dot < 0:
                expected -= 0.7 * dot / float(v @ v) * v
                conflicts += 1
        cal = S.ProjectionCalibrator(refs, 0.7)
        torch.testing.assert_close(cal(g), expected)
        assert cal.conflict_rate() == pytest.approx(conflicts / 3)


def test_sign_conflict_rate_counts_scaled_components():
    cal = S.SignCalibrator([torch.tensor([1.0, -1.0, 1.0, -1.0])], 0.5)
    cal(torch.tensor([1.0, 1.0, -1.0, -1.0]))  # components 1 and 2 disagree
    assert cal.conflict_rate() == pytest.approx(0.5)
