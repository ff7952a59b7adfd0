"""Chapter 2's validation cell, tables and claims on small made-up results."""

import pandas as pd
import pytest

from paperlib.chapters import ch2_factorized_tensor_networks as ch2
from paperlib.chapters.ch2_factorized_tensor_networks.claims import paired


@pytest.mark.parametrize("bad, match", [
    (dict(ranks=[-1]), "below the range"),
    (dict(ranks=[1.5]), "not int"),
    (dict(ranks=[0]), "below the range"),
    (dict(baselines=["lora"]), "unknown"),
    (dict(vit_methods=["ftn_k"]), "did you mean 'ftn_o'"),
    (dict(alpha_qv=0), "below the range"),
    (dict(alpha_o=-3.0), "below the range"),
    (dict(init="he"), "unknown"),
    (dict(backbone="resnet50"), "needs profile 'paper'"),
    (dict(profile="paper", backbone="vit_b_32"), "nothing to adapt"),
    (dict(profile="paper", backbone="not_a_model"), "not a torchvision model"),
    (dict(rank=[4]), "did you mean 'ranks'"),
])
def test_bad_input_is_rejected_in_the_validation_cell(bad, match):
    with pytest.raises(ValueError, match=match):
        ch2.Ch2Config.from_params(**bad)


def test_profiles_resolve_to_the_documented_protocols():
    emb = ch2.Ch2Config.from_params(profile="embedded")
    assert emb.ranks == {"i2s": (1, 4, 16), "domainnet": (1, 4, 16)} and emb.seeds == (0, 1)
    assert len(emb.domains["domainnet"]) == 6 and len(emb.domains["i2s"]) == 5 and len(emb.vit_datasets) == 5
    assert emb.alphas == {"ftn_qv": 10.0, "lora_qv": 10.0, "ftn_o": 100.0}
    smoke = ch2.Ch2Config.from_params(profile="smoke", ranks=[3, 1])
    assert smoke.ranks == {"i2s": (1, 3), "domainnet": (1, 3)} and len(smoke.domains["domainnet"]) == 1
    assert ch2.Ch2Config.from_params(profile="smoke", steps=7).conv_protocol.steps == 7
    assert "rank" in ch2.PARAMS.table().loc["ranks", "what it sets"]


def _results():
    rows = []
    for seed in (0, 1):
        for d, base in (("a", 50.0), ("b", 60.0), ("c", 70.0)):
            for method, rank, gain in (("fe", 0, 0), ("fc_bn", 0, 10), ("ftn", 1, 12), ("ftn", 4, 14), ("ft", 0, 16)):
                rows.append(dict(benchmark="domainnet", domain=d, method=method, rank=rank, seed=seed,
                                 acc=base + gain + seed * 0.5 + (d == "b") * 0.1 * rank, val_acc=0.0,
                                 parameters=100 + rank * 10 + (1000 if method == "ft" else 0), head=100,
                                 delta_norms=[{"layer": "l1", "relative_norm": 0.1 * rank}] if rank else None))
    return pd.DataFrame(rows)


def test_tables_and_gaps_on_made_up_results():
    conv = _results()
    table = ch2.accuracy_table(conv, "domainnet", trunk_size=1000)
    assert list(table.index) == ["Feature-Extractor", "FC and BN only", "FTN, R=1", "FTN, R=4", "Fine-Tuning"]
    assert table.loc["FC and BN only", "mean"] == pytest.approx(70.25)
    assert table.loc["FTN, R=4", "params / domain"] == 40 and table.loc["Fine-Tuning", "params / domain"] == 1000
    assert table.loc["FTN, R=4", "multiplier"] == "1.1200×"
    g = ch2.gaps(conv, "domainnet")
    assert g.bn_minus_fe.tolist() == [10.0, 10.0] and g.bn_share_of_ft_gap.tolist() == [62.5, 62.5]
    assert ch2.delta_norms(conv, "domainnet").loc["l1"].tolist() == pytest.approx([0.1, 0.4])
    d = paired(conv[conv.benchmark == "domainnet"], ("ftn", 4), ("fc_bn", 0))
    assert len(d) == 6 and d.min() == pytest.approx(4.0)


def test_claims_on_made_up_results_follow_the_verdict_rule():
    cfg = ch2.Ch2Config.from_params(profile="smoke", benchmarks=["domainnet"], ranks=[1, 4], vit=False)
    conv = _results()
    together = pd.DataFrame([dict(domain="a", task=0, alone=80.0, together=80.0)])
    claims = ch2.accuracy_claims(cfg, conv, pd.DataFrame(), together)

    def verdict(words: str) -> str:
        return next(c.verdict for c in claims if words in c.statement)
    assert verdict("FTN at its lowest rank beats") == "yes"         # +2 on every (domain, seed)
    assert verdict("task BatchNorm alone closes") == "yes"          # 10 of a 16-point gap
    assert verdict("FTN at its highest rank comes within") == "partly"  # beats FC+BN, but 2 below FT
    assert verdict("accuracy rises with the rank") == "yes"
    assert verdict("No forgetting") == "yes"
    assert all(c.verdict in ("yes", "partly", "no", "inconclusive") for c in ch2.parameter_claims())
