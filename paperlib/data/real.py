"""The papers' own datasets (profile ``paper``): on-disk layouts, loaders and split protocols.

:func:`load_paper_dataset` returns one split (``train``, ``val`` or ``test``) of a dataset in
:data:`PAPER_DATASETS` as a :class:`~paperlib.data.dataset.LabeledDataset` of ``(image, label)``, with
``classnames`` and CLIP ``templates`` (:mod:`paperlib.data.templates`) and ``targets``.

Loading: torchvision's dataset classes where torchvision has the dataset (MNIST, SVHN, CIFAR-10/100, GTSRB,
DTD, Stanford Cars, EuroSAT, STL-10, Flowers-102), our own readers of the official files otherwise (SUN397
partitions, RESISC45 split files, FER2013 csv, Tiny-ImageNet, MiniPlaces, DomainNet lists,
ImageNet-to-Sketch folders). Nothing is downloaded unless ``download=True``; where no official download
exists (or torchvision offers none) the error says so and where the files must go. Missing files are
detected before any heavy work and raise ``FileNotFoundError`` with the expected layout
(:attr:`PaperDatasetSpec.layout`). For CIFAR, SVHN, STL-10 and Flowers-102 we check that the files are
present rather than their per-file md5 (torchvision still verifies archive checksums when it downloads):
hashing gigabytes on every load is slow, and it lets the loaders be tested on small files in the same
formats.

Split protocols (each spec's :attr:`~PaperDatasetSpec.protocol` says which one applies):

* **Held-out validation** (``split_kind="heldout"``), the "Val" split of Ilharco et al., "Editing models
  with task arithmetic" (their ``split_train_into_train_val``), which ch1 (Sec. 4, "Data Downloading and
  Processing", following [9] [20]) and ch5 (Appendix A, "a small held-out proportion of the training set as
  specified in Ilharco et al.") use: ``val`` is ``min(int(0.1 * n_train), 5000)`` images of the official
  training set drawn by ``torch.randperm(n_train)`` with a generator seeded by ``seed`` (the last
  ``n_val`` indices of the permutation, exactly ``torch.utils.data.random_split(..., [n - n_val, n_val])``),
  ``train`` is the rest, ``test`` is the official test set. With ``seed=0`` this reproduces Ilharco et
  al.'s split index for index (their code asserts MNIST's first train index is 36044; so does ours).
  ``val_size`` overrides the size, e.g. ch3's Appendix splits SVHN 65,931 / 7,326 (10 %, no 5,000 cap).
* **Official splits** (``split_kind="official"``): Flowers-102 (train/val/test id lists of ``setid.mat``)
  and FER2013 (``Training`` / ``PublicTest`` / ``PrivateTest``).
* **EuroSAT** (``split_kind="eurosat"``): 21,600 / 2,700 / 2,700 of the 27,000 images as in Ilharco et al.'s
  ``EuroSAT_splits``: ``test`` is a fixed 10 % (a seed-0 permutation, the same for every ``seed``), ``val``
  is 10 % of all images drawn from the rest with ``seed``, ``train`` the remainder.

The ch4 datasets (CIFAR-100, Tiny-ImageNet, MiniPlaces; ch4 Sec. 3.3) train on the full training sets and
name no validation split. We apply the held-out rule to them too, so ``train`` is 45,000 images each (equal
sizes across the trio, as Sec. 3.3 wants); the union of ``train`` and ``val`` is the paper's 50,000.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import ConcatDataset, Dataset, Subset

from ..config import SPLITS, check_choice, check_int_range
from . import templates as tpl
from .dataset import LabeledDataset

#: Held-out validation rule of Ilharco et al. (``val_fraction=0.1``, ``max_val_samples=5000``).
VAL_FRACTION = 0.1
MAX_VAL = 5000
#: ch4 Sec. 3.3: "randomly sample a fixed set of 100 categories from Tiny-ImageNet".
TINY_IMAGENET_CLASSES = 100
#: ch4 Sec. 3.3: "a fixed set of 500 training images for each MiniPlaces category".
MINIPLACES_TRAIN_PER_CLASS = 500
#: ch4 Sec. 3.3: MiniPlaces and Tiny-ImageNet are resized to 32x32 with bicubic interpolation.
CH4_IMAGE_SIZE = 32
#: How many listed files are checked for existence before loading (evenly spaced, first and last included).
_N_FILES_CHECKED = 16


@dataclass(frozen=True)
class PaperDatasetSpec:
    """What one paper dataset is, where it comes from, how it must lie on disk and how it is split."""

    name: str                       # registry name
    chapters: tuple[str, ...]       # chapters (papers) that use it, e.g. ("ch1", "ch5")
    source: str                     # the dataset's paper and official page
    download: str | None            # what ``download=True`` fetches, or None where no download is offered
    obtain: str                     # how to get the files by hand
    layout: str                     # expected layout under ``root``
    classnames_source: str          # where the class names come from
    templates: tuple[str, ...]      # CLIP prompt templates (one "{}" each)
    protocol: str                   # the train/val/test protocol and the paper section it follows
    split_kind: str                 # "heldout", "official" or "eurosat" (see the module docstring)
    n_classes: int | None           # number of classes of the full dataset (None: read from disk)
    default_image_size: int | None = None  # image size used when ``image_size`` is None (None: native)

    def describe(self) -> str:
        """A readable summary: source, download, layout, protocol."""
        dl = self.download or f"not available ({self.obtain})"
        return (f"{self.name} ({', '.join(self.chapters)}): {self.source}\n"
                f"download=True: {dl}\nlayout under root:\n{self.layout}\nsplits: {self.protocol}\n"
                f"class names: {self.classnames_source}")


_HELDOUT = ("train/val: a seeded held-out split of the official training set, val = min(10 %, 5000) "
            "(Ilharco et al., used by ch1 Sec. 4 and ch5 Appendix A); test: the official test set")


def _spec(name, chapters, source, download, obtain, layout, classnames_source, protocol, split_kind="heldout",
          n_classes=None, default_image_size=None) -> PaperDatasetSpec:
    return PaperDatasetSpec(name=name, chapters=tuple(chapters), source=source, download=download, obtain=obtain,
                            layout=layout.strip("\n"), classnames_source=classnames_source,
                            templates=tuple(tpl.TEMPLATES[name]), protocol=protocol, split_kind=split_kind,
                            n_classes=n_classes, default_image_size=default_image_size)


_SPECS = [
    _spec("MNIST", ("ch1", "ch3", "ch5"), "LeCun et al. 1998, http://yann.lecun.com/exdb/mnist/",
          "torchvision MNIST (4 idx .gz files, extracted to raw/)",
          "copy the four idx files (.gz or extracted) into MNIST/raw/",
          """
