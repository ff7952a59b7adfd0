"""Chapter 1: sequential multi-domain fine-tuning with tangent linearization and gradient calibration
(notebook ``notebooks/ch1_sequential_tangent_pcgrad.ipynb``).

Reproduces, on the profile's data: ch1 Table 3 / Table 5 (mean accuracy over the target, reference and
all tasks for CLIP, B-Stand, B-TL, S-Stand, S-TL, S-TL-p{c}, S-TL-p{c}-{n}, S-TL-a{c}), Fig. 2
(accuracy by dataset), Table 4 (S-TL-p0.5 over training orders), Fig. 3 (calibration frequency n),
Figs. 4–5 (learning rate and total training length). The methods live in :mod:`paperlib.sequential`;
every run goes through the run cache, and the single-task runs (B-Stand, B-TL) are chapter 5's.

* :mod:`.config`: the declared parameters and the validated config;
* :mod:`.experiment`: single-task runs, merges, sequences, orders and sweeps;
* :mod:`.tables`, :mod:`.figures`: Table 3 / 5 beside the paper's, Table 4, the figures;
* :mod:`.claims`: the paper's claims on our numbers, and the numbers the closing section cites.
"""

from .claims import FORGETS_REFERENCES, FORGETS_TARGETS, claims, closing_numbers
from .config import PARAMS, ROLE_ORDER, SWEEPS, Ch1Config, default_methods, roles
from .experiment import Chapter1
from .figures import display_name, fig2, forgetting_figure, sweep_figure
from .tables import calibration_table, forgetting_summary, paper_numbers, per_run, table3, table4

__all__ = ["Ch1Config", "Chapter1", "FORGETS_REFERENCES", "FORGETS_TARGETS", "PARAMS", "ROLE_ORDER", "SWEEPS",
           "calibration_table", "claims", "closing_numbers", "default_methods", "display_name", "fig2",
           "forgetting_figure", "forgetting_summary", "paper_numbers", "per_run", "roles", "sweep_figure", "table3",
           "table4"]
