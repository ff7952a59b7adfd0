"""Chapter 4 (paperlib.chapters.ch4_transfer_vs_interference): parameters, and the analysis on hand-built results."""

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from validation import assert_rejected

from paperlib.chapters import ch4_transfer_vs_interference as ch4
from paperlib.chapters import kit
from paperlib.chapters.ch4_transfer_vs_interference import Ch4Config

DOMAINS = ("printed_digits", "traffic_signs", "land_cover")


def test_defaults_per_profile(monkeypatch):
    cfg = Ch4Config.from_params(profile="smoke")
    assert cfg.domains == DOMAINS and cfg.widths == (0.25, 0.5) and cfg.seeds == (0,)
    assert cfg.weightings == ("uniform", "uncertainty", "cov") and cfg.n_runs() == (6, 18)
    assert cfg.name("traffic_signs") == "Tiny-ImageNet" and cfg.name("land_cover") == "MiniPlaces"
    monkeypatch.setattr("paperlib.data.registry.check_paper_data", lambda *a: None)  # no datasets here
    paper = Ch4Config.from_params(profile="paper")
    assert paper.domains == ("CIFAR100", "TinyImageNet100", "MiniPlaces") and paper.seeds == (0, 1, 2)
    assert paper.n_runs() == (36, 108)  # the paper's 36 single-domain and 108 MDL models
    assert paper.protocol.schedule(1) == (250, (140, 210))
    emb = Ch4Config.from_params(epochs=10, lr=0.05, batch_size=64, widths=[2, 0.5])
    assert emb.protocol.single_epochs == 10 and emb.protocol.lr == 0.05 and emb.widths == (0.5, 2)
    assert "36" not in emb.summary() and "12 independent" not in emb.summary() and "6 independent" in emb.summary()


def test_run_specs_keep_their_keys():
    """The defaults resolve to the same protocol (and so the same run-cache keys) as before the kit."""
    from paperlib.mdl import PROTOCOLS
    assert Ch4Config.from_params(profile="embedded").protocol == PROTOCOLS["embedded"]


#: At least 8 bad parameter sets, each error naming the parameter and what is allowed.
BAD = [
    (dict(domains=["land_cover"]), ["domains", "at least 2"]),
    (dict(domains=["land_cover", "land_cover"]), ["domains", "duplicates"]),
    (dict(domains=["land_cover", "nope"]), ["domains", "'nope'", "land_cover"]),
    (dict(domains=["land_cover", "CIFAR100"]), ["domains", "'CIFAR100'"]),
    (dict(widths=[0.3]), ["widths", "0.3"]),
    (dict(widths=[]), ["widths", "at least 1"]),
    (dict(widths=[0.5, 0.5]), ["widths", "duplicates"]),
    (dict(weightings=["gradnorm"]), ["weightings", "'gradnorm'", "'uniform', 'uncertainty', 'cov'"]),
    (dict(seeds=[0, 0]), ["seeds", "duplicates"]),
    (dict(epochs=0), ["epochs", "[1, 10000]"]),
    (dict(lr=5.0), ["lr", "(0, 1)"]),
    (dict(lr=-1), ["lr", "(0, 1)"]),
    (dict(batch_size=1), ["batch_size", "[2, 65536]"]),
    (dict(profile="huge"), ["profile", "'huge'", "'smoke', 'embedded', 'paper'"]),
    (dict(device="tpu"), ["device", "'tpu'", "'auto'"]),
    (dict(epochs=[4]), ["epochs", "list", "int"]),
    (dict(width=[1]), ["'width'", "did you mean 'widths'"]),
]


@pytest.mark.parametrize("given, names", BAD)
def test_bad_parameters_are_rejected_in_the_validation_cell(given, names):
    assert_rejected(Ch4Config, ch4.PARAMS, given, names)


def test_any_width_with_whole_channels_is_allowed():
    assert Ch4Config.from_params(widths=[3.0]).widths == (3.0,)


