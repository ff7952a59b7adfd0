"""Chapter 2: Factorized Tensor Networks (FTN) on convolutions and attention, against full fine-tuning, the
feature extractor, FC + BN and LoRA (``ch2-factorized-tensor-networks.txt``). The notebook
``notebooks/ch2_factorized_tensor_networks.ipynb`` calls only this package."""

from ...ftn import PAPER_FACTOR_STD
from .claims import accuracy_claims, parameter_claims
from .config import BENCHMARK_LABELS, BENCHMARKS, PARAMS, VIT_LABELS, Ch2Config
from .experiment import Chapter2
from .figures import fig_delta_norms, fig_pareto, fig_pretraining, fig_rank
from .tables import (
    accuracy_table,
    backbones,
    delta_norms,
    gaps,
    multipliers,
    paper_gaps,
    paper_table,
    paper_table3,
    pareto,
    pilot_table,
    shipped_shares,
    show,
    table4,
    vit_counts,
    vit_table,
    vit_totals,
)

__all__ = ["BENCHMARK_LABELS", "BENCHMARKS", "Ch2Config", "Chapter2", "PAPER_FACTOR_STD", "PARAMS", "VIT_LABELS",
           "accuracy_claims", "accuracy_table", "backbones", "delta_norms", "fig_delta_norms", "fig_pareto",
           "fig_pretraining", "fig_rank", "gaps", "multipliers", "paper_gaps", "paper_table", "paper_table3", "pareto",
           "parameter_claims", "pilot_table", "shipped_shares", "show", "table4", "vit_counts", "vit_table",
           "vit_totals"]
