"""A FAKE data root: every paper dataset in its real on-disk format, with made-up images.

:func:`write_fake_root` writes, under one folder, each dataset of :data:`paperlib.data.real.PAPER_DATASETS`
exactly as its :attr:`~paperlib.data.real.PaperDatasetSpec.layout` documents (MNIST idx files, CIFAR pickles,
SVHN / Stanford Cars / Flowers-102 ``.mat`` files, GTSRB ``.ppm`` folders and csv, DTD / SUN397 / RESISC45 /
MiniPlaces / DomainNet lists, STL-10 binaries, the FER2013 csv, Tiny-ImageNet's folders, ImageNet-to-Sketch's
train/test class folders), so that :func:`~paperlib.data.real.load_paper_dataset` loads every split of every
dataset from it with ``download=False``. It exists to exercise the ``paper`` profile end to end (loaders,
split protocols, transforms, class names and class counts, real image sizes) without the real data. Nothing
in it is real data: NO result computed on it means anything about the papers.

What is real and what is not:

* **Real**: the file formats and folder layouts; the number of classes of each dataset (``spec.n_classes``;
  for ImageNet-to-Sketch the benchmark's counts, :data:`IMAGENET_TO_SKETCH_CLASSES`); the image sizes
  (:data:`IMAGE_SIZES`, each with its source; for the datasets whose images vary in size, a few
  representative sizes and aspect ratios, kept modest so that generation is fast); the class names of MNIST /
  SVHN (digits), CIFAR-10 and CIFAR-100 (the official ``label_names`` / ``fine_label_names`` and the 20
  superclasses), GTSRB (folder ids ``00000``-``00042``), DTD (its 47 folder names), EuroSAT (its 10 folder
  names), RESISC45 (its 45 folder names), STL-10 (``class_names.txt``), FER2013 (the csv's ``emotion`` ids) and
  Flowers-102 (its label ids; the loaders give them torchvision's names), also for ImageNet-to-Sketch's
  Flowers, whose class folders are the numbers 1..102.
* **Placeholders** (real COUNT, made-up names in the dataset's naming style): SUN397 and MiniPlaces categories
  (``/c/class_017``, every 8th with a ``/outdoor`` sub-category as SUN397 has), Stanford Cars' 196 model names
  (``Make017 Model017 Sedan 2012``), DomainNet's 345 class folders (``class_017``), Tiny-ImageNet's 200
  wnids (``n90000017``, with ``words.txt`` entries ``class 017``), the ImageNet-to-Sketch class folders of
  WikiArt, Sketch, Cars (``class_017``) and CUB (``017.class_017``), file names (SUN397's ``sun_<16
  letters>.jpg`` style, CIFAR's ``filenames``), GTSRB's regions of interest and Stanford Cars' bounding boxes.
* **Left out** (not read by the loaders, large or unlabeled): SVHN's ``extra_32x32.mat``, STL-10's
  ``unlabeled_X.bin`` and ``fold_indices.txt``, Tiny-ImageNet's and MiniPlaces' unlabeled ``test`` images,
  SUN397's partitions 2..10, the Stanford Cars devkit's other files. DTD's ten partitions are all written
  (partition 1 is the one the loader reads); RESISC45's ``resisc45-val.txt`` is written, though unused.
* **Made up**: every pixel. Each image is a class-dependent pattern (a per-class colour, stripe orientation
  and stripe frequency, see :func:`class_style`) with a random phase and seeded noise, drawn at a coarse
  resolution and upsampled in blocks (cheap to draw, small as JPEG); a model could learn the classes from it.
  Images per class: ``train_per_class`` / ``test_per_class`` in each official split (see
  :func:`write_fake_root` for how they map onto each dataset's splits).

Everything is seeded by ``seed``: two calls with the same arguments write byte-identical files (the
``.mat`` header's creation time and the ``.gz`` time stamp are fixed). The root is written into a temporary
sibling folder and renamed into place at the end, with a manifest :data:`MANIFEST` (generator version,
arguments, per-dataset class and image counts); a root whose manifest matches the arguments is reused as is
(a cache), one with another or an unreadable manifest is rewritten, and a non-empty folder without a
manifest is never touched (it may be real data).

The format writers (:func:`write_idx`, :func:`write_cifar10`, :func:`write_svhn_mat`, ...) are also what
``tests/test_real_datasets.py`` uses to write its small hand-made datasets.

Command line::

    python -m paperlib.data.fake_root OUT [--datasets NAME ...] [--train-per-class K] [--test-per-class K]
                                      [--seed S] [--workers N]
"""

from __future__ import annotations

import argparse
import colorsys
import functools
import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import struct
import sys
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image

from ..config import check_choice, check_int_range
from . import templates as tpl
from .real import (
    DOMAINNET_DOMAINS,
    IMAGENET_TO_SKETCH_FOLDERS,
    PAPER_DATASETS,
)

#: Bump when the files written for the same arguments change (a cached root of another version is rewritten).
GENERATOR_VERSION = 1
#: The manifest at the top of a fake root.
MANIFEST = "FAKE_ROOT.json"
#: JPEG quality of the ``.jpg`` layouts (PIL; fixed, so the bytes are reproducible).
JPEG_QUALITY = 90

# ----------------------------------------------------------------------------------------------------------
# Real class names and counts that are short and certain enough to type (the others live in templates.py)

#: CIFAR-10 ``batches.meta`` ``label_names``, official order (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html).
CIFAR10_CLASSES: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                                    "truck")

