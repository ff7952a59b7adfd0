"""Chapter 3: Smooth Transfer Learning (notebook ``notebooks/ch3_smooth_transfer.ipynb``).

Trains the baselines of ch3 Table 1 (Target, Fine-tune, Multi-task), searches the loss-weight schedule
λ_ω(t) of ch3 Eq. (4) with TPE in parallel rounds (A.1/A.2) per source → target pair and target size N,
and retrains the best schedule (Ours) at every seed; then Table 1 beside the paper's, Fig. 1 redrawn
from ch3 Eq. (4), a Fig. 2 analogue, the search's convergence (footnote 2), the BN ablation (A.1/A.2) and
claims S1–S7 of the spec.

* :mod:`.config`: the declared parameters, the protocols per pair and profile, the validated config;
* :mod:`.experiment`: the runs, the searches, Ours and the ablation through the run cache;
* :mod:`.tables`, :mod:`.figures`: Table 1 and the derived gaps beside the paper's, the figures;
* :mod:`.claims`: the paper's claims on our numbers.
"""

from ...smooth import pair_datasets
from .claims import claims, closing_numbers
from .config import DEFAULT_SEEDS, METHOD_LABELS, PAIR_LABELS, PARAMS, PROTOCOLS, Ch3Config, target_pool
from .experiment import METHODS, Chapter3, chapter_data
from .figures import ablation_figure, convergence, fig1, fig2, table1_figure
from .tables import (
    GAP_LABELS,
    ablation_table,
    budgets,
    convergence_table,
    gaps,
    gaps_table,
    limits_table,
    paper_gaps,
    paper_row,
    step_limit_table,
    table1,
)

__all__ = ["Ch3Config", "Chapter3", "DEFAULT_SEEDS", "GAP_LABELS", "METHOD_LABELS", "METHODS", "PAIR_LABELS",
           "PARAMS", "PROTOCOLS", "ablation_figure", "ablation_table", "budgets", "chapter_data", "claims",
           "closing_numbers", "convergence", "convergence_table", "fig1", "fig2", "gaps", "gaps_table",
           "limits_table", "pair_datasets", "paper_gaps", "paper_row", "step_limit_table", "table1", "table1_figure",
           "target_pool"]
