"""Chapter 0's parameters, declared once (:data:`PARAMS`), and its validated config (:class:`Ch0Config`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...data.embedded import DOMAINS
from ..kit import Config, DeclaredConfig, Param, Params, device_param, resolve_device

#: Baseline epochs per profile (the baseline is "trained briefly": a difficulty probe, not a result).
BASELINE_EPOCHS = {"smoke": 1, "embedded": 3, "paper": 3}
#: Learning rate of the baseline (AdamW, one-cycle); high because training is short.
BASELINE_LR = 1e-2

PARAMS = Params("chapter 0", (
    Param("profile", "str", "smoke (seconds, CI) · embedded (the benchmark at its book size); chapter 0 is about "
          "generated data, so it has no paper profile", default="embedded", choices=("smoke", "embedded")),
    Param("domains", "list[str]", "embedded domains to show (None: all of them)", default=tuple(sorted(DOMAINS)),
          choices=tuple(sorted(DOMAINS))),
    Param("seed", "int", "generation and baseline-training seed", default=0, low=0),
    Param("baseline_epochs", "int", "small-CNN epochs", default=BASELINE_EPOCHS, low=1, high=100),
    Param("baseline_width", "int", "channels of the baseline's first conv block", default=16, low=4, high=256),
    device_param(),
))


@dataclass(frozen=True)
class Ch0Config(DeclaredConfig):
    """Validated parameters of chapter 0 (from :data:`PARAMS`)."""

    PARAMS: ClassVar[Params] = PARAMS

    profile: str
    domains: tuple[str, ...]
    seed: int
    baseline_epochs: int
    baseline_width: int
    device: str = "cpu"

    @classmethod
    def from_config(cls, c: Config) -> "Ch0Config":
        return cls(c.profile, c.domains, c.seed, c.baseline_epochs, c.baseline_width, resolve_device(c.device))

    def summary(self) -> str:
        """One line for the notebook: what this run of the chapter does."""
        return (f"profile {self.profile}: {len(self.domains)} domains, seed {self.seed}; baseline SmallCNN "
                f"(width {self.baseline_width}), {self.baseline_epochs} epoch(s), device {self.device}")


__all__ = ["BASELINE_EPOCHS", "BASELINE_LR", "PARAMS", "Ch0Config"]
