"""Extensions of GRPO, arXiv:2502.18548v3, Section 3 and Appendix B.2.

* **Direct KL.**  Importance-weighting the k3 penalty by ``pi/pi_old`` makes
  the expected penalty ``KL(pi || pi_ref)`` for every ``pi_old``; the
  stationary policies are then a logarithmic pooling with a policy-dependent
  preference, ``pi(o) ∝ pi_ref(o) exp(P_G(o|pi)/beta)``.  For binary questions
  this gives a logistic closed form at G = 2, and at G -> infinity the field
  ``beta h(x)`` whose zeros :class:`DirectKLLimit` classifies.
* **Shift-only normalisation.**  Without the division by the standard
  deviation the preference is ``(1 - 1/G)(r(o) - E r)``; with the direct KL
  penalty this is RLHF's logarithmic pooling (4) with ``beta G/(G-1)``.
"""

from functools import cache

import mpmath
from sympy import (
    Rational,
    Symbol,
    cancel,
    diff,
    exp,
    expand,
    expand_log,
    factor,
    limit,
    log,
    powsimp,
    solve,
    sqrt,
    together,
)

from derive.numerics.roots import bisect
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.limit import preference_limit
from derive.paper.penalty import Penalty

x, p, beta, gamma = S.x, S.p, S.beta, S.gamma


class DirectKL:
    """Stationarity with the importance-weighted k3 penalty (Section 3)."""

    def __init__(self, outputs="ab"):
        self.penalty = Penalty(outputs, importance_weighted=True)
        self.pi, self.ref = self.penalty.pi, self.penalty.ref
        self.P = S.preference_symbols(outputs)

    def derive(self):
        pen = self.penalty
        L = (sum(a * b for a, b in zip(self.pi, self.P)) - beta * pen.expected
             - S.lam * (sum(self.pi) - 1))
        self.conditions = [expand(diff(L, q)) for q in self.pi]
        #: pi_old drops out: the penalty is KL(pi || pi_ref) whatever pi_old is.
        self.old_free = all(not (c.free_symbols & set(pen.old)) for c in self.conditions)
        self.solutions = [solve(c, q)[0] for c, q in zip(self.conditions, self.pi)]
        lam = solve(sum(self.solutions) - 1, S.lam)[0]
        self.multiplier = lam
        self.policy = [powsimp(expand_log(s.subs(S.lam, lam), force=True)) for s in self.solutions]
        return self

    def pooling_residue(self):
        """Ratio of the derived policy to ``pi_ref(o) exp(P/beta)/Z``: 0 after powsimp."""
        Z = sum(r * exp(P / beta) for r, P in zip(self.ref, self.P))
        return [cancel(powsimp(expand_log(sol / (r * exp(P / beta) / Z), force=True)) - 1)
                for sol, r, P in zip(self.policy, self.ref, self.P)]

    def binary_policies_two(self):
        """The pooled ``(pi(a), pi(b))`` at G = 2, ``P_2(a) = gamma (1 - x)``, ``P_2(b) = -gamma x``."""
        subs = {self.P[0]: gamma * (1 - x), self.P[1]: -gamma * x,
                self.ref[0]: p, self.ref[1]: 1 - p}
        return self.policy[0].subs(subs), self.policy[1].subs(subs)

    def binary_two(self):
        """G = 2: solve the pooling ``x/(1 - x) = pi(a)/pi(b)`` for x."""
        pi_a, pi_b = self.binary_policies_two()
        sol = solve(x / (1 - x) - powsimp(pi_a / pi_b), x)
        return [powsimp(s) for s in sol]


