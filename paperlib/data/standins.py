"""Which embedded domain stands in for which of the papers' datasets, per chapter, and why.

One paper dataset can have different stand-ins in different chapters (CIFAR-100 is the source of a
transfer pair in chapter 3 and one of a trio of equal-sized domains in chapter 4), so the table is
keyed by benchmark. :func:`benchmark` returns the dataset names a chapter should load for a profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import check_choice, check_profile


@dataclass(frozen=True)
class StandIn:
    """One row of the stand-in table."""

    paper: str        # the paper dataset's registry name (profile ``paper``)
    embedded: str     # the embedded domain's name (profiles ``smoke`` and ``embedded``)
    role: str         # its role in the chapter (target, reference, source, ...)
    why: str          # why this domain is a fair stand-in


_ARITHMETIC_8 = (
    StandIn("Cars", "vehicles", "target", "fine-grained: side views of ten car body types told apart by their "
            "proportions, as car models are (replaced font_styles, which fine-tuning barely learned: 12% to 14%)"),
    StandIn("DTD", "textures", "target", "describable textures; real texture photographs from scikit-image "
            "plus procedural patterns"),
    StandIn("EuroSAT", "land_cover", "target", "procedural satellite-like land-cover tiles with EuroSAT's ten classes"),
    StandIn("GTSRB", "traffic_signs", "reference", "traffic-sign-like symbols: sign shape, border colour and "
            "inner symbol define the class"),
    StandIn("MNIST", "handwritten_digits", "reference", "real handwritten digit scans (scikit-learn's digits), "
            "white on black like MNIST"),
    StandIn("RESISC45", "aerial_scenes", "target", "top-down procedural scenes (runways, roundabouts, "
            "parking lots...) like remote-sensing scene classes"),
    StandIn("SUN397", "photo_scenes", "reference", "crops of real photographs (scikit-image's samples) "
            "labelled by scene"),
    StandIn("SVHN", "street_digits", "reference", "printed digits on cluttered colour backgrounds with "
            "distracting neighbour digits, like house numbers"),
)

BENCHMARKS: dict[str, tuple[StandIn, ...]] = {
    # Chapters 1 and 5: the 8 task-arithmetic tasks (ch1 Sec. 4: 4 targets + 4 references).
    "task_arithmetic_8": _ARITHMETIC_8,
    # Chapter 2, Table 2: DomainNet, the same label space in different styles.
    "ch2_domainnet": (  # in Table 2's order: Clipart, Sketch, Paint, Quick, Info, Real
        StandIn("DomainNet:clipart", "printed_digits", "domain", "clean rendered glyphs, flat colours"),
        StandIn("DomainNet:sketch", "outline_digits", "domain", "outlines only, like sketches"),
        StandIn("DomainNet:painting", "painted_digits", "domain", "brush strokes and blended painted backgrounds"),
        StandIn("DomainNet:quickdraw", "handwritten_digits", "domain", "hand-drawn strokes"),
        StandIn("DomainNet:infograph", "seven_segment_digits", "domain", "a stylised display rendering"),
        StandIn("DomainNet:real", "street_digits", "domain", "cluttered photographs-like backgrounds"),
    ),
    # Chapter 2, Table 1: ImageNet-to-Sketch, five domains with different classes.
    "ch2_imagenet_to_sketch": (
        StandIn("ImageNetToSketch:flowers", "photo_scenes", "domain", "natural photographs"),
        StandIn("ImageNetToSketch:wikiart", "textures", "domain", "style and texture matter more than shape"),
        StandIn("ImageNetToSketch:sketch", "shapes", "domain", "line drawings of object outlines"),
        StandIn("ImageNetToSketch:cars", "vehicles", "domain", "fine-grained car classes"),
        StandIn("ImageNetToSketch:cub", "faces", "domain", "fine-grained parts (eyes, mouth) decide the class"),
    ),
    # Chapter 2, Table 3: ViT attention adapters on five classification datasets.
    # Domains the shipped tiny CLIP saw only half of in pre-training, so adapting it has room, as for CLIP on
    # these datasets (shapes, letters and faces, fully seen, sat at their zero-shot 49 / 96 / 82 % under every method
    # in chapter 2's pilot, book/pilots/ch2_learning_rates.json).
    "ch2_vit": (
        StandIn("CIFAR10", "traffic_signs", "domain", "ten object-like classes on varied outdoor backgrounds"),
        StandIn("CIFAR100", "aerial_scenes", "domain", "scene classes told apart by their layout"),
        StandIn("DTD", "textures", "domain", "describable textures"),
        StandIn("STL10", "photo_scenes", "domain", "crops of real photographs"),
        StandIn("FER2013", "vehicles", "domain", "fine-grained classes of one kind of object (car bodies), as "
                "FER2013's are expressions of one kind (faces)"),
    ),
    # Chapter 3, Table 1: source -> target transfer pairs (target harder or smaller).
    "ch3_digits": (
        StandIn("MNIST", "handwritten_digits", "source", "clean handwritten digits, as MNIST is for SVHN"),
        StandIn("SVHN", "street_digits", "target", "same labels, harder cluttered images"),
    ),
    "ch3_objects": (
        StandIn("CIFAR100", "letters", "source", "more classes, same image statistics as the target (both "
                "rendered by the same glyph pipeline), as CIFAR-100 is for CIFAR-10"),
        StandIn("CIFAR10", "printed_digits", "target", "ten classes from the same pipeline, disjoint labels"),
    ),
    # Chapter 4: a trio with equal class counts and images per class; two similar, one dissimilar.
    "ch4_trio": (
        StandIn("CIFAR100", "printed_digits", "domain", "object-like symbols on colourful backgrounds (similar "
                "to traffic_signs); replaced shapes, which a from-scratch ResNet-32 barely learns (near chance) in "
                "the embedded profile's budget"),
        StandIn("TinyImageNet100", "traffic_signs", "domain", "object-like symbols, some with digits (similar to "
                "printed_digits)"),
        StandIn("MiniPlaces", "land_cover", "domain", "scene-like textures, dissimilar to the other two"),
    ),
}


def benchmark(name: str, profile: str) -> list[str]:
    """Dataset names of benchmark ``name`` for ``profile`` (paper names or embedded domains)."""
    rows = BENCHMARKS[check_choice(name, BENCHMARKS, "benchmark")]
    return [r.paper if check_profile(profile) == "paper" else r.embedded for r in rows]


def stand_in_rows() -> list[dict]:
    """The whole stand-in table as records (benchmark, paper, embedded, role, why)."""
    return [dict(benchmark=b, paper=r.paper, embedded=r.embedded, role=r.role, why=r.why)
            for b, rows in BENCHMARKS.items() for r in rows]
