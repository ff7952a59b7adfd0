"""Chapter 3's models: dataset-specific BatchNorm statistics (ch3 A.2), the BN/ReLU ResNet-20 (ch3 A.1), WRN-10-2
(ch3 A.2) and their parameter counts against the spec's analytic numbers (ch3 spec Sec. 6)."""

import hashlib

import pytest
import torch
from torch import nn

from paperlib.models.norm import DomainBatchNorm2d, make_norm, statistics_of, use_statistics
from paperlib.models.resnet_cifar import MultiDomainNet, ResNetTrunk, channels, count_parameters, group_norm
from paperlib.models.wide_resnet import SPEC_PARAMETER_COUNTS, WideResNetTrunk, ch3_parameter_counts

# sha256 over (name, str(shape), raw bytes) of each state_dict entry of
# torch.manual_seed(0); MultiDomainNet([10, 10], 32, 1.0), computed with the code before the norm/act/domains
# options existed (commit a7af926, torch 2.14.1 CPU): the defaults must keep chapter 4's models bit-identical.
CH4_DEFAULT_SHA256 = "9e05bc59a814fb38919c314bfd3e6fb9da5f15256db6269ced5843a43a6afe89"


def state_sha256(module: nn.Module) -> str:
    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def test_chapter4_default_model_is_bit_identical():
    torch.manual_seed(0)
    net = MultiDomainNet([10, 10], 32, 1.0)
    assert len(net.state_dict()) == 97
    assert state_sha256(net) == CH4_DEFAULT_SHA256


# --- DomainBatchNorm2d ---------------------------------------------------------------------------------------------

def batches(n=4, shift=0.0, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(8, 3, 4, 4, generator=g) * scale + shift for _ in range(n)]


@pytest.mark.parametrize("n_domains, momentum", [(1, 0.1), (2, 0.1), (3, None)])
def test_domain_zero_alone_matches_batchnorm2d_exactly(n_domains, momentum):
    ref, dom = nn.BatchNorm2d(3, momentum=momentum), DomainBatchNorm2d(3, n_domains, momentum=momentum)
    with torch.no_grad():
        for m in (ref, dom):
            m.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
            m.bias.copy_(torch.tensor([0.0, -1.0, 0.3]))
    for x in batches():
        assert torch.equal(ref(x), dom(x))
    assert torch.equal(ref.running_mean, dom.running_mean[0]) and torch.equal(ref.running_var, dom.running_var[0])
    assert int(ref.num_batches_tracked) == int(dom.num_batches_tracked[0]) == 4
    ref.eval(), dom.eval()
    x = batches(1, seed=1)[0]
    assert torch.equal(ref(x), dom(x))
    assert dom.eps == ref.eps and (momentum is not None or dom.momentum is None)
    assert DomainBatchNorm2d(3).momentum == nn.BatchNorm2d(3).momentum == 0.1


def test_running_statistics_update_in_place_per_domain():
    bn = DomainBatchNorm2d(3, 2)
    ptr, before = bn.running_mean.data_ptr(), bn.state_dict()
    before = {k: v.clone() for k, v in before.items()}
    bn.domain = 1
    for x in batches(shift=3.0, scale=2.0):
        bn(x)
    assert bn.running_mean.data_ptr() == ptr  # the row view was updated, the buffer not replaced
    assert bn.running_mean[1].abs().min() > 0.5 and (bn.running_var[1] > 1.5).all()
    assert int(bn.num_batches_tracked[1]) == 4
    for k in ("running_mean", "running_var", "num_batches_tracked"):  # domain 0 untouched by domain-1 batches
        assert torch.equal(bn.state_dict()[k][0], before[k][0])


