"""Which code implements which equation of the book's papers, read from the docstrings.

Every equation citation in ``paperlib`` names its paper: ``chN Eq. (k)``, ``chN Eqs. (k)–(m)`` or
``chN Eqs. (k) and (m)``, with chN one of ch1..ch5. This module imports every module of the package,
reads the docstrings of the modules and of the classes, methods and functions *defined* in them
(objects imported from elsewhere are skipped through their ``__module__``), and tabulates the
citations:

* a class, method or function whose own docstring cites an equation *implements* it;
* a module whose docstring cites an equation *discusses* it (listed as "cited in").

:func:`citations` gives the table, :func:`markdown` the book page (one section per paper),
:func:`bare_citations` every citation, in a docstring or a comment, that does not name its paper
(the tests require there be none). ``python -m paperlib.equations --out PATH`` writes the page.
Because the page is generated from the docstrings it cannot go stale.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
import pkgutil
import re
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd

import paperlib

from .store import atomic_write_text

#: The five papers of the book (the first line of each paper's text in the shared papers folder).
PAPERS: dict[str, str] = {
    "ch1": "Multi-Domain Transfer Learning for Image Classification",
    "ch2": "Parameter-efficient Multi-Task and Multi-Domain Learning using Factorized Tensor Networks",
    "ch3": "Smooth Transfer Learning for Source-to-Target Generalization",
    "ch4": "Disentangling Transfer and Interference in Multi-Domain Learning",
    "ch5": "Fine-Tuning Linear Layers Only Is a Simple yet Effective Way for Task Arithmetic",
}

#: What the numbered equations the code cites say (the papers are fixed, so this cannot go stale);
#: an equation missing here is still listed, by number only.
EQUATIONS: dict[tuple[str, int], str] = {
    ("ch3", 1): "target per-sample loss L^T = L(s(h^T(g(x))), y) on the target training set",
    ("ch3", 2): "source per-sample loss L^S = L(s(h^S(g(x))), y) on the source set",
    ("ch3", 3): "mini-batch loss λ₀/|B^T| Σ L^T + (1 − λ₀)/|B^S| Σ L^S",
    ("ch3", 4): "scheduler λ_ω(t) = [1 + exp(−(t − T/2 − t₀)/τ + α)]^(−1)",
    ("ch3", 5): "τ → 0 limit: a step from 0 to 1 at T/2 + t₀ (pre-training then fine-tuning)",
    ("ch3", 6): "τ → ∞ limit: the constant (1 + e^α)^(−1) (multi-task learning with a fixed weight)",
    ("ch3", 7): "training: Θ ← Θ − η ∂L_{Θ, λ_ω(t)}(B^T_t, B^S_t)/∂Θ for t = 1..T",
    ("ch4", 1): "multi-domain objective L_total = Σ_t λ_t L_t(θ_share, θ_t)",
    ("ch4", 2): "PerfGain = (k + k′ − N_correct) / N",
    ("ch4", 3): "Interference = (N_correct − k) / N_correct, Transfer = k′ / N_incorrect",
    ("ch4", 4): "CKA similarity order Sim(CIFAR, Places) < Sim(Places, ImageNet) < Sim(CIFAR, ImageNet)",
    ("ch5", 1): "task arithmetic property of θ0 + Σ_t α_t τ_t",
    ("ch5", 2): "first-order Taylor expansion (NTK linearization) of f around θ0",
    ("ch5", 3): "a linear representation model, f(x; θ) = f(x; θ0) + (θ − θ0)ᵀx",
    ("ch5", 4): "weight disentanglement of f(x; θ0 + Σ_t α_t τ_t)",
    ("ch5", 5): "normalized accuracy (1/T) Σ_t acc(θ0 + Σ τ) / acc(θ0 + τ_t)",
}

TITLE = "Equations and the code that implements them"

_SELF = "paperlib.equations"
# One equation number, "(5)", or a bare "5" (as in "Eq. 4").
_PAREN_RUN = r"\(\d+\)(?:\s*(?:–|—|-|,\s*and|,|and|to)\s*\(\d+\))*"
_BARE_RUN = r"\d+(?:\s*(?:–|—|-)\s*\d+)?"
#: A citation: an optional paper ("ch5 "), then "Eq." / "Eqs." / "Equation(s)" and its numbers.
CITATION = re.compile(
    rf"(?:\b(?P<paper>ch[1-5])\s+)?\b(?:Eqs?|Equations?)\.?\s*(?P<numbers>{_PAREN_RUN}|{_BARE_RUN}\b)")
_RANGE = re.compile(r"(\d+)\)?\s*(?:–|—|-|to)\s*\(?(\d+)")


def equation_numbers(numbers: str) -> list[int]:
    """The equation numbers of a citation's number part: "(2)–(4)" → [2, 3, 4], "(2) and (5)" → [2, 5]."""
    out: set[int] = set()
    for lo, hi in _RANGE.findall(numbers):
        out.update(range(int(lo), int(hi) + 1))
    out.update(int(n) for n in re.findall(r"\d+", numbers))
    return sorted(out)


def modules() -> Iterator[ModuleType]:
    """``paperlib`` and every module below it, imported (this module excepted), in name order."""
    yield paperlib
    names = sorted(m.name for m in pkgutil.walk_packages(paperlib.__path__, "paperlib."))
    for name in names:
        if name != _SELF:
            yield importlib.import_module(name)


