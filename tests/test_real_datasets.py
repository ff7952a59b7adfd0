"""The papers' dataset loaders (profile ``paper``) on tiny datasets written in the real on-disk formats.

Every fixture below writes files the way the official archives (or torchvision's downloads) lay them out:
MNIST idx files, CIFAR pickles, SVHN/Flowers/Cars .mat files, STL-10 binaries, the FER2013 csv, GTSRB's
ppm folders and csv, DTD/SUN397/RESISC45/MiniPlaces/DomainNet list files, Tiny-ImageNet's folders, with the
format writers of :mod:`paperlib.data.fake_root` (which also writes every dataset at its real class count and
image size: ``tests/test_fake_root.py``). Their small, hand-picked contents are what the checks below rely on.
They are loaded through :func:`paperlib.data.real.load_paper_dataset`, the code path of the ``paper`` profile, with
``download=False`` (no network).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from paperlib.data import fake_root as fr
from paperlib.data import real
from paperlib.data.real import PAPER_DATASETS, heldout_size, load_paper_dataset, train_val_indices

RNG = np.random.default_rng(0)


def _img(path: Path, size=(12, 10), mode="RGB") -> None:
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    fr.save_image(path, RNG.integers(0, 256, shape, dtype=np.uint8))  # (H, W) -> L, (H, W, 3) -> RGB


def _rgb(n: int, side: int) -> np.ndarray:
    return RNG.integers(0, 256, (n, side, side, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------------------
# Small datasets in the real formats (the format writers are paperlib.data.fake_root's)


def make_mnist(root: Path) -> None:
    raw = root / "MNIST" / "raw"
    # training files as distributed (.gz), test files extracted, as torchvision leaves them
    fr.write_idx(raw / "train-images-idx3-ubyte", RNG.integers(0, 256, (30, 28, 28)), gz=True)
    fr.write_idx(raw / "train-labels-idx1-ubyte", np.arange(30) % 10, gz=True)
    fr.write_idx(raw / "t10k-images-idx3-ubyte", RNG.integers(0, 256, (7, 28, 28)))
    fr.write_idx(raw / "t10k-labels-idx1-ubyte", np.array([3, 1, 4, 1, 5, 9, 2]))


CIFAR10_NAMES = list(fr.CIFAR10_CLASSES)


def make_cifar10(root: Path) -> None:
    # 5 training batches of 4 images, labels (4 * i + j) % 10 for batch i, image j
    fr.write_cifar10(root, (_rgb(20, 32), [(4 * i + j) % 10 for i in range(1, 6) for j in range(4)]),
                     (_rgb(6, 32), [0, 1, 2, 3, 4, 5]))


def make_cifar100(root: Path) -> None:
    names = ["apple", "aquarium_fish"] + [f"class_{i}" for i in range(2, 100)]
    fr.write_cifar100(root, (_rgb(40, 32), [i % 100 for i in range(40)]), (_rgb(5, 32), [1, 1, 2, 3, 99]),
                      fine_names=names, coarse_names=["c"] * 20, coarse_of=[0] * 100)


def make_svhn(root: Path) -> None:
    for split, labels in (("train", np.arange(1, 21) % 10 + 1), ("test", np.array([10, 1, 2]))):
        fr.write_svhn_mat(root / "svhn" / f"{split}_32x32.mat", _rgb(len(labels), 32), labels)


def make_gtsrb(root: Path) -> None:
    base = root / "gtsrb"
    for c in range(43):
        for j in range(2 if c < 7 else 1):  # 50 training images
            _img(base / "GTSRB" / "Training" / f"{c:05d}" / f"00000_{j:05d}.ppm")
        fr.write_gtsrb_csv(base / "GTSRB" / "Training" / f"{c:05d}" / f"GT-{c:05d}.csv", [])
    rows = []
    for i, c in enumerate([14, 0, 42]):
        _img(base / "GTSRB" / "Final_Test" / "Images" / f"{i:05d}.ppm")
        rows.append((f"{i:05d}.ppm", 12, 10, 1, 1, 11, 9, c))
    fr.write_gtsrb_csv(base / "GT-final_test.csv", rows)


DTD_CLASSES = ["banded", "braided", "bubbly"]


def make_dtd(root: Path) -> None:
    base = root / "dtd" / "dtd"
    lists = {"train": [], "val": [], "test": []}
    for c in DTD_CLASSES:
        for k in range(8):
            rel = f"{c}/{c}_{k:04d}.jpg"
            _img(base / "images" / rel)
            lists["train" if k < 4 else "val" if k < 6 else "test"].append(rel)
    for s, rels in lists.items():
        fr.write_lines(base / "labels" / f"{s}1.txt", rels)
        fr.write_lines(base / "labels" / f"{s}2.txt", reversed(rels))  # another partition


def make_cars(root: Path) -> None:
    base = root / "stanford_cars"
    fr.write_cars_meta(base / "devkit" / "cars_meta.mat",
                       ["AM General Hummer SUV 2000", "Acura RL Sedan 2012", "Tesla Model S Sedan 2012"])
    for split, labels, mat in (("train", [1, 2, 3, 1, 2, 3, 1, 2, 3, 3, 3], base / "devkit" / "cars_train_annos.mat"),
                               ("test", [3, 1], base / "cars_test_annos_withlabels.mat")):
        rows = []
        for i, y in enumerate(labels):
            fname = f"{i + 1:05d}.jpg"
            _img(base / f"cars_{split}" / fname)
            rows.append((1, 1, 10, 8, y, fname))
        fr.write_cars_annotations(mat, rows)


EUROSAT_FOLDERS = list(fr.EUROSAT_FOLDERS)


def make_eurosat(root: Path) -> None:
    for c in EUROSAT_FOLDERS:
        for k in range(1, 5):  # 40 images
            _img(root / "eurosat" / "2750" / c / f"{c}_{k}.jpg", size=(16, 16))


def make_sun397(root: Path) -> None:
    base = root / "SUN397"
    cats = ["/a/abbey", "/a/apartment_building/outdoor", "/b/bakery/shop"]
    fr.write_lines(base / "ClassName.txt", cats)
    train, test = [], []
    for c in cats:
        for k in range(6):
            rel = f"{c}/sun_{c.replace('/', '')}{k}.jpg"
            _img(base / rel.strip("/"))
            (train if k < 4 else test).append(rel)
    fr.write_lines(base / "Training_01.txt", train)
    fr.write_lines(base / "Testing_01.txt", test)


def make_resisc45(root: Path) -> None:
    base = root / "resisc45"
    lists = {"train": [], "val": [], "test": []}
    for c in ["airplane", "baseball_diamond", "wetland"]:
        for k in range(1, 8):
            fname = f"{c}_{k:03d}.jpg"
            _img(base / "NWPU-RESISC45" / c / fname)
            lists["train" if k <= 4 else "val" if k == 5 else "test"].append(fname)
    for s, names in lists.items():
        fr.write_lines(base / f"resisc45-{s}.txt", names)


def make_stl10(root: Path) -> None:
    base = root / "stl10_binary"
    for split, labels in (("train", np.arange(20) % 10 + 1), ("test", np.array([10, 1, 5]))):
        fr.write_stl10_split(base, split, _rgb(len(labels), 96), labels)
    fr.write_lines(base / "class_names.txt", ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey",
                                              "ship", "truck"])


def make_fer2013(root: Path) -> None:
    usages = ["Training"] * 12 + ["PublicTest"] * 3 + ["PrivateTest"] * 4
    fr.write_fer2013_csv(root / "fer2013" / "fer2013.csv",
                         [(i % 7, RNG.integers(0, 256, (48, 48)), u) for i, u in enumerate(usages)])


def make_flowers(root: Path) -> None:
    base = root / "flowers-102"
    labels = np.array([1, 1, 2, 77, 102, 5, 3, 3])
    for i in range(1, len(labels) + 1):
        _img(base / "jpg" / f"image_{i:05d}.jpg")
    fr.write_flowers_mats(base, labels, trnid=[1, 3, 5], valid=[2, 4], tstid=[6, 7, 8])


def make_tiny_imagenet(root: Path) -> list[str]:
    base = root / "tiny-imagenet-200"
    wnids = [f"n{1000 + 7 * i:08d}" for i in range(120)]
    fr.write_lines(base / "wnids.txt", wnids)
    fr.write_lines(base / "words.txt", [f"{w}\tthing {i}, other name" for i, w in enumerate(wnids[:110])])
    ann = []
    for i, w in enumerate(wnids):
        for k in range(2):
            _img(base / "train" / w / "images" / f"{w}_{k}.JPEG", size=(64, 64))
        fr.write_lines(base / "train" / w / f"{w}_boxes.txt", [f"{w}_0.JPEG\t0\t0\t10\t10"])
        _img(base / "val" / "images" / f"val_{i}.JPEG", size=(64, 64))
        ann.append(f"val_{i}.JPEG\t{w}\t0\t0\t10\t10")
    fr.write_lines(base / "val" / "val_annotations.txt", ann)
    return wnids


MINIPLACES_CATS = ["/a/abbey", "/b/bakery/shop", "/y/yard"]


def make_miniplaces(root: Path) -> None:
    base = root / "miniplaces"
    fr.write_lines(base / "categories.txt", [f"{c} {i}" for i, c in enumerate(MINIPLACES_CATS)])
    train, val = [], []
    for i, c in enumerate(MINIPLACES_CATS):
        for k in range(6):
            rel = f"train{c}/{i * 6 + k + 1:08d}.jpg"
            _img(base / "images" / rel, size=(128, 128))
            train.append(f"{rel} {i}")
    for k, y in enumerate([2, 0, 1, 1]):
        _img(base / "images" / "val" / f"{k + 1:08d}.jpg", size=(128, 128))
        val.append(f"val/{k + 1:08d}.jpg {y}")
    fr.write_lines(base / "train.txt", train)
    fr.write_lines(base / "val.txt", val)


def make_domainnet(root: Path) -> None:
    base = root / "domainnet"
    classes = ["aircraft_carrier", "The_Eiffel_Tower", "zebra"]  # DomainNet's label order is alphabetical
    lists = {"train": [], "test": []}
    for y, c in enumerate(classes):
        for k in range(5):
            rel = f"clipart/{c}/clipart_{y:03d}_{k:06d}.jpg"
            _img(base / rel)
            lists["train" if k < 4 else "test"].append(f"{rel} {y}")
    for s, lines in lists.items():
        fr.write_lines(base / f"clipart_{s}.txt", lines)


def make_imagenet_to_sketch(root: Path) -> None:
    base = root / "imagenet_to_sketch" / "cubs_cropped"  # Piggyback's folder name
    for split, n in (("train", 5), ("test", 2)):
        for c in ["001.Black_footed_Albatross", "002.Laysan_Albatross"]:
            for k in range(n):
                _img(base / split / c / f"{c}_{k}.jpg")


MAKERS = {"MNIST": make_mnist, "CIFAR10": make_cifar10, "CIFAR100": make_cifar100, "SVHN": make_svhn,
          "GTSRB": make_gtsrb, "DTD": make_dtd, "Cars": make_cars, "EuroSAT": make_eurosat, "SUN397": make_sun397,
          "RESISC45": make_resisc45, "STL10": make_stl10, "FER2013": make_fer2013, "Flowers102": make_flowers,
          "TinyImageNet100": make_tiny_imagenet, "MiniPlaces": make_miniplaces,
          "DomainNet:clipart": make_domainnet, "ImageNetToSketch:cub": make_imagenet_to_sketch}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    r = tmp_path_factory.mktemp("paper_data")
    for make in MAKERS.values():
        make(r)
    return r


def load(name, split, root, **kw):
    return load_paper_dataset(name, split, root, **kw)


# ---------------------------------------------------------------------------------------------------------
# Split rule


def test_heldout_rule_is_ilharco_et_al():
    assert heldout_size(60_000) == 5000 and heldout_size(26_640) == 2664 and heldout_size(8144) == 814
    assert heldout_size(73_257, val_size=7326) == 7326
    train, val = train_val_indices(60_000, seed=0)
    assert train[0] == 36044  # the index Ilharco et al.'s split_train_into_train_val asserts for MNISTVal
    assert len(val) == 5000 and len(train) == 55_000 and not set(train) & set(val)
    assert train_val_indices(60_000, seed=0) == (train, val)
    assert train_val_indices(60_000, seed=1)[1] != val
    with pytest.raises(ValueError):
        heldout_size(5)  # 10 % of 5 is no image


def test_every_name_has_a_spec_and_templates():
    assert len(PAPER_DATASETS) == 26
    for name, spec in PAPER_DATASETS.items():
        assert spec.name == name and spec.layout and spec.protocol and spec.templates
        assert all(t.count("{}") == 1 for t in spec.templates), name
        assert name in spec.describe()


def test_unknown_name_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown paper dataset"):
        load("ImageNet", "train", tmp_path)
    with pytest.raises(ValueError, match="unknown split"):
        load("MNIST", "validation", tmp_path)


@pytest.mark.parametrize("name", sorted(PAPER_DATASETS))
def test_missing_folder_raises_with_layout(name, tmp_path):
    for split in ("train", "test"):
        with pytest.raises(FileNotFoundError, match="Expected layout") as err:
            load(name, split, tmp_path / "empty")
        assert PAPER_DATASETS[name].layout.splitlines()[0] in str(err.value)
        assert ("download=True" in str(err.value)) and name in str(err.value)


@pytest.mark.parametrize("name", ["Cars", "RESISC45", "FER2013", "TinyImageNet100", "MiniPlaces", "DomainNet:real",
                                  "ImageNetToSketch:wikiart", "SUN397"])
def test_no_download_where_none_exists(name, tmp_path):
    # These have no download (SUN397 and Cars: torchvision's URLs are dead), so nothing touches the network.
    with pytest.raises(FileNotFoundError, match="download=True is not possible|not found"):
        load(name, "test", tmp_path, download=True)


@pytest.mark.parametrize("name", ["SUN397", "Cars"])
def test_dead_torchvision_downloads_are_not_attempted(name, root, tmp_path, monkeypatch):
    # torchvision's SUN397 URL (pytorch/vision issue 9348) and Stanford Cars' official URL are dead.
    import torchvision.datasets.utils as tvu

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")
    for fn in ("download_url", "download_and_extract_archive"):
        monkeypatch.setattr(tvu, fn, no_network)
    spec = PAPER_DATASETS[name]
    assert spec.download is None and "can no longer download" in spec.obtain and "by hand" in spec.obtain
    MAKERS[name](tmp_path)  # the lists and annotations are there, the class names or images are not
    missing = (tmp_path / "SUN397" / "ClassName.txt" if name == "SUN397"
               else tmp_path / "stanford_cars" / "cars_test")
    if missing.is_dir():
        import shutil
        shutil.rmtree(missing)
    else:
        missing.unlink()
    with pytest.raises(FileNotFoundError, match="download=True is not possible") as err:
        load(name, "test", tmp_path, download=True)
    assert f"download=True is not available for {name}" in str(err.value) and "by hand" in str(err.value)
    assert len(load(name, "test", root, download=True)) == len(load(name, "test", root))  # files placed by hand


def test_torchvision_not_found_becomes_file_not_found(tmp_path):
    def fail():
        raise RuntimeError("Dataset not found. You can use download=True to download it")
    with pytest.raises(FileNotFoundError, match="Expected layout"):
        real._torchvision("GTSRB", tmp_path, fail)


# ---------------------------------------------------------------------------------------------------------
# Loading each format


def check_heldout(name, root, n_train_official, n_test, **kw):
    """train + val = the official training set, disjoint, val = min(10 %, 5000), seeded, reproducible."""
    tr, va, te = (load(name, s, root, **kw) for s in ("train", "val", "test"))
    n_val = heldout_size(n_train_official, kw.get("val_size"))
    assert (len(tr), len(va), len(te)) == (n_train_official - n_val, n_val, n_test)
    i_tr, i_va = tr.base.indices, va.base.indices
    assert not set(i_tr) & set(i_va) and sorted(i_tr + i_va) == list(range(n_train_official))
    assert load(name, "val", root, **kw).base.indices == i_va
    assert tr.targets == [tr.base.dataset[i][1] for i in i_tr][: len(tr)]
    return tr, va, te


def test_mnist(root):
    tr, va, te = check_heldout("MNIST", root, 30, 7)
    x, y = tr[0]
    assert x.shape == (3, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert te.targets == [3, 1, 4, 1, 5, 9, 2] and tr.classnames == [str(i) for i in range(10)]
    assert tr.templates == ['a photo of the number: "{}".']
    grey = load("MNIST", "test", root, channels=1, image_size=16)
    assert grey[0][0].shape == (1, 16, 16)
    assert (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()  # extracted from the .gz


def test_cifar10(root):
    tr, va, te = check_heldout("CIFAR10", root, 20, 6)
    assert tr.classnames == CIFAR10_NAMES and te.targets == [0, 1, 2, 3, 4, 5]
    assert tr[0][0].shape == (3, 32, 32)
    assert load("CIFAR10", "test", root, channels=1)[0][0].shape == (1, 32, 32)
    other = load("CIFAR10", "val", root, seed=3)
    assert other.base.indices != va.base.indices  # another seed, another held-out set


def test_cifar100(root):
    tr, va, te = check_heldout("CIFAR100", root, 40, 5)
    assert len(tr.classnames) == 100 and tr.classnames[1] == "aquarium fish"
    assert te.targets == [1, 1, 2, 3, 99]


def test_svhn(root):
    tr, _, te = check_heldout("SVHN", root, 20, 3)
    assert te.targets == [0, 1, 2]  # label 10 is digit 0
    assert tr[0][0].shape == (3, 32, 32)
    assert len(load("SVHN", "val", root, val_size=5)) == 5  # e.g. ch3's 10 % without the cap


def test_gtsrb(root):
    tr, _, te = check_heldout("GTSRB", root, 50, 3)
    assert te.targets == [14, 0, 42] and tr.classnames[14] == "stop" and len(tr.classnames) == 43
    assert sorted(set(tr.targets + load("GTSRB", "val", root).targets)) == list(range(43))


def test_gtsrb_incomplete_training_folder(root, tmp_path):
    (tmp_path / "gtsrb" / "GTSRB" / "Training" / "00000").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="expected 43"):
        load("GTSRB", "train", tmp_path)


def test_dtd_uses_train1_plus_val1(root):
    tr, va, te = check_heldout("DTD", root, 18, 6)
    assert tr.classnames == DTD_CLASSES and te.targets == [0, 0, 1, 1, 2, 2]


def test_cars(root):
    tr, _, te = check_heldout("Cars", root, 11, 2)
    assert te.targets == [2, 0] and tr.classnames[0] == "AM General Hummer SUV 2000"
    assert tr[0][0].shape == (3, 10, 12)


def test_eurosat_split(root):
    tr, va, te = (load("EuroSAT", s, root) for s in ("train", "val", "test"))
    assert (len(tr), len(va), len(te)) == (32, 4, 4)
    sets = [set(d.base.indices) for d in (tr, va, te)]
    assert set.union(*sets) == set(range(40)) and sum(map(len, sets)) == 40
    assert load("EuroSAT", "test", root, seed=5).base.indices == te.base.indices  # test does not depend on seed
    assert load("EuroSAT", "val", root, seed=5).base.indices != va.base.indices
    assert tr.classnames[0] == "annual crop land" and tr.classnames[-1] == "lake or sea"
    assert tr.templates[0] == "a centered satellite photo of {}."


def test_sun397(root):
    tr, _, te = check_heldout("SUN397", root, 12, 6)
    assert tr.classnames == ["abbey", "apartment building outdoor", "bakery shop"]
    assert te.targets == [0, 0, 1, 1, 2, 2]


def test_resisc45(root):
    tr, _, te = check_heldout("RESISC45", root, 12, 6)  # resisc45-val.txt unused
    assert len(tr.classnames) == 45 and tr.classnames[2] == "baseball diamond"
    assert te.targets == [0, 0, 2, 2, 44, 44]


def test_resisc45_incomplete_folder(root, tmp_path):
    make_resisc45(tmp_path)
    (tmp_path / "resisc45" / "NWPU-RESISC45" / "wetland" / "wetland_007.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="incomplete"):
        load("RESISC45", "test", tmp_path)


def test_stl10(root):
    tr, _, te = check_heldout("STL10", root, 20, 3)
    assert te.targets == [9, 0, 4] and tr[0][0].shape == (3, 96, 96) and tr.classnames[7] == "monkey"


def test_fer2013_official_splits(root):
    tr, va, te = (load("FER2013", s, root) for s in ("train", "val", "test"))
    assert (len(tr), len(va), len(te)) == (12, 3, 4)
    assert tr.targets[:8] == [0, 1, 2, 3, 4, 5, 6, 0] and tr.classnames[6] == "neutral"
    assert tr[0][0].shape == (3, 48, 48) and load("FER2013", "test", root, channels=1)[0][0].shape == (1, 48, 48)
    with pytest.raises(ValueError, match="official validation"):
        load("FER2013", "val", root, val_size=2)


def test_flowers102_official_splits(root):
    tr, va, te = (load("Flowers102", s, root) for s in ("train", "val", "test"))
    assert (tr.targets, va.targets, te.targets) == ([0, 1, 101], [0, 76], [4, 2, 2])
    assert len(tr.classnames) == 102 and tr.classnames[0] == "pink primrose"


def test_tiny_imagenet100(root):
    wnids = (root / "tiny-imagenet-200" / "wnids.txt").read_text().split()
    chosen = real.tiny_imagenet_classes(wnids)
    assert len(chosen) == 100 and chosen == sorted(chosen) and chosen != sorted(wnids)[:100]
    assert real.tiny_imagenet_classes(list(reversed(wnids))) == chosen  # independent of the listing order
    tr, va, te = check_heldout("TinyImageNet100", root, 200, 100)
    x, _ = te[0]
    assert x.shape == (3, 32, 32)  # ch4 Sec. 3.3: resized to 32x32 by default
    assert load("TinyImageNet100", "test", root, image_size=64)[0][0].shape == (3, 64, 64)
    names = dict(zip(chosen, tr.classnames))
    i = wnids.index(chosen[0])
    assert names[chosen[0]] == (f"thing {i}" if i < 110 else chosen[0])  # words.txt, first synonym
    assert sorted(set(te.targets)) == list(range(100))


def test_miniplaces(root, monkeypatch):
    monkeypatch.setattr(real, "MINIPLACES_TRAIN_PER_CLASS", 4)
    tr, va, te = check_heldout("MiniPlaces", root, 12, 4)
    assert tr.classnames == ["abbey", "bakery shop", "yard"] and te.targets == [2, 0, 1, 1]
    assert te[0][0].shape == (3, 32, 32)
    chosen = [p for p, _ in tr.base.dataset.samples]
    assert len(chosen) == 12 and all(sum(f"/{c.strip('/')}/" in p for p in chosen) == 4 for c in MINIPLACES_CATS)
    assert load("MiniPlaces", "train", root, image_size=128)[0][0].shape == (3, 128, 128)


def test_domainnet(root):
    tr, _, te = check_heldout("DomainNet:clipart", root, 12, 3)
    assert tr.classnames == ["aircraft carrier", "The Eiffel Tower", "zebra"] and te.targets == [0, 1, 2]
    assert tr.templates[0] == "a clipart of a {}."


def test_imagenet_to_sketch(root):
    tr, _, te = check_heldout("ImageNetToSketch:cub", root, 10, 4)
    assert tr.classnames == ["Black footed Albatross", "Laysan Albatross"] and te.targets == [0, 0, 1, 1]


def test_transform_gets_converted_pil_image(root):
    ds = load("CIFAR10", "test", root, channels=1, image_size=20, transform=lambda im: (im.mode, im.size))
    assert ds[0][0] == ("L", (20, 20))
    ds = load("MNIST", "test", root, transform=lambda im: im.mode)
    assert ds[0][0] == "RGB"


def test_get_dataset_paper_profile(root):
    from paperlib.data import get_dataset
    ds = get_dataset("CIFAR10", "val", profile="paper", root=root, seed=0)
    assert len(ds) == 2 and ds.classnames == CIFAR10_NAMES
    with pytest.raises(FileNotFoundError, match="Expected layout"):
        get_dataset("SUN397", "test", profile="paper", root=root / "nowhere")
