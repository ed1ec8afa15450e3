"""The objective specification of a GRPO variant and its registries (:mod:`derive.model.objective`)."""

from derive.model.objective import (
                                    NORMALISATIONS,
                                    PENALTIES,
                                    PRESETS,
                                    Objective,
                                    advantages,
)

__all__ = ["NORMALISATIONS", "PENALTIES", "PRESETS", "Objective", "advantages"]