def _scores(transfer_of, interference_of, widths=(0.25, 0.5, 1.0), seeds=(0, 1)):
    """A scores frame for the trio: each joint model's domain scores from two functions of
    (width, weighting, domain, partner, seed)."""
    rows = []
    params = {w: int(30_000 * 4 ** i) for i, w in enumerate(widths)}
    for s, w, wt, (a, b) in itertools.product(seeds, widths, ("uniform", "uncertainty", "cov"),
                                              itertools.combinations(DOMAINS, 2)):
        for d, p in ((a, b), (b, a)):
            t, i = transfer_of(w, wt, d, p, s), interference_of(w, wt, d, p, s)
            rows.append(dict(seed=s, width=w, params=params[w], weighting=wt, pair=f"{a} & {b}", domain=d, partner=p,
                             acc=50.0, single_acc=50.0, perf_gain=(t - i) / 2, interference=i, transfer=t))
    return pd.DataFrame(rows)


def _cka(widths=(0.25, 0.5, 1.0), seeds=(0, 1)):
    sim = {("printed_digits", "traffic_signs"): 0.6, ("printed_digits", "land_cover"): 0.3,
           ("traffic_signs", "land_cover"): 0.4}
    return pd.DataFrame([dict(seed=s, width=w, pair=f"{a} & {b}", a=a, b=b, cka=v + 0.01 * s, cka_debiased=v)
                         for s, w, ((a, b), v) in itertools.product(seeds, widths, sim.items())])


def test_more_similar_partner_comes_from_cka():
    # transfer is 10 points higher with the more similar partner (by the CKA above)
    near = {"printed_digits": "traffic_signs", "traffic_signs": "printed_digits", "land_cover": "traffic_signs"}
    scores = _scores(lambda w, wt, d, p, s: 30.0 + 10 * (near[d] == p), lambda w, wt, d, p, s: 20.0)
    diffs = ch4.similarity_differences(scores, _cka())
    assert len(diffs) == 3 * 3 * 3
    assert (diffs.d_transfer == 10).all() and (diffs.d_interference == 0).all()
    assert dict(zip(diffs.domain, diffs.similar)) == near
    order = ch4.cka_order(_cka(), Ch4Config.from_params(profile="smoke"))
    # printed_digits/traffic_signs/land_cover stand in for CIFAR/Tiny/Places: the paper's Eq. (4) order
    assert order["as ch4 Eq. (4)"].all()


def test_capacity_steps_and_fits():
    scores = _scores(lambda w, wt, d, p, s: 10 + 20 * math.log2(4 * w),
                     lambda w, wt, d, p, s: 60 - 20 * math.log2(4 * w))
    steps = ch4.capacity_steps(scores)
    assert len(steps) == 3 * 2 and np.allclose(steps.transfer_gain, 20) and np.allclose(steps.interference_drop, 20)
    f = ch4.fits(scores)
    assert f.loc["all", "slope"] == pytest.approx(-1.0) and f.loc["all", "r2"] == pytest.approx(1.0)


def test_ttests_pair_by_seed_pairing_and_domain():
    rng = np.random.default_rng(0)
    noise = {k: rng.normal() for k in itertools.product((0, 1), (0.25, 0.5, 1.0), DOMAINS, DOMAINS,
                                                         ("uniform", "uncertainty", "cov"))}
    # CoV transfers 5 points more than the others, at every width
    scores = _scores(lambda w, wt, d, p, s: 30 + 5 * (wt == "cov") + noise[s, w, d, p, wt], lambda *a: 20.0)
    tt = ch4.ttests(scores)
    assert set(tt.n) == {2 * 3 * 2}  # seeds × pairings × domains
    row = tt[(tt.metric == "transfer") & (tt.a == "uniform") & (tt.b == "cov") & (tt.width == "1x")].iloc[0]
    assert row["diff"] == pytest.approx(-5, abs=1.0) and row.p < 0.001 and row.significant
    assert tt[(tt.metric == "interference")].p.isna().all()  # identical scores: no test


