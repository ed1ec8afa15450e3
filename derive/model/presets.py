"""Trainer presets as plain data (no SymPy): what each trainer runs by default.

:data:`derive.model.PRESETS` builds its :class:`derive.model.Preset` records
(with the documentation of each) from this table, and the command line's
``--preset`` reads it directly, so ``stationary`` starts without SymPy.  Each
entry: the penalty name (``-is`` for the importance weight), where the KL
enters, the normalisation, the std, the epsilon added to it, and ``beta``.

>>> PRESET_SETTINGS["trl"]["std_eps"]
Fraction(1, 10000)
"""

from fractions import Fraction

PRESET_SETTINGS = {
    "paper": dict(penalty="k3", kl_in="loss", normalisation="shift-scale", std="population",
                  std_eps=Fraction(0), beta=Fraction(1, 25)),
    "trl": dict(penalty="k3", kl_in="loss", normalisation="shift-scale", std="sample",
                std_eps=Fraction(1, 10**4), beta=Fraction(1, 25)),
    "verl": dict(penalty="k3", kl_in="loss", normalisation="shift-scale", std="sample",
                 std_eps=Fraction(1, 10**6), beta=Fraction(1, 1000)),
    "openrlhf": dict(penalty="k3", kl_in="loss", normalisation="shift-scale", std="sample",
                     std_eps=Fraction(1, 10**9), beta=Fraction(1, 1000)),
    "dr-grpo": dict(penalty="k3", kl_in="loss", normalisation="shift-only", std="population",
                    std_eps=Fraction(0), beta=Fraction(0)),
}
