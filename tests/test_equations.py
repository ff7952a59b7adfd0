"""The equation index (paperlib.equations): every citation names its paper, and the table is right."""

import re

import pytest

from paperlib import equations
from paperlib.equations import CITATION, PAPERS, bare_citations, citations, equation_numbers, main, markdown


@pytest.fixture(scope="module")
def table():
    return citations()


def implementers(table, paper, k):
    rows = table[(table.paper == paper) & (table.equation == k)]
    return set(rows[rows.kind != "module"].object)


def test_every_citation_names_its_paper():
    assert bare_citations() == []


@pytest.mark.parametrize("text, paper, numbers", [
    ("see Eq. (5) here", None, [5]),
    ("ch4 Eqs. (2)–(3) and more", "ch4", [2, 3]),
    ("Sim order (Eq. 4)", None, [4]),
    ("Eqs. (2) and (3)", None, [2, 3]),
    ("ch5 Eqs. (1), (2) and (4)", "ch5", [1, 2, 4]),
    ("ch5\n    Eq. (2)", "ch5", [2]),
    ("ch1 Eqs. (2)-(5)", "ch1", [2, 3, 4, 5]),
])
def test_citation_pattern(text, paper, numbers):
    (m,) = CITATION.finditer(text)
    assert m["paper"] == paper
    assert equation_numbers(m["numbers"]) == numbers


def test_no_false_citations():
    for text in ["Tables 1–2", "Sec. 3.1", "variant (1)–(4) of Table 2", "the equation holds", "Equations and"]:
        assert not list(CITATION.finditer(text)), text


def test_known_entries(table):
    assert set(table.columns) == {"paper", "equation", "object", "kind"}
    assert {o for o in implementers(table, "ch5", 2) if o.startswith("paperlib.linearize.")}
    assert "paperlib.linearize.LinearizedModel" in implementers(table, "ch5", 2)
    for k in (2, 3):
        assert "paperlib.metrics.transfer_scores" in implementers(table, "ch4", k)
    assert "paperlib.metrics.normalized_accuracy" in implementers(table, "ch5", 5)
    # module docstrings are marked as such, not as implementations
    modules = table[table.kind == "module"]
    assert ((modules.paper == "ch5") & (modules.equation == 2) & (modules.object == "paperlib.linearize")).any()
    assert set(table.paper) <= set(PAPERS)
    assert not table.duplicated(["paper", "equation", "object"]).any()


def test_imported_objects_are_not_attributed_to_the_importer(table):
    # paperlib.arithmetic imports normalized_accuracy from paperlib.metrics
    assert not table.object.str.startswith("paperlib.arithmetic.normalized_accuracy").any()
    assert not table.object.str.startswith(equations.__name__).any()


def test_markdown(table):
    page = markdown(table)
    assert page.startswith(f"# {equations.TITLE}\n")
    for paper, title in PAPERS.items():
        assert f"\n## {paper}: {title}\n" in page
    for paper in set(table.paper):
        section = page.split(f"\n## {paper}: ")[1].split("\n## ")[0]
        assert "| Equation | Implemented by | Cited in |" in section
        for k in set(table[table.paper == paper].equation):
            assert f"\n| ({k})" in section
    assert "`paperlib.metrics.transfer_scores`" in page
    for row in (line for line in page.splitlines() if line.startswith("|")):
        assert len(re.findall(r"(?<!\\)\|", row)) == 4, row  # three cells, none split by a stray "|"


def test_main_writes_the_page(tmp_path, table, monkeypatch):
    monkeypatch.setattr(equations, "citations", lambda: table)
    out = tmp_path / "sub" / "equations.md"
    main(["--out", str(out)])
    assert out.read_text(encoding="utf-8") == markdown(table)