#: CIFAR-100 superclass -> its 5 classes, the table of the CIFAR page (Krizhevsky 2009, link above), written with
#: the ``meta`` file's spellings. ``fine_label_names`` and ``coarse_label_names`` are both in alphabetical order.
CIFAR100_SUPERCLASSES: dict[str, tuple[str, ...]] = {
    "aquatic_mammals": ("beaver", "dolphin", "otter", "seal", "whale"),
    "fish": ("aquarium_fish", "flatfish", "ray", "shark", "trout"),
    "flowers": ("orchid", "poppy", "rose", "sunflower", "tulip"),
    "food_containers": ("bottle", "bowl", "can", "cup", "plate"),
    "fruit_and_vegetables": ("apple", "mushroom", "orange", "pear", "sweet_pepper"),
    "household_electrical_devices": ("clock", "keyboard", "lamp", "telephone", "television"),
    "household_furniture": ("bed", "chair", "couch", "table", "wardrobe"),
    "insects": ("bee", "beetle", "butterfly", "caterpillar", "cockroach"),
    "large_carnivores": ("bear", "leopard", "lion", "tiger", "wolf"),
    "large_man-made_outdoor_things": ("bridge", "castle", "house", "road", "skyscraper"),
    "large_natural_outdoor_scenes": ("cloud", "forest", "mountain", "plain", "sea"),
    "large_omnivores_and_herbivores": ("camel", "cattle", "chimpanzee", "elephant", "kangaroo"),
    "medium_mammals": ("fox", "porcupine", "possum", "raccoon", "skunk"),
    "non-insect_invertebrates": ("crab", "lobster", "snail", "spider", "worm"),
    "people": ("baby", "boy", "girl", "man", "woman"),
    "reptiles": ("crocodile", "dinosaur", "lizard", "snake", "turtle"),
    "small_mammals": ("hamster", "mouse", "rabbit", "shrew", "squirrel"),
    "trees": ("maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"),
    "vehicles_1": ("bicycle", "bus", "motorcycle", "pickup_truck", "train"),
    "vehicles_2": ("lawn_mower", "rocket", "streetcar", "tank", "tractor"),
}
#: CIFAR-100 ``meta`` ``fine_label_names`` (alphabetical = label order) and ``coarse_label_names``.
CIFAR100_CLASSES: tuple[str, ...] = tuple(sorted(c for cs in CIFAR100_SUPERCLASSES.values() for c in cs))
CIFAR100_COARSE: tuple[str, ...] = tuple(sorted(CIFAR100_SUPERCLASSES))

#: DTD's 47 class folders (Cimpoi et al. 2014, https://www.robots.ox.ac.uk/~vgg/data/dtd/), sorted = label order.
DTD_CLASSES: tuple[str, ...] = (
    "banded", "blotchy", "braided", "bubbly", "bumpy", "chequered", "cobwebbed", "cracked", "crosshatched",
    "crystalline", "dotted", "fibrous", "flecked", "freckled", "frilly", "gauzy", "grid", "grooved", "honeycombed",
    "interlaced", "knitted", "lacelike", "lined", "marbled", "matted", "meshed", "paisley", "perforated", "pitted",
    "pleated", "polka-dotted", "porous", "potholed", "scaly", "smeared", "spiralled", "sprinkled", "stained",
    "stratified", "striped", "studded", "swirly", "veined", "waffled", "woven", "wrinkled", "zigzagged")

#: EuroSAT's 10 folder names (Helber et al. 2019), sorted = label order (keys of templates.EUROSAT_CLASSNAMES).
EUROSAT_FOLDERS: tuple[str, ...] = tuple(sorted(tpl.EUROSAT_CLASSNAMES))

#: Classes per ImageNet-to-Sketch domain: Piggyback's ``src/scripts/run_piggyback_training.sh`` (NUM_OUTPUTS:
#: flowers 102, wikiart 195, sketches 250, stanford_cars_cropped 196, cubs_cropped 200), recorded in
#: ``shared/specs/ch2-ftn.md`` ("Class counts [external, the standard benchmark]").
IMAGENET_TO_SKETCH_CLASSES: dict[str, int] = {"flowers": 102, "wikiart": 195, "sketch": 250, "cars": 196, "cub": 200}

#: Tiny-ImageNet has 200 wnids (Le & Yang 2015); ch4 picks 100 of them (real.tiny_imagenet_classes).
TINY_IMAGENET_WNIDS = 200

assert len(CIFAR100_CLASSES) == 100 and len(CIFAR100_COARSE) == 20 and len(DTD_CLASSES) == 47
assert set(IMAGENET_TO_SKETCH_CLASSES) == set(IMAGENET_TO_SKETCH_FOLDERS)

# ----------------------------------------------------------------------------------------------------------
# Image sizes, (width, height); several where the real images vary (cycled over the images of a class)

#: Where the image sizes of :data:`IMAGE_SIZES` come from.
IMAGE_SIZE_SOURCES: dict[str, str] = {
    "MNIST": "28x28 grey (LeCun et al. 1998, MNIST page)",
    "SVHN": "32x32 cropped digits (Netzer et al. 2011, format 2)",
    "CIFAR10": "32x32 (Krizhevsky 2009)",
    "CIFAR100": "32x32 (Krizhevsky 2009)",
    "GTSRB": "varying, 15x15 to 250x250 with a 10 % border around the sign (Stallkamp et al. 2012, GTSRB page); "
             "most are small, about 30-60 px",
    "DTD": "varying, between 300x300 and 640x640 (Cimpoi et al. 2014, DTD page)",
    "Cars": "varying (photos collected from the web, Krause et al. 2013; mostly landscape); a few hundred px wide",
    "EuroSAT": "64x64 (Helber et al. 2019)",
    "SUN397": "varying (web photos of scenes, Xiao et al. 2010; landscape, portrait and square), a few hundred px",
    "RESISC45": "256x256 (Cheng et al. 2017)",
    "STL10": "96x96 (Coates et al. 2011)",
    "FER2013": "48x48 grey (Goodfellow et al. 2013, Kaggle challenge data)",
    "Flowers102": "varying; to our knowledge the shorter side of every image in 102flowers.tgz is 500 px (not "
                  "verified offline here)",
    "TinyImageNet100": "64x64 (Tiny ImageNet, CS231N)",
    "MiniPlaces": "128x128 (MiniPlaces development kit)",
    "DomainNet": "varying (web images, Peng et al. 2019); modest representative sizes",
    "ImageNetToSketch": "varying per domain (Piggyback's archive); modest representative sizes",
}

