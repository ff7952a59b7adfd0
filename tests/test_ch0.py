import pytest

from paperlib.chapters.ch0_benchmark import Ch0Config, class_counts, load_domains
from paperlib.data.embedded import DOMAINS


def test_defaults_take_every_domain():
    cfg = Ch0Config.from_params(profile="smoke")
    assert set(cfg.domains) == set(DOMAINS) and cfg.baseline_epochs == 1


@pytest.mark.parametrize("kwargs,match", [
    (dict(profile="paper"), "embedded benchmark"),
    (dict(profile="tiny"), "unknown profile 'tiny'"),
    (dict(domains=["shapes", "nope"]), "unknown embedded domain 'nope'"),
    (dict(domains=["shapes", "shapes"]), "duplicates"),
    (dict(baseline_epochs=0), "baseline_epochs=0"),
    (dict(seed=-3), "seed=-3"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Ch0Config.from_params(**kwargs)


def test_class_counts_table_is_balanced():
    cfg = Ch0Config.from_params(profile="smoke", domains=["shapes", "letters"])
    table = class_counts(load_domains(cfg))
    assert table.loc["letters", "classes"] == 26
    assert table.loc["shapes", "train per class"] == "24"
