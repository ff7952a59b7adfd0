"""Chapter 4: disentangling transfer and interference in multi-domain learning (notebook
``notebooks/ch4_transfer_vs_interference.ipynb``).

Trains the paper's grid (ch4 Secs. 3.3–3.5, S1) through the run cache: an independent ResNet-32 per
domain and width, and a joint model per pair of domains, width and loss weighting, per seed. Then:
Table S2 (independent accuracies), Table S1 (CKA between independent models), sample-wise PerfGain,
Interference and Transfer of every joint model (ch4 Eqs. (2)–(3)), Figs. 2–6, the paired t-tests of
ch4 Sec. 4.1 and a check of each hypothesis of ch4 Secs. 4.1–4.4.

Readings where the paper is open (also in the chapter): the "more similar" partner of a domain is
the one whose independent model has the higher CKA with its own at that width (measured, not
assumed); a figure "averaged over models" averages domain scores over seeds, pairings and (where the
paper says so) weightings; the t-tests pair scores by (seed, pairing, evaluated domain).

* :mod:`.config`: the declared parameters and the validated config;
* :mod:`.experiment`: the grid and what is measured on it;
* :mod:`.tables`, :mod:`.figures`: Tables S1–S2 beside the paper's, the statistics, the figures;
* :mod:`.claims`: the paper's claims on our numbers, and the numbers the closing section cites.
"""

from .claims import claims, closing_numbers
from .config import DEFAULT_SEEDS, DEFAULT_WIDTHS, METRIC_LABELS, METRICS, PARAMS, SHORT, WEIGHTING_LABELS, Ch4Config
from .experiment import Chapter4
from .figures import fig2, fig3, fig4, fig5, fig6, weights_figure
from .tables import (
                     SIGNIFICANCE,
                     WIDTH_FALL_TOLERANCE,
                     WIDTH_RECORDS,
                     capacity_steps,
                     cka_order,
                     fits,
                     paper_cka_range,
                     paper_pair,
                     similarity_differences,
                     table_s1,
                     table_s2,
                     ttests,
                     width_gate,
                     width_records,
)

__all__ = ["Ch4Config", "Chapter4", "DEFAULT_SEEDS", "DEFAULT_WIDTHS", "METRICS", "METRIC_LABELS", "PARAMS", "SHORT",
           "SIGNIFICANCE", "WEIGHTING_LABELS", "capacity_steps", "cka_order", "claims", "closing_numbers", "fig2",
           "fig3", "fig4", "fig5", "fig6", "fits", "paper_cka_range", "paper_pair", "similarity_differences",
           "table_s1", "table_s2", "ttests", "weights_figure", "WIDTH_FALL_TOLERANCE", "width_gate", "width_records",
           "WIDTH_RECORDS"]
