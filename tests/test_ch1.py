"""Chapter 1 (paperlib.chapters.ch1_sequential_tangent_pcgrad): parameters, Table 3, claims."""

import pandas as pd
import pytest
from validation import assert_rejected

from paperlib.chapters import ch1_sequential_tangent_pcgrad as ch1
from paperlib.chapters import kit
from paperlib.reference import CH1_TABLE4_TEXT, CH1_TABLE5


def test_chapter_defaults(monkeypatch):
    cfg = ch1.Ch1Config.from_params(profile="embedded")
    assert cfg.targets == ("vehicles", "textures", "land_cover", "aerial_scenes")  # Cars, DTD, EuroSAT, RESISC45
    assert cfg.references == ("traffic_signs", "handwritten_digits", "photo_scenes", "street_digits")
    assert cfg.methods[0] == "CLIP" and f"S-TL-p0.5-{cfg.rounds}" in cfg.methods and cfg.seeds == (0, 1, 2)
    monkeypatch.setattr("paperlib.data.registry.check_paper_data", lambda *a: None)  # no datasets here
    paper = ch1.Ch1Config.from_params(profile="paper")
    assert paper.targets == ("Cars", "DTD", "EuroSAT", "RESISC45") and "S-TL-p0.5-11" in paper.methods
    assert paper.n_orders is None  # all 24



@pytest.mark.parametrize("profile", ["smoke", "embedded"])
def test_the_lr_sweep_is_centred_on_the_protocol(profile):
    """Fig. 4's grid holds the chapter's own lr (its point is the main runs, cached); embedded's halves
    and doubles it. Changing the protocol's lr without its sweep would sweep around a stale value."""
    cfg = ch1.Ch1Config.from_params(profile=profile)
    assert cfg.lr in cfg.lr_grid
    if profile == "embedded":
        assert cfg.lr_grid == pytest.approx((cfg.lr / 2, cfg.lr, cfg.lr * 2))

def test_the_papers_data_is_checked_before_any_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        ch1.Ch1Config.from_params(profile="paper", data_root=str(tmp_path))


#: At least 8 bad parameter sets, each error naming the parameter and what is allowed.
BAD = [
    (dict(methods=["S-TL-p2"]), ["methods", "out of range"]),
    (dict(methods=["S-TL-p0.5-0"]), ["methods", "rounds"]),
    (dict(methods=["Joint"]), ["methods", "unknown method"]),
    (dict(methods=["S-TL", "S-TL"]), ["methods", "duplicates"]),
    (dict(methods=["S-TL-p0.5-80"]), ["methods", "n ≤ iterations=72"]),
    (dict(rounds=0), ["rounds", "[1, 1000]"]),
    (dict(rounds_grid=[0, 2]), ["rounds_grid", "[1, 1000]"]),
    (dict(orders=25), ["orders", "[1, 24]"]),
    (dict(lr_grid=[0.0]), ["lr_grid", "(0, 1)"]),
    (dict(lr=5.0), ["lr", "(0, 1)"]),
    (dict(iterations=-3), ["iterations", "[1, "]),
    (dict(batch_size=0), ["batch_size", "[1, "]),
    (dict(epoch_scales=[-1]), ["epoch_scales", "(0, 10]"]),
    (dict(seeds=[]), ["seeds", "at least 1"]),
    (dict(seeds=[1, 1]), ["seeds", "duplicates"]),
    (dict(profile="gpu"), ["profile", "'smoke', 'embedded', 'paper'"]),
    (dict(device="tpu"), ["device", "'auto'"]),
    (dict(seed=3), ["'seed'", "did you mean 'seeds'"]),
]


@pytest.mark.parametrize("given, names", BAD)
def test_bad_parameters_are_rejected_in_the_validation_cell(given, names):
    assert_rejected(ch1.Ch1Config, ch1.PARAMS, given, names)


def _runs(values: dict[str, tuple[float, float, float]], seeds=(0, 1, 2)) -> pd.DataFrame:
    return pd.DataFrame([dict(method=m, seed=s, tgt=t + 0.1 * s, ref=r + 0.1 * s, all=a + 0.1 * s)
                         for m, (t, r, a) in values.items() for s in seeds])


def test_table3_sets_the_papers_numbers_beside_ours():
    runs = _runs({"CLIP": (40.0, 30.0, 35.0), "S-TL": (70.0, 20.0, 45.0)})
    t = ch1.table3(runs, ["CLIP", "S-TL"], "embedded")
    assert list(t.index) == ["CLIP", "S-TL"] and [g for g, _ in t.columns][:9:3] == ["tgt", "ref", "all"]
    assert t.loc["S-TL", ("tgt", "paper")] == CH1_TABLE5["S-TL"]["tgt"]
    assert t.loc["S-TL", ("tgt", "difference")] == pytest.approx(70.1 - CH1_TABLE5["S-TL"]["tgt"], abs=0.05)
    assert t.loc["CLIP", ("", "paper source")] == "ch1 Table 5" and t.loc["CLIP", ("", "seeds")] == 3


def test_claims_use_one_vocabulary_and_the_reference_numbers():
    runs = _runs({"CLIP": (40.0, 30.0, 35.0), "S-TL": (70.0, 20.0, 45.0), "S-TL-p0.5": (69.0, 25.0, 47.0),
                  "S-TL-p1": (68.0, 27.0, 47.5)})
    orders = pd.DataFrame(dict(order=["a", "b"], curriculum=[True, False], tgt=[70.0, 69.0], ref=[25.0, 24.0],
                               all=[47.5, 46.5]))
    claims = ch1.claims(ch1.Ch1Config.from_params(profile="embedded"), runs, orders)
    assert all(c.verdict in kit.VERDICTS for c in claims)
    def by(prefix):
        return next(c for c in claims if c.statement.startswith(prefix))

    gain = by("Every fine-tuning method raises target")
    assert gain.verdict == "yes" and gain.seeds == 3
    base = CH1_TABLE5["CLIP"]["tgt"]
    assert gain.paper.startswith(f"{min(v['tgt'] for k, v in CH1_TABLE5.items() if k != 'CLIP') - base:+.0f} to")
    robust = by("S-TL-p0.5 is robust to the training order")
    assert robust.paper == f"< {CH1_TABLE4_TEXT['std_below']:g}" and robust.verdict == "yes" and robust.seeds == 1


def test_closing_numbers():
    runs = _runs({"CLIP": (40.0, 30.0, 35.0), "S-TL": (70.0, 20.0, 45.0)})
    traj = pd.DataFrame({t: [10.0, 80.0, 20.0, 20.0, 20.0] for t in ("vehicles", "textures", "land_cover",
                                                                    "aerial_scenes")} |
                        {t: [50.0, 40.0, 30.0, 20.0, 10.0] for t in ("traffic_signs", "handwritten_digits",
                                                                    "photo_scenes", "street_digits")},
                        index=["CLIP", "vehicles", "textures", "land_cover", "aerial_scenes"])
    cfg = ch1.Ch1Config.from_params(profile="embedded")
    n = ch1.closing_numbers(cfg, runs, None, traj, 840_000)
    assert n["tgt_change_min"] == pytest.approx(30.0) and n["ref_change_max"] == pytest.approx(-10.0)
    assert n["premise"] == "does not hold" and n["forget_ref_start"] == 50.0
    assert ch1.closing_numbers(cfg, runs, None, None, 840_000)["premise"].startswith("could not")