class DirectKLLimit:
    """Binary question, G -> infinity, deterministic rewards, direct KL (Appendix B.2).

    The derivative of the objective along ``x = pi(a)`` at ``pi_old = pi`` is
    ``beta h(x)``.  ``h`` falls on ``(0, x*]``, rises on ``[x*, 1)`` and tends
    to infinity at both ends, so for ``beta`` above a critical ``beta_c(p)``
    it has two zeros: the left one is an attractor of the GRPO iteration (the
    field turns from positive to negative) and the right one a repeller;
    ``x = 1`` is a boundary attractor for every ``beta > 0``.  Since
    ``J(.; pi_old)`` is strictly concave for this penalty, each zero maximises
    ``J(.; itself)`` (:mod:`derive.solve.maximiser`).
    """

    def derive(self):
        u = Symbol("u", positive=True)                   # 1 - x
        sigma = sqrt(x * u)
        P_a = preference_limit(1, 1 - u, sigma)      # the derived limit (13)
        P_b = preference_limit(0, x, sigma)
        pen = Penalty("ab", importance_weighted=True)   # expected penalty KL(pi || pi_ref)
        on = {pen.pi[0]: x, pen.pi[1]: u, pen.ref[0]: p, pen.ref[1]: 1 - p}
        g_a, g_b = (pen.on_policy(pen.gradient(o)).subs(on) for o in (0, 1))
        grad = (P_a - beta * g_a) - (P_b - beta * g_b)
        self.field = expand(expand_log(grad, force=True)).subs(u, 1 - x)
        self.h = self.field / beta
        self.h_prime = diff(self.h, x)
        # h'(x) = 0, cleared of its denominator 2 beta x^(3/2) (1-x)^(3/2) > 0 (with 1 - x kept
        # as the positive u so that the powers combine): (2x - 1) - 2 beta sqrt(x (1-x)), which
        # needs x > 1/2 (unsquared); square it by separating the radical terms.
        cleared = expand(self.h_prime.subs(1 - x, u) * 2 * beta * x**Rational(3, 2)
                         * u**Rational(3, 2))
        self.stationary_unsquared = expand(cleared.subs(u, 1 - x))
        radical = sum(t for t in self.stationary_unsquared.as_ordered_terms() if t.has(sqrt(x)))
        rest = expand(self.stationary_unsquared - radical)
        self.critical_roots = solve(expand(rest**2 - radical**2), x)
        self.minimiser = [r for r in self.critical_roots
                          if all((2 * r - 1).subs(beta, b).evalf() > 0
                                 for b in (Rational(1, 10), 1, 10))][0]
        return self

    def h_residue(self):
        return cancel(together(expand(expand_log(self.h - claims.direct_kl_h(), force=True))))

    def end_limits(self):
        """Limits of h at x -> 0+ and x -> 1-, through x = eps^2 and x = 1 - eps^2.

        SymPy 1.14's ``limit(h, x, 1, '-')`` returns ``-oo`` for this h (wrong:
        ``1/(beta sqrt(1-x))`` dominates ``log(1/(1-x))``); the substitution
        ``x = 1 - eps^2`` makes the limit rational in ``eps`` and correct.
        """
        eps = Symbol("epsilon", positive=True)
        h = self.h
        return [limit(h.subs(x, eps**2), eps, 0, "+"), limit(h.subs(x, 1 - eps**2), eps, 0, "+")]

    def minimiser_residue(self):
        return cancel(factor(expand(self.minimiser - claims.direct_kl_h_minimiser()))
                      .replace(lambda e: e.is_Pow and e.exp == Rational(1, 2),
                               lambda e: sqrt(factor(cancel(e.base)))))


def pooling_condition(pi_a, pi_b):
    """A binary logarithmic pooling as a condition on ``x``: ``beta (logit x - logit p) - d``.

    *pi_a*, *pi_b* are derived pooled policies (in ``x``, ``p``, ``beta``); ``d`` is
    ``beta log((pi_a/pi_b) / (p/(1 - p)))`` simplified by ``expand_log``: the gap of the
    preferences (or rewards) that the pooling weighs.  The direct KL penalty at G = 2 gives
    ``d = gamma`` (arXiv:2502.18548v3, Section 3), RLHF with ``r(a) - r(b) = 1``
    (arXiv:2502.18548v3, Eq. (4)) gives ``d = 1``.

    >>> pooling_condition(*DirectKL().derive().binary_policies_two())
    beta*(-log(p/(1 - p)) + log(x/(1 - x))) - gamma
    """
    gap = expand(beta * expand_log(log(pi_a / pi_b * (1 - p) / p), force=True))
    return beta * (log(x / (1 - x)) - log(p / (1 - p))) - gap


def pooling_residual(xv, pv, bv, gap=1):
    """:func:`pooling_condition` at numbers: ``beta (logit x - logit p) - gap`` (mpmath).

    The direct-KL G = 2 condition (gap gamma, arXiv:2502.18548v3, Section 3) and RLHF's
    (gap ``r(a) - r(b)``, Eq. (4)); tests tie it to the derived :func:`direct_kl_condition_two`
    and to the RLHF pooling.  At ``p = 1/2`` the root is the logistic ``1/(1 + e^{-gap/beta})``:

    >>> from mpmath import mp, mpf, exp
    >>> mp.dps = 30
    >>> abs(pooling_residual(1 / (1 + exp(-mpf(1) / 2)), mpf(1) / 2, 2)) < mpf(10) ** -28
    True
    """
    return bv * (mpmath.log(xv / (1 - xv)) - mpmath.log(pv / (1 - pv))) - gap