MNIST/raw/train-images-idx3-ubyte   (the .gz files are accepted too: they are extracted in place)
MNIST/raw/train-labels-idx1-ubyte
MNIST/raw/t10k-images-idx3-ubyte
MNIST/raw/t10k-labels-idx1-ubyte""",
          "digits '0'..'9' (Ilharco et al.)", _HELDOUT + " (60,000 -> 55,000 / 5,000; test 10,000)", n_classes=10),
    _spec("SVHN", ("ch1", "ch3", "ch5"), "Netzer et al. 2011, http://ufldl.stanford.edu/housenumbers/",
          "torchvision SVHN (train_32x32.mat, test_32x32.mat)", "copy the cropped-digit .mat files into svhn/",
          """
svhn/train_32x32.mat
svhn/test_32x32.mat""",
          "digits '0'..'9' (label 10 of the .mat is digit 0, as in torchvision)",
          _HELDOUT + " (73,257 -> 68,257 / 5,000; test 26,032). ch3 Appendix uses 65,931 / 7,326: "
          "pass val_size=7326", n_classes=10),
    _spec("CIFAR10", ("ch2", "ch3"), "Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html",
          "torchvision CIFAR10 (cifar-10-python.tar.gz)", "extract cifar-10-python.tar.gz into root",
          """
cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch, batches.meta   (python pickles)""",
          "batches.meta label_names", _HELDOUT + " (50,000 -> 45,000 / 5,000, as ch3 Appendix)", n_classes=10),
    _spec("CIFAR100", ("ch2", "ch3", "ch4"), "Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html",
          "torchvision CIFAR100 (cifar-100-python.tar.gz)", "extract cifar-100-python.tar.gz into root",
          """
cifar-100-python/train, test, meta   (python pickles; fine labels)""",
          "meta fine_label_names, underscores to spaces",
          _HELDOUT + " (50,000 -> 45,000 / 5,000). ch4 Sec. 3.3 trains on all 50,000: train + val", n_classes=100),
    _spec("GTSRB", ("ch1", "ch5"), "Stallkamp et al. 2011, https://benchmark.ini.rub.de/",
          "torchvision GTSRB (GTSRB-Training_fixed.zip, GTSRB_Final_Test_Images.zip, GTSRB_Final_Test_GT.zip)",
          "extract the three official zips into gtsrb/",
          """