def test_claims_on_a_paper_like_result():
    near = {"printed_digits": "traffic_signs", "traffic_signs": "printed_digits", "land_cover": "traffic_signs"}

    def transfer(w, wt, d, p, s):
        return 10 + 20 * math.log2(4 * w) - 3 * math.log2(4 * w) ** 2 + 5 * (near[d] == p) + 0.1 * s

    def interference(w, wt, d, p, s):
        return 60 - 20 * math.log2(4 * w) - 2 * (near[d] == p) + 0.2 * s

    cfg = Ch4Config.from_params(profile="smoke", widths=[0.25, 0.5, 1.0], seeds=[0, 1])
    scores, cka = _scores(transfer, interference), _cka()
    single = pd.DataFrame([dict(seed=s, width=w, params=1, domain=d, acc=acc + 10 * math.log2(4 * w) - (4 * w) ** 1.1)
                           for s, w, (d, acc) in itertools.product((0, 1), (0.25, 0.5, 1.0),
                                                                   zip(DOMAINS, (60, 50, 40)))])
    claims = ch4.claims(cfg, single, scores, cka, ch4.ttests(scores), ch4.similarity_differences(scores, cka),
                        ch4.capacity_steps(scores))
    assert all(c.verdict in kit.VERDICTS and c.seeds == 2 and c.where.startswith("ch4 ") for c in claims)
    got = {c.statement[:30]: c.verdict for c in claims}
    assert got["Less interference correlates w"] == "yes"
    assert got["Greater capacity leads to less"] == "yes"
    assert got["A more similar pairing yields "] == "yes"
    assert got["CKA orders the pairings CIFAR–"] == "yes"
    assert got["Independent accuracy rises wit"] == "yes"
    assert got["Weightings differ in PerfGain "] in ("no", "partly")  # identical weightings here
    numbers = ch4.closing_numbers(cfg, single, scores, cka)
    assert numbers["capacity_trend"] == "rises up to the widest model"  # accuracy rises with width here
    assert numbers["cka_mean"] == pytest.approx(0.4383, abs=1e-3)
    assert (numbers["paper_cka_low"], numbers["paper_cka_high"]) == ch4.paper_cka_range()


def test_width_gate_flags_a_fall_in_mean_independent_accuracy():
    single = pd.DataFrame(dict(width=[0.5, 0.5, 1.0, 1.0, 2.0, 2.0], domain=list("ababab"),
                               acc=[40.0, 50.0, 50.0, 60.0, 48.0, 60.0]))
    gate = ch4.width_gate(single)
    assert list(gate.index) == ["0.5x", "1x", "2x"] and gate.accuracy.tolist() == [45.0, 55.0, 54.0]
    assert gate.falls.tolist() == [False, False, False]  # -1.0 is within the tolerance
    assert ch4.width_gate(single, tolerance=0.5).falls.tolist() == [False, False, True]


def test_width_records_tabulate_each_sweep_and_name_a_bad_file(tmp_path):
    rows = [dict(width=w, domain=d, acc=a) for w, a in ((1.0, 50.0), (2.0, 40.0)) for d in ("a", "b")]
    record = dict(label="x", date="2026-12-02", commit="abc", workers=2, protocol="p",
                  sweeps=[dict(epochs=4, seconds=0.0, rows=rows),
                          dict(epochs=8, seconds=20.0, rows=[{**r, "acc": r["acc"] + 20 * (r["width"] == 2.0)}
                                                             for r in rows])])
    (tmp_path / "widths.json").write_text(json.dumps(record))
    t = ch4.width_records(tmp_path)
    assert t.epochs.tolist() == [4, 8] and t["gate met"].tolist() == [False, True]
    assert t["2x"].tolist() == [40.0, 60.0] and t.record.iloc[0] == "2026-12-02 · abc"
    assert t["change at widest"].tolist() == [-10.0, 10.0]
    assert math.isnan(t.seconds.iloc[0]) and t.seconds.iloc[1] == 20.0  # loaded from the cache, then trained
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="bad.json"):
        ch4.width_records(tmp_path)
