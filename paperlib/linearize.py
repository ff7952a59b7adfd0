"""The three fine-tuning paradigms of ch5 (Sec. 3, Fig. 2): non-linear, NTK-linearized, linear layers only.

"Fine-Tuning Linear Layers Only Is a Simple yet Effective Way for Task Arithmetic" compares three
ways of fine-tuning a CLIP image encoder f(x; θ) from its pre-trained weights θ0 (Fig. 2):

* ``non_linear`` (Fig. 2a): every parameter of f is trained.
* ``linearized`` (Fig. 2b): f is replaced by its first-order Taylor expansion around θ0, ch5 Eq. (2),
  f_lin(x; θ) = f(x; θ0) + J(θ0)(θ − θ0), and every parameter θ of f_lin is trained. This is the
  tangent-space fine-tuning protocol of Ortiz-Jimenez et al. 2023 ("Task arithmetic in the tangent
  space", the paper's [17]); :class:`LinearizedModel` implements it with one Jacobian-vector product.
* ``linear_only`` (Fig. 2c): f itself is kept, but only linear layers of the transformer's attention
  blocks are trained. Table 2 ablates four choices (:data:`LINEAR_VARIANTS`): (1) the Q, K, V and
  output-projection weights (the paper's method), (2) the same plus their biases, (3) all linear
  layers' weights of the attention module, (4) the same plus their biases.

Reading of "attention module" in (3)/(4): the transformer's residual attention block drawn in
Fig. 2 (attention + feed-forward, each after a layer norm), so (3) adds the feed-forward network's
two linear layers to (1): ``attn.in_proj`` (Q, K, V packed), ``attn.out_proj``, ``mlp.c_fc`` and
``mlp.c_proj``. Read as the attention sub-layer alone, (3) would be identical to (1). In open_clip's
ViT-B/32 image tower, (1) selects 28.3M of its 87.8M parameters.

Gradient of the linearized model (Sec. 3: "the Jacobian-vector products can be computed in a single
forward pass"): the training gradient is J(θ0)ᵀ ∂L/∂f_lin. With ``gradient="forward_backward"``
(default) it is obtained from *one* forward-mode pass at θ0 (giving f(x; θ0) and J(θ0)(θ − θ0)
together) and *one* ordinary backward pass through the primal part of that pass: the primal input
has the value θ0 but passes its gradient straight to θ, and the tangent output is detached, so the
backward is exactly the network's own backward at θ0. With ``gradient="dual_graph"`` (the reference)
the gradient is back-propagated through the tangent (dual) computation instead. Both cost about the
same arithmetic (the tangent map is linear in the tangents, with the primal activations as
constants), but the dual graph's backward inherits slow paths of PyTorch's forward-mode formulas: on
CPU, ``nn.MultiheadAttention``'s packed input projection of batch-first inputs becomes a ``bmm``
against the weight expanded over the sequence (and a sum over that expansion in backward), which
made a ViT-B/32 training step about 3× slower than ``forward_backward``.
"""

from __future__ import annotations

import copy
import re
from contextlib import contextmanager
from numbers import Integral
from typing import Iterator, Mapping

import torch
from torch import Tensor, nn
from torch.autograd import forward_ad
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel

from .config import check_choice

PARADIGMS = ("non_linear", "linearized", "linear_only")

#: Table 2's four linear-layers-only variants (variant 1 is the paper's method, Fig. 2c).
LINEAR_VARIANTS: dict[int, str] = {
    1: "attention Q, K, V and output-projection weights (W_q, W_k, W_v, W_o; the paper's method)",
    2: "attention Q, K, V and output-projection weights and biases",
    3: "all linear layers' weights of the attention block (Q, K, V, output projection, both MLP layers)",
    4: "all linear layers' weights and biases of the attention block",
}

_GRADIENTS = ("forward_backward", "dual_graph")
_ATTN_W = ("attn.in_proj_weight", "attn.out_proj.weight")
_ATTN_B = ("attn.in_proj_bias", "attn.out_proj.bias")
_MLP_W = ("mlp.c_fc.weight", "mlp.c_proj.weight")
_MLP_B = ("mlp.c_fc.bias", "mlp.c_proj.bias")
_VARIANT_SUFFIXES = {1: _ATTN_W, 2: _ATTN_W + _ATTN_B, 3: _ATTN_W + _MLP_W, 4: _ATTN_W + _ATTN_B + _MLP_W + _MLP_B}
#: open_clip transformer blocks, with any prefix (``visual.``, ``model.visual.``, ...).
_BLOCK = r"(?:^|\.)transformer\.resblocks\.\d+\."


