r"""The registry of penalty estimators, importable without SymPy.

A per-sample estimator ``k(rho)`` of ``KL(pi || pi_ref)``, ``rho = pi_ref(o)/pi(o)``
(arXiv:2502.18548v3, Eq. (1) for k3), is one small class: :meth:`Estimator.k`
defines it (symbolic, in SymPy), and the numeric forms that the solvers, the
dynamics and the Monte Carlo evaluate are methods of the same class, so that
a new estimator is one class here plus its tests.  :mod:`derive.model.objective`
re-exports the registry; this module imports SymPy only inside :meth:`k`, so
that ``stationary`` starts without it (as :mod:`derive.model.presets`).

The numeric forms, in ``L = log(pi(o)/pi_ref(o)) = -log rho``:

* :meth:`Estimator.estimate_in_log_ratio`: ``k(e^{-L})`` (the KL in the reward);
* :meth:`Estimator.gradient_in_log_ratio`: the expected penalty gradient
  ``d/dpi(o) sum_o' pi_old(o') w(o') k(o')`` at ``pi_old = pi`` (Eqs. (7), (10)),
  up to an additive constant, which the simplex constraint absorbs; the tests
  compare it with the SymPy derivation
  :class:`derive.model.variants.EffectiveDivergence`;
* :meth:`Estimator.estimate` and :meth:`Estimator.derivative_in_log_pi`:
  ``k(rho)`` and ``dk/dlog pi = -rho k'(rho)`` at a sampled ratio (the Monte Carlo
  GRPO of :mod:`derive.dynamics.iteration`).

*exp* and *log* are the functions of the number type in use (``math``, a
context's ``ctx.exp``, or a forward-mode derivative's).

>>> import math
>>> PENALTIES["k3"].estimate(2.0, math.log) == 2.0 - 1.0 - math.log(2.0)
True
>>> PENALTIES["k2"].gradient_in_log_ratio(0.5, math.exp, importance_weighted=True)
0.625
"""

import math

__all__ = ["Estimator", "K1", "K2", "K3", "PENALTIES", "PENALTY_NAMES", "estimator_of"]


class Estimator:
    """A per-sample estimator ``k(rho)`` of ``KL(pi || pi_ref)``, ``rho = pi_ref/pi``.

    Subclasses define :meth:`k` and its numeric forms; :meth:`sample` and
    :meth:`expected` are generic.
    """

    name = ""
    #: LaTeX of the estimator in ``rho`` (for tables and sections).
    tex = ""

    def k(self, rho):
        """``k(rho)`` in SymPy."""
        raise NotImplementedError

    def estimate(self, rho, log):
        """``k(rho)`` at a number."""
        raise NotImplementedError

    def derivative_in_log_pi(self, rho, log):
        """``d k(pi_ref/pi) / d log pi = -rho k'(rho)`` at a number."""
        raise NotImplementedError

    def estimate_in_log_ratio(self, L, exp):
        """``k(e^{-L})``, ``L = log(pi/pi_ref)``, written without cancellation."""
        raise NotImplementedError

    def gradient_in_log_ratio(self, L, exp, importance_weighted):
        """The expected penalty gradient at ``pi_old = pi`` as a function of ``L``, up to a constant."""
        raise NotImplementedError

    #: Whether the expected gradient without importance weight is a constant (then the
    #: penalty does not move the policy: beta drops out of the stationarity condition).
    constant_gradient = False
    #: Whether the importance-weighted gradient tends to ``+infinity`` as ``pi(o) -> 0``
    #: (``L -> -infinity``): then the faces of the simplex hold stationary points.
    faces_attract_in_loss = False
    #: Whether the estimate tends to ``+infinity`` as ``pi(o) -> 0``: with the KL in the
    #: reward the modified reward tends to ``-infinity`` and the faces attract.
    faces_attract_in_reward = False
    #: Whether the estimate is linear in ``L`` (the KL in the reward then moves ``L`` by at
    #: most the spread of the rewards over ``beta``).
    linear_estimate = False

    def logit_range(self, U, B, importance_weighted):
        """A bound on the spread of ``L`` over a stationary policy's support when the
        gradient's spread is at most *B* and ``L <= U``; ``None`` for a constant gradient.

        (11) equates ``beta h(L_o) - P_G(o)`` over the support, so ``|h(L_o) - h(L_o')|
        <= B``; each estimator inverts its own ``h``.
        """
        raise NotImplementedError

    def has_faces(self, kl_in, importance_weighted):
        """Whether every face holds stationary points for this estimator (``beta > 0``)."""
        if kl_in == "loss":
            return importance_weighted and self.faces_attract_in_loss
        return self.faces_attract_in_reward

    def sample(self, pi_o, ref_o):
        """The estimate at one sampled output: ``k(pi_ref(o)/pi(o))``."""
        return self.k(ref_o / pi_o)

    def expected(self, pi, ref, old, importance_weighted):
        """``D(pi; pi_old) = sum_o pi_old(o) w(o) k(o)``, ``w = pi/pi_old`` or 1 (Eq. (7))."""
        return sum(o_ * ((p_ / o_) if importance_weighted else 1) * self.sample(p_, r_)
                   for p_, r_, o_ in zip(pi, ref, old))


