"""Factorized Tensor Networks (ch2 Secs. 3.1-3.2): the CP update, the conv and attention wrappers, LoRA, task
isolation, and the exact parameter counts on the paper's backbones."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from paperlib import ftn
from paperlib import ftn_counts as fc
from paperlib.models.resnet_cifar import ResNetTrunk
from paperlib.reference import CH2_TEXT


def _trunk():
    torch.manual_seed(0)
    return ResNetTrunk(20, 0.5, norm="batch", act="relu")


@pytest.mark.parametrize("dims", [(5, 4, 9), (6, 3), (2, 3, 4, 5)])
def test_cp_delta_is_the_sum_of_outer_products(dims):
    g = torch.Generator().manual_seed(1)
    d = ftn.CPDelta(dims, 3, scale=0.5, generator=g)
    explicit = torch.zeros(dims)
    for r in range(3):
        t = d.factors[0][:, r]
        for f in list(d.factors)[1:]:
            t = torch.tensordot(t, f[:, r], dims=0)
        explicit += t
    assert torch.allclose(d(), 0.5 * explicit, atol=1e-6)
    assert d.num_parameters() == 3 * sum(dims) == sum(p.numel() for p in d.parameters())


def test_xavier_factors_have_the_xavier_bound_and_zero_init_starts_at_the_pretrained_weight():
    g = torch.Generator().manual_seed(0)
    d = ftn.CPDelta((64, 32, 9), 4, init="xavier", generator=g)
    for f, dim in zip(d.factors, (64, 32, 9)):
        bound = (6 / (dim + 4)) ** 0.5
        assert f.abs().max() <= bound and f.abs().max() > 0.5 * bound
    assert torch.count_nonzero(ftn.CPDelta((8, 4, 9), 2, init="zero")()) == 0
    assert torch.count_nonzero(ftn.CPDelta((8, 4), 2, init="lora")()) == 0
    std = ftn.CPDelta((400, 300), 8, init="normal", generator=g).factors[1].detach().std()
    assert abs(float(std) - ftn.PAPER_FACTOR_STD) < 0.005


def test_conv_with_the_update_equals_the_frozen_conv_plus_the_separable_low_rank_path():
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 10, 3, stride=2, padding=1, bias=True)
    wrapped = ftn.FTNConv2d(copy.deepcopy(conv))
    wrapped.add_task(3, "xavier", torch.Generator().manual_seed(2))
    wrapped.task = 0
    x = torch.randn(2, 6, 9, 9)
    a, b, k = wrapped.deltas[0].factors  # (C_out, R), (C_in, R), (k², R)
    mixed = F.conv2d(x, b.T[:, :, None, None])                                   # 1×1: C_in → R
    spatial = F.conv2d(mixed, k.T.reshape(3, 1, 3, 3), stride=2, padding=1, groups=3)  # per-rank k×k
    low_rank = F.conv2d(spatial, a[:, :, None, None])                            # 1×1: R → C_out
    assert torch.allclose(wrapped(x), conv(x) + low_rank, atol=1e-5)
    wrapped.task = None
    assert torch.equal(wrapped(x), conv(x))


def test_ftn_wraps_every_conv_and_bn_keeps_the_stem_unadapted_and_freezes_the_trunk():
    trunk = _trunk()
    n_conv = sum(isinstance(m, nn.Conv2d) for m in trunk.modules())
    net = ftn.FTN(trunk, 32)
    t = net.add_task(10, 2)
    convs = list(net.convs())
    assert len(convs) == n_conv and convs[0][1].deltas[t].rank == 0 and all(m.deltas[t].rank == 2 for _, m in convs[1:])
    assert not any(p.requires_grad for n, p in net.named_parameters() if ".conv." in n or ".pretrained." in n)
    per = ftn.trainable_count(net.task_parameters(t))
    assert per == 2 * fc.cp_per_rank(_trunk()) + fc.bn_affine(_trunk()) + 32 * 10 + 10
    stemmed = ftn.FTN(_trunk(), 32, adapt_stem=True)
    stemmed.add_task(10, 1)
    assert next(stemmed.convs())[1].deltas[0].rank == 1


def test_zero_init_task_reproduces_the_pretrained_trunk_exactly():
    trunk = _trunk().eval()
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        before = trunk(x)
    net = ftn.FTN(trunk, 32).eval()
    t = net.add_task(5, 4, init="zero")
    with torch.no_grad():
        assert torch.equal(net.features(x, t), before)
        assert torch.equal(net.features(x, None), before)


def _train_steps(net, task, steps=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(net.task_parameters(task), lr=0.5)
    net.train()
    for _ in range(steps):
        x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 5, (8,), generator=g)
        loss = F.cross_entropy(net(x, task), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()


def test_training_one_task_leaves_every_other_task_bit_identical():
    """ch2 claim C13: no forgetting, by construction; training task 0 itself does change its outputs."""
    net = ftn.FTN(_trunk(), 32)
    g = torch.Generator().manual_seed(3)
    first, fe, second = net.add_task(5, 2, generator=g), net.add_task(5, 0, bn=False, generator=g), \
        net.add_task(5, 4, generator=g)
    _train_steps(net, first)
    x = torch.randn(4, 3, 16, 16)
    shared = {n: v.clone() for n, v in net.state_dict().items() if ".conv." in n or ".pretrained." in n}
    with torch.no_grad():
        before = {t: net(x, t) for t in (first, fe)}
    _train_steps(net, second, seed=1)
    with torch.no_grad():
        assert all(torch.equal(net(x, t), before[t]) for t in (first, fe))
    assert all(torch.equal(net.state_dict()[n], v) for n, v in shared.items())
    _train_steps(net, first, seed=2)
    with torch.no_grad():
        assert not torch.equal(net(x, first), before[first])


def test_a_task_state_loads_into_another_network_and_a_mismatch_is_a_clear_error():
    net = ftn.FTN(_trunk(), 32)
    t = net.add_task(5, 2, generator=torch.Generator().manual_seed(0))
    _train_steps(net, t)
    other = ftn.FTN(_trunk(), 32)
    other.add_task(7, 0)
    u = other.add_task(5, 2)
    other.load_task_state(u, net.task_state(t), source_task=t)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(other.eval()(x, u), net.eval()(x, t))
    with pytest.raises(ValueError, match="does not fit"):
        other.load_task_state(0, net.task_state(t), source_task=t)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_rank_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="rank"):
        ftn.FTN(_trunk(), 32).add_task(5, bad)


def test_bad_alpha_variant_init_and_backbone_are_clear_errors():
    mha = nn.Sequential(nn.MultiheadAttention(8, 2))
    for alpha in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="alpha"):
            ftn.adapt_attention(copy.deepcopy(mha), "ftn_qv", 2, alpha)
    with pytest.raises(ValueError, match="variant"):
        ftn.adapt_attention(copy.deepcopy(mha), "ftn_k", 2)
    with pytest.raises(ValueError, match="init"):
        ftn.CPDelta((3, 4), 1, init="he")
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        ftn.FTN(nn.Sequential(nn.Flatten(), nn.Linear(12, 4)), 4)
    with pytest.raises(ValueError, match="no nn.MultiheadAttention"):
        ftn.adapt_attention(nn.Linear(3, 3), "ftn_o", 1)


def _mha(seed=0):
    torch.manual_seed(seed)
    return nn.MultiheadAttention(24, 4, batch_first=True)


@pytest.mark.parametrize("variant", ftn.ATTENTION_VARIANTS)
def test_attention_parametrization_equals_a_manual_edit_of_the_weights(variant):
    base = _mha()
    adapted = copy.deepcopy(base)
    (delta,) = ftn.adapt_attention(adapted, variant, 3, generator=torch.Generator().manual_seed(5))
    if variant == "lora_qv":  # start away from LoRA's zero B so the check means something
        with torch.no_grad():
            delta.deltas["q"].factors[0].normal_()
            delta.deltas["v"].factors[0].normal_()
    manual = copy.deepcopy(base)
    d = 24
    with torch.no_grad():
        if variant == "ftn_o":
            manual.out_proj.weight += delta.delta("o")
        else:
            manual.in_proj_weight[:d] += delta.delta("q")
            manual.in_proj_weight[2 * d:] += delta.delta("v")
    x = torch.randn(2, 5, 24)
    for mode in ("train", "eval"):
        getattr(adapted, mode)()
        getattr(manual, mode)()
        with torch.no_grad():
            assert torch.allclose(adapted(x, x, x)[0], manual(x, x, x)[0], atol=1e-6)
    adapted.train()
    adapted(x, x, x)[0].sum().backward()
    trainable = [p for p in adapted.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)
    assert sum(p.numel() for p in trainable) == fc.attention_formula(variant, 1, 24, 4, 3)


def test_key_rows_and_biases_are_untouched_and_the_head_axis_is_head_major():
    adapted = _mha()
    before = adapted.in_proj_weight.detach().clone()
    (delta,) = ftn.adapt_attention(adapted, "ftn_qv", 2, generator=torch.Generator().manual_seed(0))
    after = adapted.in_proj_weight.detach()
    assert torch.equal(after[24:48], before[24:48]) and not torch.equal(after[:24], before[:24])
    c, b, a = delta.deltas["q"].factors  # (n, R), (d, R), (d_model, R)
    row = 2 * 6 + 1  # head 2, within-head row 1
    expected = delta.deltas["q"].scale * (c[2] * b[1] * a).sum(-1)
    assert torch.allclose(delta.delta("q")[row], expected, atol=1e-7)


def test_two_way_ftn_is_lora_and_ftn_qv_is_representable_as_lora_of_the_same_rank():
    g = torch.Generator().manual_seed(0)
    two_way = ftn.CPDelta((12, 7), 3, init="normal", generator=g, scale=2.5)
    f0, f1 = two_way.factors
    assert torch.allclose(two_way(), 2.5 * f0 @ f1.T, atol=1e-6)
    three_way = ftn.CPDelta((4, 6, 24), 3, init="normal", generator=g, scale=10 / 3)
    b, a = ftn.as_lora(three_way, out_modes=2)
    assert b.shape == (24, 3) and a.shape == (3, 24)
    assert torch.linalg.matrix_rank(b @ a) <= 3
    assert torch.allclose(b @ a, three_way().reshape(24, 24), atol=1e-6)


def test_resnet_counts_reproduce_the_papers_per_task_numbers():
    rows = {r["backbone"]: r for r in fc.backbone_rows()}
    paper = CH2_TEXT["rank1_params_per_task"]
    assert rows["ResNet-34"]["rank-1 CP (no stem)"] == paper["ResNet-34"]
    assert rows["ResNet-50"]["rank-1 CP (no stem)"] == paper["ResNet-50"]
    assert rows["ResNet-18"]["rank-1 CP (no stem)"] == 8_723 and rows["ResNet-18"]["rank-1 CP (all convs)"] == 8_839
    assert rows["ResNet-50"]["trunk"] == 23_508_032 and rows["ResNet-50"]["BN Γβ per task"] == 53_120
    per_task = {(r["backbone"], r["R"]): r for r in fc.per_task_rows()}
    assert per_task[("ResNet-50", 50)]["CP factors"] == 2_460_200
    assert per_task[("ResNet-34", 40)]["CP factors"] == 651_640
    # the same counts from the adapters FTN actually builds on a torchvision ResNet
    import torchvision
    net = ftn.FTN(torchvision.models.resnet18(weights=None), 512)
    t = net.add_task(10, 3)
    factors = sum(p.numel() for n, p in net.task_named_parameters(t).items() if ".factors." in n)
    assert factors == 3 * 8_723


def test_per_layer_formula_and_multipliers():
    rows = fc.per_layer_rows("resnet18", rank=2, tasks=4)
    stem = rows[0]
    assert (stem["k²"], stem["C_in"], stem["C_out"]) == (49, 3, 64)
    assert stem["fine-tuning"] == 4 * 49 * 3 * 64 and stem["FTN"] == 49 * 3 * 64 + 4 * 2 * (64 + 3 + 49)
    cells = {(r["table"], r["method"]): r for r in fc.multiplier_rows()}
    assert not cells[("Table 1", "Fine-Tuning")]["differs"] and not cells[("Table 2", "Fine-Tuning")]["differs"]
    assert cells[("Table 1", "FTN, R=1")]["differs"]  # spec Sec. 6.4: 1.004× matches no 5-domain rule
    assert not cells[("Table 1", "FTN, R=50")]["differs"]
    assert fc.printed_multiplier("6× [2.25×] (141M)") == (6.0, 0) and fc.printed_multiplier("[1.60×] (37.6M)") == \
        (1.60, 2)


def test_vit_b32_adapter_counts_match_the_formulas_and_the_paper():
    rows = {r["R"]: r for r in fc.vit_rows("ViT-B-32", ranks=(1, 4))}
    for r in rows.values():
        for v in ftn.ATTENTION_VARIANTS:
            assert r[v] == r[f"{v} (built)"]
    assert (rows[4]["ftn_qv"], rows[4]["ftn_o"], rows[4]["lora_qv"]) == (81_024, 40_512, 147_456)
    totals = {r["method"]: r for r in fc.vit_totals("ViT-B-32")}
    assert totals["FTN (Q&V)"]["total"] == 88_254_336 and totals["Fine-tuning"]["multiplier"] == 5.0