def test_domains_differ_after_training_on_different_data_and_eval_uses_own_statistics():
    bn = DomainBatchNorm2d(3, 2, momentum=None)  # cumulative average: running stats ≈ the data's moments
    for d, (shift, scale) in enumerate([(0.0, 1.0), (3.0, 2.0)]):
        with statistics_of(bn, d):
            for x in batches(shift=shift, scale=scale, seed=d):
                bn(x)
    bn.eval()
    x = batches(1, shift=1.5, seed=5)[0]
    outs = []
    for d in range(2):
        with statistics_of(bn, d):
            outs.append(bn(x))
        mean, var = bn.running_mean[d].view(1, 3, 1, 1), bn.running_var[d].view(1, 3, 1, 1)
        torch.testing.assert_close(outs[-1], (x - mean) / torch.sqrt(var + bn.eps))  # Γ = 1, β = 0
    assert (outs[0] - outs[1]).abs().mean() > 0.5
    # train mode normalises with the batch's own moments: the statistics set does not matter then
    bn.train()
    y0 = bn(x)
    with statistics_of(bn, 1):
        assert torch.allclose(bn(x), y0)


def test_affine_is_shared_and_learns_from_both_domains():
    bn = DomainBatchNorm2d(3, 2)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"] and count_parameters(bn) == 6
    for d in range(2):
        bn.zero_grad()
        with statistics_of(bn, d):
            bn(batches(1, seed=d)[0]).pow(3).sum().backward()
        assert bn.weight.grad.abs().sum() > 0
    assert sorted(bn.state_dict()) == ["bias", "num_batches_tracked", "running_mean", "running_var", "weight"]


def test_use_statistics_and_statistics_of():
    net = ResNetTrunk(20, 0.25, norm="batch", act="relu", domains=2)
    norms = [m for m in net.modules() if isinstance(m, DomainBatchNorm2d)]
    assert len(norms) == 19 and all(m.domain == 0 for m in norms)
    use_statistics(net, 1)
    assert all(m.domain == 1 for m in norms)
    norms[0].domain = 0  # statistics_of restores each layer's own previous domain
    with statistics_of(net, 1):
        assert all(m.domain == 1 for m in norms)
    assert norms[0].domain == 0 and all(m.domain == 1 for m in norms[1:])
    with pytest.raises(RuntimeError), statistics_of(net, 0):
        assert all(m.domain == 0 for m in norms)
        raise RuntimeError
    assert norms[0].domain == 0 and all(m.domain == 1 for m in norms[1:])
    for bad in (2, -1, True, 0.0):
        with pytest.raises(ValueError, match=rf"domain={bad!r}.*0\.\.1"):
            use_statistics(net, bad)
    with pytest.raises(ValueError, match="domain=3"):
        norms[0].domain = 3
    plain = ResNetTrunk(20, 0.25, norm="batch", act="relu")  # shared statistics: domain 0 only
    use_statistics(plain, 0)
    with pytest.raises(ValueError, match=r"domain=1 .*0\.\.0"):
        use_statistics(plain, 1)


def test_make_norm():
    assert isinstance(make_norm("batch", 8), nn.BatchNorm2d)
    dom = make_norm("batch", 8, 2)
    assert isinstance(dom, DomainBatchNorm2d) and dom.n_domains == 2 and dom.running_mean.shape == (2, 8)
    gn = make_norm("group", 64)
    assert isinstance(gn, nn.GroupNorm) and gn.num_groups == 32 == group_norm(64).num_groups
    assert make_norm("group", 8).num_groups == 4
    with pytest.raises(ValueError, match=r"norm='layer'.*'group', 'batch'"):
        make_norm("layer", 8)
    with pytest.raises(ValueError, match="domains=2"):
        make_norm("group", 8, 2)
    with pytest.raises(ValueError, match="domains=0"):
        make_norm("batch", 8, 0)


# --- ResNet-20 (ch3 A.1) and WRN-10-2 (ch3 A.2) --------------------------------------------------------------------

def test_resnet20_batchnorm_relu_and_its_parameter_counts():
    trunk = ResNetTrunk(20, 1.0, norm="batch", act="relu")
    kinds = {type(m) for m in trunk.modules()}
    assert nn.BatchNorm2d in kinds and nn.ReLU in kinds
    assert not kinds & {nn.GroupNorm, nn.Mish, DomainBatchNorm2d}
    spec = SPEC_PARAMETER_COUNTS["ResNet-20"]
    assert count_parameters(trunk) == spec["trunk"] == 269_072
    net = MultiDomainNet([10, 100], 20, 1.0, norm="batch", act="relu")
    assert count_parameters(net) == spec["trunk"] + 650 + 6_500
    # dataset-specific statistics add buffers, not parameters (shared Γ, β)
    assert count_parameters(ResNetTrunk(20, 1.0, norm="batch", act="relu", domains=2)) == spec["trunk"]
    assert trunk(torch.rand(2, 3, 16, 16)).shape == (2, 64)


