import math

import numpy as np
import pytest
import torch

from paperlib.store import load_tensors, save_tensors
from paperlib.task_vectors import (
    ALPHA_GRID,
    TaskVector,
    check_alpha_grid,
    cosine_matrix,
    search_alpha,
    sum_task_vectors,
)


def tv(w, b) -> TaskVector:
    return TaskVector({"w": torch.tensor(w, dtype=torch.float32), "b": torch.tensor(b, dtype=torch.float32)})


A = tv([[1.0, 2.0], [0.0, 0.0]], [2.0])   # flat (1, 2, 0, 0, 2): ‖A‖ = 3
B = tv([[0.0, 1.0], [2.0, 0.0]], [-2.0])  # flat (0, 1, 2, 0, -2): ‖B‖ = 3, ⟨A, B⟩ = 2 − 4 = −2


def test_alpha_grid_is_appendix_a():
    assert len(ALPHA_GRID) == 21 and ALPHA_GRID[0] == 0.0 and ALPHA_GRID[-1] == 1.0
    assert ALPHA_GRID[3] == 0.15 and all(round(a, 2) == a for a in ALPHA_GRID)


def test_mapping_and_copy_on_construction():
    src = {"w": torch.ones(2, dtype=torch.float64)}
    v = TaskVector(src)
    src["w"][0] = 5.0
    assert v.names == ("w",) and len(v) == 1 and list(v) == ["w"] and "w" in v
    assert v["w"].dtype == torch.float32 and v["w"].tolist() == [1.0, 1.0]
    assert [k for k, _ in v.items()] == ["w"]
    with pytest.raises(ValueError, match="at least one"):
        TaskVector({})
    with pytest.raises(TypeError):
        v["w"] = torch.zeros(2)


def test_algebra():
    assert (A + B)["w"].tolist() == [[1.0, 3.0], [2.0, 0.0]] and (A + B)["b"].tolist() == [0.0]
    assert (A - B)["b"].tolist() == [4.0]
    assert (-A)["w"].tolist() == [[-1.0, -2.0], [-0.0, -0.0]]
    assert (2 * A)["b"].tolist() == [4.0] and (A * 0.5)["w"].tolist() == [[0.5, 1.0], [0.0, 0.0]]
    assert (torch.tensor(3.0) * A)["b"].tolist() == [6.0] and (A * torch.tensor(3.0))["b"].tolist() == [6.0]
    assert (np.float64(2.0) * A)["b"].tolist() == [4.0]
    assert (A / 2)["b"].tolist() == [1.0]
    assert sum([A, B]) == A + B and sum_task_vectors([A, B, A]) == A + B + A
    assert A["b"].tolist() == [2.0]  # operands untouched


def test_dot_norm_cosine():
    assert A.dot(B) == -2.0 and A.norm() == 3.0
    assert A.cosine(B) == pytest.approx(-2 / 9) and A.cosine(2 * A) == pytest.approx(1.0)
    m = cosine_matrix([A, B, -A])
    np.testing.assert_allclose(m, [[1, -2 / 9, -1], [-2 / 9, 1, 2 / 9], [-1, 2 / 9, 1]], atol=1e-12)
    with pytest.raises(ValueError, match="zero"):
        A.cosine(0 * A)


def test_different_names_raise():
    other = TaskVector({"w": torch.zeros(2, 2)})
    for op in (lambda: A + other, lambda: A - other, lambda: A.dot(other), lambda: A.cosine(other)):
        with pytest.raises(ValueError, match="'b'"):
            op()


def test_apply():
    theta0 = {"w": torch.ones(2, 2), "b": torch.zeros(1), "frozen": torch.full((3,), 7.0)}
    edited = A.apply(theta0, alpha=0.5)
    assert edited["w"].tolist() == [[1.5, 2.0], [1.0, 1.0]] and edited["b"].tolist() == [1.0]
    assert edited["frozen"].tolist() == [7.0] * 3 and edited["frozen"] is not theta0["frozen"]
    assert theta0["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    half = {k: v.half() for k, v in theta0.items()}
    assert A.apply(half)["w"].dtype == torch.float16
    with pytest.raises(KeyError, match="'b'"):
        A.apply({"w": torch.ones(2, 2)})
    with pytest.raises(ValueError, match="w"):
        A.apply({"w": torch.ones(4), "b": torch.zeros(1)})


def test_stored_and_loaded_through_the_store(tmp_path):
    """Task vectors are Mappings of tensors: the store keeps them (this module does no file IO)."""
    path = tmp_path / "sub" / "tau.safetensors"
    save_tensors(A, path)
    assert TaskVector(load_tensors(path)) == A
    assert [p.name for p in path.parent.iterdir()] == ["tau.safetensors"]  # no temporary file left


def test_from_states():
    theta0 = {"w": torch.ones(2), "b": torch.zeros(1), "head": torch.zeros(3)}
    theta = {"w": torch.tensor([3.0, 1.0]), "b": torch.tensor([-1.0]), "head": torch.zeros(3)}
    tau = TaskVector.from_states(theta0, theta, ["w", "b"])
    assert tau.names == ("w", "b") and tau["w"].tolist() == [2.0, 0.0] and tau["b"].tolist() == [-1.0]
    assert TaskVector.from_states(theta0, theta).names == ("w", "b", "head")
    assert tau.apply(theta0)["w"].tolist() == theta["w"].tolist()
    with pytest.raises(KeyError, match="missing_one"):
        TaskVector.from_states(theta0, theta, ["w", "missing_one"])
    with pytest.raises(KeyError, match="'head'"):
        TaskVector.from_states({"w": torch.ones(2)}, theta)
    with pytest.raises(ValueError, match="w"):
        TaskVector.from_states({"w": torch.ones(3)}, {"w": torch.ones(2)})


def test_sum_of_nothing_raises():
    with pytest.raises(ValueError, match="at least one"):
        sum_task_vectors([])
    with pytest.raises(ValueError, match="at least one"):
        cosine_matrix([])


def test_search_alpha_picks_the_maximum():
    best, scores = search_alpha(lambda a: -(a - 0.35) ** 2)
    assert best == 0.35 and list(scores) == list(ALPHA_GRID)
    assert scores[0.0] == pytest.approx(-0.1225)


def test_search_alpha_ties_go_to_the_smallest():
    calls = []

    def score(a):
        calls.append(a)
        return min(a, 0.5)  # flat from 0.5 to 1.0

    best, scores = search_alpha(score, [1.0, 0.7, 0.5, 0.2, 0.7])
    assert best == 0.5 and calls == [1.0, 0.7, 0.5, 0.2] and scores[0.2] == 0.2


@pytest.mark.parametrize("grid, bad", [([0.1, -0.5], "-0.5"), ([], "empty"), ([0.2, math.nan], "nan"),
                                       ([math.inf], "inf")])
def test_bad_alpha_grids(grid, bad):
    with pytest.raises(ValueError, match=bad):
        check_alpha_grid(grid)
    with pytest.raises(ValueError, match=bad):
        search_alpha(lambda a: a, grid)


def test_negative_alpha_message():
    with pytest.raises(ValueError, match=r"\[0, ∞\)"):
        check_alpha_grid([-1])
    assert check_alpha_grid(np.array([0, 0.5])) == (0.0, 0.5)


def test_nan_score_raises():
    with pytest.raises(ValueError, match="NaN"):
        search_alpha(lambda a: math.nan, [0.0])
