"""Chapter 0 (paperlib.chapters.ch0_embedded_benchmark): parameters and tables."""

import pytest
from validation import assert_rejected

from paperlib.chapters import ch0_embedded_benchmark as ch0
from paperlib.data.embedded import DOMAINS


def test_defaults_take_every_domain():
    cfg = ch0.Ch0Config.from_params(profile="smoke")
    assert set(cfg.domains) == set(DOMAINS) and cfg.baseline_epochs == 1 and cfg.device in ("cpu", "cuda")


#: At least 8 bad parameter sets, each error naming the parameter and what is allowed.
BAD = [
    (dict(profile="paper"), ["profile", "'smoke', 'embedded'"]),
    (dict(profile="tiny"), ["profile", "'tiny'"]),
    (dict(domains=["shapes", "nope"]), ["domains", "'nope'", "shapes"]),
    (dict(domains=["shapes", "shapes"]), ["domains", "duplicates"]),
    (dict(domains=[]), ["domains", "at least 1"]),
    (dict(baseline_epochs=0), ["baseline_epochs", "[1, 100]"]),
    (dict(baseline_width=1000), ["baseline_width", "[4, 256]"]),
    (dict(seed=-3), ["seed", "[0, inf)"]),
    (dict(seed=1.5), ["seed", "float", "int"]),
    (dict(device="tpu"), ["device", "'auto'"]),
    (dict(seeds=[1]), ["'seeds'", "did you mean 'seed'"]),
]


@pytest.mark.parametrize("given, names", BAD)
def test_bad_parameters_are_rejected_in_the_validation_cell(given, names):
    assert_rejected(ch0.Ch0Config, ch0.PARAMS, given, names)


def test_class_counts_table_is_balanced():
    cfg = ch0.Ch0Config.from_params(profile="smoke", domains=["shapes", "letters"])
    table = ch0.class_counts(ch0.load_domains(cfg))
    assert table.loc["letters", "classes"] == 26
    assert table.loc["shapes", "train per class"] == "24"