def h_value(xv, pv, bv):
    """``h(x)`` at numbers (arXiv:2502.18548v3, App. B.2): the direct-KL field over beta at
    G -> infinity; tests tie it to the derived :attr:`DirectKLLimit.h`."""
    return 1 / (bv * mpmath.sqrt(xv * (1 - xv))) - mpmath.log(xv / (1 - xv)) + mpmath.log(pv / (1 - pv))


def h_derivative(xv, bv):
    """``h'(x)`` at numbers (App. B.2); tests tie it to the derived :attr:`DirectKLLimit.h_prime`."""
    return -(1 - 2 * xv) / (2 * bv * (xv * (1 - xv)) ** mpmath.mpf(1.5)) - 1 / (xv * (1 - xv))


def h_minimiser(bv):
    """``x* = (1 + sqrt(1 - 1/(1 + beta^2)))/2``, where ``h`` is least (App. B.2); tests tie it to
    the derived :attr:`DirectKLLimit.minimiser`."""
    return (1 + mpmath.sqrt(1 - 1 / (1 + bv**2))) / 2


def critical_beta(pv):
    """``beta_c(p)``: the root of ``beta -> h(x*(beta); beta, p)``, which decreases strictly
    (envelope theorem: ``d/dbeta h = -1/(beta^2 sqrt(x(1-x))) < 0``).  Bracketed."""
    f = lambda b: h_value(h_minimiser(b), pv, b)
    lo, hi = mpmath.mpf(1) / 1000, mpmath.mpf(1)
    while f(hi) > 0:
        hi *= 2
    while f(lo) < 0:
        lo /= 2
    return bisect(f, lo, hi)


def critical_beta_joint(pv, start_beta):
    """Independent path: Newton on the system ``h(x) = 0, h'(x) = 0`` in ``(x, beta)``."""
    x0 = h_minimiser(start_beta)
    sol = mpmath.findroot(lambda xv, bv: (h_value(xv, pv, bv), h_derivative(xv, bv)),
                          (x0, start_beta))
    return sol[1], sol[0]


def stationary_points_limit(pv, bv):
    """Zeros of h on (0, 1), classified, plus the boundary point x = 1.

    Returns ``[(x, classification)]``: interior zeros by bracketing on
    ``(0, x*)`` and ``(x*, 1)``, ``"attractor"`` where ``h`` falls through zero
    and ``"repeller"`` where it rises; ``x = 1`` is always a boundary attractor
    because ``h -> +infinity`` as ``x -> 1``.
    """
    xs = h_minimiser(bv)
    out = []
    if h_value(xs, pv, bv) < 0:
        eps = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
        lo = eps
        while h_value(lo, pv, bv) < 0:
            lo /= 10
        hi = 1 - eps
        while h_value(hi, pv, bv) < 0:
            hi = 1 - (1 - hi) / 10
        out.append((bisect(lambda t: h_value(t, pv, bv), lo, xs), "attractor"))
        out.append((bisect(lambda t: h_value(t, pv, bv), xs, hi), "repeller"))
    out.append((mpmath.mpf(1), "boundary-attractor"))
    return out


def shift_only_preference(G):
    """``E[r_1 - mean(r) | o_1 = o]`` for a group of size *G*, others iid with mean mu.

    By linearity only the means of the rewards enter: ``r_1 -> r(o)`` and
    ``r_j -> mu`` for ``j >= 2``.
    """
    r = S.rewards(G)
    adv = r[0] - Rational(1, G) * sum(r)
    return expand(adv.subs({r[0]: Symbol("r_o", real=True), **{rj: S.mu for rj in r[1:]}}))


#: Values of p at which beta_c(p) is tabulated.
CRITICAL_P = (Rational(1, 100), Rational(1, 10), Rational(3, 10), Rational(1, 2), Rational(9, 10))


@cache
def direct_kl_limit():
    """The :class:`DirectKLLimit` derivation, once per process."""
    return DirectKLLimit().derive()


@cache
def direct_kl_condition_two():
    """The G = 2 direct-KL condition ``beta (logit x - logit p) - gamma`` in ``(x, p, beta, gamma)``,
    derived from the pooling (arXiv:2502.18548v3, Section 3), once per process."""
    return pooling_condition(*DirectKL().derive().binary_policies_two())


@cache
def direct_kl_policy_two():
    """``pi(a)`` at G = 2 with the direct KL penalty, in ``(p, beta, gamma)`` (Section 3), derived once."""
    (two,) = DirectKL().derive().binary_two()
    return two