def check_paradigm(paradigm: str, variant: int | None = None) -> tuple[str, int | None]:
    """Validate a paradigm (Fig. 2) and its Table 2 variant; return ``(paradigm, variant)``.

    ``linear_only`` takes variant 1–4 (``None`` means 1, the paper's method); the other paradigms take
    ``None``. Raises ``ValueError`` naming the bad value and the allowed ones.
    """
    check_choice(paradigm, PARADIGMS, "paradigm")
    if paradigm != "linear_only":
        if variant is not None:
            raise ValueError(f"variant={variant!r} is only for paradigm 'linear_only'; paradigm {paradigm!r} "
                             "takes variant=None")
        return paradigm, None
    if variant is None:
        return paradigm, 1
    if isinstance(variant, bool) or not isinstance(variant, Integral) or int(variant) not in LINEAR_VARIANTS:
        raise ValueError(f"unknown linear_only variant {variant!r} (Table 2); choose one of: "
                         f"{', '.join(map(str, LINEAR_VARIANTS))}")
    return paradigm, int(variant)


def select_parameters(module: nn.Module, paradigm: str, variant: int | None = None) -> list[str]:
    """Names (as in ``module.named_parameters()``) of the parameters a paradigm trains (Fig. 2).

    ``non_linear`` and ``linearized`` train all of them; ``linear_only`` the linear layers of
    open_clip's transformer blocks chosen by the Table 2 variant (module docstring). Pass the image
    tower (or :class:`~paperlib.models.clip.ImageEncoder`): on a whole CLIP model the text tower's
    blocks match too. Raises ``ValueError`` when ``linear_only`` finds no open_clip block.
    """
    paradigm, variant = check_paradigm(paradigm, variant)
    names = [n for n, _ in module.named_parameters()]
    if paradigm != "linear_only":
        return names
    pattern = re.compile(_BLOCK + "(?:" + "|".join(map(re.escape, _VARIANT_SUFFIXES[variant])) + ")$")
    chosen = [n for n in names if pattern.search(n)]
    if not chosen:
        raise ValueError(f"paradigm 'linear_only' (variant {variant}) selected no parameter of "
                         f"{type(module).__name__}: it needs open_clip transformer blocks "
                         "('transformer.resblocks.<i>.attn.in_proj_weight', ...)")
    return chosen


def parameter_counts(module: nn.Module, paradigm: str, variant: int | None = None) -> tuple[int, int]:
    """(number of parameters the paradigm trains, total number of parameters) of ``module``."""
    chosen = set(select_parameters(module, paradigm, variant))
    params = dict(module.named_parameters())
    return sum(params[n].numel() for n in chosen), sum(p.numel() for p in params.values())


@contextmanager
def forward_ad_safe_attention() -> Iterator[None]:
    """Make ``nn.MultiheadAttention`` forward-mode differentiable: turn its fused fast path off and
    pin scaled-dot-product attention to the math backend. Restores the fast-path flag on exit."""
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


