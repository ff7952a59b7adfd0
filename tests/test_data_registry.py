import pytest
import torch

from paperlib.config import EMBEDDED_SIZES
from paperlib.data import benchmark, generate_domain, get_dataset, list_datasets, stand_in_rows
from paperlib.data.embedded import DOMAINS
from paperlib.data.real import PAPER_DATASETS


def test_at_least_ten_domains_with_names_and_templates():
    assert len(DOMAINS) >= 10
    for d in DOMAINS.values():
        assert d.n_classes >= 2
        assert all("{}" in t for t in d.templates)
        assert all(isinstance(c, str) and c for c in d.classnames)


def test_list_datasets_per_profile():
    assert list_datasets("smoke") == list_datasets("embedded") == sorted(DOMAINS)
    assert list_datasets("paper") == sorted(PAPER_DATASETS)
    assert set(list_datasets()) == set(DOMAINS) | set(PAPER_DATASETS)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_every_domain_follows_the_generator_contract(name):
    images, labels = generate_domain(name, "train", 3, seed=0)
    n = DOMAINS[name].n_classes
    assert images.dtype == torch.uint8 and images.shape == (3 * n, 3, 32, 32)
    assert torch.equal(torch.bincount(labels, minlength=n), torch.full((n,), 3))
    assert images.float().std() > 5  # not blank


def test_stand_in_table_names_exist():
    for row in stand_in_rows():
        assert row["embedded"] in DOMAINS, row
        assert row["paper"] in PAPER_DATASETS, row
        assert row["why"]
    assert benchmark("task_arithmetic_8", "embedded")[4] == "handwritten_digits"
    assert benchmark("task_arithmetic_8", "paper")[4] == "MNIST"
    assert len(benchmark("task_arithmetic_8", "smoke")) == 8
    assert len(benchmark("ch2_domainnet", "embedded")) >= 5
    with pytest.raises(ValueError, match="unknown benchmark 'ch9'"):
        benchmark("ch9", "embedded")


def test_ch4_trio_has_equal_class_counts():
    trio = benchmark("ch4_trio", "embedded")
    assert len(trio) == 3 and len({DOMAINS[d].n_classes for d in trio}) == 1


def test_shared_label_spaces_for_transfer_pairs():
    src, tgt = benchmark("ch3_digits", "embedded")
    assert DOMAINS[src].classnames == DOMAINS[tgt].classnames
    domainnet = benchmark("ch2_domainnet", "embedded")
    assert len({DOMAINS[d].classnames for d in domainnet}) == 1


def test_smoke_dataset_shape_items_and_metadata():
    ds = get_dataset("printed_digits", "val", profile="smoke")
    n = ds.n_classes
    assert len(ds) == EMBEDDED_SIZES["smoke"].val * n
    x, y = ds[0]
    assert x.dtype == torch.float32 and x.shape == (3, 32, 32) and 0 <= x.min() and x.max() <= 1
    assert isinstance(y, int) and 0 <= y < n
    assert ds.classnames == list(DOMAINS["printed_digits"].classnames) and ds.templates
    assert torch.equal(torch.bincount(ds.labels, minlength=n), torch.full((n,), EMBEDDED_SIZES["smoke"].val))


def test_resize_and_grey(tmp_path):
    ds = get_dataset("shapes", "test", profile="smoke", root=tmp_path, image_size=64, channels=1)
    assert ds[0][0].shape == (1, 64, 64)
    assert ds.images.dtype == torch.uint8


def test_transform_is_applied(tmp_path):
    ds = get_dataset("shapes", "test", profile="smoke", root=tmp_path, transform=lambda x: x * 0)
    assert ds[0][0].abs().sum() == 0


def test_deterministic_for_a_seed_and_different_across_seeds_and_splits(tmp_path):
    a = get_dataset("street_digits", "train", profile="smoke", root=tmp_path / "a", seed=3)
    b = get_dataset("street_digits", "train", profile="smoke", root=tmp_path / "b", seed=3)
    c = get_dataset("street_digits", "train", profile="smoke", root=tmp_path / "c", seed=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)
    v = get_dataset("street_digits", "val", profile="smoke", root=tmp_path / "a", seed=3)
    assert not torch.equal(a.images[: len(v)], v.images)


def test_cache_is_read_back_without_regenerating(tmp_path, monkeypatch):
    first = get_dataset("letters", "test", profile="smoke", root=tmp_path)
    files = list(tmp_path.glob("letters-test-*.safetensors"))
    assert len(files) == 1

    def boom(*args, **kwargs):
        raise AssertionError("regenerated although cached")

    import paperlib.data.registry as registry
    monkeypatch.setattr(registry, "generate_domain", boom)
    again = get_dataset("letters", "test", profile="smoke", root=tmp_path)
    assert torch.equal(first.images, again.images)


def test_corrupted_cache_file_is_regenerated_identically(tmp_path):
    first = get_dataset("shapes", "val", profile="smoke", root=tmp_path)
    path = next(tmp_path.glob("shapes-val-*.safetensors"))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="checksum|unreadable"):
        again = get_dataset("shapes", "val", profile="smoke", root=tmp_path)
    assert torch.equal(first.images, again.images)


def test_n_per_class_override(tmp_path):
    ds = get_dataset("shapes", "train", profile="smoke", root=tmp_path, n_per_class=2)
    assert len(ds) == 2 * ds.n_classes


def test_no_exact_duplicates_between_train_and_test():
    for name in DOMAINS:
        tr, _ = generate_domain(name, "train", 10, seed=0)
        te, _ = generate_domain(name, "test", 10, seed=0)
        train_rows = {bytes(img.numpy().tobytes()) for img in tr}
        dup = sum(bytes(img.numpy().tobytes()) in train_rows for img in te)
        assert dup == 0, f"{name}: {dup} test images also in train"


# ---- bad input --------------------------------------------------------------------------------

def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError) as err:
        get_dataset("mnist_typo", "train", profile="embedded")
    assert "'mnist_typo'" in str(err.value) and "'handwritten_digits'" in str(err.value)


def test_paper_dataset_in_embedded_profile_names_its_stand_in():
    with pytest.raises(ValueError) as err:
        get_dataset("MNIST", "train", profile="embedded")
    assert "'handwritten_digits'" in str(err.value) and "profile='paper'" in str(err.value)


def test_embedded_domain_in_paper_profile_is_refused():
    with pytest.raises(ValueError, match="embedded domain"):
        get_dataset("shapes", "train", profile="paper")


@pytest.mark.parametrize("kwargs,match", [
    (dict(split="validation"), "unknown split 'validation'"),
    (dict(profile="full"), "unknown profile 'full'"),
    (dict(image_size=4), "image_size=4 is out of range"),
    (dict(image_size=32.0), "image_size must be an integer"),
    (dict(channels=2), "unknown number of channels 2"),
    (dict(seed=-1), "seed=-1 is out of range"),
    (dict(n_per_class=0), "n_per_class=0 is out of range"),
    (dict(download=True), "download=True is only for profile 'paper'"),
])
def test_bad_arguments_raise_before_work(kwargs, match, tmp_path):
    args = dict(name="shapes", split="train", profile="smoke", root=tmp_path)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        get_dataset(**args)
    assert not list(tmp_path.glob("*.safetensors"))  # nothing was generated