#: Registry name (or family, before ':') -> the sizes written, (width, height); :data:`IMAGE_SIZE_SOURCES` says
#: where each comes from.
IMAGE_SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "MNIST": ((28, 28),), "SVHN": ((32, 32),), "CIFAR10": ((32, 32),), "CIFAR100": ((32, 32),),
    "GTSRB": ((31, 32), (46, 44), (60, 63)),
    "DTD": ((300, 300), (400, 300), (300, 400)),
    "Cars": ((400, 300), (384, 256), (320, 240)),
    "EuroSAT": ((64, 64),),
    "SUN397": ((320, 240), (240, 320), (300, 300)),
    "RESISC45": ((256, 256),),
    "STL10": ((96, 96),),
    "FER2013": ((48, 48),),
    "Flowers102": ((667, 500), (500, 667), (500, 500)),
    "TinyImageNet100": ((64, 64),),
    "MiniPlaces": ((128, 128),),
    "DomainNet": ((256, 256), (320, 240), (240, 320)),
    "ImageNetToSketch": ((256, 256), (320, 240), (240, 320)),
}
assert set(IMAGE_SIZES) == set(IMAGE_SIZE_SOURCES)


def native_sizes(name: str) -> tuple[tuple[int, int], ...]:
    """The (width, height) sizes :func:`write_fake_root` writes for dataset ``name``."""
    return IMAGE_SIZES[name.split(":")[0]]


def class_counts() -> dict[str, int]:
    """Number of classes per paper dataset, as written (``spec.n_classes``; ImageNet-to-Sketch per domain)."""
    out = {}
    for name, spec in PAPER_DATASETS.items():
        family, _, domain = name.partition(":")
        out[name] = IMAGENET_TO_SKETCH_CLASSES[domain] if family == "ImageNetToSketch" else spec.n_classes
    return out


# ----------------------------------------------------------------------------------------------------------
# Format writers (deterministic: the same arguments give the same bytes)


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Text file of ``lines``, one per line with a final newline (the list files of DTD, SUN397, ...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")


def save_image(path: Path, image: np.ndarray | Image.Image) -> None:
    """Save a PIL image or a uint8 (H, W) grey / (H, W, 3) RGB array; the format follows the suffix (JPEG at
    :data:`JPEG_QUALITY`, ``.ppm`` as binary P6, ``.png``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    img.save(path, **_save_options(path))


def _save_options(path: Path) -> dict:
    return {"format": "JPEG", "quality": JPEG_QUALITY} if path.suffix.lower() in (".jpg", ".jpeg") else {}


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> None:
    """MNIST's IDX file (http://yann.lecun.com/exdb/mnist/): two zero bytes, type 0x08 (unsigned byte), the number
    of dimensions, the sizes as big-endian int32, the data. ``gz=True`` writes ``path + ".gz"`` instead, as
    distributed (time stamp 0, so the bytes are reproducible)."""
    data = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data += np.asarray(array).astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)


def write_pickle(path: Path, obj) -> None:
    """A python pickle, binary protocol 2, one Python 2's cPickle also writes (the CIFAR python batches were pickled
    with cPickle, CIFAR page; torchvision reads them with ``encoding="latin1"``). Fixed, so the bytes are
    reproducible across Python versions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=2))


_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by paperlib.data.fake_root"


def write_mat(path: Path, mdict: dict) -> None:
    """A MATLAB 5 ``.mat`` file (``scipy.io.savemat``) whose 116-byte text header is fixed instead of carrying the
    creation time, so the bytes are reproducible."""
    import scipy.io
    buf = io.BytesIO()
    scipy.io.savemat(buf, mdict)
    data = bytearray(buf.getvalue())
    data[:116] = _MAT_HEADER.ljust(116, b" ")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))


def _chw_rows(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) uint8 -> CIFAR's (N, 3072) rows: the red plane, then green, then blue, each row-major."""
    return np.ascontiguousarray(np.asarray(images, dtype=np.uint8).transpose(0, 3, 1, 2).reshape(len(images), -1))


def write_cifar10(root: Path, train: tuple[np.ndarray, Sequence[int]], test: tuple[np.ndarray, Sequence[int]],
                  label_names: Sequence[str] = CIFAR10_CLASSES) -> None:
    """``cifar-10-batches-py/``: ``data_batch_1..5`` (the training images in order, split in 5 near-equal
    batches), ``test_batch`` and ``batches.meta``, python pickles with the official keys. ``train`` and ``test``
    are (images (N, 32, 32, 3) uint8, labels)."""
    base = root / "cifar-10-batches-py"
    x, y = train
    parts = np.array_split(np.arange(len(y)), 5)
    for i, idx in enumerate(parts, 1):
        write_pickle(base / f"data_batch_{i}", {
            "batch_label": f"training batch {i} of 5", "labels": [int(y[j]) for j in idx],
            "data": _chw_rows(x[idx]), "filenames": [f"{label_names[y[j]]}_s_{j:06d}.png" for j in idx]})
    x, y = test
    write_pickle(base / "test_batch", {
        "batch_label": "testing batch 1 of 1", "labels": [int(v) for v in y], "data": _chw_rows(x),
        "filenames": [f"{label_names[v]}_s_{j:06d}.png" for j, v in enumerate(y)]})
    write_pickle(base / "batches.meta", {"label_names": list(label_names), "num_cases_per_batch": len(parts[0]),
                                         "num_vis": 3072})


def write_cifar100(root: Path, train: tuple[np.ndarray, Sequence[int]], test: tuple[np.ndarray, Sequence[int]],
                   fine_names: Sequence[str] = CIFAR100_CLASSES, coarse_names: Sequence[str] = CIFAR100_COARSE,
                   coarse_of: Sequence[int] | None = None) -> None:
    """``cifar-100-python/``: ``train``, ``test`` (keys ``filenames``, ``batch_label``, ``fine_labels``,
    ``coarse_labels``, ``data``) and ``meta`` (``fine_label_names``, ``coarse_label_names``). ``coarse_of[f]`` is
    the superclass of fine label ``f`` (default: :data:`CIFAR100_SUPERCLASSES`)."""
    if coarse_of is None:
        sup = {c: i for i, (_, cs) in enumerate(sorted(CIFAR100_SUPERCLASSES.items())) for c in cs}
        coarse_of = [sup[c] for c in fine_names]
    base = root / "cifar-100-python"
    for split, (x, y) in (("train", train), ("test", test)):
        write_pickle(base / split, {
            "filenames": [f"{fine_names[v]}_s_{j:06d}.png" for j, v in enumerate(y)],
            "batch_label": f"{'training' if split == 'train' else 'testing'} batch 1 of 1",
            "fine_labels": [int(v) for v in y], "coarse_labels": [int(coarse_of[v]) for v in y], "data": _chw_rows(x)})
    write_pickle(base / "meta", {"fine_label_names": list(fine_names), "coarse_label_names": list(coarse_names)})


