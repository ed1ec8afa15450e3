r"""Every stationary policy of any GRPO variant, from one system read off the objective.

:mod:`derive.solve.solver` solves the paper's objective (k3 or k3-is in the loss, the
population std, no epsilon) through a reduction to the reward distribution
``q``.  This module solves every other cell of the variant matrix
(:mod:`derive.model`): the penalty estimators k1, k2, k3 with or without
importance weight, the KL in the reward, and the advantage normalisations
shift-scale (population or sample std, plus an epsilon), shift-only and
none.  Nothing here assumes that ``pi`` can be written explicitly in terms of
the preferences (false for k2-is, whose penalty gradient is quadratic in
``log pi``).

The field
---------
At ``pi_old = pi`` the derivative of the objective in ``pi(o)`` is
(arXiv:2502.18548v3, Eqs. (1), (6), (11), with the variant's choices)

* KL in the loss: ``g_o = P(o|pi) - beta h(L_o)`` with
  ``L_o = log(pi(o)/pi_ref(o))`` and ``h`` the expected penalty gradient
  (:data:`PENALTY_GRADIENTS`, read from the estimator registry
  :mod:`derive.model.estimators`; up to an additive constant, which the simplex
  constraint absorbs; checked against the SymPy derivation of
  :class:`derive.model.variants.EffectiveDivergence` in the tests):
  k1: ``0`` (beta drops out), k1-is, k2, k3-is: ``L``, k2-is: ``L^2/2 + L``,
  k3: ``-e^{-L}``.
* KL in the reward: ``g_o = P'(o|pi)``, the preference of the modified rewards
  ``r - beta k(L_o)`` (k1: ``L``, k2: ``L^2/2``, k3: ``e^{-L} - 1 + L``), with no
  gradient through the modification.

``P(o|pi) = E[A_1 | o_1 = o]`` (the other ``G - 1`` members drawn from ``pi``)
is summed exactly over the compositions of the other members' rewards (KL in
the loss: the advantage depends on the reward values only, so the sum runs
over the reward distribution ``q`` of one draw) or over the compositions of
(answer, reward) types (KL in the reward: the modified value depends on the
answer).  ``G = infinity`` uses the law of large numbers:
``P_inf(o) = E[(r - mu)/(sigma + eps)]`` over the rewards of ``o``.

A policy with support ``S`` is stationary when ``g_o`` is the same for every
``o`` in ``S`` and, for ``o`` outside ``S``, ``g_o`` is not larger (KKT).

Unknowns and search
-------------------
The unknowns are the logits ``x_o = L_o - L_last`` of the support (the last
output of ``S`` is the reference), so probabilities near a face keep full
relative precision, and no term of ``g`` cancels catastrophically (the k3-is
penalty ``rho - 1 - log rho`` is never evaluated: its gradient ``L`` is).  The
residual is ``F_o = g_o - g_last``; its Jacobian comes from forward-mode
derivatives (:class:`Dual`) evaluated in any number type, so one residual
serves the double-precision scan, the mpmath polishing and the Arb
certificates.

* One unknown: a grid of 400 points in ``x`` over a proved range (where one
  is known; :func:`logit_range`), every sign change bracketed and polished by
  bisection and Newton's method in mpmath at ``digits + 15`` digits, and every
  local minimum of ``|F|`` tried as a tangency.
* Several unknowns: damped Newton from every local minimum of ``max |F|`` on a
  product grid and from ``pi_ref``, then mpmath Newton.  A robust search, not
  a proof that no root was missed.

A candidate is kept only when the polished residual, relative to the size of
the terms of ``g``, is below ``10^-digits``: a sign change that is a jump of
the field (the KL in the reward with a std in the scale, where coinciding
modified rewards make every advantage ``0/0 -> 0``) is not a root and is
dropped.  With deterministic rewards and the KL in the reward the stationary
policies are exactly those where every modified reward is equal (if they
are not, the answers with the largest modified reward have a positive
preference, for every normalisation), so that smooth system is solved
instead of the jumping field.

Degenerate and boundary cases
-----------------------------
* ``beta = 0``, and k1 without importance weight in the loss (its expected
  gradient is a constant: beta drops out): the stationary set consists of
  faces of answers with the same preference function (the same reward
  distribution; or the same mean where ``P`` depends on the mean only:
  shift-only, none, ``G = infinity``).  The point reported on such a face is
  ``pi_ref`` restricted to it, classified by the signs of ``P(o) - P(C)`` for
  the answers outside (as :mod:`derive.solve.solver` does for ``beta = 0``).
* k2-is: ``h(L) = L^2/2 + L -> +infinity`` as ``pi(o) -> 0``, so the penalty
  pushes mass *out* of a small ``pi(o)`` and every face is invariant and
  attracting from outside.  The stationary points of every face (the
  stationary points of the problem restricted to its support, ``pi_ref`` kept
  as it is) are reported as boundary points: ``boundary-attractor`` when the
  restricted point is an attractor (or a vertex), ``boundary-saddle`` when it
  is a repeller or a saddle within its face.
* k2 and k3 in the reward likewise: their estimate grows without bound as
  ``pi(o) -> 0``, so the modified reward of a rare answer falls below every
  other, its preference is negative, and the faces are invariant and
  attracting; their stationary points are reported the same way.
* Every other penalty pushes mass into the faces with unbounded force
  (``-e^{-L}`` or ``L`` tend to ``-infinity``), so no boundary point is
  stationary for ``beta > 0``; so does k1 in the reward (the modified
  reward of a rare answer grows without bound).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from mpmath import mp

from derive.model.estimators import PENALTIES, estimator_of
from derive.model.normalisations import NORMALISATIONS
from derive.numerics.context import ARB, FLOAT, MP, arb_ends, arb_precision, mpf_exact
from derive.numerics.field import Evaluation
from derive.numerics.group_preference import (
    advantage_parts,
    compositions,
    multinomial_coefficient,
    solve_linear,
)
from derive.numerics.roots import bisection, grid_local_minima, sign_changes

__all__ = ["Dual", "PENALTY_GRADIENTS", "REWARD_ESTIMATES", "VariantSystem", "logit_range",
           "variant_policies"]

def _penalty_gradient(name):
    estimator = PENALTIES[name.removesuffix("-is")]
    weighted = name.endswith("-is")
    return lambda L, ctx: estimator.gradient_in_log_ratio(L, lambda x: exp(x, ctx), weighted)


def _reward_estimate(name):
    estimator = PENALTIES[name]
    return lambda L, ctx: estimator.estimate_in_log_ratio(L, lambda x: exp(x, ctx))


#: The expected penalty gradient ``h(L)`` at ``pi_old = pi`` (up to a constant), ``L = log(pi/pi_ref)``,
#: from the estimator registry (:meth:`derive.model.estimators.Estimator.gradient_in_log_ratio`).
PENALTY_GRADIENTS = {name + suffix: _penalty_gradient(name + suffix)
                     for name in PENALTIES for suffix in ("", "-is")}
#: The per-sample estimate ``k(rho)`` as a function of ``L = -log rho`` (the KL in the reward),
#: from the registry (:meth:`derive.model.estimators.Estimator.estimate_in_log_ratio`).
REWARD_ESTIMATES = {name: _reward_estimate(name) for name in PENALTIES}


# ---------------------------------------------------------------------------
# Forward-mode derivatives in any number type
# ---------------------------------------------------------------------------


class Dual:
    """A value and its gradient ``d`` (a list), for FLOAT, MP or ARB numbers.

    >>> x = Dual(3.0, [1.0, 0.0]); y = Dual(2.0, [0.0, 1.0])
    >>> z = x * y / (x + 1)
    >>> z.v, z.d
    (1.5, [0.125, 0.75])
    """

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    def __add__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v + o.v, [a + b for a, b in zip(self.d, o.d)])
        return Dual(self.v + o, self.d)

    __radd__ = __add__

    def __neg__(self):
        return Dual(-self.v, [-a for a in self.d])

    def __sub__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v - o.v, [a - b for a, b in zip(self.d, o.d)])
        return Dual(self.v - o, self.d)

    def __rsub__(self, o):
        return Dual(o - self.v, [-a for a in self.d])

    def __mul__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v * o.v, [self.v * b + o.v * a for a, b in zip(self.d, o.d)])
        return Dual(self.v * o, [a * o for a in self.d])

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, Dual):
            val = self.v / o.v
            return Dual(val, [(a - val * b) / o.v for a, b in zip(self.d, o.d)])
        return Dual(self.v / o, [a / o for a in self.d])

    def __rtruediv__(self, o):
        val = o / self.v
        return Dual(val, [-val * a / self.v for a in self.d])


def value(x):
    """The value of a :class:`Dual`, or the number itself."""
    return x.v if isinstance(x, Dual) else x


def sqrt(x, ctx):
    if isinstance(x, Dual):
        s = ctx.sqrt(x.v)
        return Dual(s, [a / (2 * s) for a in x.d])
    return ctx.sqrt(x)


def exp(x, ctx):
    if isinstance(x, Dual):
        e = ctx.exp(x.v)
        return Dual(e, [a * e for a in x.d])
    return ctx.exp(x)


def log(x, ctx):
    if isinstance(x, Dual):
        return Dual(ctx.log(x.v), [a / x.v for a in x.d])
    return ctx.log(x)


class ForwardMode:
    """A residual in the logits ``x`` with its derivatives by forward mode (:class:`Dual`).

    *residual* ``(xs, ctx) -> (F, pi)`` is evaluated at numbers or at :class:`Dual`
    logits; *dim* is the number of unknowns.  :meth:`value` (also the call),
    :meth:`value_and_jacobian` and :meth:`with_policy_derivative` return a
    :class:`derive.numerics.field.Evaluation` (``J = dF/dx``, ``dpi = dpi/dx``), or
    ``None`` where the residual is undefined (as
    :func:`derive.numerics.certify.certify_root_nd` expects).
    """

    def __init__(self, residual, dim):
        self.residual = residual
        self.dim = dim

    def _evaluate(self, xs, ctx):
        try:
            return self.residual(xs, ctx)
        except (ZeroDivisionError, ValueError, OverflowError):
            return None

    def value(self, x, ctx):
        out = self._evaluate([ctx.num(a) for a in x], ctx)
        if out is None:
            return None
        F, pi = out
        return Evaluation([value(f) for f in F], None, [value(p) for p in pi], None)

    __call__ = value

    def _dual(self, x, ctx):
        n = self.dim
        zero, one = ctx.num(0), ctx.num(1)
        xs = [Dual(ctx.num(a), [one if k == i else zero for k in range(n)]) for i, a in enumerate(x)]
        return self._evaluate(xs, ctx)

    def _derivative(self, z, ctx):
        return z.d if isinstance(z, Dual) else [ctx.num(0)] * self.dim

    def value_and_jacobian(self, x, ctx):
        out = self._dual(x, ctx)
        if out is None:
            return None
        F, pi = out
        return Evaluation([value(f) for f in F], [self._derivative(f, ctx) for f in F],
                          [value(p) for p in pi], None)

    def with_policy_derivative(self, x, ctx):
        """:meth:`value_and_jacobian` and ``dpi/dx`` (for centred interval forms)."""
        out = self._dual(x, ctx)
        if out is None:
            return None
        F, pi = out
        return Evaluation([value(f) for f in F], [self._derivative(f, ctx) for f in F],
                          [value(p) for p in pi], [self._derivative(p, ctx) for p in pi])


def _not_positive(x):
    """``x <= 0`` (for an Arb ball: certainly ``<= 0``)."""
    return value(x) <= 0


def _is_zero(x):
    """Exactly zero (an Arb ball only when it is the exact 0)."""
    x = value(x)
    try:
        return x == 0
    except TypeError:
        return False


# ---------------------------------------------------------------------------
# The system
# ---------------------------------------------------------------------------


def _powers(xs, N, ctx):
    """``[[1, x, x^2, ..., x^N] for x in xs]`` (numbers or :class:`Dual`)."""
    out = []
    for x in xs:
        row = [ctx.num(1)]
        for _ in range(N):
            row.append(row[-1] * x)
        out.append(row)
    return out


class VariantSystem:
    """The stationarity system of a variant problem on the support *support*.

    *problem* is a :class:`derive.solve.solver.Problem`; ``ref`` keeps its values on
    the support (it need not sum to 1 there).  :meth:`field` and
    :meth:`field_jacobian` serve :mod:`derive.dynamics.iteration`; :meth:`residual_nd`
    serves :func:`derive.numerics.certify.certify_root_nd`.
    """

    def __init__(self, problem, support=None):
        self.problem = problem
        self.support = tuple(range(problem.K)) if support is None else tuple(support)
        S = self.support
        self.K = len(S)
        self.dim = self.K - 1
        self.ref = [problem.ref[o] for o in S]
        self.rho = [problem.rho[o] for o in S]
        self.values = problem.values
        self.m = len(self.values)
        self.beta = problem.beta
        self.group = problem.group
        self.kl_in = problem.kl_in
        self.penalty = problem.penalty
        self.normalisation = problem.normalisation
        #: the normalisation's class (derive.model.normalisations): read ``centred``, ``scaled``
        self.norm = NORMALISATIONS[problem.normalisation]
        self.std = problem.std
        self.eps = problem.std_eps
        self.centred = self.norm.centred
        #: the penalty's gradient is a constant (k1 without importance weight): beta drops out
        self.constant_gradient = _constant_gradient(problem)
        #: KL in the reward with deterministic rewards: solve "every modified reward equal"
        self.equal_rewards = (self.kl_in == "reward"
                              and all(sum(1 for w in row if w) == 1 for row in self.rho))
        self.types = [(i, j) for i, row in enumerate(self.rho) for j, w in enumerate(row) if w]
        # the double-precision scan needs every constant well inside the float range
        consts = list(self.ref) + [w for row in self.rho for w in row if w] + [self.beta]
        consts += [b - a for a, b in zip(self.values, self.values[1:])]
        consts += [v for v in self.values if v] + ([self.eps] if self.eps else [])
        self.float_ok = all(Fraction(1, 10**250) <= abs(c) <= 10**250 for c in consts if c)
        #: for each type, the type whose modified value it takes exactly (coincidence points)
        self.ties = None
        #: the reward values the support can produce
        self.produced = [j for j in range(self.m) if any(row[j] for row in self.rho)]
        self._tables = {}

    # -- advantages ---------------------------------------------------------

    def _scale_divisor(self, n_members):
        return n_members if (self.std == "population" or self.group is None) else n_members - 1

    def _exact_advantage(self, first, counts):
        """``A`` of a member with value ``values[first]`` among others with *counts*: exact
        ``(r - mean, variance)`` (:func:`derive.numerics.group_preference.advantage_parts`),
        the variance ``None`` without a scale."""
        v = self.values
        if not self.norm.centred:
            return Fraction(v[first]), None
        num, var = advantage_parts(v, first, counts, self.group, self._scale_divisor(self.group))
        return (num, None) if not self.norm.scaled else (num, var)

    def _table(self, ctx):
        """``[(monomial counts, [coef A_j for every j])]`` for the KL in the loss at finite ``G``."""
        key = ctx.key()
        table = self._tables.get(key)
        if table is None:
            table = []
            eps = ctx.num(self.eps)
            for counts in compositions(self.group - 1, self.m):
                coef = multinomial_coefficient(counts)
                row = []
                for j in range(self.m):
                    num, var = self._exact_advantage(j, counts)
                    if var is None:
                        a = ctx.num(num * coef)
                    elif var == 0 and self.eps == 0:
                        a = ctx.num(0)
                    else:
                        a = ctx.num(num * coef) / (ctx.sqrt(ctx.num(var)) + eps)
                    row.append(a)
                table.append((counts, row))
            self._tables[key] = table
        return table

    def _phi_loss(self, q, ctx):
        """``Phi_j(q) = E[A | the member's reward is values[j]]``, others iid ``q`` (KL in the loss)."""
        m = self.m
        if self.group is None:
            mu = sum(qj * ctx.num(v) for qj, v in zip(q, self.values))
            if not self.norm.centred:
                return [ctx.num(v) for v in self.values]
            dev = [ctx.num(v) - mu for v in self.values]
            if not self.norm.scaled:
                return dev
            if len(self.produced) == 1 and self.eps == 0:
                return [ctx.num(0)] * m          # sigma = 0 exactly: every advantage is 0/0 -> 0
            var = sum(qj * d * d for qj, d in zip(q, dev))
            if _is_zero(var) and self.eps == 0:
                return [ctx.num(0)] * m
            scale = sqrt(var, ctx) + ctx.num(self.eps)
            return [d / scale for d in dev]
        powers = _powers(q, self.group - 1, ctx)
        phi = [ctx.num(0)] * m
        for counts, row in self._table(ctx):
            mono = None
            for j, c in enumerate(counts):
                if c:
                    mono = powers[j][c] if mono is None else mono * powers[j][c]
            if mono is None:
                mono = ctx.num(1)
            phi = [f + mono * a for f, a in zip(phi, row)]
        return phi

    def _type_compositions(self):
        key = "types"
        if key not in self._tables:
            T = len(self.types)
            self._tables[key] = [(c, multinomial_coefficient(c)) for c in compositions(self.group - 1, T)]
        return self._tables[key]

    def _phi_reward(self, pi, L, ctx):
        """The advantage expectation of every (answer, reward) type under the modified rewards."""
        beta = ctx.num(self.beta)
        est = REWARD_ESTIMATES[self.penalty]
        w = [ctx.num(self.values[j]) - beta * est(L[i], ctx) for i, j in self.types]
        if self.ties is not None:
            w = [w[self.ties[t]] for t in range(len(w))]     # tied types share one value exactly
        p = [pi[i] * ctx.num(self.rho[i][j]) for i, j in self.types]
        T = len(self.types)
        eps = ctx.num(self.eps)
        if not self.norm.centred:
            return w
        if self.group is None:
            mu = sum(pt * wt for pt, wt in zip(p, w))
            dev = [wt - mu for wt in w]
            if not self.norm.scaled:
                return dev
            live = sum(1 for pt in p if not _is_zero(pt))
            if live <= 1 and self.eps == 0:
                return [ctx.num(0)] * T
            var = sum(pt * d * d for pt, d in zip(p, dev))
            scale = sqrt(var, ctx) + eps
            return [d / scale for d in dev]
        return self._phi_reward_sums(w, _powers(p, self.group - 1, ctx), eps, ctx)

    def _phi_reward_sums(self, w, powers, eps, ctx):
        """:meth:`_phi_reward` at finite ``G`` from the power sums of each composition.

        The values are centred on the first one, so the sum of squares
        ``S2 + u_s^2 - G mean^2`` cancels only to the size of the group's spread;
        it is ``O(1)`` per member instead of ``O(T)``.  A group of one type has
        every advantage exactly 0 (``0/0 -> 0``, decided exactly, not numerically).
        """
        G = self.group
        T = len(w)
        c = value(w[0])
        u = [wt - c for wt in w]
        u2 = [ut * ut for ut in u]
        divisor = ctx.num(self._scale_divisor(G))
        Gc = ctx.num(G)
        zero = ctx.num(0)
        scaled = self.norm.scaled
        tie = self.ties if self.ties is not None else list(range(T))
        phi = [zero] * T
        for counts, coef in self._type_compositions():
            weight = ctx.num(coef)
            S1 = S2 = zero
            present = []
            for t, n in enumerate(counts):
                if n:
                    weight = weight * powers[t][n]
                    S1 = S1 + n * u[t]
                    S2 = S2 + n * u2[t]
                    present.append(tie[t])
            if _is_zero(weight):
                continue
            one = set(present)
            for s_ in range(T):
                if one == {tie[s_]}:
                    continue          # one value only (one type, or tied types): A = 0 exactly
                mean = (u[s_] + S1) / Gc
                num = u[s_] - mean
                if not scaled:
                    phi[s_] = phi[s_] + weight * num
                    continue
                ss = S2 + u2[s_] - Gc * mean * mean
                if _not_positive(ss):
                    continue
                phi[s_] = phi[s_] + weight * num / (sqrt(ss / divisor, ctx) + eps)
        return phi

    # -- the field ----------------------------------------------------------

    def preferences(self, pi, L, ctx):
        """``P(o|pi)`` for every answer of the support (``L = log(pi/pi_ref)``)."""
        if self.kl_in == "reward":
            phi = self._phi_reward(pi, L, ctx)
            out = [ctx.num(0)] * self.K
            for (i, j), f in zip(self.types, phi):
                out[i] = out[i] + ctx.num(self.rho[i][j]) * f
            return out
        q = []
        for j in range(self.m):
            acc = None
            for i in range(self.K):
                w = self.rho[i][j]
                if w:
                    term = pi[i] * ctx.num(w) if w != 1 else pi[i]
                    acc = term if acc is None else acc + term
            q.append(ctx.num(0) if acc is None else acc)
        phi = self._phi_loss(q, ctx)
        out = []
        for i in range(self.K):
            acc = ctx.num(0)
            for j, w in enumerate(self.rho[i]):
                if w:
                    acc = acc + (phi[j] if w == 1 else ctx.num(w) * phi[j])
            out.append(acc)
        return out

    def gradient(self, pi, L, ctx):
        """``g_o`` on the support (the smooth system of equal modified rewards where that applies)."""
        if self.equal_rewards:
            beta = ctx.num(self.beta)
            est = REWARD_ESTIMATES[self.penalty]
            return [ctx.num(self.values[row.index(1)]) - beta * est(Lo, ctx)
                    for row, Lo in zip(self.rho, L)]
        P = self.preferences(pi, L, ctx)
        if self.kl_in == "reward" or self.constant_gradient or self.beta == 0:
            return P
        beta = ctx.num(self.beta)
        h = PENALTY_GRADIENTS[self.penalty]
        return [p - beta * h(Lo, ctx) for p, Lo in zip(P, L)]

    def field(self, pi, ctx=MP):
        """``g_o(pi)`` of the variant (:mod:`derive.dynamics.iteration`)."""
        pi = [ctx.num(p) for p in pi]
        L = [log(p / ctx.num(r), ctx) for p, r in zip(pi, self.ref)]
        return self.gradient(pi, L, ctx) if not self.equal_rewards else self.preferences(pi, L, ctx)

    def field_jacobian(self, pi, ctx=MP):
        """``(g, dg)`` with ``dg[o][k] = d g_o / d pi(k)`` (forward mode)."""
        K = self.K
        zero, one = ctx.num(0), ctx.num(1)
        pid = [Dual(ctx.num(p), [one if k == o else zero for k in range(K)]) for o, p in enumerate(pi)]
        L = [log(p / ctx.num(r), ctx) for p, r in zip(pid, self.ref)]
        g = self.gradient(pid, L, ctx) if not self.equal_rewards else self.preferences(pid, L, ctx)
        g = [x if isinstance(x, Dual) else Dual(x, [zero] * K) for x in g]
        return [x.v for x in g], [x.d for x in g]

    def policy_of_logits(self, x, ctx):
        """``(pi, L)`` on the support from the logits ``x`` (``x_last = 0``)."""
        ref = [ctx.num(r) for r in self.ref]
        e = [exp(xi, ctx) for xi in x] + [ctx.num(1)]
        Z = sum(r * ei for r, ei in zip(ref, e))
        logZ = log(Z, ctx)
        pi = [r * ei / Z for r, ei in zip(ref, e)]
        L = [xi - logZ for xi in x] + [-logZ]
        return pi, L

    def residual(self, x, ctx):
        """``(F, scale)``: ``F_o = g_o - g_last`` and the size of the terms of ``g``."""
        pi, L = self.policy_of_logits(x, ctx)
        g = self.gradient(pi, L, ctx)
        F = [go - g[-1] for go in g[:-1]]
        return F, g, pi

    def term_scale(self, x):
        """The largest term that makes up ``g`` at the logits *x* (mpmath): the preferences
        and ``beta`` times the penalty gradient, or the rewards and ``beta`` times the
        estimate for the system of equal modified rewards."""
        pi, L = self.policy_of_logits(x, MP)
        beta = MP.num(self.beta)
        if self.equal_rewards:
            est = REWARD_ESTIMATES[self.penalty]
            terms = [abs(MP.num(self.values[row.index(1)])) for row in self.rho]
            terms += [abs(beta * est(Lo, MP)) for Lo in L]
        else:
            terms = [abs(p) for p in self.preferences(pi, L, MP)]
            if self.kl_in == "loss" and not self.constant_gradient and self.beta:
                h = PENALTY_GRADIENTS[self.penalty]
                terms += [abs(beta * h(Lo, MP)) for Lo in L]
        return max(terms + [beta if self.beta else mp.mpf(1)])

    def _residual_and_policy(self, x, ctx):
        F, _, pi = self.residual(x, ctx)
        return F, pi

    @property
    def residual_nd(self):
        """The residual in the logits, with ``value``, ``value_and_jacobian`` and
        ``with_policy_derivative`` (:class:`ForwardMode`; for
        :func:`derive.numerics.certify.certify_root_nd`)."""
        return ForwardMode(self._residual_and_policy, self.dim)

    # -- sizes --------------------------------------------------------------

    def advantage_bound(self):
        """A bound on ``|A|`` over every group, or ``None`` when there is none."""
        vals = self.values
        spread = vals[-1] - vals[0]
        if not self.norm.centred:
            return max(abs(vals[0]), abs(vals[-1]))
        if not self.norm.scaled:
            return spread
        if self.group is None:
            return None if self.eps == 0 else spread / self.eps
        # |r - mean| <= sqrt(G - 1) sigma_population, whatever epsilon is added to the std
        G = self.group
        return math.sqrt(G - 1) * (1 if self.std == "population" else math.sqrt((G - 1) / G))


def logit_range(system):
    """``(X, proved)``: every interior stationary point has ``|x_o| <= X`` when ``proved``.

    From ``|g_o - g_o'| = 0``: the preference part differs by at most
    ``2 max|A|`` (or the reward range for the KL in the reward), so
    ``beta |h(L_o) - h(L_o')|`` is bounded; with ``sum pi = 1`` and
    ``pi <= 1`` this bounds ``L`` on both sides.
    """
    beta = float(system.beta) if system.beta > 0 else 0.0
    ref_min = min(float(r) for r in system.ref)
    U = -math.log(ref_min) if ref_min > 0 else 2300.0     # L <= log(1/pi_ref)
    vals = system.values
    spread = float(vals[-1] - vals[0])
    if system.kl_in == "reward":
        if beta == 0:
            return 30.0, False
        gap = spread * (system.K - 1) / beta
        est = REWARD_ESTIMATES[system.penalty]
        if estimator_of(system.penalty)[0].linear_estimate:
            return gap, True
        try:
            top = est(U, FLOAT) + gap
        except OverflowError:
            top = math.inf
        lo = _negative_solution(lambda L: est(L, FLOAT), top)
        return U - lo, system.equal_rewards
    bound = system.advantage_bound()
    if bound is None or beta == 0 or system.constant_gradient:
        return 30.0, False
    B = 2 * float(bound) / beta
    estimator, weighted = estimator_of(system.penalty)
    return estimator.logit_range(U, B, weighted), True


def _negative_solution(f, top):
    """The negative ``L`` with ``f(L) = top`` for ``f`` decreasing on ``L < 0`` (bisection);
    ``-inf`` when *top* is not finite."""
    if not math.isfinite(top):
        return -math.inf
    raw = f

    def f(L):
        try:
            return raw(L)
        except OverflowError:
            return math.inf

    a = -1.0
    while f(a) < top and a > -1e6:
        a *= 2
    b = 0.0
    for _ in range(200):
        c = (a + b) / 2
        if f(c) < top:
            b = c
        else:
            a = c
    return a


# ---------------------------------------------------------------------------
# Root search
# ---------------------------------------------------------------------------


def _grid(X, n_points):
    """Points in ``[-X, X]``: uniform near 0 (step about 0.1), spreading geometrically."""
    X = min(X, 1e5)
    half = n_points // 2
    if X <= 0.1 * half:
        return [X * k / half for k in range(-half, half + 1)]
    a = math.asinh(X / (0.1 * half) * 1.0)       # x = c sinh(a t), step c a/half ~ small near 0
    c = X / math.sinh(a)
    return [c * math.sinh(a * k / half) for k in range(-half, half + 1)]


def _float_residual(system, x):
    """``F`` for the scan: in double precision, or in mpmath at 30 digits when a constant of
    the problem (an epsilon of 1e1000, say) does not fit a double."""
    try:
        if not system.float_ok:
            with mp.workdps(30):
                F, _, _ = system.residual([mp.mpf(a) for a in x], MP)
                out = [mp.mpf(value(f)) for f in F]
                return out if all(mp.isfinite(f) for f in out) else None
        F, _, _ = system.residual([float(a) for a in x], FLOAT)
        out = [float(f) for f in F]
        if all(math.isfinite(f) for f in out):
            return out
    except (ZeroDivisionError, ValueError, OverflowError):
        pass
    return None


def _relative_residual(system, x):
    """``max |F|`` at ``x`` in mpmath, relative to the largest term that makes up ``g``
    (:meth:`VariantSystem.term_scale`; ``g`` itself can be tiny where its terms cancel)."""
    xs = [mp.mpf(a) for a in x]
    F, g, pi = system.residual(xs, MP)
    scale = system.term_scale(xs) if hasattr(system, "term_scale") else None
    if not scale:
        scale = max([abs(value(t)) for t in g] + [mp.mpf(1) * (system.beta if system.beta else 1)])
    return max((abs(f) for f in F), default=mp.mpf(0)) / scale


def _newton_mp(system, x, digits, maxit=80):
    """Newton's method in mpmath from ``x``; the root or ``None``."""
    x = [mp.mpf(a) for a in x]
    tol = mp.mpf(10) ** (-(digits + 5))
    for _ in range(maxit):
        out = system.residual_nd.value_and_jacobian(x, MP)
        if out is None:
            return None
        F, J = out.F, out.J
        step = solve_linear(J, [-f for f in F])
        if step is None:
            return None
        # damp steps that leave the region where the logits make sense
        big = max(abs(s) for s in step)
        if big > 5:
            step = [s * 5 / big for s in step]
        x = [a + s for a, s in zip(x, step)]
        if big <= tol * (1 + max(abs(a) for a in x)):
            return x
    return None


def _bisect_mp(system, a, fa, b, steps):
    """``steps`` bisections in mpmath of a sign change on ``[a, b]``
    (:func:`derive.numerics.roots.bisection`): ``(a, fa, b)``, or ``None`` where ``F`` is undefined."""
    def f(c):
        out = system.residual_nd([c], MP)
        return None if out is None else out[0][0]

    br = bisection(f, a, b, fa, None, steps)
    return (br.a, br.fa, br.b) if br.defined else None


def _bracket_1d(system, a, fa, b, digits):
    """Bisection in mpmath on a sign change of ``F`` on ``[a, b]``, then Newton."""
    out = _bisect_mp(system, mp.mpf(a), fa, mp.mpf(b), 60)
    if out is None:
        return None
    a, fa, b = out
    root = _newton_mp(system, [(a + b) / 2], digits)
    if root is not None and not (a - (b - a) <= root[0] <= b + (b - a)):
        root = None
    if root is None:
        # keep bisecting to the end (a jump or a non-smooth root; the residual test decides)
        out = _bisect_mp(system, a, fa, b, int(3.33 * (digits + 15)))
        if out is None:
            return None
        root = [(out[0] + out[2]) / 2]
    return root


def _candidates_1d(system, X, digits):
    grid = _grid(X, 400)
    vals = [_float_residual(system, [z]) for z in grid]
    found = [("point", grid[i]) if i == j else ("bracket", grid[i], grid[j])
             for i, j in sign_changes([None if v is None else v[0] for v in vals])]
    for k in range(1, len(grid) - 1):
        trio = vals[k - 1:k + 2]
        if any(v is None for v in trio):
            continue
        l, c, r = (abs(v[0]) for v in trio)
        if c < l and c < r and (trio[0][0] > 0) == (trio[2][0] > 0):
            found.append(("point", grid[k]))
    roots = []
    for cand in found:
        if cand[0] == "bracket":
            _, a, b = cand
            narrowed = _float_bisection(system, a, b)
            if narrowed is None:
                continue                     # a jump of the field, not a root
            a, b = narrowed
        else:
            # a local minimum of |F| without a sign change: a tangency only if Newton's
            # method converges in double precision first
            rough = _newton_float(system, [cand[1]])
            if rough is None:
                continue
            a = b = rough[0]
        with mp.workdps(digits + 15):
            r = _newton_mp(system, [(a + b) / 2], digits, maxit=25)
            if r is None and a != b:
                fa = system.residual_nd([mp.mpf(a)], MP)
                fb = system.residual_nd([mp.mpf(b)], MP)
                if fa is not None and fb is not None and (fa[0][0] > 0) != (fb[0][0] > 0):
                    r = _bracket_1d(system, a, fa[0][0], b, digits)
        if r is not None:
            roots.append(r)
    return roots


def _float_bisection(system, a, b):
    """Bisect a sign change in double precision; ``None`` when it is a jump of the field.

    A jump (the KL in the reward with a std in the scale) keeps ``|F|`` of the
    size of its terms on both sides of the last double-precision bracket; a
    root brings it down to rounding.
    """
    fa = _float_residual(system, [a])
    fb = _float_residual(system, [b])
    if fa is None or fb is None:
        return a, b
    fa, fb = fa[0], fb[0]
    size = max(abs(fa), abs(fb))

    def f(c):
        out = _float_residual(system, [c])
        return None if out is None else out[0]

    a, fa, b, fb, defined = bisection(f, a, b, fa, fb, 200)
    if not defined:
        return a, b
    if min(abs(fa), abs(fb)) > 1e-6 * size and abs(b - a) <= 1e-12 * (1 + abs(a)):
        return None
    return a, b


def _candidates_nd(system, X, digits):
    n = system.dim
    per = {2: 41, 3: 15}.get(n, 9)
    terms = _terms_per_evaluation(system.problem, system.support)
    if terms > 20000:
        per = {2: 19, 3: 9}.get(n, 5)
    elif terms > 3000:
        per = {2: 25, 3: 11}.get(n, 7)
    axis = _grid(X, per - 1)
    points = list(itertools.product(range(len(axis)), repeat=n))
    norms = {}
    for idx in points:
        F = _float_residual(system, [axis[i] for i in idx])
        norms[idx] = None if F is None else max(abs(f) for f in F)
    starts = [(v, [axis[i] for i in idx]) for v, idx in grid_local_minima(norms)]
    starts.sort(key=lambda s: s[0])
    # local minima miss roots in a valley along a grid line (a plateau of max |F|), so the
    # best grid points by max |F| start Newton's method too
    best = sorted((v, idx) for idx, v in norms.items() if v is not None)[:40 if terms <= 3000 else 12]
    starts = ([s for _, s in starts[:60]] + [[0.0] * n]
              + [[axis[i] for i in idx] for _, idx in best])
    roots, rough = [], []
    for x0 in starts:
        x = _newton_float(system, x0)
        if x is None:
            continue
        if any(max(abs(a - b) for a, b in zip(x, y)) < 1e-7 * (1 + max(abs(a) for a in x))
               for y in rough):
            continue                            # the same root from another start
        rough.append(x)
        with mp.workdps(digits + 15):
            r = _newton_mp(system, x, digits, maxit=25)
        if r is not None:
            roots.append(r)
    return roots


def _newton_float(system, x, maxit=60):
    """Damped Newton in double precision; a rough root (for mpmath to polish) or ``None``.

    Gives up when ``max |F|`` has not halved in eight steps (a start outside every basin)."""
    if not system.float_ok:
        with mp.workdps(30):
            return _newton_rough(system, [mp.mpf(a) for a in x], maxit, MP)
    return _newton_rough(system, [float(a) for a in x], maxit, FLOAT)


def _newton_rough(system, x, maxit, ctx):
    history = []
    for _ in range(maxit):
        out = system.residual_nd.value_and_jacobian(x, ctx)
        if out is None:
            return None
        F, J = out.F, out.J
        try:
            step = (_solve_float(J, [-f for f in F]) if ctx is FLOAT
                    else solve_linear(J, [-f for f in F]))
        except ZeroDivisionError:
            return None
        if step is None:
            return None
        norm0 = max(abs(f) for f in F)
        history.append(norm0)
        if len(history) > 8 and norm0 > 0.5 * history[-9]:
            return None
        t = 1.0
        while t > 1e-4:
            y = [a + t * s for a, s in zip(x, step)]
            G = _float_residual(system, y)
            if G is not None and max(abs(g) for g in G) < norm0 * (1 - 1e-4 * t) + 1e-300:
                break
            t /= 2
        else:
            return x if norm0 < 1e-8 else None
        x = y
        if max(abs(s) for s in step) * t < 1e-13 * (1 + max(abs(a) for a in x)):
            return x
    return None


def _solve_float(A, b):
    n = len(b)
    M = [list(map(float, row)) + [float(v)] for row, v in zip(A, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        if M[p][c] == 0:
            return None
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * b_ for a, b_ in zip(M[r], M[c])]
    return [M[r][n] / M[r][r] for r in range(n)]


class _CoincidenceGap:
    """``beta (k(L_a) - k(L_b)) - (v_a - v_b)`` in the logit of two answers: zero where the
    modified rewards of the types ``(a, v_a)`` and ``(b, v_b)`` coincide."""

    def __init__(self, system, va, vb):
        self.system, self.va, self.vb = system, va, vb
        self.dim = 1
        self.beta = system.beta
        self.float_ok = system.float_ok

    def residual(self, x, ctx):
        out = self.residual_nd([value(a) for a in x], ctx)
        if out is None:
            raise ValueError("the coincidence equation is undefined here")
        return out[0], [ctx.num(self.va - self.vb), ctx.num(self.beta)], out[2]

    @property
    def residual_nd(self):
        """The coincidence equation in the logit (:class:`ForwardMode`)."""
        return ForwardMode(self._gap_and_policy, 1)

    def _gap_and_policy(self, xs, ctx):
        sy = self.system
        pi, L = sy.policy_of_logits(xs, ctx)
        est = REWARD_ESTIMATES[sy.penalty]
        gap = (ctx.num(sy.beta) * (est(L[0], ctx) - est(L[1], ctx))
               - ctx.num(self.va - self.vb))
        return [gap], pi


def coincidence_roots(system, digits):
    """Stationary points of two answers at which modified rewards coincide (the KL in the
    reward, shift-scale without epsilon: the field jumps there, and is exactly 0 at the point
    only when the advantages of the tied groups, ``0/0 -> 0``, leave it balanced).

    For each pair of types of the two answers the coincidence ``w(a, v_a) = w(b, v_b)`` is a
    smooth equation in the logit; at each of its roots the field is evaluated with the tied
    values made exactly equal, and the point is kept when it vanishes (relative ``10^-digits``).
    Returns ``[(x, tied system, coincidence equation)]``.
    """
    if not (system.kl_in == "reward" and system.dim == 1 and not system.equal_rewards
            and system.norm.scaled and system.eps == 0):
        return []
    X, _ = logit_range(system)
    X = 1.1 * X + 1.0
    vals_a = [system.values[j] for i, j in system.types if i == 0]
    vals_b = [system.values[j] for i, j in system.types if i == 1]
    out = []
    for va in vals_a:
        for vb in vals_b:
            gap = _CoincidenceGap(system, va, vb)
            for x in _candidates_1d(gap, X, digits):
                with mp.workdps(digits + 15):
                    tied = _tied(system, x, va - vb)
                    F, g, _ = tied.residual([mp.mpf(x[0])], MP)
                    scale = max([abs(value(t)) for t in g] + [mp.mpf(1)])
                    if abs(value(F[0])) <= mp.mpf(10) ** (-digits) * scale:
                        out.append((x, tied, gap))
    return out


def _tied(system, x, difference):
    """A copy of *system* whose types with modified rewards differing by ``difference`` (answer
    0 minus answer 1, the coincidence at ``x``) share one value exactly."""
    tied = VariantSystem.__new__(VariantSystem)
    tied.__dict__.update(system.__dict__)
    ties = list(range(len(system.types)))
    for t, (i, j) in enumerate(system.types):
        for t2, (i2, j2) in enumerate(system.types):
            if i == 1 and i2 == 0 and system.values[j2] - system.values[j] == difference:
                ties[t] = t2
    tied.ties = ties
    return tied


def interior_roots(system, digits):
    """Every root of the system found by the search (logits, mpf), deduplicated.

    The grid reaches past the proved range (a root can sit on its end: the bound is attained
    when the preferences are constant, e.g. with normalisation none)."""
    X, _ = logit_range(system)
    X = 1.1 * X + 1.0
    if system.dim == 0:
        return [[]]
    if system.dim == 1:
        roots = _candidates_1d(system, X, digits)
    else:
        roots = _candidates_nd(system, X, digits)
    kept = []
    with mp.workdps(digits + 15):
        limit = mp.mpf(10) ** (-digits)
        for r in roots:
            if _relative_residual(system, r) > limit:
                continue                               # a jump of the field, or not converged
            close = mp.mpf(10) ** (-(digits // 2)) * (1 + max(abs(a) for a in r))
            if any(max(abs(a - b) for a, b in zip(r, k)) <= close for k in kept):
                continue
            kept.append(r)
    return kept


# ---------------------------------------------------------------------------
# Points, certificates, stability
# ---------------------------------------------------------------------------


def _classify(system, pi, digits):
    """``(eigenvalues, classification)`` of an interior point of *system* (its support)."""
    from derive.dynamics.iteration import eigenvalues_and_class

    return eigenvalues_and_class(system, pi, digits)


def _coincident(system, x, digits):
    """Whether two (answer, reward) types of different answers have equal modified rewards at
    the root ``x`` (the KL in the reward), to ``digits/2`` digits."""
    if system.kl_in != "reward" or not x:
        return False
    with mp.workdps(digits + 15):
        pi, L = system.policy_of_logits([mp.mpf(a) for a in x], MP)
        beta = MP.num(system.beta)
        est = REWARD_ESTIMATES[system.penalty]
        w = [(i, MP.num(system.values[j]) - beta * est(L[i], MP)) for i, j in system.types]
        tol = mp.mpf(10) ** (-(digits // 2))
        return any(i != k and abs(a - b) <= tol * (1 + abs(a)) for (i, a), (k, b)
                   in itertools.combinations(w, 2))


def _side_class(system, x, digits):
    """``(classification, note)`` of a root where the std of the scale is not differentiable
    (modified rewards coincide): the sign of the field on each side for one unknown."""
    jump = system.norm.scaled and system.eps == 0
    where = ("the field jumps at this point (every advantage of a group of coinciding modified "
             "rewards is 0/0 -> 0 here, +-O(1) around it)" if jump else
             "modified rewards of two answers coincide at this point, where the std of the "
             "scale is not differentiable")
    if system.dim != 1:
        return "undecided", where + "; stability is not decided"
    full = VariantSystem.__new__(VariantSystem)
    full.__dict__.update(system.__dict__)
    full.equal_rewards = False
    with mp.workdps(digits + 15):
        h = mp.mpf(10) ** (-(digits // 2)) * (1 + abs(x[0]))
        below = full.residual([x[0] - h], MP)[0][0]
        above = full.residual([x[0] + h], MP)[0][0]
    note = where + "; stability decided by the sign of the field on each side"
    if below > 0 > above:
        return "attractor", note
    if below < 0 < above:
        return "repeller", note
    return "undecided", note


def variant_policies(problem, digits=50, certify=True):
    """Every stationary policy of a variant *problem* (:class:`derive.solve.solver.StationaryPolicy`)."""
    from derive.solve.records import StationaryPolicy

    digits = int(digits)
    K = problem.K
    out = []
    degenerate = problem.beta == 0 or (problem.kl_in == "loss" and _constant_gradient(problem))
    if degenerate:
        out = _degenerate_points(problem, digits)
        if any(s.kind == "interior" for s in out):
            return out                       # every answer alike: every policy is stationary
        classes = {_preference_function_key(problem, o) for o in range(K)}
        if len(classes) < K:
            return out                       # ties within a class: interior points form continua
    else:
        out = []
    supports = [tuple(range(K))]
    if faces_attract(problem):
        supports += [s for r in range(K - 1, 0, -1) for s in itertools.combinations(range(K), r)]
    elif degenerate:
        # faces are invariant under the flow; their points with equal preferences are rest
        # points (the vertices are the classes above)
        supports += [s for r in range(K - 1, 1, -1) for s in itertools.combinations(range(K), r)]
    for S in supports:
        system = VariantSystem(problem, S)
        roots = interior_roots(system, digits)
        boundary = len(S) < K
        ties = {len(roots) + i: c for i, c in enumerate(coincidence_roots(system, digits))}
        roots = roots + [c[0] for c in ties.values()]
        for index, x in enumerate(roots):
            tied = ties.get(index)
            with mp.workdps(digits + 15):
                pi_s, _ = system.policy_of_logits([mp.mpf(a) for a in x], MP)
                pi_s = [mp.mpf(p) for p in pi_s]
                residual = (_relative_residual(tied[1] if tied else system, x) if x
                            else mp.mpf(0))
            policy = [mp.mpf(0)] * K
            for o, p in zip(S, pi_s):
                policy[o] = p
            note = []
            if (boundary and problem.group is None and problem.kl_in == "loss"
                    and not _face_kept(problem, system)):
                continue            # sigma = 0 on the face and an outside answer is pulled in
            # certificate
            if tied:
                from derive.numerics.certify import certify_root_nd

                with mp.workdps(digits + 15):
                    enc, located, why = certify_root_nd(tied[2], x, digits, pi_s)
                enclosure = [(mp.mpf(0), mp.mpf(0))] * K
                for o, e in zip(S, enc):
                    enclosure[o] = e
                enclosure, certified = tuple(enclosure), False
                note.append("a point where modified rewards of the two answers coincide "
                            + ("(its location is certified in the enclosure)" if located else
                               f"(location not certified: {why})")
                            + "; the field vanishes there with the tied advantages 0/0 -> 0 "
                            "(numerically, relative 1e-%d), and jumps around it" % digits)
            elif not x:
                enclosure = tuple((p, p) for p in policy)
                certified = True
            elif certify:
                from derive.numerics.certify import certify_root_nd

                with mp.workdps(digits + 15):
                    enc, certified, why = certify_root_nd(system, x, digits, pi_s)
                if not certified:
                    if _coincident(system, x, digits) and "finite" in why:
                        why = ("the root lies where the modified rewards of two answers coincide, "
                               "where the interval Jacobian of the std is unbounded")
                    note.append(f"not certified: {why}")
                enclosure = [(mp.mpf(0), mp.mpf(0))] * K
                for o, e in zip(S, enc):
                    enclosure[o] = e
                enclosure = tuple(enclosure)
            else:
                enclosure, certified = tuple((p, p) for p in policy), False
                note.append("certificate not requested")
            # stability
            eigenvalues = ()
            if not x:
                cls = "attractor"
            elif system.norm.scaled and _coincident(system, x, digits):
                cls, why = _side_class(system, x, digits)
                note.append(why)
            elif system.equal_rewards:
                full = VariantSystem(problem, S)      # the field itself: linear in the rewards
                full.equal_rewards = False
                eigenvalues, cls = _classify(full, pi_s, digits)
            else:
                eigenvalues, cls = _classify(system, pi_s, digits)
            if degenerate:
                where = "a point of the face" if boundary else "an interior point"
                note.append(_degenerate_reason(problem) + f"; {where} where every preference "
                            "P(o|pi) on the support is equal (found by a search over a nominal "
                            "range)")
            if boundary and degenerate:
                signs = _face_outside_signs(problem, S, policy, digits)
                if cls == "undecided" or 0 in signs:
                    cls = "undecided"
                elif cls == "attractor" and signs == {-1}:
                    cls = "boundary-attractor"
                elif cls == "repeller" and signs == {1}:
                    cls = "boundary-repeller"
                else:
                    cls = "boundary-saddle"
            elif boundary:
                cls = {"attractor": "boundary-attractor", "repeller": "boundary-saddle",
                       "saddle": "boundary-saddle"}.get(cls, cls)
                note.append(FACE_NOTE[problem.kl_in] % problem.penalty)
            if problem.group is None and not boundary:
                note.append("finite-group correction: computed for the paper's k3 and k3-is only")
            stable = None if cls == "undecided" else cls in ("attractor", "boundary-attractor")
            out.append(StationaryPolicy(tuple(policy), "boundary" if boundary else "interior", cls,
                                        residual, enclosure, bool(certified), stable,
                                        tuple(eigenvalues), "; ".join(note)))
    rank = {"interior": 0, "boundary": 1}
    out.sort(key=lambda s: (rank[s.kind], -s.policy[0], tuple(-p for p in s.policy[1:])))
    return out


#: Why the faces hold stationary points, by where the KL enters.
FACE_NOTE = {
    "loss": ("%s: the penalty gradient L^2/2 + L grows without bound as pi(o) -> 0, so every "
             "face is invariant and pushes the outside answers out; this is a stationary point "
             "of the face"),
    "reward": ("%s in the reward: the modified reward r - beta k of a rare answer falls without "
               "bound (k grows as pi(o) -> 0), so its preference is below every other and every "
               "face is invariant and pushes the outside answers out; this is a stationary point "
               "of the face"),
}


def _face_outside_signs(problem, support, policy, digits):
    """Signs of ``P(o|pi) - P(support)`` for the answers outside a face (0 when within rounding)."""
    system = VariantSystem(problem)
    with mp.workdps(digits + 15):
        pi = [mp.mpf(p) for p in policy]
        P = system.preferences(pi, [mp.mpf(0)] * problem.K, MP)
        lam = P[support[0]]
        tol = mp.mpf(10) ** (-(digits // 2))
        return {0 if abs(P[o] - lam) <= tol else (1 if P[o] > lam else -1)
                for o in range(problem.K) if o not in support}


def _constant_gradient(problem):
    """Whether the penalty's expected gradient is a constant (k1 without importance
    weight): beta drops out of the KL in the loss (:mod:`derive.model.estimators`)."""
    estimator, weighted = estimator_of(problem.penalty)
    return estimator.constant_gradient and not weighted


def faces_attract(problem):
    """Whether every face of the simplex holds stationary points (``beta > 0``).

    k2-is in the loss (the penalty gradient ``L^2/2 + L`` tends to ``+infinity``
    as ``pi(o) -> 0``) and k2 or k3 in the reward (the estimate tends to
    ``+infinity``, so the modified reward to ``-infinity``).
    """
    if problem.beta == 0:
        return False
    estimator, weighted = estimator_of(problem.penalty)
    return estimator.has_faces(problem.kl_in, weighted)


def _face_kept(problem, system):
    """At ``G = infinity`` with shift-scale and no epsilon, a face whose answers all give the
    same deterministic reward ``v`` has ``sigma = 0``: an outside answer with mean reward above
    ``v`` gets ``P -> +infinity`` (it is pulled in, so the face point is not stationary); at or
    below ``v`` it is pushed out, as by the penalty.  Other faces are kept."""
    if not system.norm.scaled or system.eps != 0 or len(system.produced) != 1:
        return True
    v = system.values[system.produced[0]]
    means = problem.mean_rewards
    return all(means[o] <= v for o in range(problem.K) if o not in system.support)


def _preference_function_key(problem, o):
    """Answers with equal keys have the same ``P(o|pi)`` for every ``pi``."""
    row = problem.rho[o]
    by_mean = not NORMALISATIONS[problem.normalisation].scaled or problem.group is None
    if by_mean:
        return sum(w * v for w, v in zip(row, problem.values))
    return row


def _degenerate_reason(problem):
    return ("k1 without importance weight: its expected gradient at pi_old = pi is the same "
            "constant for every answer, so beta drops out and the stationary set is that of beta = 0"
            if problem.beta > 0 else "beta = 0: no reference regularisation")


def _degenerate_points(problem, digits):
    """``beta`` drops out (``beta = 0``, or k1 in the loss): faces of answers with equal preference."""
    from derive.numerics.certify import exact_enclosure
    from derive.solve.records import StationaryPolicy

    K = problem.K
    classes: dict = {}
    for o in range(K):
        classes.setdefault(_preference_function_key(problem, o), []).append(o)
    why = _degenerate_reason(problem)
    out = []
    base = digits + 12
    for members in sorted(classes.values(), key=lambda c: c[0]):
        mass = sum(problem.ref[o] for o in members)
        pi = [problem.ref[o] / mass if o in members else Fraction(0) for o in range(K)]
        with mp.workdps(base):
            policy = tuple(mpf_exact(p) for p in pi)
            enclosure = exact_enclosure(pi, mp.prec)
        if len(members) == K:
            out.append(StationaryPolicy(policy, "interior", "undecided", mp.mpf(0), enclosure, False,
                                        None, (), why + "; every answer has the same preference: "
                                        "every policy is stationary (a continuum); reported pi = pi_ref"))
            continue
        from derive.dynamics.iteration import face_classification

        cls = face_classification(_outside_signs(problem, members, pi))
        note = why + ("; the stationary set is degenerate: pi_ref restricted to answers with the "
                      "same preference")
        single = len(members) == 1
        if not single:
            note += "; uniqueness not certified: ties within the class form a continuum"
        stable = None if cls == "undecided" else cls == "boundary-attractor"
        out.append(StationaryPolicy(policy, "boundary", cls, mp.mpf(0), enclosure,
                                    single and cls != "undecided", stable, (), note))
    return out


def _outside_signs(problem, members, pi):
    """Signs of ``P(o|pi) - P(C|pi)`` for the answers outside the class (Arb)."""
    from dataclasses import replace

    plain = replace(problem, beta=Fraction(0)) if problem.kl_in == "reward" else problem
    system = VariantSystem(plain)
    signs = set()
    with arb_precision(mp.prec + 40):
        pis = [ARB.num(p) for p in pi]
        L = [ARB.num(0)] * problem.K          # unused: beta = 0 in the reward, no penalty
        P = system.preferences(pis, L, ARB)
        c = members[0]
        for o in range(problem.K):
            if o in members:
                continue
            lo, hi = arb_ends(P[o] - P[c])
            signs.add(1 if lo > 0 else -1 if hi < 0 else 0)
    return signs


# ---------------------------------------------------------------------------
# What the search covers, its limits and its cost
# ---------------------------------------------------------------------------

#: Largest number of answers the generic search takes (a grid in K - 1 logits).
MAX_VARIANT_K = 4


def variant_search_limits(problem):
    """Why the generic search refuses *problem*, or ``""``."""
    if problem.K > MAX_VARIANT_K:
        return (f"refused: the {problem.penalty} / kl-in-{problem.kl_in} / {problem.normalisation} "
                f"variant is solved for at most {MAX_VARIANT_K} answers (a grid search over "
                f"K - 1 logits); got K = {problem.K}; the paper's k3 and k3-is with population std "
                "and no epsilon take any K")
    if problem.beta == 0 or (problem.kl_in == "loss" and _constant_gradient(problem)):
        return ""
    X, _ = logit_range(VariantSystem(problem))
    if X > 1e5:
        with mp.workdps(15):
            beta = mp.nstr(mpf_exact(problem.beta), 3)
        return (f"refused: with {problem.penalty} and beta = {beta} a stationary policy can have "
                f"logits up to {X:.3g}, beyond the searched 1e+05; use a larger --beta")
    return ""


def variant_search_description(problem):
    """``(text, exists)`` for the generic search (see the module docstring)."""
    if problem.beta == 0 or (problem.kl_in == "loss" and _constant_gradient(problem)):
        return ("beta drops out: the faces of answers with the same preference, in closed form, "
                "and interior points where every preference is equal, searched over logits within "
                "+-30 of pi_ref (a nominal range; not when two answers share a preference, where "
                "such points form continua)"), None
    system = VariantSystem(problem)
    X, proved = logit_range(system)
    where = ("every root lies there (a bound from the stationarity condition)" if proved
             else "a nominal range: no bound on where roots lie is known for this case")
    faces = (" on the interior and on every face (the faces are invariant and attract)"
             if faces_attract(problem) else "")
    if system.dim == 1:
        text = (f"one unknown (the logit x of pi(a)/pi(b) relative to pi_ref): sign changes and "
                f"local minima of |F| on a 400-point grid with |x| <= {min(X, 1e5):.4g}{faces}; "
                f"{where}")
    else:
        text = (f"{system.dim} unknowns: damped Newton from every local minimum of a grid of logits "
                f"within +-{min(X, 1e5):.3g} of pi_ref{faces}; {where}; a robust search, not a "
                "proof that no root was missed")
    exists = None
    # the penalty's gradient pushes every answer off the faces (neither constant nor attracting)
    estimator, weighted = estimator_of(problem.penalty)
    pushes_in = problem.kl_in == "loss" and not estimator.has_faces("loss", weighted)
    if system.dim == 1 and ((pushes_in and system.advantage_bound() is not None)
                            or (system.equal_rewards and estimator.linear_estimate)):
        exists = True
        text += "; a root exists (the condition changes sign between the faces)"
    return text, exists


def _terms_per_evaluation(problem, support=None):
    """Terms of one evaluation of the preference sums on *support* (all answers by default)."""
    rows = [problem.rho[o] for o in (range(problem.K) if support is None else support)]
    if problem.group is None:
        return 4 * len(rows) * len(problem.values)
    if problem.kl_in == "reward":
        T = sum(1 for row in rows for w in row if w)
        return math.comb(problem.group - 1 + T - 1, T - 1) * T * 3
    m = sum(1 for j in range(len(problem.values)) if any(row[j] for row in rows))
    return math.comb(problem.group - 1 + m - 1, m - 1) * (2 * m + 1)


def variant_cost(problem, digits=50, certify=True):
    """A-priori :class:`derive.solve.solver.Cost` of :func:`variant_policies`.

    Evaluations: a 400-point grid for one unknown, ``41^2`` for two and
    ``15^3`` for three, in double precision; about 60 Newton starts of ~15
    steps with derivatives in mpmath (slower by about ``(1 + digits/19)``);
    a Krawczyk certificate per root; every face as well for k2-is.
    """
    from derive.solve.records import Cost

    K = problem.K
    supports = [tuple(range(K))]
    if faces_attract(problem):
        supports += [c for r in range(K - 1, 0, -1) for c in itertools.combinations(range(K), r)]
    elif problem.beta == 0 or (problem.kl_in == "loss" and _constant_gradient(problem)):
        supports += [c for r in range(K - 1, 1, -1) for c in itertools.combinations(range(K), r)]
    mp_factor = (digits + 15) / 19.0 + 1
    total, evaluations = 0.0, 0.0
    for S in supports:
        n = len(S) - 1
        if n == 0:
            continue
        t = _terms_per_evaluation(problem, S)
        per = ({2: 19, 3: 9}.get(n, 5) if t > 20000 else {2: 25, 3: 11}.get(n, 7) if t > 3000
               else {2: 41, 3: 15}.get(n, 9))
        grid = 1200 if n == 1 else per ** n        # one unknown: the scan and its bisections
        starts = 3 if n == 1 else (101 if t <= 3000 else 73)
        # Newton in floats from every start; in mpmath only from the distinct roots (a few)
        newton = starts * 20 * (n + 1) + 5 * 8 * (n + 1) * mp_factor
        cert = 40 * (n + 1) * mp_factor if certify else 0
        total += t * (grid + newton + cert)
        evaluations += grid + starts * 38
    terms = _terms_per_evaluation(problem)
    n = K - 1
    # calibrated on the 2-core machine: about 10 "terms" per operation of the cost model
    ops = 3e5 + 0.16 * total + 2e4 * K ** 3 * mp_factor
    parts = "the grid scan, the mpmath Newton polishing and the certificates"
    return Cost(ops, 64.0 * terms * (n + 2), terms, n, float(evaluations), parts)
