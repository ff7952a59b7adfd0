"""paperlib.data.fake_root: every paper dataset written in its real format, loaded by the ``paper`` loaders.

One fake root (one image per class and split, the smallest there is) is written per module; every split of
every dataset of :data:`~paperlib.data.real.PAPER_DATASETS` must load from it through
:func:`~paperlib.data.real.load_paper_dataset` with ``download=False``, at the real class count and image size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from paperlib.config import SPLITS
from paperlib.data import fake_root as fr
from paperlib.data import templates as tpl
from paperlib.data.real import PAPER_DATASETS, heldout_size, load_paper_dataset

K, T = 1, 1  # train_per_class, test_per_class of the module's root


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return fr.write_fake_root(tmp_path_factory.mktemp("fake") / "data", train_per_class=K, test_per_class=T)


def test_every_paper_dataset_has_a_writer_sizes_and_a_class_count():
    assert list(fr._WRITERS) == list(PAPER_DATASETS)
    for name in PAPER_DATASETS:
        assert fr.native_sizes(name) and fr.class_counts()[name] >= 7
    assert set(fr.IMAGE_SIZES) == set(fr.IMAGE_SIZE_SOURCES)


def _official_sizes(name: str, n_classes: int) -> tuple[int, int, int]:
    """(train, val, test) sizes the loader must give on a root of K / T images per class and split
    (write_fake_root's docstring says where K and T go)."""
    if name == "EuroSAT":  # one folder; test and val 10 % each (Ilharco et al.'s EuroSAT_splits)
        n = (K + T) * n_classes
        return n - 2 * int(0.1 * n), int(0.1 * n), int(0.1 * n)
    if name == "FER2013":
        return K * n_classes, T * n_classes, T * n_classes
    if name == "Flowers102":
        return K * n_classes, K * n_classes, T * n_classes
    n_train = (2 * K if name == "DTD" else K) * n_classes  # DTD: train1 + val1
    val = heldout_size(n_train)
    return n_train - val, val, T * n_classes


@pytest.mark.parametrize("name", list(PAPER_DATASETS))
def test_every_split_loads_at_real_class_count_and_size(root, name):
    spec = PAPER_DATASETS[name]
    n_classes = fr.class_counts()[name]
    assert spec.n_classes in (None, n_classes)
    splits = {s: load_paper_dataset(name, s, root, download=False) for s in SPLITS}
    assert tuple(len(splits[s]) for s in SPLITS) == _official_sizes(name, n_classes)
    sizes = {(spec.default_image_size,) * 2} if spec.default_image_size else set(fr.native_sizes(name))
    for split, ds in splits.items():
        assert len(ds.classnames) == n_classes, split
        assert all(0 <= y < n_classes for y in ds.targets), split
        x, y = ds[0]
        assert x.shape[0] == 3 and (x.shape[2], x.shape[1]) in sizes and y == ds.targets[0], split
    every = set(range(n_classes))
    if name == "EuroSAT":  # drawn at random from one folder: together they hold every class
        assert set().union(*(ds.targets for ds in splits.values())) == every
    else:  # every class has K >= 1 training and T >= 1 test images
        assert set(splits["train"].targets) | set(splits["val"].targets) == every
        assert set(splits["test"].targets) == every


def test_real_class_names_where_known(root):
    def names(name):
        return load_paper_dataset(name, "test", root).classnames
    assert names("CIFAR10") == list(fr.CIFAR10_CLASSES)
    assert names("CIFAR100")[:3] == ["apple", "aquarium fish", "baby"] and names("CIFAR100")[-1] == "worm"
    assert names("DTD") == list(fr.DTD_CLASSES)
    assert names("RESISC45") == [tpl.readable(c) for c in tpl.RESISC45_CLASSES]
    assert sorted(names("ImageNetToSketch:flowers")) == sorted(tpl.flowers102_classnames())
    assert names("SUN397")[:2] == ["class 000 outdoor", "class 001"]  # placeholders, '/c/class_000/outdoor'


def test_manifest_records_what_was_written(root):
    manifest = fr.read_manifest(root)
    assert manifest["parameters"] == {"generator": "paperlib.data.fake_root", "version": fr.GENERATOR_VERSION,
                                      "seed": 0, "train_per_class": K, "test_per_class": T,
                                      "datasets": list(PAPER_DATASETS)}
    assert manifest["classes"] == fr.class_counts()
    assert manifest["images"]["MNIST"] == 10 * (K + T) and manifest["images"]["TinyImageNet100"] == 200 * (K + T)
    assert manifest["total_images"] == sum(manifest["images"].values())
    assert not [p for p in root.parent.iterdir() if p.name != root.name]  # no temporary folder left


def _hashes(folder: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = Path(dirpath, f)
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


#: Each kind of file: idx + gz, .mat, pickles, binaries, csv, ppm, jpg, lists (DTD's 10 partitions).
_SAMPLE = ["MNIST", "SVHN", "CIFAR100", "STL10", "FER2013", "GTSRB", "DTD", "EuroSAT"]


def test_two_generations_are_byte_identical(root, tmp_path):
    # written again, one dataset at a time (workers=1) and only some datasets: each dataset's bytes depend on
    # the seed and its name only
    again = fr.write_fake_root(tmp_path / "again", datasets=_SAMPLE, train_per_class=K, test_per_class=T, workers=1)
    files = {p: h for p, h in _hashes(again).items() if p != fr.MANIFEST}
    assert len(files) > 300
    mismatched = [p for p, h in files.items() if hashlib.sha256((root / p).read_bytes()).hexdigest() != h]
    assert not mismatched
    other = fr.write_fake_root(tmp_path / "other", datasets=["MNIST"], train_per_class=K, test_per_class=T, seed=1)
    raw = Path("MNIST/raw/train-images-idx3-ubyte")
    assert (other / raw).read_bytes() != (root / raw).read_bytes()


def test_cached_rewritten_when_corrupt_or_different(tmp_path):
    r = tmp_path / "r"
    kw = dict(datasets=["EuroSAT"], train_per_class=1, test_per_class=1)
    assert fr.write_fake_root(r, **kw) == r.absolute()
    manifest = fr.read_manifest(r)
    assert manifest["images"] == {"EuroSAT": 20}
    (r / "sentinel").write_text("not written by the generator")
    fr.write_fake_root(r, **kw)
    assert (r / "sentinel").exists()  # same arguments: the root is reused
    text = (r / fr.MANIFEST).read_text()
    (r / fr.MANIFEST).write_text(text[: len(text) // 2])  # a half-written manifest
    assert fr.read_manifest(r) is None
    fr.write_fake_root(r, **kw)
    assert not (r / "sentinel").exists() and fr.read_manifest(r) == manifest
    (r / "sentinel").write_text("x")
    fr.write_fake_root(r, **{**kw, "train_per_class": 2})  # other arguments
    assert not (r / "sentinel").exists() and fr.read_manifest(r)["images"] == {"EuroSAT": 30}
    (r / "sentinel").write_text("x")
    shutil.rmtree(r / "eurosat")  # a dataset's folder deleted by hand
    fr.write_fake_root(r, **{**kw, "train_per_class": 2})
    assert not (r / "sentinel").exists() and len(list((r / "eurosat" / "2750").iterdir())) == 10
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_failed_generation_leaves_nothing(tmp_path, monkeypatch):
    def broken(ctx):
        raise RuntimeError("disk full")
    monkeypatch.setitem(fr._WRITERS, "EuroSAT", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        fr.write_fake_root(tmp_path / "r", datasets=["MNIST", "EuroSAT"])
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_folder_that_is_not_a_fake_root(tmp_path):
    (tmp_path / "real" / "MNIST").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not a fake data root"):
        fr.write_fake_root(tmp_path / "real", datasets=["MNIST"])
    assert (tmp_path / "real" / "MNIST").is_dir()
    (tmp_path / "empty").mkdir()
    assert fr.read_manifest(fr.write_fake_root(tmp_path / "empty", datasets=["MNIST"])) is not None


@pytest.mark.parametrize("kwargs, message", [
    (dict(train_per_class=0), r"train_per_class=0 is out of range; allowed: \[1, inf\]"),
    (dict(test_per_class=-1), r"test_per_class=-1 is out of range; allowed: \[1, inf\]"),
    (dict(train_per_class=1.5), r"train_per_class must be an integer, got 1.5"),
    (dict(seed=-1), r"seed=-1 is out of range; allowed: \[0, inf\]"),
    (dict(datasets=["ImageNet"]), r"unknown paper dataset 'ImageNet'; choose one of: 'MNIST', 'SVHN'"),
    (dict(datasets=[]), r"datasets is empty; give None \(all\) or some of: 'MNIST'"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fr.write_fake_root(tmp_path / "r", **kwargs)
    assert not (tmp_path / "r").exists()


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    args = [str(out), "--datasets", "FER2013", "MNIST", "--train-per-class", "1", "--test-per-class", "2"]
    assert fr.main(args) == 0
    text = capsys.readouterr().out
    assert "FER2013" in text and "MNIST" in text and "written" in text and " s" in text
    assert fr.read_manifest(out)["parameters"]["datasets"] == ["MNIST", "FER2013"]
    assert fr.main(args) == 0
    assert "already there" in capsys.readouterr().out
    assert fr.main([str(out), "--train-per-class", "0"]) == 2
    assert "train_per_class=0" in capsys.readouterr().err
