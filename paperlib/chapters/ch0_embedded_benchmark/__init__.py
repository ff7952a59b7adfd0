"""Chapter 0: the embedded benchmark (notebook ``notebooks/ch0_embedded_benchmark.ipynb``).

Shows every generated domain, its class counts, how long generation takes, which paper dataset each
domain stands in for, and how hard each domain is for a small CNN trained briefly from scratch.
Nothing here reproduces a paper, so the chapter has no claims.

* :mod:`.config`: the declared parameters and the validated config;
* :mod:`.experiment`: the domains and the baseline runs;
* :mod:`.tables`: class counts, generation times, stand-ins.
"""

from .config import BASELINE_EPOCHS, BASELINE_LR, PARAMS, Ch0Config
from .experiment import baseline_accuracy, load_domains
from .tables import class_counts, generation_times, stand_in_matrix, stand_in_reasons

__all__ = ["BASELINE_EPOCHS", "BASELINE_LR", "PARAMS", "Ch0Config", "baseline_accuracy", "class_counts",
           "generation_times", "load_domains", "stand_in_matrix", "stand_in_reasons"]
