"""paperlib: companion package of the reproducibility book on multi-domain transfer learning."""

__version__ = "0.1.0"