class _ValueOfTheta0(torch.autograd.Function):
    """Returns θ0 (no copy) and passes the incoming gradient unchanged to θ: dθ0-output/dθ = I."""

    @staticmethod
    def forward(ctx, theta: Tensor, theta0: Tensor) -> Tensor:
        return theta0.view_as(theta0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def _parameters_to_buffers(module: nn.Module) -> None:
    """Turn every parameter of ``module`` into a (detached) buffer of the same name, in place."""
    done: dict[int, Tensor] = {}
    for mod in module.modules():
        for name, p in list(mod._parameters.items()):
            if p is None:
                continue
            t = done.setdefault(id(p), p.detach())
            del mod._parameters[name]
            mod.register_buffer(name, t)


class LinearizedModel(nn.Module):
    """f_lin(x; θ) = f(x; θ0) + J(θ0)(θ − θ0), ch5 Eq. (2): the NTK-linearized model of Fig. 2b.

    Holds a frozen deep copy of ``model`` (``self.model``) as the function f, whose parameters are
    turned into buffers holding θ0, and the trainable θ (``self.params``, initialised to θ0; the
    :class:`~torch.nn.ParameterDict` keys are the original names with ``.`` written ``__``). Names in
    :meth:`trainable_state` / :meth:`pretrained_state` / :meth:`load_trainable_state` are ``model``'s
    own parameter names. ``model``'s buffers (e.g. non-persistent mean/std) keep working.

    In training mode with gradients enabled, ``forward`` builds the graph chosen by ``gradient``
    (module docstring): ``"forward_backward"`` (one forward-mode pass + one backward pass at θ0) or
    ``"dual_graph"`` (back-propagate through the tangent computation; the reference). In eval mode
    or under ``torch.no_grad()`` it computes the Jacobian-vector product without any graph, so the
    output is not differentiable there. The wrapper starts in ``model``'s train/eval mode.
    """

    def __init__(self, model: nn.Module, gradient: str = "forward_backward"):
        super().__init__()
        self.gradient = check_choice(gradient, _GRADIENTS, "gradient mode")
        self.names = [n for n, _ in model.named_parameters()]
        if not self.names:
            raise ValueError(f"{type(model).__name__} has no parameters to linearize")
        self._keys = {n: n.replace(".", "__") for n in self.names}
        self.model = copy.deepcopy(model)
        _parameters_to_buffers(self.model)
        self.model.requires_grad_(False)
        self.params = nn.ParameterDict()  # filled in the wrapped model's order (a plain dict would be sorted)
        for n in self.names:
            self.params[self._keys[n]] = nn.Parameter(self.model.get_buffer(n).detach().clone())
        self.train(model.training)

    def _theta(self) -> list[Tensor]:
        return [self.params[self._keys[n]] for n in self.names]

    def _theta0(self) -> list[Tensor]:
        return [self.model.get_buffer(n) for n in self.names]

    def _jvp(self, primal: list[Tensor], tangent: list[Tensor], args: tuple, kwargs: dict) -> tuple[Tensor, Tensor]:
        """(f(x; primal), J(primal) tangent) in one forward-mode pass (``torch.autograd.forward_ad``;
        ``torch.func.jvp`` gives the same values but was ~3× slower under an outer backward pass)."""
        with forward_ad_safe_attention(), forward_ad.dual_level():
            duals = {n: forward_ad.make_dual(p, t) for n, p, t in zip(self.names, primal, tangent)}
            out = functional_call(self.model, duals, args, kwargs)
            if not isinstance(out, Tensor):
                raise TypeError(f"LinearizedModel needs a model returning one tensor; got {type(out).__name__}")
            out_p, out_t = forward_ad.unpack_dual(out)
        if out_t is None:  # the output does not depend on the parameters
            out_t = torch.zeros_like(out_p)
        return out_p, out_t

    def forward(self, *args, **kwargs) -> Tensor:
        """f(x; θ0) + J(θ0)(θ − θ0) for the inputs of the wrapped model."""
        theta, theta0 = self._theta(), self._theta0()
        if not (self.training and torch.is_grad_enabled()):
            with torch.no_grad():
                tangent = torch._foreach_sub([t.detach() for t in theta], theta0)
                # Leaves that "require grad" build no graph under no_grad, but make matmul fold
                # (N, L, E) @ W into one mm instead of a much slower bmm against an expanded W (CPU).
                primal = [t0.detach().requires_grad_() for t0 in theta0]
                out_p, out_t = self._jvp(primal, tangent, args, kwargs)
                return out_p + out_t
        if self.gradient == "dual_graph":
            out_p, out_t = self._jvp(theta0, [t - t0 for t, t0 in zip(theta, theta0)], args, kwargs)
            return out_p.detach() + out_t
        # forward_backward: the primal has the value θ0 and passes its gradient to θ unchanged; the
        # tangent is a constant. Backward through out_p alone gives J(θ0)ᵀ ∂L/∂out. The tangent ops
        # are still recorded during the pass (their inputs require grad), but that graph is freed
        # with out_t when forward returns; tangents saved by primal ops are cleared on leaving the
        # dual level.
        with torch.no_grad():
            tangent = torch._foreach_sub([t.detach() for t in theta], theta0)
        primal = [_ValueOfTheta0.apply(t, t0) for t, t0 in zip(theta, theta0)]
        out_p, out_t = self._jvp(primal, tangent, args, kwargs)
        return out_p + out_t.detach()

    def parameter(self, name: str) -> nn.Parameter:
        """The trainable θ entry of the wrapped model's parameter ``name``."""
        return self.params[self._keys[name]]

    def trainable_state(self) -> dict[str, Tensor]:
        """θ under the wrapped model's parameter names (detached, sharing storage)."""
        return {n: t.detach() for n, t in zip(self.names, self._theta())}

    def pretrained_state(self) -> dict[str, Tensor]:
        """θ0 under the wrapped model's parameter names."""
        return dict(zip(self.names, self._theta0()))

    def load_trainable_state(self, state: Mapping[str, Tensor]) -> None:
        """Set θ (all or some of it) from ``state``, keyed by the wrapped model's parameter names."""
        unknown = sorted(set(state) - set(self.names))
        if unknown:
            raise ValueError(f"unknown parameter names {unknown[:5]}{' ...' if len(unknown) > 5 else ''}; "
                             f"expected names of the wrapped model such as {self.names[:3]}")
        with torch.no_grad():
            for n, v in state.items():
                p = self.params[self._keys[n]]
                if tuple(v.shape) != tuple(p.shape):
                    raise ValueError(f"shape {tuple(v.shape)} for {n!r} does not match {tuple(p.shape)}")
                p.copy_(v)


__all__ = ["LINEAR_VARIANTS", "PARADIGMS", "LinearizedModel", "check_paradigm", "forward_ad_safe_attention",
           "parameter_counts", "select_parameters"]
