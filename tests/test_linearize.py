"""Fine-tuning paradigms (paperlib.linearize): the NTK-linearized model of ch5 Eq. (2) and the parameter
selections of Fig. 2 / Table 2 (ch5 Sec. 3)."""

import open_clip
import pytest
import torch
from torch.func import functional_call

from paperlib.linearize import (
    LINEAR_VARIANTS,
    PARADIGMS,
    LinearizedModel,
    check_paradigm,
    forward_ad_safe_attention,
    parameter_counts,
    select_parameters,
)
from paperlib.models.clip import TINY_MODEL, ImageEncoder, create_clip

EXACT = dict(rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """The tiny model's ops are small: on busy cores, intra-op thread syncs dominate (~5x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny() -> ImageEncoder:
    """The repository's tiny open_clip image encoder, random weights, float64."""
    torch.manual_seed(0)
    return ImageEncoder(create_clip(TINY_MODEL, None).visual).double().eval()


@pytest.fixture(scope="module")
def vit_b32() -> torch.nn.Module:
    """open_clip ViT-B/32 image tower, random weights (parameter counts only)."""
    return open_clip.create_model("ViT-B-32", pretrained=None).visual


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def directions(model: torch.nn.Module, seed: int, scale: float = 0.05) -> dict[str, torch.Tensor]:
    """A random parameter perturbation, scaled per tensor."""
    g = torch.Generator().manual_seed(seed)
    return {n: scale * (p.detach().std() if p.numel() > 1 else 1.0) * torch.randn(p.shape, generator=g,
                                                                                  dtype=p.dtype)
            for n, p in model.named_parameters()}


def at(lin: LinearizedModel, delta: dict[str, torch.Tensor] | None, x: torch.Tensor) -> torch.Tensor:
    """f_lin(x; θ0 + delta)."""
    theta0 = lin.pretrained_state()
    lin.load_trainable_state({n: t + delta[n] if delta else t for n, t in theta0.items()})
    return lin(x)


def test_linearized_model_equals_f_at_theta0(tiny, images):
    """ch5 Eq. (2) at θ = θ0: f_lin(x; θ0) = f(x; θ0), in training and eval mode."""
    lin = LinearizedModel(tiny)
    with torch.no_grad():
        expected = tiny(images)
    torch.testing.assert_close(lin(images), expected, **EXACT)
    lin.train()
    torch.testing.assert_close(lin(images).detach(), expected, **EXACT)


def test_linearized_model_is_affine_in_theta(tiny, images):
    """f_lin(θ0 + d) − f_lin(θ0) = J(θ0) d is linear in d (ch5 Eq. (2)): additive and homogeneous."""
    lin = LinearizedModel(tiny)
    d1, d2 = directions(tiny, 1), directions(tiny, 2)
    base = at(lin, None, images)
    j1, j2 = at(lin, d1, images) - base, at(lin, d2, images) - base
    j12 = at(lin, {n: d1[n] + d2[n] for n in d1}, images) - base
    assert j1.abs().max() > 1e-3 and j2.abs().max() > 1e-3  # the perturbations do move the output
    torch.testing.assert_close(j12, j1 + j2, **EXACT)
    torch.testing.assert_close(at(lin, {n: 2 * d1[n] for n in d1}, images) - base, 2 * j1, **EXACT)


def test_jvp_matches_central_finite_differences(tiny, images):
    """J(θ0) d of the linearized model equals (f(θ0 + εd) − f(θ0 − εd)) / 2ε of the network (float64)."""
    lin = LinearizedModel(tiny)
    d = directions(tiny, 3, scale=1.0)
    jd = at(lin, d, images) - at(lin, None, images)
    eps = 1e-5
    theta0 = dict(tiny.named_parameters())
    with torch.no_grad():
        plus = functional_call(tiny, {n: p + eps * d[n] for n, p in theta0.items()}, (images,))
        minus = functional_call(tiny, {n: p - eps * d[n] for n, p in theta0.items()}, (images,))
    torch.testing.assert_close(jd, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_forward_backward_gradient_is_jacobian_transpose_at_theta0(tiny, images):
    """The training gradient is J(θ0)ᵀ ∂L/∂f_lin (Sec. 3): the forward_backward gradient equals the
    dual-graph reference and the plain network's backward at θ0, whatever θ is."""
    g = torch.randn(tiny(images).shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    delta = directions(tiny, 5)
    grads = {}
    for mode in ("forward_backward", "dual_graph"):
        lin = LinearizedModel(tiny, gradient=mode).train()
        out = at(lin, delta, images)
        assert out.requires_grad
        loss = (out * g).sum() + out.square().sum()  # non-linear in the output, so ∂L/∂out depends on θ
        grads[mode] = torch.autograd.grad(loss, list(lin.params.values()))
    for a, b in zip(grads["forward_backward"], grads["dual_graph"]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * float(b.abs().max()))
    # The linear loss (out · g) has gradient J(θ0)ᵀ g for every θ: compare with the network's own backward.
    lin = LinearizedModel(tiny).train()
    (at(lin, delta, images) * g).sum().backward()
    params = dict(tiny.named_parameters())
    reference = torch.autograd.grad((tiny(images) * g).sum(), list(params.values()))
    assert len(lin.params) == len(reference)
    for p, r in zip(lin.params.values(), reference):
        torch.testing.assert_close(p.grad, r, rtol=1e-8, atol=1e-10 * float(r.abs().max()))


def test_no_graph_in_eval_or_no_grad(tiny, images):
    lin = LinearizedModel(tiny)
    at(lin, directions(tiny, 6), images)
    assert not lin.training and not lin(images).requires_grad
    lin.train()
    with torch.no_grad():
        out = lin(images)
    assert not out.requires_grad
    torch.testing.assert_close(lin(images).detach(), out, **EXACT)


def test_state_uses_the_wrapped_model_names(tiny, images):
    lin = LinearizedModel(tiny)
    names = [n for n, _ in tiny.named_parameters()]
    assert list(lin.trainable_state()) == names == list(lin.pretrained_state())
    assert [p.shape for p in lin.parameters()] == [p.shape for p in tiny.parameters()]  # same order
    assert sum(p.numel() for p in lin.parameters()) == sum(p.numel() for p in tiny.parameters())
    assert all(p.requires_grad for p in lin.parameters())
    assert not any(b.requires_grad for b in lin.buffers())
    for n, p in tiny.named_parameters():
        torch.testing.assert_close(lin.pretrained_state()[n], p.detach(), rtol=0, atol=0)
    new = {names[0]: torch.zeros_like(lin.trainable_state()[names[0]])}
    lin.load_trainable_state(new)
    assert lin.trainable_state()[names[0]].abs().max() == 0
    assert lin.pretrained_state()[names[0]].abs().max() > 0  # θ0 is untouched
    with pytest.raises(ValueError, match="no.such"):
        lin.load_trainable_state({"no.such": torch.zeros(1)})
    with pytest.raises(ValueError, match="shape"):
        lin.load_trainable_state({names[0]: torch.zeros(7, 7)})
    restored = LinearizedModel(tiny)
    restored.load_state_dict(lin.state_dict())
    torch.testing.assert_close(restored(images), lin(images), **EXACT)


def test_linear_only_counts_on_vit_b32(vit_b32):
    """Table 2 on ViT-B/32's image tower: variant (1), the paper's W_q, W_k, W_v, W_o, trains 28.3M of 87.8M."""
    counts = {v: parameter_counts(vit_b32, "linear_only", v) for v in LINEAR_VARIANTS}
    selected = {v: c[0] for v, c in counts.items()}
    total = counts[1][1]
    assert (round(selected[1] / 1e6, 1), round(total / 1e6, 1)) == (28.3, 87.8)
    assert selected[1] < selected[2] and selected[3] < selected[4] and selected[1] < selected[3]
    assert parameter_counts(vit_b32, "linear_only") == counts[1]
    for paradigm in ("non_linear", "linearized"):
        assert parameter_counts(vit_b32, paradigm) == (total, total)


def test_linear_only_selects_attention_block_linear_layers(tiny):
    layers = len(tiny.visual.transformer.resblocks)
    expect = {1: ("attn.in_proj_weight", "attn.out_proj.weight"),
              2: ("attn.in_proj_weight", "attn.out_proj.weight", "attn.in_proj_bias", "attn.out_proj.bias"),
              3: ("attn.in_proj_weight", "attn.out_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")}
    expect[4] = expect[3] + ("attn.in_proj_bias", "attn.out_proj.bias", "mlp.c_fc.bias", "mlp.c_proj.bias")
    for v, suffixes in expect.items():
        names = select_parameters(tiny, "linear_only", v)
        assert len(names) == layers * len(suffixes)
        assert all(n.startswith("visual.transformer.resblocks.") and n.endswith(suffixes) for n in names)
    assert select_parameters(tiny, "non_linear") == [n for n, _ in tiny.named_parameters()]


@pytest.mark.parametrize("call, match", [
    (lambda: check_paradigm("sideways"), r"'sideways'.*'non_linear'"),
    (lambda: check_paradigm("linear_only", 5), r"\b5\b.*1, 2, 3, 4"),
    (lambda: check_paradigm("linear_only", True), "True"),
    (lambda: check_paradigm("non_linear", 1), r"variant=1.*'non_linear'"),
    (lambda: check_paradigm("linearized", 2), r"variant=2.*'linearized'"),
    (lambda: LinearizedModel(torch.nn.Linear(2, 2), gradient="reverse"), r"'reverse'.*'forward_backward'"),
    (lambda: select_parameters(torch.nn.Linear(2, 2), "linear_only"), "selected no parameter"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_check_paradigm_defaults():
    assert [check_paradigm(p) for p in PARADIGMS] == [("non_linear", None), ("linearized", None), ("linear_only", 1)]
    assert check_paradigm("linear_only", 3) == ("linear_only", 3)


@pytest.mark.parametrize("before", [True, False])
def test_forward_ad_safe_attention_restores_fastpath(before):
    old = torch.backends.mha.get_fastpath_enabled()
    try:
        torch.backends.mha.set_fastpath_enabled(before)
        with forward_ad_safe_attention():
            assert not torch.backends.mha.get_fastpath_enabled()
        assert torch.backends.mha.get_fastpath_enabled() is before
        with pytest.raises(RuntimeError), forward_ad_safe_attention():
            raise RuntimeError("boom")
        assert torch.backends.mha.get_fastpath_enabled() is before
    finally:
        torch.backends.mha.set_fastpath_enabled(old)