def write_svhn_mat(path: Path, images: np.ndarray, labels: Sequence[int]) -> None:
    """SVHN format 2 (``train_32x32.mat``): ``X`` (32, 32, 3, N) uint8 and ``y`` (N, 1) with labels 1..10, 10 being
    the digit 0 (Netzer et al. 2011, http://ufldl.stanford.edu/housenumbers/)."""
    x = np.ascontiguousarray(np.asarray(images, dtype=np.uint8).transpose(1, 2, 3, 0))
    write_mat(path, {"X": x, "y": np.asarray(labels, dtype=np.uint8).reshape(-1, 1)})


def write_stl10_split(base: Path, split: str, images: np.ndarray, labels: Sequence[int]) -> None:
    """``<split>_X.bin`` / ``<split>_y.bin`` of ``stl10_binary/``: uint8 images stored channel by channel in
    column-major order (torchvision reads (N, 3, 96, 96) and transposes the last two axes), labels 1..10 as uint8
    (Coates et al. 2011, https://cs.stanford.edu/~acoates/stl10/). ``images`` are (N, 96, 96, 3)."""
    base.mkdir(parents=True, exist_ok=True)
    np.ascontiguousarray(np.asarray(images, dtype=np.uint8).transpose(0, 3, 2, 1)).tofile(base / f"{split}_X.bin")
    np.asarray(labels, dtype=np.uint8).tofile(base / f"{split}_y.bin")


def write_fer2013_csv(path: Path, rows: Iterable[tuple[int, np.ndarray, str]]) -> None:
    """``fer2013.csv`` (Kaggle): header ``emotion,pixels,Usage``; per row the emotion id 0..6, the 48x48 grey
    pixels as space-separated integers (row-major) and ``Training`` / ``PublicTest`` / ``PrivateTest``."""
    lines = ["emotion,pixels,Usage"]
    lines += [f"{int(y)},{' '.join(map(str, np.asarray(px, dtype=np.uint8).ravel().tolist()))},{usage}"
              for y, px, usage in rows]
    write_lines(path, lines)


def write_gtsrb_csv(path: Path, rows: Iterable[tuple[str, int, int, int, int, int, int, int]]) -> None:
    """GTSRB annotation csv (``GT-final_test.csv`` and the per-class ``GT-000NN.csv``), ';'-separated:
    ``Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId``."""
    write_lines(path, ["Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId"]
                + [";".join(map(str, r)) for r in rows])


def write_cars_meta(path: Path, class_names: Sequence[str]) -> None:
    """Stanford Cars devkit ``cars_meta.mat``: ``class_names``, a 1 x 196 cell array of strings."""
    write_mat(path, {"class_names": np.array(list(class_names), dtype=object).reshape(1, -1)})


_CARS_FIELDS = [("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"), ("bbox_y2", "O"), ("class", "O"), ("fname", "O")]


def write_cars_annotations(path: Path, rows: Sequence[tuple[int, int, int, int, int, str]]) -> None:
    """Stanford Cars ``cars_train_annos.mat`` / ``cars_test_annos_withlabels.mat``: ``annotations``, a 1 x N struct
    array with fields bbox_x1, bbox_y1, bbox_x2, bbox_y2, class (1-based) and fname."""
    annos = np.zeros((1, len(rows)), dtype=_CARS_FIELDS)
    for i, r in enumerate(rows):
        annos[0, i] = r
    write_mat(path, {"annotations": annos})


def write_flowers_mats(base: Path, labels: Sequence[int], trnid: Sequence[int], valid: Sequence[int],
                       tstid: Sequence[int]) -> None:
    """Flowers-102's ``imagelabels.mat`` (``labels``: 1 x N, label 1..102 of ``image_{id:05d}.jpg``, ids from 1)
    and ``setid.mat`` (``trnid``, ``valid``, ``tstid``: 1 x n image ids), integer arrays as torchvision's reader
    needs (it formats the ids with ``:05d``)."""
    write_mat(base / "imagelabels.mat", {"labels": np.asarray(labels, dtype=np.uint8).reshape(1, -1)})
    write_mat(base / "setid.mat", {k: np.asarray(v, dtype=np.uint16).reshape(1, -1)
                                   for k, v in (("trnid", trnid), ("valid", valid), ("tstid", tstid))})


# ----------------------------------------------------------------------------------------------------------
# Image content


