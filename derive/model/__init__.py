"""The objective specification of a GRPO variant and its registries (:mod:`derive.model.objective`)."""

from derive.model.objective import (
    NORMALISATIONS,
    PENALTIES,
    PRESETS,
    Objective,
    Preset,
    advantages,
)

__all__ = ["NORMALISATIONS", "PENALTIES", "PRESETS", "Objective", "Preset", "advantages"]
