"""Chapter 5: fine-tuning linear layers only for task arithmetic (notebook
``notebooks/ch5_linear_layers_task_arithmetic.ipynb``).

Reproduces, on the profile's data: single-task accuracies per paradigm (ch5 Fig. 3 / Fig. 6), task
addition over the 8 tasks (ch5 Table 1), the four linear-only variants (ch5 Table 2),
weight-disentanglement heatmaps for two task pairs (ch5 Figs. 4 and 7) and task-vector cosine
similarities (ch5 Fig. 5).

* :mod:`.config`: the declared parameters and the validated config;
* :mod:`.experiment`: the fine-tuning grid and what is computed from its task vectors;
* :mod:`.tables`, :mod:`.figures`: Tables 1–2 beside the paper's, the other tables, the figures;
* :mod:`.claims`: the paper's claims on our numbers, and the numbers the closing section cites.
"""

from ...models.clip import weights_checksum
from .claims import HELPS_BY, claims, closing_numbers
from .config import (
                     EVAL_SIZES,
                     LEARNABLE_GAIN,
                     PARADIGM_LABELS,
                     PARADIGM_ORDER,
                     PARAMS,
                     REGIME_ATTEMPTS,
                     REGIME_GATE,
                     Ch5Config,
)
from .experiment import Chapter5, parse_setting, reference_model, setting_name
from .figures import alpha_curves, cosine_figure, disentanglement_figure, fig3, foundation_figure, interference_figure
from .tables import (
                     addition_vs_pretrained,
                     attempt_record,
                     box_mean,
                     fine_tuning_gains,
                     foundation_summary,
                     interference_summary,
                     mean_offdiag,
                     protocol_label,
                     regime_attempts,
                     regime_gate,
                     single_task_table,
                     table1,
                     table2,
)

__all__ = ["addition_vs_pretrained", "alpha_curves", "attempt_record", "box_mean", "Ch5Config", "Chapter5", "claims",
           "closing_numbers", "cosine_figure", "disentanglement_figure", "EVAL_SIZES", "fig3", "fine_tuning_gains",
           "foundation_figure", "foundation_summary", "HELPS_BY", "interference_figure", "interference_summary",
           "LEARNABLE_GAIN", "mean_offdiag", "PARADIGM_LABELS", "PARADIGM_ORDER", "PARAMS", "parse_setting",
           "protocol_label", "reference_model", "REGIME_ATTEMPTS", "regime_attempts", "regime_gate", "REGIME_GATE",
           "setting_name", "single_task_table", "table1", "table2", "weights_checksum"]
