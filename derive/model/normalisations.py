r"""The registry of advantage normalisations, importable without SymPy.

arXiv:2502.18548v3, Eq. (2), normalises a group's rewards by shift and scale,
``A_i = (r_i - mean r)/std r`` with the population std.  Trainers also use the sample
(Bessel) std, an epsilon added to the std, no scale ("Dr. GRPO"), or no normalisation.
A normalisation is one small class: its ``name``, whether it is ``centred`` (subtracts
the group mean) and ``scaled`` (divides by the std plus epsilon), and its :meth:`scale`
(exact, SymPy) and :meth:`float_scale` (floats); :meth:`Normalisation.advantages` and
:meth:`Normalisation.float_advantages` are generic.  The solvers read ``centred`` and
``scaled``, never the name, and the command line offers :data:`NORMALISATION_NAMES`.

This module imports SymPy only inside the exact methods, so that the command line and
the Monte Carlo start quickly; :mod:`derive.model.objective` re-exports the registry.

>>> NORMALISATION_NAMES
('shift-scale', 'shift-only', 'none')
>>> NORMALISATIONS["shift-only"].float_advantages([1.0, 0.0, 0.0, 1.0])
[0.5, -0.5, -0.5, 0.5]
>>> NORMALISATIONS["shift-scale"].float_advantages([1.0, 0.0], std="sample")
[0.7071067811865475, -0.7071067811865475]
"""

import math

__all__ = ["NORMALISATIONS", "NORMALISATION_NAMES", "NoNormalisation", "Normalisation",
           "ShiftOnly", "ShiftScale"]


class Normalisation:
    """``A_i = (r_i - c mean(r)) / scale(r)``; ``0/0 -> 0`` (Eq. (2)).

    Subclasses set ``centred`` and ``scaled`` and define :meth:`scale` (and its
    ``G -> inf`` form :meth:`scale_limit`) and :meth:`float_scale`; the advantages
    are generic.
    """

    name = ""
    centred = True
    scaled = False

    def scale(self, rewards, std, eps):
        raise NotImplementedError

    def scale_limit(self, sigma, std, eps):
        """The scale as ``G -> inf`` when the group's std tends to *sigma*."""
        raise NotImplementedError

    def float_scale(self, rewards, mean, std, eps):
        """The scale of a group in floats (only called when ``scaled``)."""
        return 1.0

    def advantages(self, rewards, std="population", eps=0):
        """Every member's advantage (generic): ``(r_i - c mean)/scale``, ``0/0 -> 0``.

        *eps* may be a number or a symbol; exact with SymPy numbers.
        """
        from sympy import sympify

        rewards = [sympify(r, strict=True) for r in rewards]   # numbers only, never a string
        G = len(rewards)
        mean = sum(rewards) / sympify(G) if self.centred else 0
        scale = self.scale(rewards, std, eps)
        if scale == 0:
            return [sympify(0)] * G
        return [(r - mean) / scale for r in rewards]

    def advantage(self, rewards, i, std="population", eps=0):
        """The advantage of member *i* given the group's *rewards*."""
        return self.advantages(rewards, std, eps)[i]

    def float_advantages(self, rewards, std="population", eps=0.0):
        """Every member's advantage in floats (the Monte Carlo's), ``0/0 -> 0``."""
        G = len(rewards)
        mean = sum(rewards) / G if self.centred else 0.0
        if not self.scaled:
            return [r - mean for r in rewards]
        if self.centred and all(r == rewards[0] for r in rewards):
            return [0.0] * G            # 0/0 -> 0 exactly (the float mean may round off r)
        sd = self.float_scale(rewards, mean, std, eps)
        if sd <= 0.0:
            return [0.0] * G
        return [(r - mean) / sd for r in rewards]


def _std(rewards, std):
    from sympy import sqrt, sympify

    G = len(rewards)
    mean = sum(rewards) / sympify(G)
    ss = sum((r - mean) ** 2 for r in rewards)
    return sqrt(ss / (G if std == "population" else G - 1))


class ShiftScale(Normalisation):
    """``(r - mean)/(std + eps)``: population std (the paper) or sample std."""

    name, scaled = "shift-scale", True

    def scale(self, rewards, std, eps):
        return _std(rewards, std) + eps

    def scale_limit(self, sigma, std, eps):
        return sigma + eps

    def float_scale(self, rewards, mean, std, eps):
        G = len(rewards)
        ss = sum((r - mean) ** 2 for r in rewards)
        return math.sqrt(ss / (G if std == "population" else G - 1)) + eps


class ShiftOnly(Normalisation):
    """``r - mean`` (Dr. GRPO)."""

    name = "shift-only"

    def scale(self, rewards, std, eps):
        from sympy import Integer

        return Integer(1)

    def scale_limit(self, sigma, std, eps):
        from sympy import Integer

        return Integer(1)


class NoNormalisation(Normalisation):
    """``A_i = r_i``: the rewards themselves."""

    name, centred = "none", False

    def scale(self, rewards, std, eps):
        from sympy import Integer

        return Integer(1)

    def scale_limit(self, sigma, std, eps):
        from sympy import Integer

        return Integer(1)


#: Advantage normalisations by name.
NORMALISATIONS = {cls.name: cls() for cls in (ShiftScale, ShiftOnly, NoNormalisation)}
#: Every normalisation of the command line.
NORMALISATION_NAMES = tuple(NORMALISATIONS)