def class_style(cls: int) -> tuple[np.ndarray, float, int]:
    """The pattern of class ``cls``: an RGB colour (hue on the golden-ratio sequence, so neighbouring classes
    differ), a stripe orientation (12 angles) and a stripe frequency (1..5 cycles per image)."""
    rgb = np.array(colorsys.hsv_to_rgb((cls * 0.6180339887498949) % 1.0, 0.75, 0.95))
    return rgb, np.pi * ((cls * 5) % 12) / 12, 1 + (cls // 12) % 5


@functools.lru_cache(maxsize=4096)
def _stripe_basis(cls: int, hl: int, wl: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``255 * rgb * sin(a)``, ``255 * rgb * cos(a)`` and ``0.525 * 255 * rgb`` on an ``hl`` x ``wl`` grid
    (float32), with ``a = 2 pi freq (u cos(theta) + v sin(theta))`` (:func:`class_style`), so that
    ``sin(a + phase)`` is a weighted sum of the first two."""
    rgb, theta, freq = class_style(cls)
    v, u = np.arange(hl)[:, None] / hl, np.arange(wl)[None, :] / wl
    a = 2 * np.pi * freq * (u * np.cos(theta) + v * np.sin(theta))
    col = (255 * rgb).astype(np.float32)
    base = np.broadcast_to(np.float32(0.525) * col, (hl, wl, 3))
    return np.sin(a).astype(np.float32)[..., None] * col, np.cos(a).astype(np.float32)[..., None] * col, base


def pattern_pil(rng: np.random.Generator, cls: int, width: int, height: int, grey: bool = False) -> Image.Image:
    """A PIL image (RGB, or L if ``grey``) of class ``cls``: ``255 * rgb * (0.525 + 0.375 sin(a + phase))``, the
    stripes of :func:`class_style` in its colour with a random phase, plus Gaussian noise (sd 12), drawn on a grid
    of ``b`` x ``b`` blocks (b = 8 from 128 px, 4 from 64 px, else 1) and enlarged by repeating pixels (cheap to
    draw, and JPEG-friendly)."""
    b = 8 if min(width, height) >= 128 else 4 if min(width, height) >= 64 else 1
    hl, wl = -(-height // b), -(-width // b)
    sin_a, cos_a, base = _stripe_basis(cls, hl, wl)
    phase = rng.uniform(0, 2 * np.pi)
    low = rng.standard_normal((hl, wl, 3), dtype=np.float32)
    low *= 12
    low += base
    low += np.float32(0.375 * np.cos(phase)) * sin_a
    low += np.float32(0.375 * np.sin(phase)) * cos_a
    low = np.clip(low, 0, 255, out=low).round(out=low).astype(np.uint8)
    img = Image.fromarray(low.mean(axis=2).astype(np.uint8) if grey else low)
    if b > 1:  # NEAREST with an integer factor repeats each pixel b x b times
        img = img.resize((wl * b, hl * b), Image.Resampling.NEAREST)
        if img.size != (width, height):
            img = img.crop((0, 0, width, height))
    return img


def pattern_image(rng: np.random.Generator, cls: int, width: int, height: int, grey: bool = False) -> np.ndarray:
    """:func:`pattern_pil` as a uint8 array (H, W, 3), or (H, W) if ``grey``."""
    return np.asarray(pattern_pil(rng, cls, width, height, grey))


# ----------------------------------------------------------------------------------------------------------
# The datasets


@dataclass
class _Ctx:
    """What one dataset writer gets: the root, its own seeded generator, the per-class counts."""

    root: Path
    name: str
    rng: np.random.Generator
    k: int  # train_per_class
    t: int  # test_per_class
    n_images: int = 0
    folders: set[Path] = field(default_factory=set)  # folders made so far

    def image(self, cls: int, j: int, grey: bool = False) -> Image.Image:
        """The ``j``-th image of class ``cls`` (sizes cycle over :func:`native_sizes`)."""
        sizes = native_sizes(self.name)
        w, h = sizes[(cls + j) % len(sizes)]
        self.n_images += 1
        return pattern_pil(self.rng, cls, w, h, grey)

    def save(self, path: Path, cls: int, j: int) -> tuple[int, int]:
        """Write the ``j``-th image of class ``cls`` at ``path``; returns its (width, height)."""
        img = self.image(cls, j)
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)
        img.save(path, **_save_options(path))
        return img.size

    def arrays(self, labels: Sequence[int], grey: bool = False) -> np.ndarray:
        return np.stack([np.asarray(self.image(int(y), j, grey)) for j, y in enumerate(labels)])

    def shuffled_labels(self, n_classes: int, per_class: int) -> np.ndarray:
        """Each label ``per_class`` times, in a seeded random order (the official files are not sorted by class)."""
        return self.rng.permutation(np.repeat(np.arange(n_classes), per_class))


def _placeholders(n: int, fmt: str = "class_{:03d}") -> list[str]:
    return [fmt.format(i) for i in range(n)]


def _places_categories(n: int) -> list[str]:
    """SUN397 / MiniPlaces-style category paths '/c/class_017' (every 8th '/c/class_016/outdoor'), sorted."""
    return [f"/c/class_{i:03d}" + ("/outdoor" if i % 8 == 0 else "") for i in range(n)]


def _mnist(c: _Ctx) -> None:
    raw = c.root / "MNIST" / "raw"
    for prefix, per in (("train", c.k), ("t10k", c.t)):
        y = c.shuffled_labels(10, per)
        x = c.arrays(y, grey=True)
        for kind, arr in (("images-idx3", x), ("labels-idx1", y)):
            # both the distributed .gz and the extracted file, as torchvision's download leaves raw/
            write_idx(raw / f"{prefix}-{kind}-ubyte", arr)
            write_idx(raw / f"{prefix}-{kind}-ubyte", arr, gz=True)


def _svhn(c: _Ctx) -> None:
    for split, per in (("train", c.k), ("test", c.t)):
        y = c.shuffled_labels(10, per)
        write_svhn_mat(c.root / "svhn" / f"{split}_32x32.mat", c.arrays(y), np.where(y == 0, 10, y))


def _cifar10(c: _Ctx) -> None:
    tr, te = c.shuffled_labels(10, c.k), c.shuffled_labels(10, c.t)
    write_cifar10(c.root, (c.arrays(tr), tr), (c.arrays(te), te))


def _cifar100(c: _Ctx) -> None:
    tr, te = c.shuffled_labels(100, c.k), c.shuffled_labels(100, c.t)
    write_cifar100(c.root, (c.arrays(tr), tr), (c.arrays(te), te))


def _roi(w: int, h: int) -> tuple[int, int, int, int]:
    """GTSRB's region of interest: the sign without the 10 % (at least 5 px) border (Stallkamp et al. 2012)."""
    bx, by = max(5, round(0.1 * w)), max(5, round(0.1 * h))
    return bx, by, w - 1 - bx, h - 1 - by


def _gtsrb(c: _Ctx) -> None:
    base = c.root / "gtsrb"
    for cls in range(43):
        folder = base / "GTSRB" / "Training" / f"{cls:05d}"
        rows = []
        for j in range(c.k):  # '<track>_<image>.ppm' as in the training archive; one track per class here
            fname = f"00000_{j:05d}.ppm"
            w, h = c.save(folder / fname, cls, j)
            rows.append((fname, w, h, *_roi(w, h), cls))
        write_gtsrb_csv(folder / f"GT-{cls:05d}.csv", rows)
    rows = []
    for i, cls in enumerate(c.shuffled_labels(43, c.t)):
        fname = f"{i:05d}.ppm"
        w, h = c.save(base / "GTSRB" / "Final_Test" / "Images" / fname, int(cls), i)
        rows.append((fname, w, h, *_roi(w, h), int(cls)))
    write_gtsrb_csv(base / "GT-final_test.csv", rows)


def _dtd(c: _Ctx) -> None:
    base = c.root / "dtd" / "dtd"
    n = 2 * c.k + c.t  # DTD: 120 images per class, 40 in each of train/val/test of every partition (DTD page)
    per_class = []
    for cls, name in enumerate(DTD_CLASSES):
        rels = [f"{name}/{name}_{j + 1:04d}.jpg" for j in range(n)]
        for j, rel in enumerate(rels):
            c.save(base / "images" / rel, cls, j)
        per_class.append(rels)
    for p in range(1, 11):  # the archive's 10 partitions; partition 1 in file order, the others seeded
        lists: dict[str, list[str]] = {"train": [], "val": [], "test": []}
        for rels in per_class:
            order = rels if p == 1 else [rels[i] for i in c.rng.permutation(n)]
            lists["train"] += order[:c.k]
            lists["val"] += order[c.k:2 * c.k]
            lists["test"] += order[2 * c.k:]
        for s, lines in lists.items():
            write_lines(base / "labels" / f"{s}{p}.txt", lines)


def _cars(c: _Ctx) -> None:
    base = c.root / "stanford_cars"
    write_cars_meta(base / "devkit" / "cars_meta.mat", [f"Make{i:03d} Model{i:03d} Sedan 2012" for i in range(196)])
    for split, per, mat in (("train", c.k, base / "devkit" / "cars_train_annos.mat"),
                            ("test", c.t, base / "cars_test_annos_withlabels.mat")):
        rows = []
        for i, cls in enumerate(c.shuffled_labels(196, per)):
            fname = f"{i + 1:05d}.jpg"
            w, h = c.save(base / f"cars_{split}" / fname, int(cls), i)
            rows.append((w // 10, h // 10, w - 1 - w // 10, h - 1 - h // 10, int(cls) + 1, fname))
        write_cars_annotations(mat, rows)


def _eurosat(c: _Ctx) -> None:
    # one folder of all images; the loader draws test/val/train (Ilharco et al.'s EuroSAT_splits)
    for cls, folder in enumerate(EUROSAT_FOLDERS):
        for j in range(c.k + c.t):
            c.save(c.root / "eurosat" / "2750" / folder / f"{folder}_{j + 1}.jpg", cls, j)


def _sun_file(cat: str, j: int) -> str:
    """'sun_' + 16 lowercase letters, SUN397's file naming, derived from the category and the index."""
    digest = hashlib.sha256(f"{cat}/{j}".encode()).digest()
    return "sun_" + "".join(chr(ord("a") + d % 26) for d in digest[:16]) + ".jpg"


def _sun397(c: _Ctx) -> None:
    base = c.root / "SUN397"
    cats = _places_categories(397)
    write_lines(base / "ClassName.txt", cats)
    lists: dict[str, list[str]] = {"Training_01": [], "Testing_01": []}
    for cls, cat in enumerate(cats):
        for j in range(c.k + c.t):
            rel = f"{cat}/{_sun_file(cat, j)}"
            c.save(base / rel.strip("/"), cls, j)
            lists["Training_01" if j < c.k else "Testing_01"].append(rel)
    for s, lines in lists.items():
        write_lines(base / f"{s}.txt", lines)


def _resisc45(c: _Ctx) -> None:
    base = c.root / "resisc45"
    lists: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for cls, name in enumerate(tpl.RESISC45_CLASSES):
        for j in range(c.k + 2 * c.t):  # Neumann et al.'s lists: 18,900 / 6,300 / 6,300 (real.py): val = test
            fname = f"{name}_{j + 1:03d}.jpg"
            c.save(base / "NWPU-RESISC45" / name / fname, cls, j)
            lists["train" if j < c.k else "val" if j < c.k + c.t else "test"].append(fname)
    for s, lines in lists.items():
        write_lines(base / f"resisc45-{s}.txt", lines)


def _stl10(c: _Ctx) -> None:
    base = c.root / "stl10_binary"
    for split, per in (("train", c.k), ("test", c.t)):
        y = c.shuffled_labels(10, per)
        write_stl10_split(base, split, c.arrays(y), y + 1)
    write_lines(base / "class_names.txt", tpl.STL10_CLASSNAMES)


def _fer2013(c: _Ctx) -> None:
    rows = []
    for usage, per in (("Training", c.k), ("PublicTest", c.t), ("PrivateTest", c.t)):  # the csv's order
        y = c.shuffled_labels(7, per)
        rows += [(int(v), img, usage) for v, img in zip(y, c.arrays(y, grey=True))]
    write_fer2013_csv(c.root / "fer2013" / "fer2013.csv", rows)


def _flowers102(c: _Ctx) -> None:
    base = c.root / "flowers-102"
    n = 2 * c.k + c.t  # trnid and valid have 10 images per class each, tstid the rest (Nilsback & Zisserman 2008)
    labels = c.shuffled_labels(102, n)  # label of image id i + 1
    sets: dict[str, list[int]] = {"trnid": [], "valid": [], "tstid": []}
    seen = np.zeros(102, dtype=int)
    for i, y in enumerate(labels):
        c.save(base / "jpg" / f"image_{i + 1:05d}.jpg", int(y), int(seen[y]))
        sets["trnid" if seen[y] < c.k else "valid" if seen[y] < 2 * c.k else "tstid"].append(i + 1)
        seen[y] += 1
    write_flowers_mats(base, labels + 1, sets["trnid"], sets["valid"], sets["tstid"])


def _tiny_imagenet(c: _Ctx) -> None:
    base = c.root / "tiny-imagenet-200"
    wnids = [f"n{90000000 + i:08d}" for i in range(TINY_IMAGENET_WNIDS)]
    write_lines(base / "wnids.txt", wnids)
    write_lines(base / "words.txt", [f"{w}\tclass {i:03d}, placeholder" for i, w in enumerate(wnids)])
    for cls, w in enumerate(wnids):  # all 200 classes, as the archive has them (ch4 uses 100)
        boxes = []
        for j in range(c.k):
            fname = f"{w}_{j}.JPEG"
            c.save(base / "train" / w / "images" / fname, cls, j)
            boxes.append(f"{fname}\t8\t8\t55\t55")
        write_lines(base / "train" / w / f"{w}_boxes.txt", boxes)
    ann = []
    for i, cls in enumerate(c.shuffled_labels(TINY_IMAGENET_WNIDS, c.t)):
        fname = f"val_{i}.JPEG"
        c.save(base / "val" / "images" / fname, int(cls), i)
        ann.append(f"{fname}\t{wnids[cls]}\t8\t8\t55\t55")
    write_lines(base / "val" / "val_annotations.txt", ann)


def _miniplaces(c: _Ctx) -> None:
    base = c.root / "miniplaces"
    cats = _places_categories(100)
    write_lines(base / "categories.txt", [f"{cat} {i}" for i, cat in enumerate(cats)])
    train = []
    for cls, cat in enumerate(cats):
        for j in range(c.k):
            rel = f"train{cat}/{j + 1:08d}.jpg"
            c.save(base / "images" / rel, cls, j)
            train.append(f"{rel} {cls}")
    val = []
    for i, cls in enumerate(c.shuffled_labels(100, c.t)):
        rel = f"val/{i + 1:08d}.jpg"
        c.save(base / "images" / rel, int(cls), i)
        val.append(f"{rel} {cls}")
    write_lines(base / "train.txt", train)
    write_lines(base / "val.txt", val)


def _domainnet(domain: str) -> Callable[[_Ctx], None]:
    def write(c: _Ctx) -> None:
        base = c.root / "domainnet"
        lists: dict[str, list[str]] = {"train": [], "test": []}
        for cls, name in enumerate(_placeholders(345)):  # label order = sorted class folders, as DomainNet's
            for j in range(c.k + c.t):
                rel = f"{domain}/{name}/{domain}_{cls + 1:03d}_{j + 1:06d}.jpg"  # DomainNet's file naming
                c.save(base / rel, cls, j)
                lists["train" if j < c.k else "test"].append(f"{rel} {cls}")
        for s, lines in lists.items():
            write_lines(base / f"{domain}_{s}.txt", lines)
    return write


def _its_classes(domain: str) -> list[str]:
    n = IMAGENET_TO_SKETCH_CLASSES[domain]
    if domain == "flowers":
        return [str(i) for i in range(1, n + 1)]  # numeric folders 1..102, which the loader names from Flowers-102
    if domain == "cub":
        return [f"{i:03d}.class_{i:03d}" for i in range(1, n + 1)]  # CUB's 'NNN.Name' folders, from 001
    return _placeholders(n)


def _imagenet_to_sketch(domain: str) -> Callable[[_Ctx], None]:
    def write(c: _Ctx) -> None:
        folder = c.root / "imagenet_to_sketch" / IMAGENET_TO_SKETCH_FOLDERS[domain][-1]  # Piggyback's folder name
        for cls, name in enumerate(sorted(_its_classes(domain))):  # label = position in sorted order (ImageFolder)
            for j in range(c.k + c.t):
                split = "train" if j < c.k else "test"
                c.save(folder / split / name / f"image_{j + 1:05d}.jpg", cls, j)
    return write


_WRITERS: dict[str, Callable[[_Ctx], None]] = {
    "MNIST": _mnist, "SVHN": _svhn, "CIFAR10": _cifar10, "CIFAR100": _cifar100, "GTSRB": _gtsrb, "DTD": _dtd,
    "Cars": _cars, "EuroSAT": _eurosat, "SUN397": _sun397, "RESISC45": _resisc45, "STL10": _stl10,
    "FER2013": _fer2013, "Flowers102": _flowers102, "TinyImageNet100": _tiny_imagenet, "MiniPlaces": _miniplaces,
    **{f"DomainNet:{d}": _domainnet(d) for d in DOMAINNET_DOMAINS},
    **{f"ImageNetToSketch:{d}": _imagenet_to_sketch(d) for d in IMAGENET_TO_SKETCH_FOLDERS},
}
assert set(_WRITERS) == set(PAPER_DATASETS), "a dataset added to real.py needs its writer here"


# ----------------------------------------------------------------------------------------------------------
# Entry point


def _check_args(datasets, train_per_class, test_per_class, seed) -> list[str]:
    check_int_range(train_per_class, "train_per_class", 1)
    check_int_range(test_per_class, "test_per_class", 1)
    check_int_range(seed, "seed", 0)
    if datasets is None:
        names = list(PAPER_DATASETS)
    else:
        chosen = {check_choice(d, PAPER_DATASETS, "paper dataset") for d in
                  ([datasets] if isinstance(datasets, str) else datasets)}
        if not chosen:
            raise ValueError(f"datasets is empty; give None (all) or some of: {', '.join(map(repr, PAPER_DATASETS))}")
        names = [d for d in PAPER_DATASETS if d in chosen]
    return names


def _parameters(names: list[str], train_per_class: int, test_per_class: int, seed: int) -> dict:
    return {"generator": "paperlib.data.fake_root", "version": GENERATOR_VERSION, "seed": seed,
            "train_per_class": train_per_class, "test_per_class": test_per_class, "datasets": names}


def read_manifest(root: Path) -> dict | None:
    """The manifest of a fake root, or None if there is none or it is unreadable (e.g. half-written)."""
    try:
        manifest = json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("parameters"), dict) else None


def _top_folder(name: str) -> str:
    """The folder a dataset lies in under the root: the first component of its documented layout."""
    return PAPER_DATASETS[name].layout.split("/", 1)[0].strip()


def _is_current(root: Path, params: dict) -> bool:
    """Whether ``root`` is a complete fake root written with ``params`` (its manifest matches and the top folder
    of every dataset is there)."""
    manifest = read_manifest(root)
    return (manifest is not None and manifest["parameters"] == params
            and all((root / _top_folder(n)).is_dir() for n in params["datasets"]))


def _generate(out: Path, names: list[str], k: int, t: int, seed: int, workers: int,
              log: Callable[[str], None] | None) -> dict:
    """Write ``names`` under ``out``, ``workers`` datasets at a time (threads: PIL's JPEG encoder and file writes
    release the GIL). Each dataset draws from its own generator, seeded by ``seed`` and its name, so the bytes do
    not depend on ``workers``, on the order, nor on which other datasets are written."""
    counts = class_counts()

    def one(name: str) -> tuple[int, float]:
        start = time.perf_counter()
        ctx = _Ctx(out, name, np.random.default_rng([seed, zlib.crc32(name.encode())]), k, t)
        _WRITERS[name](ctx)
        seconds = time.perf_counter() - start
        if log is not None:
            log(f"  {name:<28} {counts[name]:>4} classes {ctx.n_images:>6} images  {seconds:6.2f} s")
        return ctx.n_images, seconds

    if workers == 1:
        done = {n: one(n) for n in names}
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {n: pool.submit(one, n) for n in names}
            done = {n: f.result() for n, f in futures.items()}
    return {"classes": {n: counts[n] for n in names}, "images": {n: done[n][0] for n in names}}


def write_fake_root(root: str | Path, *, datasets: Sequence[str] | None = None, train_per_class: int = 2,
                    test_per_class: int = 1, seed: int = 0, workers: int | None = None,
                    log: Callable[[str], None] | None = None) -> Path:
    """Write a fake data root (see the module docstring) at ``root`` and return its path.

    Per class, ``train_per_class`` (K) and ``test_per_class`` (T) images go into each official split: K into the
    training split (MNIST, SVHN, CIFAR, STL-10, GTSRB, Cars, SUN397 Training_01, RESISC45 train, Tiny-ImageNet
    train, MiniPlaces train.txt, DomainNet and ImageNet-to-Sketch train) and T into the test split; K into each of
    DTD's train1 and val1 and Flowers-102's trnid and valid (official splits of equal size) and T into test1 /
    tstid; K into FER2013's Training and T into each of PublicTest and PrivateTest; T into RESISC45's val list
    (unused by the loader, as large as test in the real lists); K + T into EuroSAT's single folder. Every held-out
    split then loads: each dataset has at least 10 classes, so ``min(int(0.1 * n), 5000) >= 1``.

    Args:
        root: the folder to write (created with its parents); an existing fake root with the same arguments is
            reused, one with other arguments or a corrupt manifest is replaced; an existing non-empty folder
            without a manifest is refused (it may hold real data).
        datasets: names of :data:`~paperlib.data.real.PAPER_DATASETS` to write; None for all of them.
        train_per_class: K >= 1.
        test_per_class: T >= 1.
        seed: seed of every image, label order and partition (>= 0).
        workers: datasets written at once (threads); default: the number of CPUs, at most 4. The files do not
            depend on it.
        log: called with one line per dataset written (the command line passes ``print``).

    Raises:
        ValueError: unknown dataset, counts below 1, negative seed.
        FileExistsError: ``root`` is a non-empty folder that is not a fake root.
    """
    names = _check_args(datasets, train_per_class, test_per_class, seed)
    workers = min(os.cpu_count() or 1, 4) if workers is None else check_int_range(workers, "workers", 1)
    root = Path(root).expanduser().absolute()
    params = _parameters(names, train_per_class, test_per_class, seed)
    if _is_current(root, params):
        return root
    if root.exists() and not (root / MANIFEST).exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} exists and is not a fake data root (no {MANIFEST}); refusing to overwrite it")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        info = _generate(tmp, names, train_per_class, test_per_class, seed, workers, log)
        manifest = {"parameters": params, **info, "total_images": sum(info["images"].values()),
                    "note": "FAKE data: made-up images in the real on-disk formats (paperlib.data.fake_root)"}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if root.exists():
            if _is_current(root, params):  # another process finished the same root meanwhile
                return root
            old = root.parent / f".{root.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            root.rename(old)
            tmp.rename(root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _tree_bytes(root: Path) -> tuple[int, int]:
    n = size = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            n += 1
            size += os.path.getsize(os.path.join(dirpath, f))
    return n, size


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a fake root and print what was written and how long it took."""
    ap = argparse.ArgumentParser(prog="python -m paperlib.data.fake_root", description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder to write (the fake data root)")
    ap.add_argument("--datasets", nargs="+", metavar="NAME", help="paper datasets to write (default: all)")
    ap.add_argument("--train-per-class", type=int, default=2, metavar="K")
    ap.add_argument("--test-per-class", type=int, default=1, metavar="K")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="datasets written at once (threads; default: CPUs, "
                    "at most 4); the files do not depend on it")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    try:
        names = _check_args(args.datasets, args.train_per_class, args.test_per_class, args.seed)
        cached = _is_current(args.out.expanduser().absolute(),
                             _parameters(names, args.train_per_class, args.test_per_class, args.seed))
        print(f"fake data root {args.out}: {len(names)} datasets, {args.train_per_class} train / "
              f"{args.test_per_class} test images per class, seed {args.seed}")
        root = write_fake_root(args.out, datasets=args.datasets, train_per_class=args.train_per_class,
                               test_per_class=args.test_per_class, seed=args.seed, workers=args.workers, log=print)
    except (ValueError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    n_files, size = _tree_bytes(root)
    what = "already there (manifest matches), nothing written" if cached else "written"
    print(f"{root}: {what}; {n_files} files, {size / 2**20:.1f} MiB, {time.perf_counter() - start:.1f} s")
    return 0


__all__ = ["write_fake_root", "read_manifest", "native_sizes", "class_counts", "class_style", "pattern_pil",
           "pattern_image", "IMAGE_SIZES", "IMAGE_SIZE_SOURCES", "IMAGENET_TO_SKETCH_CLASSES", "CIFAR10_CLASSES",
           "CIFAR100_CLASSES", "CIFAR100_COARSE", "CIFAR100_SUPERCLASSES", "DTD_CLASSES", "EUROSAT_FOLDERS",
           "MANIFEST", "GENERATOR_VERSION", "write_lines", "save_image", "write_idx", "write_pickle", "write_mat",
           "write_cifar10", "write_cifar100", "write_svhn_mat", "write_stl10_split", "write_fer2013_csv",
           "write_gtsrb_csv", "write_cars_meta", "write_cars_annotations", "write_flowers_mats", "main"]

if __name__ == "__main__":
    sys.exit(main())