def _unwrap(member):
    if isinstance(member, (staticmethod, classmethod)):
        return member.__func__
    if isinstance(member, property):
        return member.fget
    return getattr(member, "func", member) if type(member).__name__ == "cached_property" else member


def _members(owner, modname: str, qualname: str | None) -> Iterator[tuple[str, str, str | None]]:
    """(qualname, kind, docstring) of the classes and functions defined in a module or class body."""
    for name, member in vars(owner).items():
        obj = _unwrap(member)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)) or getattr(obj, "__module__", None) != modname:
            continue
        want = f"{qualname}.{name}" if qualname else name
        if getattr(obj, "__qualname__", None) != want:  # an alias, or defined elsewhere in the module
            continue
        if inspect.isclass(obj):
            yield want, "class", obj.__doc__
            yield from _members(obj, modname, want)
        else:
            yield want, "method" if qualname else "function", obj.__doc__


def docstrings() -> Iterator[tuple[str, str, str]]:
    """(object, kind, docstring) for every documented module, class, method and function of ``paperlib``;
    ``object`` is ``module`` or ``module.qualname``, ``kind`` one of module / class / method / function."""
    for mod in modules():
        if mod.__doc__:
            yield mod.__name__, "module", inspect.cleandoc(mod.__doc__)
        for qualname, kind, doc in _members(mod, mod.__name__, None):
            if doc:
                yield f"{mod.__name__}.{qualname}", kind, inspect.cleandoc(doc)


def citations() -> pd.DataFrame:
    """One row per (paper, equation, object) cited in a docstring: columns ``paper`` (ch1..ch5),
    ``equation`` (its number), ``object`` (``module.qualname``) and ``kind`` (module / class / method /
    function), sorted by paper, equation and object. Citations without a paper are not included (see
    :func:`bare_citations`)."""
    rows = set()
    for obj, kind, doc in docstrings():
        for m in CITATION.finditer(doc):
            if m["paper"]:
                rows.update((m["paper"], k, obj, kind) for k in equation_numbers(m["numbers"]))
    df = pd.DataFrame(sorted(rows), columns=["paper", "equation", "object", "kind"])
    return df.astype({"equation": int})


def _comments(mod: ModuleType) -> Iterator[tuple[int, str]]:
    path = getattr(mod, "__file__", None)
    if not path or not path.endswith(".py"):
        return
    source = Path(path).read_text(encoding="utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string


def bare_citations() -> list[str]:
    """Every equation citation in a ``paperlib`` docstring or comment that does not name its paper, as
    ``"module.qualname: text"`` (docstrings) or ``"module line N: text"`` (comments)."""
    out = []
    for obj, _, doc in docstrings():
        out += [f"{obj}: {' '.join(m[0].split())}" for m in CITATION.finditer(doc) if not m["paper"]]
    for mod in modules():
        for line, text in _comments(mod):
            out += [f"{mod.__name__} line {line}: {m[0]}" for m in CITATION.finditer(text) if not m["paper"]]
    return out


def _codes(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _cell(text: str) -> str:
    """A table cell: ``|`` escaped so that it does not end the cell."""
    return text.replace("|", "\\|")


def markdown(table: pd.DataFrame | None = None) -> str:
    """The book page: a MyST document with one section per paper and, for each paper whose equations
    the code cites, a table equation | implemented by | cited in (module docstrings)."""
    table = citations() if table is None else table
    lines = [
        f"# {TITLE}",
        "",
        "Every equation the code cites, paper by paper. A class, method or function is listed under",
        "*implemented by* when its own docstring cites the equation (as `ch5 Eq. (2)`); a module whose",
        "docstring cites it is listed under *cited in*. The page is generated from the docstrings by",
        "`python -m paperlib.equations`, so it cannot go stale; equations no docstring cites are not",
        "listed.",
    ]
    for paper, title in PAPERS.items():
        lines += ["", f"## {paper}: {title}", ""]
        part = table[table.paper == paper]
        if part.empty:
            lines.append("No docstring of `paperlib` cites a numbered equation of this paper.")
            continue
        lines += ["| Equation | Implemented by | Cited in |", "| --- | --- | --- |"]
        for k, rows in part.groupby("equation", sort=True):
            what = EQUATIONS.get((paper, int(k)))
            eq = f"({k}) {what}" if what else f"({k})"
            impl = rows[rows.kind != "module"].object.tolist()
            mods = rows[rows.kind == "module"].object.tolist()
            lines.append("| " + " | ".join(_cell(c) for c in (eq, _codes(impl) or "—", _codes(mods) or "—")) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m paperlib.equations [--out PATH]``: write the page to PATH (atomically), or print it."""
    parser = argparse.ArgumentParser(prog="python -m paperlib.equations", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write the MyST page (default: standard output)")
    args = parser.parse_args(argv)
    page = markdown()
    if args.out is None:
        sys.stdout.write(page)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(page, args.out)


__all__ = ["CITATION", "EQUATIONS", "PAPERS", "TITLE", "bare_citations", "citations", "docstrings",
           "equation_numbers", "main", "markdown", "modules"]

if __name__ == "__main__":
    main()
