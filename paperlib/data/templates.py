"""Class names and CLIP prompt templates of the papers' datasets (profile ``paper``).

Stored once here and used by :mod:`paperlib.data.real`. A template is a string with one ``{}``
for the class name, as for the embedded domains (:mod:`paperlib.data.embedded.base`).

Sources:

* Per-dataset templates of the 8 task-arithmetic datasets (and CIFAR-10/100, STL-10) are those of
  Ilharco et al., "Editing models with task arithmetic" (``task_vectors/src/datasets/templates.py``),
  which in turn are OpenAI CLIP's ``data/prompts.md``; ch1 Sec. 4 and ch5 Appendix A ("a standard set of
  zero-shot template prompts for each dataset") follow Ilharco et al.
* FER2013 and Flowers102 templates are OpenAI CLIP's ``data/prompts.md``.
* Class names: CLIP-style readable names where the dataset's own are cryptic (GTSRB's 43 sign
  descriptions and EuroSAT's names, as in CLIP's ``prompts.md`` and Ilharco et al.'s ``gtsrb.py`` /
  ``eurosat.py``), otherwise the dataset's own names with underscores turned into spaces.
* DomainNet, ImageNet-to-Sketch, Tiny-ImageNet and MiniPlaces have no published CLIP templates (ch2 and
  ch4 train supervised heads, not zero-shot ones); the sets below are ours, written in the same style.
"""

from __future__ import annotations

import re

DIGITS: tuple[str, ...] = tuple(str(i) for i in range(10))

#: GTSRB's 43 classes in ClassId order, CLIP's readable descriptions (CLIP ``prompts.md``; Ilharco et al.).
GTSRB_CLASSNAMES: tuple[str, ...] = (
    "red and white circle 20 kph speed limit",
    "red and white circle 30 kph speed limit",
    "red and white circle 50 kph speed limit",
    "red and white circle 60 kph speed limit",
    "red and white circle 70 kph speed limit",
    "red and white circle 80 kph speed limit",
    "end / de-restriction of 80 kph speed limit",
    "red and white circle 100 kph speed limit",
    "red and white circle 120 kph speed limit",
    "red and white circle red car and black car no passing",
    "red and white circle red truck and black car no passing",
    "red and white triangle road intersection warning",
    "white and yellow diamond priority road",
    "red and white upside down triangle yield right-of-way",
    "stop",
    "empty red and white circle",
    "red and white circle no truck entry",
    "red circle with white horizonal stripe no entry",
    "red and white triangle with exclamation mark warning",
    "red and white triangle with black left curve approaching warning",
    "red and white triangle with black right curve approaching warning",
    "red and white triangle with black double curve approaching warning",
    "red and white triangle rough / bumpy road warning",
    "red and white triangle car skidding / slipping warning",
    "red and white triangle with merging / narrow lanes warning",
    "red and white triangle with person digging / construction / road work warning",
    "red and white triangle with traffic light approaching warning",
    "red and white triangle with person walking warning",
    "red and white triangle with child and person walking warning",
    "red and white triangle with bicyle warning",
    "red and white triangle with snowflake / ice warning",
    "red and white triangle with deer warning",
    "white circle with gray strike bar no speed limit",
    "blue circle with white right turn arrow mandatory",
    "blue circle with white left turn arrow mandatory",
    "blue circle with white forward arrow mandatory",
    "blue circle with white forward or right turn arrow mandatory",
    "blue circle with white forward or left turn arrow mandatory",
    "blue circle with white keep right arrow mandatory",
    "blue circle with white keep left arrow mandatory",
    "blue circle with white arrows indicating a traffic circle",
    "white circle with gray strike bar indicating no passing for cars has ended",
    "white circle with gray strike bar indicating no passing for trucks has ended",
)

#: EuroSAT folder name -> CLIP's readable name (Ilharco et al. ``eurosat.py``, "ours_to_open_ai").
EUROSAT_CLASSNAMES: dict[str, str] = {
    "AnnualCrop": "annual crop land",
    "Forest": "forest",
    "HerbaceousVegetation": "brushland or shrubland",
    "Highway": "highway or road",
    "Industrial": "industrial buildings or commercial buildings",
    "Pasture": "pasture land",
    "PermanentCrop": "permanent crop land",
    "Residential": "residential buildings or homes or apartments",
    "River": "river",
    "SeaLake": "lake or sea",
}

#: NWPU-RESISC45's 45 classes (folder names, sorted = label order), as in torchgeo / Ilharco et al.
RESISC45_CLASSES: tuple[str, ...] = (
    "airplane", "airport", "baseball_diamond", "basketball_court", "beach", "bridge", "chaparral", "church",
    "circular_farmland", "cloud", "commercial_area", "dense_residential", "desert", "forest", "freeway",
    "golf_course", "ground_track_field", "harbor", "industrial_area", "intersection", "island", "lake",
    "meadow", "medium_residential", "mobile_home_park", "mountain", "overpass", "palace", "parking_lot",
    "railway", "railway_station", "rectangular_farmland", "river", "roundabout", "runway", "sea_ice", "ship",
    "snowberg", "sparse_residential", "stadium", "storage_tank", "tennis_court", "terrace",
    "thermal_power_station", "wetland",
)

