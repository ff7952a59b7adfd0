"""CIFAR ResNets for chapters 3 and 4: widths, GroupNorm groups, parameter counts, separate heads."""

import pytest
import torch

from paperlib.models.resnet_cifar import (
    PAPER_PARAMETERS,
    WIDTHS,
    MultiDomainNet,
    ResNetTrunk,
    channels,
    parameter_table,
)


def test_resnet32_parameters_match_the_paper_in_thousands():
    # the paper's counts (Sec. 3.3) are the trunk's, without heads, in whole thousands
    for row in parameter_table(32):
        assert row["trunk"] // 1000 == PAPER_PARAMETERS[row["width"]] // 1000
        assert row["with_one_head"] > row["trunk"]
    assert ResNetTrunk(20, 1.0).out_features == 64


@pytest.mark.parametrize("width", WIDTHS)
def test_group_norm_groups_divide_every_layer(width):
    trunk = ResNetTrunk(32, width)
    norms = [m for m in trunk.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == 1 + 2 * 15
    for m in norms:
        assert m.num_groups == min(32, m.num_channels // 2) and m.num_channels % m.num_groups == 0
    assert any(isinstance(m, torch.nn.Mish) for m in trunk.modules())
    assert trunk(torch.rand(2, 3, 32, 32)).shape == (2, int(64 * width))


def test_a_sample_only_uses_its_own_head():
    net = MultiDomainNet([5, 5, 3], depth=20, width=0.25)
    x, domains = torch.rand(4, 3, 32, 32), torch.tensor([0, 1, 2, 0])
    labels = torch.tensor([1, 4, 2, 0])
    logits = net(x, domains)
    assert torch.isinf(logits[2, 3:]).all() and torch.isfinite(logits[2, :3]).all()
    losses = net.domain_losses(logits, labels, domains)
    assert losses.shape == (3,)
    losses[0].backward()  # domain 0's loss: no gradient reaches the other heads
    assert net.heads[1].weight.grad is None or net.heads[1].weight.grad.abs().sum() == 0
    assert net.heads[0].weight.grad.abs().sum() > 0
    with torch.no_grad():  # changing another head leaves domain 0's outputs alone
        net.heads[1].weight.add_(1.0)
    torch.testing.assert_close(net(x, domains)[[0, 3]], logits[[0, 3]].detach())
    absent = net.domain_losses(logits, labels, torch.tensor([0, 0, 0, 0]))
    assert float(absent[1]) == 0.0


@pytest.mark.parametrize("kw, match", [(dict(width=0.1), "whole numbers"), (dict(width=0.0), "out of range"),
                                       (dict(width=0.3125), "divisible"), (dict(depth=18), "depth"),
                                       (dict(n_classes=[]), "number of classes")])
def test_bad_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        MultiDomainNet(**{"n_classes": [10, 10], **kw})


def test_channels():
    assert channels(0.25) == (4, 8, 16) and channels(2.0) == (32, 64, 128)
