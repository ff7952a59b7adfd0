import pytest

from paperlib.config import (
    EMBEDDED_SIZES,
    PROFILES,
    cache_dir,
    check_choice,
    check_int_range,
    check_profile,
    check_split,
)


def test_profiles_are_the_three_of_the_book():
    assert PROFILES == ("smoke", "embedded", "paper")
    assert set(EMBEDDED_SIZES) == {"smoke", "embedded"}


@pytest.mark.parametrize("bad", ["Smoke", "full", "", None])
def test_unknown_profile_names_value_and_choices(bad):
    with pytest.raises(ValueError) as err:
        check_profile(bad)
    assert repr(bad) in str(err.value) and "'embedded'" in str(err.value)


def test_unknown_split():
    with pytest.raises(ValueError, match="'validation'.*'train', 'val', 'test'"):
        check_split("validation")


def test_check_choice_returns_value():
    assert check_choice("b", ["a", "b"], "letter") == "b"


@pytest.mark.parametrize("value,lo,hi", [(-1, 0, None), (11, 0, 10), (1.5, 0, 10), (True, 0, 10), ("3", 0, 10)])
def test_int_range_rejects(value, lo, hi):
    with pytest.raises(ValueError, match="n"):
        check_int_range(value, "n", lo, hi)


def test_int_range_accepts_bounds():
    assert check_int_range(0, "n", 0, 10) == 0 and check_int_range(10, "n", 0, 10) == 10


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