#: FER2013 ``emotion`` ids 0..6 (Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral) as CLIP's adjectives.
#: CLIP's ``prompts.md`` lists them alphabetically; we keep the csv's label order.
FER2013_CLASSNAMES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")

#: STL-10 ``class_names.txt`` (label order).
STL10_CLASSNAMES: tuple[str, ...] = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship",
                                     "truck")

#: Fixes applied to torchvision's Flowers102 names to match CLIP's ``prompts.md``.
FLOWERS102_FIXES: dict[str, str] = {"globe-flower": "globe flower", "pink-yellow dahlia?": "pink and yellow dahlia"}


def flowers102_classnames() -> list[str]:
    """Oxford Flowers-102 names in label order (torchvision's list with CLIP's spelling fixes)."""
    from torchvision.datasets import Flowers102
    return [FLOWERS102_FIXES.get(c, c) for c in Flowers102.classes]


def readable(name: str) -> str:
    """A folder or label name as words: ``"001.Black_footed_Albatross" -> "Black footed Albatross"``,
    ``"apartment_building/outdoor" -> "apartment building outdoor"``."""
    name = re.sub(r"^\d+\.", "", name.strip().strip("/"))
    return " ".join(re.split(r"[_/\s]+", name)).strip()


_PHOTO = ("a photo of a {}.", "a blurry photo of a {}.", "a black and white photo of a {}.",
          "a low contrast photo of a {}.", "a high contrast photo of a {}.", "a bad photo of a {}.",
          "a good photo of a {}.", "a photo of a small {}.", "a photo of a big {}.", "a photo of the {}.",
          "a blurry photo of the {}.", "a black and white photo of the {}.", "a low contrast photo of the {}.",
          "a high contrast photo of the {}.", "a bad photo of the {}.", "a good photo of the {}.",
          "a photo of the small {}.", "a photo of the big {}.")
_CARS = ("a photo of a {}.", "a photo of the {}.", "a photo of my {}.", "i love my {}!", "a photo of my dirty {}.",
         "a photo of my clean {}.", "a photo of my new {}.", "a photo of my old {}.")
_SCENE = ("a photo of a {}.", "a photo of the {}.")
_FLOWER = ("a photo of a {}, a type of flower.",)
# Ilharco et al.'s RESISC45 order: satellite/aerial alternate within imagery, photo, view; per article.
_AERIAL = tuple(f"{kind} {view} of {art}{{}}." for art in ("", "a ", "the ")
                for view in ("imagery", "photo", "view") for kind in ("satellite", "aerial"))

#: Prompt templates per registry name.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "MNIST": ('a photo of the number: "{}".',),
    "SVHN": ('a photo of the number: "{}".',),
    "CIFAR10": _PHOTO,
    "CIFAR100": _PHOTO,
    "GTSRB": ('a zoomed in photo of a "{}" traffic sign.', 'a centered photo of a "{}" traffic sign.',
              'a close up photo of a "{}" traffic sign.'),
    "DTD": ("a photo of a {} texture.", "a photo of a {} pattern.", "a photo of a {} thing.",
            "a photo of a {} object.", "a photo of the {} texture.", "a photo of the {} pattern.",
            "a photo of the {} thing.", "a photo of the {} object."),
    "Cars": _CARS,
    "EuroSAT": ("a centered satellite photo of {}.", "a centered satellite photo of a {}.",
                "a centered satellite photo of the {}."),
    "SUN397": _SCENE,
    "RESISC45": _AERIAL,
    "STL10": ("a photo of a {}.", "a photo of the {}."),
    "FER2013": ("a photo of a {} looking face.", "a photo of a face showing the emotion: {}.",
                "a photo of a face looking {}.", "a face that looks {}.", "they look {}.",
                "look at how {} they are."),
    "Flowers102": _FLOWER,
    "TinyImageNet100": _PHOTO,
    "MiniPlaces": _SCENE,
    "DomainNet:clipart": ("a clipart of a {}.", "a clip art image of a {}.", "a clipart of the {}."),
    "DomainNet:infograph": ("an infographic of a {}.", "an infographic showing a {}.", "an infographic of the {}."),
    "DomainNet:painting": ("a painting of a {}.", "a painting of the {}.", "an artwork depicting a {}."),
    "DomainNet:quickdraw": ("a quick drawing of a {}.", "a doodle of a {}.", "a quickdraw sketch of the {}."),
    "DomainNet:real": ("a photo of a {}.", "a photo of the {}.", "a real photo of a {}."),
    "DomainNet:sketch": ("a sketch of a {}.", "a pencil sketch of a {}.", "a sketch of the {}."),
    "ImageNetToSketch:flowers": _FLOWER,
    "ImageNetToSketch:wikiart": ("a painting by {}.", "an artwork by {}.", "a work of art by {}."),
    "ImageNetToSketch:sketch": ("a sketch of a {}.", "a drawing of a {}.", "a sketch of the {}."),
    "ImageNetToSketch:cars": _CARS,
    "ImageNetToSketch:cub": ("a photo of a {}, a type of bird.",),
}

__all__ = ["TEMPLATES", "DIGITS", "GTSRB_CLASSNAMES", "EUROSAT_CLASSNAMES", "RESISC45_CLASSES",
           "FER2013_CLASSNAMES", "STL10_CLASSNAMES", "flowers102_classnames", "readable"]