class K1(Estimator):
    """``k1 = -log rho``: unbiased for ``KL(pi || pi_ref)`` on samples of ``pi``.

    Without importance weight its expected gradient is a constant (beta drops
    out); with it, ``L`` (``KL(pi || pi_ref)``).
    """

    name, tex = "k1", r"-\log\rho"

    def k(self, rho):
        from sympy import log

        return -log(rho)

    def estimate(self, rho, log):
        return -log(rho)

    def derivative_in_log_pi(self, rho, log):
        return 1.0

    def estimate_in_log_ratio(self, L, exp):
        return L

    def gradient_in_log_ratio(self, L, exp, importance_weighted):
        return L if importance_weighted else 0

    constant_gradient = linear_estimate = True

    def logit_range(self, U, B, importance_weighted):
        return B if importance_weighted else None


class K2(Estimator):
    """``k2 = (log rho)^2/2``: expected gradient ``L`` (``KL(pi || pi_ref)``), or
    ``L^2/2 + L`` with the importance weight."""

    name, tex = "k2", r"\tfrac12(\log\rho)^2"

    def k(self, rho):
        from sympy import log

        return log(rho) ** 2 / 2

    def estimate(self, rho, log):
        return log(rho) ** 2 / 2

    def derivative_in_log_pi(self, rho, log):
        return -log(rho)

    def estimate_in_log_ratio(self, L, exp):
        return L * L / 2

    def gradient_in_log_ratio(self, L, exp, importance_weighted):
        return L * L / 2 + L if importance_weighted else L

    faces_attract_in_loss = faces_attract_in_reward = True

    def logit_range(self, U, B, importance_weighted):
        if not importance_weighted:
            return B
        # h(L_min) <= h(L_max) + B <= U^2/2 + U + B
        lo = -1 - math.sqrt(1 + 2 * (U * U / 2 + U + B))
        return U - lo


class K3(Estimator):
    """``k3 = rho - 1 - log rho`` (GRPO's, Eq. (1)), non-negative: expected gradient
    ``-e^{-L}`` (``KL(pi_ref || pi)``), or ``L`` with the importance weight."""

    name, tex = "k3", r"\rho - 1 - \log\rho"

    def k(self, rho):
        from sympy import log

        return rho - 1 - log(rho)

    def estimate(self, rho, log):
        return rho - 1.0 - log(rho)

    def derivative_in_log_pi(self, rho, log):
        return 1.0 - rho

    def estimate_in_log_ratio(self, L, exp):
        return exp(-L) - 1 + L

    def gradient_in_log_ratio(self, L, exp, importance_weighted):
        return L if importance_weighted else -exp(-L)

    faces_attract_in_reward = True

    def logit_range(self, U, B, importance_weighted):
        return B if importance_weighted else U + math.log1p(B)


#: Penalty estimators by name.
PENALTIES = {cls.name: cls() for cls in (K1, K2, K3)}

#: Every penalty of the command line: each estimator as is, then importance-weighted
#: (``k1, k2, k3, k1-is, k2-is, k3-is``).
PENALTY_NAMES = tuple(name + suffix for suffix in ("", "-is") for name in PENALTIES)


def estimator_of(penalty):
    """``(estimator, importance_weighted)`` of a penalty name (``"k2-is"``).

    >>> estimator_of("k2-is")[0].name, estimator_of("k2-is")[1]
    ('k2', True)
    """
    return PENALTIES[penalty.removesuffix("-is")], penalty.endswith("-is")
