"""The book as a whole: paper numbers only in paperlib.reference, notebook parameters cells that match
the chapters' declarations, the README's commands, and glued values that prose cites."""

from __future__ import annotations

import functools
import io
import json
import re
import shlex
import tokenize
from pathlib import Path

import pytest

from paperlib.chapters import (
    ch0_embedded_benchmark,
    ch1_sequential_tangent_pcgrad,
    ch2_factorized_tensor_networks,
    ch3_smooth_transfer,
    ch4_transfer_vs_interference,
    ch5_linear_layers_task_arithmetic,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {m.__name__.rsplit(".", 1)[1]: m for m in (ch0_embedded_benchmark, ch1_sequential_tangent_pcgrad,
                                                       ch2_factorized_tensor_networks, ch3_smooth_transfer,
                                                       ch4_transfer_vs_interference,
                                                       ch5_linear_layers_task_arithmetic)}


def _reference_numbers() -> tuple[set[str], set[str]]:
    """Numbers transcribed in paperlib.reference's tables (dict keys such as widths excluded), as
    written there: ``strong`` ones (three or more significant digits) and ``weak`` ones (two decimals,
    fewer digits, such as CKA 0.37)."""
    src = (ROOT / "paperlib" / "reference.py").read_text()
    body = "\n".join(line.split("#")[0] for line in src[src.index("CH5_TABLE1:"):src.index("SOURCES:")].splitlines())
    strong, weak = set(), set()
    for m in re.finditer(r"(?<![\w.])(\d+\.\d+)(?![\w.])(?!\s*:)", body):
        for number in {m.group(1), m.group(1).rstrip("0").rstrip(".")}:  # 48.40 is also typed as 48.4
            whole, _, dec = number.partition(".")
            significant = (whole.lstrip("0") + dec).lstrip("0")
            if len(significant) >= 3 and dec:
                strong.add(number)
            elif len(dec) >= 2:
                weak.add(number)
    return strong, weak


@functools.lru_cache(maxsize=8)
def _pattern(numbers: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True))
    return re.compile(rf"(?<![\d.])(?=({alternatives})(?!\d))")


def _found(numbers: set[str], text: str) -> list[str]:
    """Every number of ``numbers`` that occurs in ``text`` not inside a longer number (one regex pass)."""
    hits = set()
    for m in _pattern(frozenset(numbers)).finditer(text):
        start = m.start()
        hits |= {n for n in numbers
                 if text.startswith(n, start) and not text[start + len(n):start + len(n) + 1].isdigit()}
    return sorted(hits)


def _code_hits(code: str, strong: set[str], weak: set[str]) -> list[str]:
    """Paper numbers in Python source: strong ones anywhere, weak ones in strings and comments."""
    hits = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):  # f-strings are STRING tokens on 3.11
            hits += _found(strong | weak, tok.string)
        elif tok.type == tokenize.NUMBER:
            hits += _found(strong, tok.string)
    return hits


def _notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("ch*.ipynb"))


def _cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def test_reference_numbers_are_found():
    strong, weak = _reference_numbers()
    assert {"77.04", "87.42", "0.0165", "52.5", "48.40", "48.4"} <= strong and {"0.37", "0.52"} <= weak
    assert sorted(_code_hits('x = f"paper: 0.37–0.52"\n', strong, weak)) == ["0.37", "0.52"]
    assert _code_hits("paper = 77.04\n", strong, weak) == ["77.04"]
    assert _code_hits("figsize = (9, 0.45)\n", strong, weak) == []


def test_no_paper_number_is_typed_outside_reference():
    """Chapter code and notebooks read the papers' numbers from paperlib.reference, never retype them."""
    strong, weak = _reference_numbers()
    hits = []
    for f in sorted((ROOT / "paperlib" / "chapters").rglob("*.py")):
        hits += [f"{f.relative_to(ROOT)}: {n}" for n in _code_hits(f.read_text(), strong, weak)]
    for nb in _notebooks():
        for i, c in enumerate(_cells(nb)):
            text = "".join(c["source"])
            found = _code_hits(text, strong, weak) if c["cell_type"] == "code" else _found(strong | weak, text)
            hits += [f"{nb.name} cell {i}: {n}" for n in found]
    assert not hits, hits


