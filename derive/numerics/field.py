r"""The field ``g_o`` of the paper's two penalties at numbers, written once.

At ``pi_old = pi`` the derivative of the GRPO objective in ``pi(o)`` is
(arXiv:2502.18548v3, Eqs. (10), (11); Section 3 for the importance-weighted
penalty)

* ``"k3"`` (GRPO as published): ``g_o = P_G(o|pi) - beta (1 - pi_ref(o)/pi(o))``;
* ``"k3-is"`` (``KL(pi || pi_ref)``): ``g_o = P_G(o|pi) - beta (log(pi(o)/pi_ref(o)) + 1)``.

A policy with full support is stationary when ``g_o`` is the same for every
``o``.  These are the forms that the solvers of the paper's objective
(:mod:`derive.solve.solver`, :mod:`derive.solve.reduced`) and
:func:`derive.numerics.group_preference.objective_gradient` evaluate, in any
number type of :mod:`derive.numerics.context` (``ctx.log``); the other
variants write the gradient in ``L = log(pi/pi_ref)`` from the estimator
registry of :mod:`derive.model.estimators` (up to a constant, which the simplex
absorbs; for k3 that form, ``-pi_ref/pi``, differs from the one here by the
constant ``1``, and is not used for the paper's objective, so that its numbers
stay as they were).  The SymPy derivation of the same gradients is
:class:`derive.model.variants.EffectiveDivergence` (the tests compare them).

>>> from typing import NamedTuple

from mpmath import mp
>>> from derive.numerics.context import MP
>>> mp.dps = 20
>>> half = mp.mpf(1) / 2
>>> field([mp.mpf(1), mp.mpf(-1)], [half, half], [half, half], mp.mpf(1), "k3", MP)
[mpf('1.0'), mpf('-1.0')]
"""

from __future__ import annotations

from typing import NamedTuple

from mpmath import mp

__all__ = ["Evaluation", "PAPER_PENALTIES", "field", "field_term_scale", "penalty_curvature", "penalty_gradient",
           "penalty_term_sizes"]

#: The penalties whose field is written here (the paper's, Eq. (1) and Section 3).
PAPER_PENALTIES = ("k3", "k3-is")


def _weighted(penalty) -> bool:
    if penalty not in PAPER_PENALTIES:
        raise ValueError(f"penalty must be one of {', '.join(PAPER_PENALTIES)}, not {penalty!r}")
    return penalty == "k3-is"


def penalty_gradient(pi_o, ref_o, penalty, ctx):
    """The expected penalty gradient in ``pi(o)`` at ``pi_old = pi`` (arXiv:2502.18548v3, Eq. (10)).

    k3: ``1 - pi_ref(o)/pi(o)``; k3-is: ``log(pi(o)/pi_ref(o)) + 1``.
    """
    if _weighted(penalty):
        return ctx.log(pi_o / ref_o) + 1
    return 1 - ref_o / pi_o


def penalty_curvature(pi_o, ref_o, beta, penalty):
    """``d/dpi(o)`` of ``beta`` times :func:`penalty_gradient`: ``beta/pi(o)`` (k3-is) or
    ``beta pi_ref(o)/pi(o)^2`` (k3)."""
    if _weighted(penalty):
        return beta / pi_o
    return beta * ref_o / (pi_o * pi_o)


def field(P, pi, ref, beta, penalty, ctx) -> list:
    """``g_o = P_G(o|pi) - beta (penalty gradient)`` for every ``o`` (arXiv:2502.18548v3, Eqs. (10), (11)).

    *P* the reward preferences ``P_G(o|pi)``, *pi*, *ref* and *beta* numbers of *ctx*.
    """
    return [p - beta * penalty_gradient(x, r, penalty, ctx) for p, x, r in zip(P, pi, ref)]


def penalty_term_sizes(pi, ref, beta, penalty, support) -> list:
    """The sizes of the penalty terms of ``g_o`` over *support* (mpmath): ``beta``, then
    ``beta pi_ref(o)/pi(o)`` (k3) or ``beta |log(pi(o)/pi_ref(o))|`` (k3-is)."""
    weighted = _weighted(penalty)
    sizes = [beta]
    for o in support:
        sizes.append(beta * abs(mp.log(pi[o] / ref[o])) if weighted else beta * ref[o] / pi[o])
    return sizes


def field_term_scale(preference_sizes, pi, ref, beta, penalty, support):
    """The largest term that makes up a ``g_o``, ``o`` in *support* (1 if every term is 0).

    *preference_sizes*: the size of each preference (``|P_G(o|pi)|``, or the sum of
    the sizes of its terms when ``P_G`` is itself a sum); the penalty terms are
    :func:`penalty_term_sizes`.  The denominator of the relative stationarity
    residual: about ``10^-dps`` at a root whatever the scale of ``beta``.
    """
    scale = max(max(preference_sizes), max(penalty_term_sizes(pi, ref, beta, penalty, support)))
    return scale if scale > 0 else mp.mpf(1)


class Evaluation(NamedTuple):
    """The stationarity residual of a system at one point, with what was computed.

    ``F`` the residual (a number for one unknown, else a list), ``J`` its
    derivative in the unknowns, ``pi`` the policy at the point, ``dpi`` its
    derivative in the unknowns (for the centred interval forms of
    :mod:`derive.numerics.certify`); ``J`` and ``dpi`` are ``None`` when the
    method that built it does not compute them (``value``, or
    ``value_and_jacobian`` for ``dpi``).
    """

    F: object
    J: object
    pi: list
    dpi: object