def test_chapter3_parameter_counts_match_the_spec():
    rows = {r["model"]: r for r in ch3_parameter_counts()}
    assert set(rows) == {"ResNet-20", "WRN-10-2"}
    for row in rows.values():
        for k in SPEC_PARAMETER_COUNTS[row["model"]]:
            assert row[k] == row[f"spec_{k}"], (row["model"], k)
    assert rows["WRN-10-2"]["shortcut_weights"] == (512, 2_048, 8_192)
    assert rows["WRN-10-2"]["with_one_head"] == 303_706 and rows["ResNet-20"]["with_one_head"] == 269_722


def test_wrn_10_2_structure():
    trunk = WideResNetTrunk()
    assert (trunk.depth, trunk.widen, trunk.dropout, trunk.out_features) == (10, 2, 0.4, 128)
    assert count_parameters(trunk) == SPEC_PARAMETER_COUNTS["WRN-10-2"]["trunk"]
    assert all(m.bias is None for m in trunk.modules() if isinstance(m, nn.Conv2d))
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.4 for m in trunk.modules()) == 3
    assert trunk(torch.rand(2, 3, 32, 32)).shape == (2, 128)
    narrow = WideResNetTrunk(10, 1, domains=2)  # group 1 keeps 16 channels: identity shortcut there
    assert narrow.out_features == 64 and narrow.groups[0][0].shortcut is None
    assert sum(isinstance(m, DomainBatchNorm2d) for m in narrow.modules()) == 7
    assert WideResNetTrunk(16, 1).groups[1][1].shortcut is None  # n = 2 blocks per group


def test_wrn_dropout_active_in_train_mode_only():
    torch.manual_seed(0)
    trunk, x = WideResNetTrunk(10, 1), torch.rand(4, 3, 16, 16)
    assert not torch.allclose(trunk(x), trunk(x))  # BN uses the same batch moments: the difference is dropout
    no_dropout = WideResNetTrunk(10, 1, dropout=0.0)
    assert torch.equal(no_dropout(x), no_dropout(x))
    trunk.eval()
    assert torch.equal(trunk(x), trunk(x))


@pytest.mark.parametrize("make, match", [
    (lambda: WideResNetTrunk(depth=12), "depth=12"), (lambda: WideResNetTrunk(depth=4), "depth=4"),
    (lambda: WideResNetTrunk(widen=0), "widen=0"), (lambda: WideResNetTrunk(widen=1.5), "widen=1.5"),
    (lambda: WideResNetTrunk(dropout=1.0), r"dropout=1\.0"), (lambda: WideResNetTrunk(dropout=-0.1), "dropout=-0.1"),
    (lambda: WideResNetTrunk(norm="layer"), "norm='layer'"),
    (lambda: ResNetTrunk(20, 1.0, norm="layer"), "norm='layer'"),
    (lambda: ResNetTrunk(20, 1.0, act="gelu"), r"act='gelu'.*'mish', 'relu'"),
    (lambda: ResNetTrunk(20, 1.0, domains=2), "domains=2"),
    (lambda: ResNetTrunk(20, 1.0, norm="batch", domains=0), "domains=0"),
    (lambda: channels(1 / 32, "batch"), "0.03125.*whole numbers"),
])
def test_bad_inputs(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_channels_with_batchnorm_need_only_whole_counts():
    assert channels(0.3125, "batch") == (5, 10, 20)  # not GroupNorm-divisible, fine for BatchNorm
    with pytest.raises(ValueError, match="divisible"):
        channels(0.3125)
    assert channels(1 / 16, "batch") == (1, 2, 4)