def _parameters_cell(nb: Path) -> str:
    return next("".join(c["source"]) for c in _cells(nb) if "parameters" in c["metadata"].get("tags", []))


@pytest.mark.parametrize("stem", sorted(CHAPTERS))
def test_notebook_and_chapter_package_share_a_stem_and_declare_the_same_parameters(stem):
    nb = ROOT / "notebooks" / f"{stem}.ipynb"
    assert nb.exists(), f"chapter package {stem} has no notebook of the same stem"
    names = re.findall(r"^(\w+)\s*(?::[^=]+)?=", _parameters_cell(nb), re.M)
    assert names == list(CHAPTERS[stem].PARAMS.names)


def _readme_papermill_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")  # a command continued over lines is one line
    return [shlex.split(line.strip()) for line in text.splitlines() if "papermill notebooks/" in line]


def test_the_readmes_papermill_commands_pass_validation_as_written():
    """Every papermill command of the README, as written: its notebook exists and its -p / -y values
    pass the chapter's validation (papermill's -p passes "[0, 1, 2]" as a string)."""
    import yaml
    from papermill.cli import _resolve_type

    commands = _readme_papermill_commands()
    assert len(commands) >= 3
    for argv in commands:
        nb = Path(next(a for a in argv if a.startswith("notebooks/")))
        assert (ROOT / nb).exists(), nb
        given = {}
        for i, a in enumerate(argv):
            if a == "-p":
                given[argv[i + 1]] = _resolve_type(argv[i + 2])
            elif a == "-y":
                given.update(yaml.safe_load(argv[i + 1]))
        params = CHAPTERS[nb.stem].PARAMS
        if given.get("profile") == "paper":  # the datasets are not here: validate all but the data check
            params = type(params)(params.chapter, params.params)
            given.pop("device", None)  # no GPU here either
        params.resolve(**given)


def test_every_glued_value_is_cited_in_prose():
    """Each name a notebook glues is cited by a markdown cell ({glue:text}`name...`, {glue}`name`)."""
    for nb in _notebooks():
        cells = _cells(nb)
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        cited = set(re.findall(r"\{glue(?::\w+)?\}`(\w+)", prose))
        literal = set(re.findall(r'glue\("(\w+)"', code))
        prefixes = set(re.findall(r'glue\(f"(\w+)\{', code))
        assert literal <= cited, (nb.name, sorted(literal - cited))
        for p in prefixes:
            assert any(c.startswith(p) for c in cited), (nb.name, p)
        for name in cited:  # and every citation has a glue that can produce it
            assert name in literal or any(name.startswith(p) for p in prefixes), (nb.name, name)


def test_every_figure_is_named_and_captioned_and_every_reference_resolves():
    """A cell that shows a figure shows only that (myst-nb wraps each output of a cell whose metadata
    has ``mystnb.figure`` in that figure) and carries a unique name and a caption; each
    {numref}`name` of the prose names a figure of the same chapter."""
    names = set()
    for nb in _notebooks():
        cells = _cells(nb)
        own = set()
        for c in cells:
            src = "".join(c["source"])
            if c["cell_type"] != "code" or "plt.show()" not in src:
                continue
            if "hide-output" in c["metadata"].get("tags", []):  # a gallery behind a toggle, not a figure
                continue
            figure = c["metadata"].get("mystnb", {}).get("figure", {})
            assert figure.get("name", "").startswith("fig-") and figure.get("caption"), (nb.name, src[:80])
            assert "display(" not in src and "glue(" not in src, (nb.name, figure["name"])
            assert figure["name"] not in names, figure["name"]
            names.add(figure["name"])
            own.add(figure["name"])
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        refs = set(re.findall(r"\{numref\}`(?:[^`<]*<)?([\w-]+)>?`", prose))
        assert refs <= own, (nb.name, sorted(refs - own))