gtsrb/GTSRB/Training/00000 ... 00042/*.ppm        (all 43 class folders)
gtsrb/GTSRB/Final_Test/Images/*.ppm
gtsrb/GT-final_test.csv                            (';'-separated, columns Filename ... ClassId)""",
          "CLIP's 43 sign descriptions (CLIP prompts.md, Ilharco et al.)",
          _HELDOUT + " (26,640 -> 23,976 / 2,664; test 12,630)", n_classes=43),
    _spec("DTD", ("ch1", "ch2", "ch5"), "Cimpoi et al. 2014, https://www.robots.ox.ac.uk/~vgg/data/dtd/",
          "torchvision DTD (dtd-r1.0.1.tar.gz)", "extract dtd-r1.0.1.tar.gz into dtd/",
          """
dtd/dtd/images/<class>/<class>_NNNN.jpg
dtd/dtd/labels/train1.txt, val1.txt, test1.txt     (lines '<class>/<file>.jpg'; partition 1)""",
          "DTD folder names (already lowercase words)",
          "partition 1; the official train1 + val1 (3,760) form the training set, as in Ilharco et al.'s "
          "DTD (3,760 train / 1,880 test); train/val: held-out min(10 %, 5000) of it (3,384 / 376); "
          "test: test1 (1,880). ch2 Sec. 4.1.2 says 'official splits': its test set is the same test1",
          n_classes=47),
    _spec("Cars", ("ch1", "ch5"), "Krause et al. 2013, Stanford Cars (https://ai.stanford.edu/~jkrause/cars/)",
          None, "torchvision can no longer download it (the official URL is dead, pytorch/vision issue 7545): "
          "get the images from a mirror of the original release such as Kaggle's 'stanford-cars-dataset' "
          "(flatten its nested cars_train/cars_train and cars_test/cars_test), plus the devkit (car_devkit.tgz: "
          "cars_meta.mat, cars_train_annos.mat) and cars_test_annos_withlabels.mat, both linked from that issue, "
          "and place them into stanford_cars/ by hand",
          """
stanford_cars/devkit/cars_meta.mat, devkit/cars_train_annos.mat
stanford_cars/cars_train/*.jpg
stanford_cars/cars_test/*.jpg
stanford_cars/cars_test_annos_withlabels.mat""",
          "devkit cars_meta.mat class_names (e.g. 'AM General Hummer SUV 2000')",
          _HELDOUT + " (8,144 -> 7,330 / 814; test 8,041)", n_classes=196),
    _spec("EuroSAT", ("ch1", "ch5"), "Helber et al. 2019, https://github.com/phelber/EuroSAT (RGB version)",
          "torchvision EuroSAT (EuroSAT.zip, RGB)", "extract EuroSAT.zip (RGB) into eurosat/",
          """
eurosat/2750/<Class>/<Class>_N.jpg   (10 folders: AnnualCrop, Forest, ..., SeaLake; 27,000 images)""",
          "CLIP's readable names (Ilharco et al. eurosat.py), e.g. 'annual crop land'",
          "21,600 / 2,700 / 2,700 as Ilharco et al.'s EuroSAT splits: test a fixed 10 % (seed-0 permutation, "
          "the same for every seed), val 10 % of all drawn from the rest with `seed`, train the rest",
          split_kind="eurosat", n_classes=10),
    _spec("SUN397", ("ch1", "ch5"), "Xiao et al. 2010, https://vision.princeton.edu/projects/2010/SUN/",
          None, "torchvision can no longer download it (its URL is dead, pytorch/vision issue 9348; the "
          "Princeton and MIT copies of the archive answer 404): get the original release, "
          "SUN397.tar.gz and Partitions.zip, from a mirror of them, extract SUN397.tar.gz into root (it unpacks "
          "to SUN397/, ClassName.txt included) and copy Training_01.txt and Testing_01.txt (partition 1) from "
          "Partitions.zip into SUN397/ by hand",
          """
SUN397/ClassName.txt                      (lines '/a/abbey', ...)
SUN397/Training_01.txt, Testing_01.txt    (partition 1; lines '/a/abbey/sun_xxx.jpg')
SUN397/<letter>/<class>[/<sub>]/sun_*.jpg""",
          "ClassName.txt, letter folder dropped, '_' and '/' to spaces ('apartment building outdoor')",
          "partition 1 (Ilharco et al.): train/val: held-out min(10 %, 5000) of Training_01 (19,850 -> 17,865 / "
          "1,985); test: Testing_01 (19,850)", n_classes=397),
    _spec("RESISC45", ("ch1", "ch5"), "Cheng et al. 2017, NWPU-RESISC45; split files of Neumann et al. 2019",
          None, "not offered by torchvision: get the NWPU-RESISC45 images (OneDrive/BaiduPan links on the "
          "authors' page or torchgeo's mirror of NWPU-RESISC45.rar) and the split files "
          "resisc45-train.txt / resisc45-test.txt (Neumann et al.'s lists, as used by Ilharco et al.) from "
          "https://storage.googleapis.com/remote_sensing_representations/, and place them into resisc45/ by hand",
          """
resisc45/NWPU-RESISC45/<class>/<class>_NNN.jpg   (45 class folders)
resisc45/resisc45-train.txt, resisc45-test.txt   (lines '<class>_NNN.jpg'; resisc45-val.txt is unused)""",
          "the 45 folder names, underscores to spaces (Ilharco et al.)",
          "as Ilharco et al.'s RESISC45: train/val: held-out min(10 %, 5000) of resisc45-train.txt (18,900 -> "
          "17,010 / 1,890); test: resisc45-test.txt (6,300). The official resisc45-val.txt is not used",
          n_classes=45),
    _spec("STL10", ("ch2",), "Coates et al. 2011, https://cs.stanford.edu/~acoates/stl10/",
          "torchvision STL10 (stl10_binary.tar.gz)", "extract stl10_binary.tar.gz into root",
          """
stl10_binary/train_X.bin, train_y.bin, test_X.bin, test_y.bin   (unlabeled_X.bin not needed)""",
          "class_names.txt order (airplane, bird, car, ...)",
          "official train (5,000) and test (8,000) as ch2 Sec. 4.1.2; val: held-out min(10 %, 5000) of train "
          "(4,500 / 500)", n_classes=10),
    _spec("FER2013", ("ch2",), "Goodfellow et al. 2013, Kaggle 'Challenges in Representation Learning: "
          "Facial Expression Recognition'", None,
          "not downloadable without a Kaggle account: download fer2013.csv (or icml_face_data.csv) from Kaggle "
          "into fer2013/",
          """
fer2013/fer2013.csv   (columns emotion, pixels, Usage; or icml_face_data.csv with the same columns)""",
          "CLIP's adjectives in the csv's label order (angry, disgusted, fearful, happy, sad, surprised, neutral)",
          "official splits (ch2 Sec. 4.1.2): train = Training (28,709), val = PublicTest (3,589), "
          "test = PrivateTest (3,589). Not torchvision's FER2013, which merges both test sets",
          split_kind="official", n_classes=7),
    _spec("Flowers102", ("ch2",), "Nilsback & Zisserman 2008, https://www.robots.ox.ac.uk/~vgg/data/flowers/102/",
          "torchvision Flowers102 (102flowers.tgz, imagelabels.mat, setid.mat)",
          "copy the three official files into flowers-102/",
          """
flowers-102/jpg/image_00001.jpg ...
flowers-102/imagelabels.mat, flowers-102/setid.mat""",
          "torchvision's 102 names with CLIP's spelling",
          "official splits of setid.mat: train trnid (1,020), val valid (1,020), test tstid (6,149)",
          split_kind="official", n_classes=102),
    _spec("TinyImageNet100", ("ch4",), "Le & Yang 2015, Tiny ImageNet (CS231N), 200 classes of 64x64 images",
          None, "not offered by torchvision: download http://cs231n.stanford.edu/tiny-imagenet-200.zip and "
          "extract it",
          """
tiny-imagenet-200/wnids.txt, words.txt
tiny-imagenet-200/train/<wnid>/images/<wnid>_N.JPEG
tiny-imagenet-200/val/images/val_N.JPEG, val/val_annotations.txt""",
          "words.txt, first synonym (wnid where words.txt is missing)",
          "ch4 Sec. 3.3: a fixed set of 100 of the 200 classes, 'randomly sampled': we take the 100 wnids with "
          "the smallest sha256(wnid) (a fixed pseudo-random choice, the same for every seed), labels in sorted "
          "wnid order; train/val: held-out min(10 %, 5000) of their 50,000 training images (45,000 / 5,000); "
          "test: the official val images of those classes (5,000; the official test labels are not public). "
          "Resized to 32x32 bicubic (ch4 Sec. 3.3) unless image_size is given",
          n_classes=TINY_IMAGENET_CLASSES, default_image_size=CH4_IMAGE_SIZE),
    _spec("MiniPlaces", ("ch4",), "Zhou et al., MiniPlaces challenge (100 Places2 scene classes, 128x128), "
          "https://github.com/CSAILVision/miniplaces", None,
          "not offered by torchvision: download data.tar.gz (http://miniplaces.csail.mit.edu/data/data.tar.gz, "
          "often offline; mirrors exist) and the development kit's data/*.txt",
          """
miniplaces/categories.txt                  (lines '/a/abbey 0')
miniplaces/train.txt, miniplaces/val.txt   (lines 'train/a/abbey/00000001.jpg 0', 'val/00000001.jpg 71')
miniplaces/images/train/<letter>/<class>/*.jpg, miniplaces/images/val/*.jpg""",
          "categories.txt, letter folder dropped, '_' and '/' to spaces",
          "ch4 Sec. 3.3: a fixed set of 500 training images per class: per class, the 500 listed images with "
          "the smallest sha256 of their train.txt path (the same for every seed); train/val: held-out "
          "min(10 %, 5000) of those 50,000 (45,000 / 5,000); test: the official val set (10,000; the official "
          "test labels are not public). Resized to 32x32 bicubic (ch4 Sec. 3.3) unless image_size is given",
          n_classes=100, default_image_size=CH4_IMAGE_SIZE),
]

DOMAINNET_DOMAINS = ("clipart", "infograph", "painting", "quickdraw", "real", "sketch")
for _d in DOMAINNET_DOMAINS:
    _SPECS.append(_spec(
        f"DomainNet:{_d}", ("ch2",), "Peng et al. 2019, DomainNet (cleaned version), http://ai.bu.edu/M3SDA/",
        None, f"not offered by torchvision: download {_d}.zip and the lists {_d}_train.txt / {_d}_test.txt "
        "from http://ai.bu.edu/M3SDA/ and extract them into domainnet/",
        f"""
domainnet/{_d}/<class>/<file>.jpg
domainnet/{_d}_train.txt, domainnet/{_d}_test.txt   (lines '{_d}/<class>/<file>.jpg <label>')""",
        "class folder names of the lists (345), underscores to spaces",
        "official train/test lists (ch2 Table 2 follows TAPS, Wallingford et al. 2022); train/val: held-out "
        "min(10 %, 5000) of the train list; test: the test list", n_classes=345))

#: ImageNet-to-Sketch domain -> folder names accepted under ``imagenet_to_sketch/`` (Piggyback's names second).
IMAGENET_TO_SKETCH_FOLDERS: dict[str, tuple[str, ...]] = {
    "flowers": ("flowers",), "wikiart": ("wikiart",), "sketch": ("sketch", "sketches"),
    "cars": ("cars", "stanford_cars_cropped"), "cub": ("cub", "cubs_cropped")}
for _d, _folders in IMAGENET_TO_SKETCH_FOLDERS.items():
    _SPECS.append(_spec(
        f"ImageNetToSketch:{_d}", ("ch2",), "the ImageNet-to-Sketch benchmark of Mallya et al. (Piggyback, 2018), "
        "as used by ch2 Table 1 (Flowers, WikiArt, Sketch, Cars, CUB)", None,
        "not offered by torchvision: download the Piggyback data archive (links in "
        "https://github.com/arunmallya/piggyback) and extract it into imagenet_to_sketch/",
        f"""
imagenet_to_sketch/{_folders[0]}/train/<class>/<image>
imagenet_to_sketch/{_folders[0]}/test/<class>/<image>
(folder name {' or '.join(repr(f) for f in _folders)}; same class folders in train and test)""",
        "class folder names, 'NNN.' prefixes dropped, underscores to spaces (numeric Flowers folders 1..102 "
        "become the Flowers-102 names)",
        "the benchmark's train/test folders (ch2 Sec. 4.1.1); train/val: held-out min(10 %, 5000) of train; "
        "test: the test folder"))

#: Registry name -> spec, in the order of the brief: the 8 task-arithmetic tasks, ch2/ch3 datasets, ch4, ch2 domains.
PAPER_DATASETS: dict[str, PaperDatasetSpec] = {s.name: s for s in _SPECS}


# ----------------------------------------------------------------------------------------------------------
# Splits


def heldout_size(n: int, val_size: int | None = None) -> int:
    """Size of the held-out validation set: ``min(int(0.1 * n), 5000)`` (Ilharco et al.), or ``val_size``."""
    v = min(int(n * VAL_FRACTION), MAX_VAL) if val_size is None else check_int_range(val_size, "val_size", 1)
    if not 1 <= v < n:
        raise ValueError(f"cannot hold out {v} validation images from a training set of {n}")
    return v


def train_val_indices(n: int, seed: int = 0, val_size: int | None = None) -> tuple[list[int], list[int]]:
    """Indices ``(train, val)`` of a held-out split of ``n`` training images.

    Exactly Ilharco et al.'s ``random_split(train, [n - n_val, n_val], torch.Generator().manual_seed(seed))``:
    one ``torch.randperm(n)``, train first, val last. ``n_val`` is :func:`heldout_size`.
    """
    v = heldout_size(n, val_size)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed))).tolist()
    return perm[: n - v], perm[n - v:]


def _hash_order(keys: Sequence[str], salt: str) -> list[int]:
    """Positions of ``keys`` sorted by ``sha256(salt + "/" + key)``: a fixed pseudo-random order that does not
    depend on the order the keys were listed in, nor on Python's or torch's random generators."""
    digest = [hashlib.sha256(f"{salt}/{k}".encode()).hexdigest() for k in keys]
    return sorted(range(len(keys)), key=lambda i: (digest[i], keys[i]))


# ----------------------------------------------------------------------------------------------------------
# Transforms and generic datasets


class ConvertMode:
    """Convert a PIL image to ``mode`` ("RGB" or "L"); picklable, so DataLoader workers can use it."""

    def __init__(self, mode: str):
        self.mode = mode

    def __call__(self, img: Image.Image) -> Image.Image:
        return img if img.mode == self.mode else img.convert(self.mode)

    def __repr__(self) -> str:
        return f"ConvertMode({self.mode!r})"


def build_transform(image_size: int | None, channels: int, transform: Callable | None = None) -> Callable:
    """PIL image -> mode per ``channels`` -> [bicubic Resize(image_size) + CenterCrop] -> ``transform``.

    ``transform`` defaults to ``ToTensor`` (float in [0, 1], shape (C, H, W)). The resize is skipped when
    ``image_size`` is None.
    """
    from torchvision import transforms as T
    steps: list[Callable] = [ConvertMode("L" if check_choice(channels, (1, 3), "number of channels") == 1 else "RGB")]
    if image_size is not None:
        steps += [T.Resize(image_size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(image_size)]
    steps.append(transform if transform is not None else T.ToTensor())
    return T.Compose(steps)


def _open_rgb(path: str) -> Image.Image:
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


class ImageListDataset(Dataset):
    """Images listed as ``(path, label)``, opened with PIL (RGB) and passed through ``transform``."""

    def __init__(self, samples: Sequence[tuple[str | Path, int]], transform: Callable | None = None):
        self.samples = [(str(p), int(y)) for p, y in samples]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        img = _open_rgb(path)
        return (self.transform(img) if self.transform is not None else img), label

    @property
    def targets(self) -> list[int]:
        return [y for _, y in self.samples]


class ArrayImageDataset(Dataset):
    """Grey images held in a uint8 array (N, H, W) (FER2013's csv)."""

    def __init__(self, images: np.ndarray, labels: Sequence[int], transform: Callable | None = None):
        self.images, self.labels, self.transform = images, [int(y) for y in labels], transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        img = Image.fromarray(self.images[index])  # (H, W) uint8 -> mode "L"
        return (self.transform(img) if self.transform is not None else img), self.labels[index]


class _Loaded(NamedTuple):
    dataset: Dataset
    targets: list[int]
    classnames: list[str]


# ----------------------------------------------------------------------------------------------------------
# Errors and checks


def _not_found(name: str, root: Path, what: str) -> FileNotFoundError:
    spec = PAPER_DATASETS[name]
    how = (f"pass download=True (fetches {spec.download}), or {spec.obtain}" if spec.download
           else f"download=True is not available for {name}; {spec.obtain}")
    return FileNotFoundError(f"{name}: {what}.\nExpected layout under {root}:\n{spec.layout}\nTo get it: {how}.")


def _require(name: str, root: Path, paths: Sequence[Path]) -> None:
    """Raise FileNotFoundError (with the layout) naming the first of ``paths`` that does not exist."""
    for p in paths:
        if not p.exists():
            raise _not_found(name, root, f"{p} not found")


def _require_listed(name: str, root: Path, paths: Sequence[str | Path], listed_in: Path) -> None:
    """Check that the files a list names exist (a sample of them: first, last and evenly spaced)."""
    if not paths:
        raise _not_found(name, root, f"{listed_in} lists no images")
    idx = sorted(set(np.linspace(0, len(paths) - 1, min(len(paths), _N_FILES_CHECKED)).round().astype(int)))
    for i in idx:
        if not Path(paths[i]).is_file():
            raise _not_found(name, root, f"{paths[i]} (listed in {listed_in}) not found: the folder is incomplete")


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip()]


def _torchvision(name: str, root: Path, make: Callable[[], Dataset]) -> Dataset:
    """Build a torchvision dataset; its "Dataset not found" RuntimeError becomes FileNotFoundError + layout."""
    try:
        return make()
    except RuntimeError as err:
        msg = str(err)
        if "not found" in msg.lower() or "corrupted" in msg.lower():
            raise _not_found(name, root, f"torchvision: {msg}") from err
        raise


def _no_download(name: str, root: Path, download: bool, paths: Sequence[Path]) -> None:
    """For datasets without a download: check ``paths``; the error says download=True cannot help."""
    if download and any(not p.exists() for p in paths):
        raise _not_found(name, root, "download=True is not possible for this dataset and its files are missing")
    _require(name, root, paths)


# ----------------------------------------------------------------------------------------------------------
# torchvision datasets (presence checks instead of per-file md5, see the module docstring)


def _tv_classes():
    from torchvision import datasets as D

    class CIFAR10(D.CIFAR10):
        train_list = [[f, None] for f, _ in D.CIFAR10.train_list]
        test_list = [[f, None] for f, _ in D.CIFAR10.test_list]
        meta = {**D.CIFAR10.meta, "md5": None}

    class CIFAR100(D.CIFAR100):
        train_list = [[f, None] for f, _ in D.CIFAR100.train_list]
        test_list = [[f, None] for f, _ in D.CIFAR100.test_list]
        meta = {**D.CIFAR100.meta, "md5": None}

    class SVHN(D.SVHN):
        def _check_integrity(self) -> bool:
            return Path(self.root, self.filename).is_file()

    class STL10(D.STL10):
        train_list = [["train_X.bin", None], ["train_y.bin", None]]
        test_list = [["test_X.bin", None], ["test_y.bin", None]]

    class Flowers102(D.Flowers102):
        def _check_integrity(self) -> bool:
            return self._images_folder.is_dir() and all(
                (self._base_folder / self._file_dict[k][0]).is_file() for k in ("label", "setid"))

    return dict(CIFAR10=CIFAR10, CIFAR100=CIFAR100, SVHN=SVHN, STL10=STL10, Flowers102=Flowers102)


def _load_mnist(root: Path, part: str, tf, download: bool) -> _Loaded:
    from torchvision.datasets import MNIST
    raw = root / "MNIST" / "raw"
    files = [raw / n for n in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                               "t10k-labels-idx1-ubyte")]
    for f in files:  # accept the .gz files as distributed: extract them where torchvision expects them
        gz = f.with_name(f.name + ".gz")
        if not f.exists() and gz.is_file():
            with gzip.open(gz, "rb") as src, open(f, "wb") as dst:
                shutil.copyfileobj(src, dst)
    if not download:
        _require("MNIST", root, files)
    ds = _torchvision("MNIST", root, lambda: MNIST(str(root), train=part == "train", transform=tf, download=download))
    return _Loaded(ds, ds.targets.tolist(), list(tpl.DIGITS))


def _load_svhn(root: Path, part: str, tf, download: bool) -> _Loaded:
    folder = root / "svhn"
    if not download:
        _require("SVHN", root, [folder / f"{part}_32x32.mat"])
    ds = _torchvision("SVHN", root, lambda: _tv_classes()["SVHN"](str(folder), split=part, transform=tf,
                                                                   download=download))
    return _Loaded(ds, [int(y) for y in ds.labels], list(tpl.DIGITS))


def _load_cifar(name: str, folder: str, files: Sequence[str]):
    def load(root: Path, part: str, tf, download: bool) -> _Loaded:
        if not download:
            _require(name, root, [root / folder / f for f in files])
        ds = _torchvision(name, root, lambda: _tv_classes()[name](str(root), train=part == "train", transform=tf,
                                                                  download=download))
        return _Loaded(ds, list(ds.targets), [tpl.readable(c) for c in ds.classes])
    return load


def _load_gtsrb(root: Path, part: str, tf, download: bool) -> _Loaded:
    from torchvision.datasets import GTSRB
    base = root / "gtsrb"
    if not download:
        if part == "train":
            train = base / "GTSRB" / "Training"
            _require("GTSRB", root, [train])
            n = sum(1 for d in train.iterdir() if d.is_dir())
            if n != 43:  # torchvision numbers the class folders in sorted order: all 43 must be there
                raise _not_found("GTSRB", root, f"{train} has {n} class folders, expected 43 (00000 ... 00042)")
        else:
            _require("GTSRB", root, [base / "GTSRB" / "Final_Test" / "Images", base / "GT-final_test.csv"])
    ds = _torchvision("GTSRB", root, lambda: GTSRB(str(root), split=part, transform=tf, download=download))
    return _Loaded(ds, [int(y) for _, y in ds._samples], list(tpl.GTSRB_CLASSNAMES))


def _load_dtd(root: Path, part: str, tf, download: bool) -> _Loaded:
    from torchvision.datasets import DTD
    labels = root / "dtd" / "dtd" / "labels"
    official = ("train", "val") if part == "train" else ("test",)
    if not download:
        _require("DTD", root, [root / "dtd" / "dtd" / "images"] + [labels / f"{s}1.txt" for s in official])
    parts = [_torchvision("DTD", root, lambda s=s: DTD(str(root), split=s, partition=1, transform=tf,
                                                      download=download)) for s in official]
    if any(p.classes != parts[0].classes for p in parts):
        raise ValueError(f"DTD: {' and '.join(official)} partition files list different classes")
    ds = parts[0] if len(parts) == 1 else ConcatDataset(parts)
    classnames = [c.replace("_", " ").lower() for c in parts[0].classes]
    return _Loaded(ds, [int(y) for p in parts for y in p._labels], classnames)


def _load_cars(root: Path, part: str, tf, download: bool) -> _Loaded:
    from torchvision.datasets import StanfordCars
    base = root / "stanford_cars"
    needed = [base / "devkit" / "cars_meta.mat"] + (
        [base / "devkit" / "cars_train_annos.mat", base / "cars_train"] if part == "train"
        else [base / "cars_test_annos_withlabels.mat", base / "cars_test"])
    _no_download("Cars", root, download, needed)
    ds = _torchvision("Cars", root, lambda: StanfordCars(str(root), split=part, transform=tf))
    return _Loaded(ds, [int(y) for _, y in ds._samples], [str(c) for c in ds.classes])


def _load_eurosat(root: Path, part: str, tf, download: bool) -> _Loaded:
    from torchvision.datasets import EuroSAT
    if not download:
        _require("EuroSAT", root, [root / "eurosat" / "2750"])
    ds = _torchvision("EuroSAT", root, lambda: EuroSAT(str(root), transform=tf, download=download))
    return _Loaded(ds, list(ds.targets), [tpl.EUROSAT_CLASSNAMES.get(c, tpl.readable(c).lower()) for c in ds.classes])


def _load_stl10(root: Path, part: str, tf, download: bool) -> _Loaded:
    if not download:
        _require("STL10", root, [root / "stl10_binary" / f"{part}_{xy}.bin" for xy in "Xy"])
    ds = _torchvision("STL10", root, lambda: _tv_classes()["STL10"](str(root), split=part, transform=tf,
                                                                     download=download))
    return _Loaded(ds, [int(y) for y in ds.labels], list(tpl.STL10_CLASSNAMES))


def _load_flowers(root: Path, part: str, tf, download: bool) -> _Loaded:
    base = root / "flowers-102"
    if not download:
        _require("Flowers102", root, [base / "jpg", base / "imagelabels.mat", base / "setid.mat"])
    ds = _torchvision("Flowers102", root, lambda: _tv_classes()["Flowers102"](str(root), split=part, transform=tf,
                                                                               download=download))
    return _Loaded(ds, [int(y) for y in ds._labels], tpl.flowers102_classnames())


# ----------------------------------------------------------------------------------------------------------
# Our readers of official files


def _places_name(category: str) -> str:
    """'/a/apartment_building/outdoor' -> 'apartment building outdoor' (SUN397 and MiniPlaces categories)."""
    return tpl.readable("/".join(category.strip("/").split("/")[1:]))


def _load_sun397(root: Path, part: str, tf, download: bool) -> _Loaded:
    base = root / "SUN397"
    listing = base / ("Training_01.txt" if part == "train" else "Testing_01.txt")
    # torchvision's SUN397 URL is dead (pytorch/vision issue 9348): no download, as for Cars and RESISC45
    _no_download("SUN397", root, download, [base / "ClassName.txt", listing])
    categories = [c for c in _read_lines(base / "ClassName.txt")]
    index = {c.strip("/"): i for i, c in enumerate(categories)}
    samples = []
    for line in _read_lines(listing):
        rel = line.strip("/")
        cat = rel.rsplit("/", 1)[0]
        if cat not in index:
            raise ValueError(f"SUN397: {listing} lists {line!r}, whose class {cat!r} is not in ClassName.txt")
        samples.append((base / rel, index[cat]))
    _require_listed("SUN397", root, [p for p, _ in samples], listing)
    ds = ImageListDataset(samples, tf)
    return _Loaded(ds, ds.targets, [_places_name(c) for c in categories])


def _load_resisc45(root: Path, part: str, tf, download: bool) -> _Loaded:
    base = root / "resisc45"
    listing = base / f"resisc45-{part}.txt"
    _no_download("RESISC45", root, download, [base / "NWPU-RESISC45", listing])
    index = {c: i for i, c in enumerate(tpl.RESISC45_CLASSES)}
    samples = []
    for fname in _read_lines(listing):
        cls = Path(fname).name.rsplit("_", 1)[0]
        if cls not in index:
            raise ValueError(f"RESISC45: {listing} lists {fname!r}, whose class {cls!r} is not one of the 45")
        samples.append((base / "NWPU-RESISC45" / cls / Path(fname).name, index[cls]))
    _require_listed("RESISC45", root, [p for p, _ in samples], listing)
    ds = ImageListDataset(samples, tf)
    return _Loaded(ds, ds.targets, [tpl.readable(c) for c in tpl.RESISC45_CLASSES])


_FER_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}


def _load_fer2013(root: Path, part: str, tf, download: bool) -> _Loaded:
    base = root / "fer2013"
    path = next((base / f for f in ("fer2013.csv", "icml_face_data.csv") if (base / f).is_file()), base / "fer2013.csv")
    _no_download("FER2013", root, download, [path])
    images, labels = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [k.strip() for k in reader.fieldnames or []]  # icml_face_data.csv has ' Usage'
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames)
        if missing:
            raise ValueError(f"FER2013: {path} lacks the columns {sorted(missing)}")
        for row in reader:
            if row["Usage"].strip() == _FER_USAGE[part]:
                images.append(np.array(row["pixels"].split(), dtype=np.uint8).reshape(48, 48))
                labels.append(int(row["emotion"]))
    if not labels:
        raise _not_found("FER2013", root, f"{path} has no rows with Usage={_FER_USAGE[part]!r}")
    return _Loaded(ArrayImageDataset(np.stack(images), labels, tf), labels, list(tpl.FER2013_CLASSNAMES))


def tiny_imagenet_classes(wnids: Sequence[str], k: int = TINY_IMAGENET_CLASSES) -> list[str]:
    """ch4 Sec. 3.3's "fixed set of 100 categories" of Tiny-ImageNet: the ``k`` wnids with the smallest
    ``sha256("TinyImageNet100/" + wnid)``, returned in sorted wnid order (= label order)."""
    wnids = sorted(set(wnids))
    if len(wnids) < k:
        raise ValueError(f"Tiny-ImageNet lists {len(wnids)} classes, fewer than the {k} to choose")
    return sorted(wnids[i] for i in _hash_order(wnids, "TinyImageNet100")[:k])


def _load_tiny_imagenet(root: Path, part: str, tf, download: bool) -> _Loaded:
    base = root / "tiny-imagenet-200"
    ann = base / "val" / "val_annotations.txt"
    _no_download("TinyImageNet100", root, download, [base / "wnids.txt", base / "train" if part == "train" else ann])
    chosen = tiny_imagenet_classes(_read_lines(base / "wnids.txt"))
    label = {w: i for i, w in enumerate(chosen)}
    if part == "train":
        samples = []
        for w in chosen:
            folder = base / "train" / w / "images"
            if not folder.is_dir():
                raise _not_found("TinyImageNet100", root, f"{folder} not found: the train folder is incomplete")
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpeg", ".jpg", ".png"))
            samples += [(p, label[w]) for p in files]
    else:
        samples = []
        for line in _read_lines(ann):
            fname, w = line.split("\t")[:2]
            if w in label:
                samples.append((base / "val" / "images" / fname, label[w]))
        _require_listed("TinyImageNet100", root, [p for p, _ in samples], ann)
    words = {}
    if (base / "words.txt").is_file():
        for line in _read_lines(base / "words.txt"):
            w, _, text = line.partition("\t")
            words[w] = text.split(",")[0].strip()
    ds = ImageListDataset(samples, tf)
    return _Loaded(ds, ds.targets, [words.get(w) or w for w in chosen])


def miniplaces_train_subset(entries: Sequence[tuple[str, int]], per_class: int | None = None) -> list[tuple[str, int]]:
    """ch4 Sec. 3.3's "fixed set of 500 training images for each MiniPlaces category": per label, the
    ``per_class`` entries (relative path, label) of ``train.txt`` with the smallest ``sha256("MiniPlaces/" +
    path)`` (all of them where a class has fewer); returned sorted by (label, path)."""
    k = MINIPLACES_TRAIN_PER_CLASS if per_class is None else per_class
    by_label: dict[int, list[str]] = {}
    for rel, y in entries:
        by_label.setdefault(int(y), []).append(rel)
    out = []
    for y in sorted(by_label):
        rels = by_label[y]
        out += sorted((rels[i], y) for i in _hash_order(rels, "MiniPlaces")[:k])
    return sorted(out, key=lambda e: (e[1], e[0]))


def _load_miniplaces(root: Path, part: str, tf, download: bool) -> _Loaded:
    base = root / "miniplaces"
    listing = base / ("train.txt" if part == "train" else "val.txt")
    _no_download("MiniPlaces", root, download, [base / "categories.txt", listing, base / "images"])
    cats = {}
    for line in _read_lines(base / "categories.txt"):
        name, idx = line.rsplit(maxsplit=1)
        cats[int(idx)] = name
    if sorted(cats) != list(range(len(cats))):
        raise ValueError(f"MiniPlaces: {base / 'categories.txt'} ids are not 0..{len(cats) - 1}")
    entries = [(rel, int(y)) for rel, y in (line.rsplit(maxsplit=1) for line in _read_lines(listing))]
    if part == "train":
        entries = miniplaces_train_subset(entries)
    samples = [(base / "images" / rel, y) for rel, y in entries]
    _require_listed("MiniPlaces", root, [p for p, _ in samples], listing)
    ds = ImageListDataset(samples, tf)
    return _Loaded(ds, ds.targets, [_places_name(cats[i]) for i in range(len(cats))])


def _load_domainnet(domain: str):
    name = f"DomainNet:{domain}"

    def load(root: Path, part: str, tf, download: bool) -> _Loaded:
        base = root / "domainnet"
        lists = {s: base / f"{domain}_{s}.txt" for s in ("train", "test")}
        _no_download(name, root, download, [base / domain, lists["train"], lists["test"]])
        folder_of: dict[int, str] = {}
        entries = {}
        for s, path in lists.items():
            entries[s] = [(rel, int(y)) for rel, y in (line.rsplit(maxsplit=1) for line in _read_lines(path))]
            for rel, y in entries[s]:
                folder_of.setdefault(y, Path(rel).parts[-2])
        if sorted(folder_of) != list(range(len(folder_of))):
            raise ValueError(f"{name}: the labels of {lists['train'].name} and {lists['test'].name} are not "
                             f"0..{len(folder_of) - 1}")
        samples = [(base / rel, y) for rel, y in entries[part]]
        _require_listed(name, root, [p for p, _ in samples], lists[part])
        ds = ImageListDataset(samples, tf)
        return _Loaded(ds, ds.targets, [tpl.readable(folder_of[i]) for i in range(len(folder_of))])
    return load


def _load_imagenet_to_sketch(domain: str):
    name = f"ImageNetToSketch:{domain}"

    def load(root: Path, part: str, tf, download: bool) -> _Loaded:
        from torchvision.datasets import ImageFolder
        base = root / "imagenet_to_sketch"
        folder = next((base / f for f in IMAGENET_TO_SKETCH_FOLDERS[domain] if (base / f).is_dir()),
                      base / IMAGENET_TO_SKETCH_FOLDERS[domain][0])
        _no_download(name, root, download, [folder / "train", folder / "test"])
        ds = ImageFolder(str(folder / part), transform=tf, loader=_open_rgb)
        other = sorted(d.name for d in (folder / ("test" if part == "train" else "train")).iterdir() if d.is_dir())
        if other != ds.classes:
            raise ValueError(f"{name}: {folder}/train and {folder}/test have different class folders")
        classes = ds.classes
        if domain == "flowers" and all(c.isdigit() for c in classes) and len(classes) == 102:
            names = tpl.flowers102_classnames()
            classnames = [names[int(c) - 1] for c in classes]
        else:
            classnames = [tpl.readable(c) for c in classes]
        return _Loaded(ds, list(ds.targets), classnames)
    return load


_LOADERS: dict[str, Callable[[Path, str, Callable, bool], _Loaded]] = {
    "MNIST": _load_mnist,
    "SVHN": _load_svhn,
    "CIFAR10": _load_cifar("CIFAR10", "cifar-10-batches-py",
                           [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]),
    "CIFAR100": _load_cifar("CIFAR100", "cifar-100-python", ["train", "test", "meta"]),
    "GTSRB": _load_gtsrb,
    "DTD": _load_dtd,
    "Cars": _load_cars,
    "EuroSAT": _load_eurosat,
    "SUN397": _load_sun397,
    "RESISC45": _load_resisc45,
    "STL10": _load_stl10,
    "FER2013": _load_fer2013,
    "Flowers102": _load_flowers,
    "TinyImageNet100": _load_tiny_imagenet,
    "MiniPlaces": _load_miniplaces,
    **{f"DomainNet:{d}": _load_domainnet(d) for d in DOMAINNET_DOMAINS},
    **{f"ImageNetToSketch:{d}": _load_imagenet_to_sketch(d) for d in IMAGENET_TO_SKETCH_FOLDERS},
}
assert set(_LOADERS) == set(PAPER_DATASETS)


# ----------------------------------------------------------------------------------------------------------
# Entry point


def load_paper_dataset(name: str, split: str, root: Path, *, seed: int = 0, image_size: int | None = None,
                       channels: int = 3, transform: Callable | None = None, download: bool = False,
                       val_size: int | None = None) -> LabeledDataset:
    """Split ``split`` of the paper dataset ``name`` stored under ``root``.

    Args:
        name: a key of :data:`PAPER_DATASETS`.
        split: ``train``, ``val`` or ``test``, per the dataset's protocol (:attr:`PaperDatasetSpec.protocol`).
        root: the datasets folder; each dataset lies in its own sub-folder (:attr:`PaperDatasetSpec.layout`).
        seed: seed of the held-out validation split (``train`` and ``val``); ``test`` never depends on it.
        image_size: bicubic resize (shorter side) + center crop to this size; None keeps the native size,
            except for TinyImageNet100 and MiniPlaces, which ch4 Sec. 3.3 resizes to 32x32.
        channels: 3 (RGB) or 1 (grey, PIL "L"); the conversion happens before ``transform``.
        transform: applied to the (converted, resized) PIL image; default ``ToTensor``.
        download: fetch the files where an official download exists (:attr:`PaperDatasetSpec.download`).
        val_size: size of the held-out validation set instead of ``min(10 %, 5000)`` (e.g. 7326 for ch3's
            SVHN); not for datasets with an official validation split.

    Raises:
        ValueError: unknown name or split, bad arguments.
        FileNotFoundError: files missing or incomplete; the message gives the expected layout and how to get
            the data.
    """
    spec = PAPER_DATASETS[check_choice(name, PAPER_DATASETS, "paper dataset")]
    check_choice(split, SPLITS, "split")
    check_int_range(seed, "seed", 0)
    if image_size is not None:
        check_int_range(image_size, "image_size", 1)
    if val_size is not None:
        if spec.split_kind == "official":
            raise ValueError(f"{name} has an official validation split; val_size does not apply")
        check_int_range(val_size, "val_size", 1)
    root = Path(root).expanduser()
    size = image_size if image_size is not None else spec.default_image_size
    tf = build_transform(size, channels, transform)

    if spec.split_kind == "official":
        part = split
    elif spec.split_kind == "heldout":
        part = "test" if split == "test" else "train"
    else:
        part = "all"
    loaded = _LOADERS[name](root, part, tf, download)
    n = len(loaded.dataset)
    if len(loaded.targets) != n:
        raise RuntimeError(f"{name}: {len(loaded.targets)} targets for {n} images")

    indices: list[int] | None = None
    if spec.split_kind == "heldout" and split != "test":
        train, val = train_val_indices(n, seed, val_size)
        indices = train if split == "train" else val
    elif spec.split_kind == "eurosat":
        rest, test = train_val_indices(n, 0, int(n * VAL_FRACTION))
        if split == "test":
            indices = test
        else:
            train, val = train_val_indices(len(rest), seed, val_size if val_size is not None else int(n * VAL_FRACTION))
            indices = [rest[i] for i in (train if split == "train" else val)]

    dataset, targets = loaded.dataset, loaded.targets
    if indices is not None:
        dataset, targets = Subset(dataset, indices), [targets[i] for i in indices]
    info = dict(root=str(root), source=spec.source, protocol=spec.protocol, split_kind=spec.split_kind, seed=seed,
                image_size=size, channels=channels, n_official=n)
    return LabeledDataset(dataset, name=name, split=split, classnames=loaded.classnames, templates=spec.templates,
                          targets=targets, info=info)


__all__ = ["PAPER_DATASETS", "PaperDatasetSpec", "load_paper_dataset", "train_val_indices", "heldout_size",
           "build_transform", "tiny_imagenet_classes", "miniplaces_train_subset", "ImageListDataset",
           "VAL_FRACTION", "MAX_VAL"]
