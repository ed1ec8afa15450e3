"""The group-relative preference of GRPO in numbers (mpmath and Arb).

This module is the numeric path of the engine's preference.  It imports only the standard
library, mpmath and python-flint (never SymPy, NumPy or Jinja), so that the
command line and the solver start quickly.

Setting
-------
``K`` outputs, each with a reward distribution on a finite set of values
``v_0 < v_1 < ... < v_{m-1}``: ``rho[o][j] = P(r(o) = v_j)``.  A group is ``G``
outputs drawn i.i.d. from a policy ``pi``; the advantage of member ``i`` is

* shift-scale (arXiv:2502.18548v3, Eq. (2)): ``A_i = (r_i - mean r) / std r``
  with the population standard deviation and ``A_i := 0`` when all ``G``
  rewards are equal;
* shift-only (arXiv:2502.18548v3, Section 3): ``A_i = r_i - mean r``.

The reward preference of an output against a policy (arXiv:2502.18548v3,
Eq. (6)) is ``P_G(o | pi) = E[A_1 | o_1 = o]``, the other ``G - 1`` members
drawn from ``pi``.  Conditioning on the first reward shows that it depends on
``pi`` only through the distribution ``q`` of the reward of one draw,
``q_j = sum_o pi(o) rho[o][j]``:

    P_G(o | pi) = sum_j rho[o][j] Phi_j(q),   Phi_j(q) = E[A_1 | r_1 = v_j],

the other ``G - 1`` rewards i.i.d. from ``q``.  Exchangeability of the group
gives ``sum_j q_j Phi_j(q) = 0`` (the advantages of a group sum to zero).

How ``Phi`` is evaluated
------------------------
* Finite ``G``, shift-scale, ``m`` values: ``Phi_j`` is a homogeneous
  polynomial of degree ``N = G - 1`` in ``q``,
  ``Phi_j(q) = sum_n multinomial(N; n) prod_k q_k^{n_k} A(v_j; n)``, where
  ``A(v_j; n)`` is the advantage of ``v_j`` in the group made of ``v_j`` and
  ``n_k`` copies of ``v_k``.  The advantages are computed exactly once per
  ``(values, G)`` (integers ``X``, ``Y`` with ``A = X/sqrt(Y)``) and converted
  once per number type and precision.  There are ``C(G + m - 2, m - 1)``
  coefficients.  ``FLOAT`` and ``ARB`` sum the terms with power tables
  (:func:`_power_sums`); ``MP`` uses nested Horner's rule in the ratios
  ``q_k/max q`` with Arb's polynomial evaluation (:class:`_HornerTable`); the
  root scan evaluates a whole grid of logits at once by stick-breaking
  (:meth:`GroupPreference.phi_on_logit_grid`).  Three values at ``G = 256``
  (33 thousand terms) take about two seconds for a whole certified solve.
* Two values (0/1, Bernoulli, or any two deterministic levels, by shift and
  scale invariance): ``Phi_1 = U``, ``Phi_0 = -L`` with the binomial sums

      U(q) = sum_k C(N,k) q^k (1-q)^(N-k) sqrt((N-k)/(k+1)),
      L(q) = sum_k C(N,k) q^k (1-q)^(N-k) sqrt(k/(G-k)).

  In mpmath (and in ball arithmetic) they are evaluated by Horner's rule in
  ``t = q/(1-q)`` (or ``(1-q)/q`` when ``q > 1/2``).  All coefficients of ``U``,
  ``L`` and of their derivatives have one sign, so Horner's rule has no
  cancellation and is stable for ``G`` in the thousands.  In double precision
  (used only to scan for roots) the Bernstein weights are generated outwards
  from the mode of the binomial and truncated once they fall below ``1e-18``
  of the mode; because the weights sum to one, the sum is normalised by the sum
  of the computed weights, so no binomial coefficient or overflowing power is
  ever formed.
* Two values and ``G > WINDOW_GROUP`` (huge groups): the binomial weights
  concentrate within a few standard deviations ``sqrt(N q0 q1)`` of the mean,
  so only a window of ``k`` is summed (:func:`_window_sums`): weights from the
  log-gamma weight of the mode and ratios outwards, in fixed point; the
  neglected mass is bounded by Chernoff's inequality and, in ``ARB``, added to
  the ball.  Memory and time ``O(sqrt(G))`` per evaluation.  In ``MP`` a long
  window is sampled every ``h`` terms (Poisson summation, :func:`_sampled_sums`),
  and in ``FLOAT`` likewise with Stirling log-weights (:func:`_window_float`).
* ``G = infinity`` (``group=None``), shift-scale: ``Phi_j = (v_j - mu)/sigma``
  with ``mu`` and ``sigma^2`` the mean and variance of ``q`` (``sigma``
  includes the reward noise, arXiv:2502.18548v3, Eq. (13)).
* Shift-only: ``Phi_j = (1 - 1/G)(v_j - mu)`` (``v_j - mu`` at ``G = inf``).

Derivatives are taken in reduced coordinates ``q_1, ..., q_{m-1}`` with
``q_0 = 1 - q_1 - ... - q_{m-1}``: ``phi_jacobian(q)[j][i-1] = dPhi_j/dq_i``.

Number contexts
---------------
Every evaluator takes a number type ``ctx`` of :mod:`derive.numerics.context`
(``MP``, ``ARB`` or ``FLOAT``).  Coefficient tables are cached per
``(context, precision)``.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from functools import lru_cache, partial

import flint
from flint import arb, arb_poly, fmpq, fmpz
from mpmath import mp
from mpmath.libmp import from_man_exp

from derive.numerics.context import (
    ARB,
    FLOAT,
    MP,
    arb_ends,
    arb_of_mpf,
    arb_precision,
    context_key,
    dyadic_parts,
    interval,
    mantissa_exponent,
    to_context,
)
from derive.numerics.field import PAPER_PENALTIES, field

__all__ = [
    "ARB",
    "FLOAT",
    "MP",
    "SHIFT_ONLY",
    "SHIFT_SCALE",
    "PreferenceTable",
    "compositions",
    "NORMALISATIONS",
    "PENALTIES",
    "GroupPreference",
    "bernoulli_rewards",
    "deterministic_rewards",
    "solve_linear",
    "group_preference",
    "arb_ends",
    "arb_precision",
    "interval",
    "objective_gradient",
    "reward_distribution",
    "reward_preference",
    "value_preference",
    "value_preference_jacobian",
]


NORMALISATIONS = ("shift-scale", "shift-only")  # (SHIFT_SCALE, SHIFT_ONLY)


PENALTIES = PAPER_PENALTIES


SHIFT_SCALE = "shift-scale"


SHIFT_ONLY = "shift-only"


def deterministic_rewards(rewards) -> tuple[tuple[Fraction, ...], tuple[tuple[Fraction, ...], ...]]:
    """Values and reward distributions of deterministic rewards ``r(o)``.

    Returns ``(values, rho)``: the sorted distinct rewards and, for each output,
    the point mass on its reward.

    >>> from fractions import Fraction as F
    >>> deterministic_rewards([F(1), F(0), F(1)])
    ((Fraction(0, 1), Fraction(1, 1)), ((Fraction(0, 1), Fraction(1, 1)), (Fraction(1, 1), Fraction(0, 1)), (Fraction(0, 1), Fraction(1, 1))))
    """
    rewards = tuple(Fraction(r) for r in rewards)
    values = tuple(sorted(set(rewards)))
    index = {v: j for j, v in enumerate(values)}
    rho = tuple(
        tuple(Fraction(1) if j == index[r] else Fraction(0) for j in range(len(values)))
        for r in rewards
    )
    return values, rho


def bernoulli_rewards(success) -> tuple[tuple[Fraction, ...], tuple[tuple[Fraction, ...], ...]]:
    """Values and reward distributions of Bernoulli rewards (``1`` w.p. ``s_o``).

    The values are the support actually used: ``0`` is kept if some ``s_o < 1``
    and ``1`` if some ``s_o > 0``.

    >>> from fractions import Fraction as F
    >>> bernoulli_rewards([F(3, 4), F(1, 4)])
    ((Fraction(0, 1), Fraction(1, 1)), ((Fraction(1, 4), Fraction(3, 4)), (Fraction(3, 4), Fraction(1, 4))))
    """
    success = tuple(Fraction(s) for s in success)
    for s in success:
        if not 0 <= s <= 1:
            raise ValueError("Bernoulli success probabilities must lie in [0, 1]")
    values = []
    if any(s < 1 for s in success):
        values.append(Fraction(0))
    if any(s > 0 for s in success):
        values.append(Fraction(1))
    rows = []
    for s in success:
        row = {Fraction(0): 1 - s, Fraction(1): s}
        rows.append(tuple(row[v] for v in values))
    return tuple(values), tuple(rows)


def compositions(total: int, parts: int):
    """All tuples of ``parts`` non-negative integers summing to ``total`` (lexicographic)."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in compositions(total - first, parts - 1):
            yield (first,) + rest


def compositions_upto(total: int, parts: int):
    """All tuples of ``parts`` non-negative integers summing to at most ``total``."""
    if parts == 0:
        yield ()
        return
    for first in range(total + 1):
        for rest in compositions_upto(total - first, parts - 1):
            yield (first,) + rest


def _float_powers(x, n):
    """``[x^0, ..., x^n]`` by repeated products."""
    out = [1.0]
    for _ in range(n):
        out.append(out[-1] * x)
    return out


def _multinomials(comps) -> list:
    """``[multinomial(sum n; n) for n in comps]`` (compositions of one total, products of binomials)."""
    if not comps:
        return []
    total = sum(comps[0])
    binom = [[math.comb(s, k) for k in range(s + 1)] for s in range(total + 1)]
    out = []
    for n in comps:
        w, running = 1, 0
        for c in n:
            running += c
            w *= binom[running][c]
        out.append(w)
    return out


def multinomial_coefficient(counts) -> int:
    out, running = 1, 0
    for c in counts:
        running += c
        out *= math.comb(running, c)
    return out


def advantage_parts(values, j: int, counts, group: int, divisor=None) -> tuple[Fraction, Fraction]:
    """Exact ``(r - mean, variance)`` of value ``v_j`` in the group ``v_j + counts``.

    The shift-scale advantage is ``(r - mean)/sqrt(variance)`` (population
    variance, arXiv:2502.18548v3, Eq. (2)), and ``0`` when the variance is ``0``.
    *divisor* divides the sum of squares about the mean: ``G`` (the population
    variance, the default) or ``G - 1`` (the sample variance).

    >>> advantage_parts((Fraction(0), Fraction(1)), 1, (2, 1), 4)     # the group (1, 0, 0, 1)
    (Fraction(1, 2), Fraction(1, 4))
    >>> advantage_parts((Fraction(0), Fraction(1)), 1, (2, 1), 4, divisor=3)
    (Fraction(1, 2), Fraction(1, 3))
    """
    total = values[j] + sum(c * v for c, v in zip(counts, values))
    square = values[j] ** 2 + sum(c * v * v for c, v in zip(counts, values))
    mean = total / group
    if divisor is None:
        return values[j] - mean, square / group - mean * mean
    return values[j] - mean, (square - group * mean * mean) / divisor


def _advantage(ctx, values, j, counts, group):
    return _advantage_of_parts(ctx, advantage_parts(values, j, counts, group))


def _advantage_of_parts(ctx, parts, dens=(1, 1)):
    """``(r - mean)/sqrt(variance)`` in ``ctx`` from the exact parts (``0`` when the variance is ``0``).

    ``parts = (diff, variance)`` as rationals, or as integer numerators over
    ``dens``; the result is the same number, rounded the same way, as
    ``to_context(ctx, diff) / ctx.sqrt(to_context(ctx, variance))``.
    """
    diff, variance = parts
    if variance == 0:
        return to_context(ctx, 0)
    return _rational(ctx, diff, dens[0]) / ctx.sqrt(_rational(ctx, variance, dens[1]))


def _integer_converter(ctx):
    """``ctx.num`` for Python integers, without the detour through ``Fraction`` (the same numbers)."""
    if ctx is FLOAT:
        return float                      # correctly rounded, as int / 1
    if ctx is ARB:
        return lambda n: arb(fmpz(n))
    return mp.mpf


def _rational(ctx, p, q):
    """``to_context(ctx, Fraction(p, q))`` without forming the ``Fraction`` (``q > 0``).

    A float quotient of integers is correctly rounded whether or not the
    fraction is reduced, and ``fmpq`` reduces itself; mpmath divides the
    reduced numerator by the reduced denominator.
    """
    if isinstance(p, Fraction):
        p, q = p.numerator * 1, p.denominator * q
    if ctx is FLOAT:
        return p / q
    if ctx is ARB:
        if p % q == 0:
            return arb(fmpz(p // q))
        return arb(fmpq(p, q))
    g = math.gcd(p, q)
    p, q = p // g, q // g
    if q == 1:
        return mp.mpf(p)
    return mp.mpf(p) / q


def _shifted_positions(m, dcomps, index):
    """For each level ``i``, the table positions of the compositions *dcomps* with one more
    count at ``i`` (the terms of ``d Phi / d q_i``)."""
    out = []
    for i in range(m):
        pos = []
        for n in dcomps:
            ni = list(n)
            ni[i] += 1
            pos.append(index[tuple(ni)])
        out.append(pos)
    return out


class GroupPreference:
    """``Phi_j(q) = E[A_1 | r_1 = v_j]`` for fixed values, ``G`` and normalisation.

    ``Phi`` is the building block of the reward preference of
    arXiv:2502.18548v3, Eq. (6): ``P_G(o | pi) = sum_j rho[o][j] Phi_j(q)``.
    Instances are cached by :func:`group_preference`.  The case decides the
    :attr:`evaluator`, one small class per way of evaluating ``Phi`` (each with
    ``phi(q, ctx)`` and ``jacobian(q, ctx)``, and its own tables, built
    lazily once per number context and precision): :class:`_ConstantPhi`,
    :class:`_ShiftOnlyPhi`, :class:`_InfinitePhi` (``G = infinity``),
    :class:`_BinomialPhi` (two values), :class:`_WindowPhi` (two values, huge
    ``G``) and :class:`_MultinomialPhi` (many values).

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 30
    >>> phi = group_preference((F(0), F(1)), 2, "shift-scale")
    >>> phi.phi_values([mp.mpf(3)/4, mp.mpf(1)/4], MP)     # G = 2: (-q, 1 - q)
    [mpf('-0.25'), mpf('0.75')]
    """

    def __init__(self, values, group, normalisation):
        self.values = tuple(Fraction(v) for v in values)
        self.group = group
        self.normalisation = normalisation
        self.m = len(self.values)
        if self.normalisation == "shift-only":
            self.kind, self.evaluator = "shift-only", _ShiftOnlyPhi(self.values, group)
        elif self.m == 1:
            self.kind, self.evaluator = "constant", _ConstantPhi()
        elif group is None:
            self.kind, self.evaluator = "infinite", _InfinitePhi(self.values)
        elif self.m == 2:
            self.kind = "binomial"
            self.evaluator = _WindowPhi(group) if group > WINDOW_GROUP else _BinomialPhi(group)
        else:
            self.kind, self.evaluator = "multinomial", _MultinomialPhi(self.values, group)

    def phi_values(self, q, ctx=None) -> list:
        """``[Phi_0(q), ..., Phi_{m-1}(q)]`` for a full reward distribution ``q``.

        ``q`` has ``m`` entries in ``ctx`` numbers summing to one (the caller
        supplies ``q_0`` explicitly so that it keeps full relative accuracy
        near the faces of the simplex).
        """
        return self.evaluator.phi(q, MP if ctx is None else ctx)

    def phi_jacobian(self, q, ctx=None) -> list:
        """``J[j][i-1] = dPhi_j/dq_i`` in reduced coordinates (``q_0 = 1 - sum``)."""
        return self.evaluator.jacobian(q, MP if ctx is None else ctx)

    def phi_on_logit_grid(self, axes, perm):
        """Double-precision ``Phi`` on a product grid of logits (:meth:`_MultinomialPhi.phi_on_logit_grid`),
        or ``None`` where that path does not apply (fewer than three levels, ``G - 1 > 1000``)."""
        if self.kind != "multinomial":
            return None
        return self.evaluator.phi_on_logit_grid(axes, perm)


def _centred(values, q, ctx):
    """``v_j - mu(q)`` written as ``sum_k q_k (v_j - v_k)`` (no cancellation near faces)."""
    m = len(values)
    out = []
    for j in range(m):
        acc = 0
        for k in range(m):
            if k != j:
                acc = acc + q[k] * to_context(ctx, values[j] - values[k])
        out.append(acc)
    return out


class _ConstantPhi:
    """One reward value: every advantage is 0 (``0/0 -> 0``, Eq. (2))."""

    def phi(self, q, ctx):
        return [to_context(ctx, 0)]

    def jacobian(self, q, ctx):
        return [[]]


class _ShiftOnlyPhi:
    """Shift-only (Section 3): ``Phi_j = (1 - 1/G)(v_j - mu(q))`` (``G = infinity``: ``v_j - mu``)."""

    def __init__(self, values, group):
        self.values, self.group, self.m = values, group, len(values)

    def phi(self, q, ctx):
        scale = to_context(ctx, 1 - Fraction(1, self.group)) if self.group else 1
        return [scale * d for d in _centred(self.values, q, ctx)]

    def jacobian(self, q, ctx):
        m = self.m
        values = [to_context(ctx, v) for v in self.values]
        scale = to_context(ctx, 1 - Fraction(1, self.group)) if self.group else 1
        return [[-scale * (values[i] - values[0]) for i in range(1, m)] for _ in range(m)]


class _InfinitePhi:
    """``G = infinity``, shift-scale: ``Phi_j = (v_j - mu(q))/sigma(q)`` (the law of large numbers)."""

    def __init__(self, values):
        self.values, self.m = values, len(values)

    def phi(self, q, ctx):
        centred = _centred(self.values, q, ctx)
        variance = sum(qk * d * d for qk, d in zip(q, centred))
        sigma = ctx.sqrt(variance)
        return [d / sigma for d in centred]

    def jacobian(self, q, ctx):
        m = self.m
        values = [to_context(ctx, v) for v in self.values]
        centred = _centred(self.values, q, ctx)
        variance = sum(qk * d * d for qk, d in zip(q, centred))
        sigma = ctx.sqrt(variance)
        # d mu/dq_i = v_i - v_0 ; d var/dq_i = (v_i - mu)^2 - (v_0 - mu)^2
        dmu = [values[i] - values[0] for i in range(1, m)]
        dvar = [centred[i] ** 2 - centred[0] ** 2 for i in range(1, m)]
        out = []
        for j in range(m):
            row = []
            for i in range(m - 1):
                row.append(-dmu[i] / sigma - centred[j] * dvar[i] / (2 * sigma * variance))
            out.append(row)
        return out


class _BinomialPhi:
    """Two values: ``Phi_1 = U``, ``Phi_0 = -L``, binomial sums (module docstring); Bernstein
    weights in floats, fixed-point integer Horner sums (:class:`_BinomialIntegers`) otherwise."""

    def __init__(self, group):
        self.group = group
        self._tables: dict = {}

    def _binomial_float_table(self):
        key = ("float-binomial",)
        if key not in self._tables:
            G = self.group
            N = G - 1
            root = [math.sqrt(i) for i in range(G + 1)]
            c1 = [root[N - k] / root[k + 1] for k in range(N + 1)]
            c0 = [-root[k] / root[G - k] for k in range(N + 1)]
            d1 = [N * (c1[k + 1] - c1[k]) for k in range(N)]
            d0 = [N * (c0[k + 1] - c0[k]) for k in range(N)]
            self._tables[key] = (c0, c1, d0, d1)
        return self._tables[key]

    def _binomial_integers(self, ctx):
        """Fixed-point integer coefficient bounds (see :class:`_BinomialIntegers`), at least ``prec + 40`` bits.

        A table built at more bits than needed is reused (its bounds stay valid).
        """
        bits = ctx.precision() + 40
        table = self._tables.get("integers")
        if table is None or table.bits < bits:
            # a margin, so that the interval certificate (a few more bits) reuses it
            table = _BinomialIntegers(self.group, bits + 40)
            self._tables["integers"] = table
        return table

    def phi(self, q, ctx):
        if ctx is FLOAT:
            c0, c1, _, _ = self._binomial_float_table()
            return _bernstein_float(self.group - 1, q[0], q[1], (c0, c1))
        table = self._binomial_integers(ctx)
        N = self.group - 1
        return [
            -_fixed_bernstein(table.a0, table.bits, N, q[0], q[1], ctx),
            _fixed_bernstein(table.a1, table.bits, N, q[0], q[1], ctx),
        ]

    def jacobian(self, q, ctx):
        N = self.group - 1
        if ctx is FLOAT:
            _, _, d0, d1 = self._binomial_float_table()
            if N == 0:
                return [[0.0], [0.0]]
            r0, r1 = _bernstein_float(N - 1, q[0], q[1], (d0, d1))
            return [[r0], [r1]]
        if N == 0:
            return [[to_context(ctx, 0)], [to_context(ctx, 0)]]
        table = self._binomial_integers(ctx)
        return [
            [-_fixed_bernstein(table.b0, table.bits, N - 1, q[0], q[1], ctx)],
            [-_fixed_bernstein(table.b1, table.bits, N - 1, q[0], q[1], ctx)],
        ]


class _WindowPhi:
    """Two values and ``G > WINDOW_GROUP``: the binomial sums on a window around the mode
    (:func:`_window_sums`, :func:`_window_float`); no table over the whole group is ever built."""

    def __init__(self, group):
        self.group = group
        self._tables: dict = {}

    def _window(self, q, ctx):
        """``(U, L, dU/dq_1, dL/dq_1)`` on a window around the mode (huge ``G``), last point cached."""
        N = self.group - 1
        if ctx is FLOAT:
            key = ("float", float(q[0]), float(q[1]))
        elif ctx is ARB:
            key = ctx.key() + tuple(x._mpf_ for x in arb_ends(q[0]) + arb_ends(q[1]))
        else:
            key = ctx.key() + (q[0]._mpf_, q[1]._mpf_)
        last = self._tables.get("window")
        if last is not None and last[0] == key:
            return last[1]
        if ctx is FLOAT:
            out = _window_float(N, float(q[0]), float(q[1]))
        else:
            out = _window_sums(N, q[0], q[1], ctx)
        self._tables["window"] = (key, out)
        return out

    def phi(self, q, ctx):
        U, L, _, _ = self._window(q, ctx)
        return [-L, U]

    def jacobian(self, q, ctx):
        _, _, dU, dL = self._window(q, ctx)
        return [[-dL], [dU]]


class _MultinomialPhi:
    """Many values, shift-scale: the multinomial sums of the module docstring.

    The exact data (:meth:`_multinomial_exact`) are built once per ``(values, G)``;
    the coefficients once per number type and precision (:meth:`_multinomial_table`,
    :meth:`_advantages`); ``MP`` evaluates by nested Horner's rule
    (:class:`_HornerTable`), ``FLOAT`` and ``ARB`` by power sums.
    """

    def __init__(self, values, group):
        self.values, self.group, self.m = values, group, len(values)
        self._tables: dict = {}

    def _multinomial_exact(self):
        """The exact data of the multinomial sums, built once per ``(values, G)``.

        Returns ``(comps, dcomps, weights, dweights, parts, index, dens)``: the
        compositions of ``N = G - 1`` and ``N - 1`` into ``m`` parts, the
        multinomial coefficients ``multinomial(N; n)`` and ``N multinomial(N - 1; n)``,
        ``parts[j][idx] = (X, Y)``, integers with ``r - mean = X / dens[0]`` and
        ``variance = Y / dens[1]`` for value ``v_j`` in the group made of ``v_j``
        and ``comps[idx]`` (:func:`advantage_parts`; over the common denominator
        ``D`` of the values, ``X = G a_j - S_1``, ``Y = G S_2 - S_1^2``,
        ``dens = (G D, G^2 D^2)``, so that the advantage is ``X / sqrt(Y)``), and
        ``index[n]``, the position of a composition of ``N``.
        """
        key = ("multinomial-exact",)
        if key not in self._tables:
            from operator import add, mul

            G, m, values = self.group, self.m, self.values
            N = G - 1
            comps = list(compositions(N, m))
            dcomps = list(compositions(N - 1, m)) if N >= 1 else []
            weights = _multinomials(comps)
            dweights = [N * w for w in _multinomials(dcomps)]
            D = math.lcm(*(v.denominator for v in values))
            a = [v.numerator * (D // v.denominator) for v in values]
            cols = tuple(zip(*comps))
            T1 = [0] * len(comps)       # sum_k n_k a_k and sum_k n_k a_k^2 for every composition
            T2 = [0] * len(comps)
            for k in range(m):
                if a[k]:
                    T1 = list(map(add, T1, map(mul, cols[k], [a[k]] * len(comps))))
                    T2 = list(map(add, T2, map(mul, cols[k], [a[k] * a[k]] * len(comps))))
            parts = []
            for j in range(m):
                aj = a[j]
                S1 = [aj + t for t in T1]
                parts.append([(G * aj - s1, G * (aj * aj + t2) - s1 * s1) for s1, t2 in zip(S1, T2)])
            index = {n: i for i, n in enumerate(comps)}
            self._tables[key] = (comps, dcomps, weights, dweights, parts, index, (G * D, G * G * D * D))
            self._tables["columns"] = (cols, tuple(zip(*dcomps)))
        return self._tables[key]

    def _multinomial_table(self, ctx):
        """The coefficients of :func:`_power_sums` in the number type ``ctx`` (cached per precision).

        ``coef[j][idx] = multinomial(N; n) A(v_j; n)`` and, for the derivative in
        ``q_i``, ``N multinomial(N-1; n) (A(v_j; n + e_i) - A(v_j; n + e_0))``.
        The exact data come from :meth:`_multinomial_exact`; each distinct exact
        advantage is converted once (:func:`_advantage_of_parts`).
        """
        key = ("multinomial",) + context_key(ctx)
        if key in self._tables:
            return self._tables[key]
        m = self.m
        if ctx is ARB:
            # the balls of the Horner table (exact inputs, at least this precision) enclose the
            # same exact coefficients: one conversion serves both
            horner = self._horner()
            horner._coefficients(ctx.precision())
            comps, dcomps = self._multinomial_exact()[:2]
            table = (comps, horner.coef[0], dcomps, horner.coef[1:])
            self._tables[key] = table
            return table
        comps, dcomps, weights, dweights, _, index, _ = self._multinomial_exact()
        adv = self._advantages(ctx)
        num = _integer_converter(ctx)
        coef = [[num(w) * a for w, a in zip(weights, adv[j])] for j in range(m)]
        dcoef = []
        if dcomps:
            shifted = _shifted_positions(m, dcomps, index)
            dw = [num(w) for w in dweights]
            for i in range(1, m):
                per_j = []
                for j in range(m):
                    aj = adv[j]
                    per_j.append([w * (aj[k] - aj[k0]) for w, k, k0 in zip(dw, shifted[i], shifted[0])])
                dcoef.append(per_j)
        else:
            dcoef = [[[] for _ in range(m)] for _ in range(1, m)]
        table = (comps, coef, dcomps, dcoef)
        self._tables[key] = table
        return table

    def _advantages(self, ctx):
        """``adv[j][idx] = A(v_j; comps[idx])`` in ``ctx`` (cached per precision; each distinct pair converted once)."""
        key = ("advantages",) + context_key(ctx)
        if key not in self._tables:
            _, _, _, _, parts, _, dens = self._multinomial_exact()
            if ctx is FLOAT:
                # no cache: a float conversion costs less than hashing the pair
                self._tables[key] = [[_advantage_of_parts(FLOAT, pair, dens) for pair in row] for row in parts]
            else:
                cache: dict = {}
                convert = partial(_advantage_of_parts, ctx, dens=dens)
                adv = []
                for row in parts:
                    out = []
                    for pair in row:
                        x = cache.get(pair)
                        if x is None:
                            x = cache[pair] = convert(pair)
                        out.append(x)
                    adv.append(out)
                self._tables[key] = adv
        return self._tables[key]

    def phi_on_logit_grid(self, axes, perm):
        """Double-precision ``Phi`` on a product grid of logits (many reward levels; the root scan).

        The grid point ``x = (x_1, ..., x_{m-1})`` (``x_l`` from ``axes[l-1]``) has
        coordinates ``c = softmax(0, x_1, ..., x_{m-1})`` and the reward law
        ``q_j = c[perm[j]]``.  Returns ``{index tuple: [Phi_0, ..., Phi_{m-1}]}``,
        the values :meth:`phi_values` gives at those ``q`` (to rounding), or
        ``None`` where this path does not apply (fewer than three levels,
        ``G - 1 > 1000``, whose binomials leave the float range).

        Stick-breaking (arXiv:2502.18548v3, Eq. (6) summed level by level): with
        ``Z_l = 1 + e^{x_1} + ... + e^{x_l}`` (kept as ``e^M S``, so that only
        exponentials of non-positive differences are formed, as in the
        softmax of the solver), ``w_l = e^{x_l}/Z_l`` and
        ``s_l = n_0 + ... + n_l``, the multinomial weight factors as
        ``multinomial(N; n) c^n = prod_l C(s_l, n_l) w_l^{n_l} (1 - w_l)^{s_l - n_l}``.
        So ``V_0 = A(v_j; n)`` and ``V_l(s_l, n_{l+1}, ...) = sum_k b(s_l, k; w_l)
        V_{l-1}(s_l - k, k, n_{l+1}, ...)`` give ``Phi_j = V_{m-1}(N)``, and
        ``V_l`` depends on ``x_1..x_l`` only: the sum over every composition is
        done once per value of ``x_1`` (not once per grid point), the next
        levels on sums of ``N`` terms or fewer.  Every weight is at most one
        and every term at most ``|A| <= sqrt(N)``: nothing overflows or cancels
        beyond the power sums.

        >>> from fractions import Fraction as F
        >>> model = group_preference((F(0), F(1, 2), F(1)), 4)
        >>> grid = model.evaluator.phi_on_logit_grid([[0.0, 1.0], [0.0]], [0, 1, 2])
        >>> sorted(grid)
        [(0, 0), (1, 0)]
        >>> direct = model.phi_values([1 / 3, 1 / 3, 1 / 3], FLOAT)
        >>> max(abs(a - b) for a, b in zip(grid[(0, 0)], direct)) < 1e-15
        True
        """
        if self.group - 1 > 1000:
            return None
        from operator import mul

        m, N = self.m, self.group - 1
        index = self._multinomial_exact()[5]
        adv_table = self._advantages(FLOAT)
        binom = [[float(math.comb(s, k)) for k in range(s + 1)] for s in range(N + 1)]
        # level 1: vectors over k = n'_1 of A at (N - |tail| - k, k, tail), coordinates order
        tails = list(compositions_upto(N, m - 2))
        vecs = []
        for tail in tails:
            left = N - sum(tail)
            rows = [[] for _ in range(m)]
            for k in range(left + 1):
                coords = (left - k, k) + tail
                idx = index[tuple(coords[perm[j]] for j in range(m))]
                for j in range(m):
                    rows[j].append(adv_table[j][idx])
            vecs.append((tail, left, rows))

        def weights(s, pw, pv):
            # b(s, k; w) for k = 0..s from the powers of w and v = 1 - w
            return list(map(mul, map(mul, binom[s], pw[:s + 1]), reversed(pv[:s + 1])))

        def split(prefix, x):
            # Z = e^M S (S >= 1) for the coordinates broken off so far; add e^x as
            # coordinates_of_logits does: exponentials of non-positive differences only
            M, S = prefix
            top = max(M, x)
            old = S * math.exp(M - top)
            new = math.exp(x - top)
            total = old + new
            return (top, total), new / total, old / total

        logs = [[float(x) for x in axis] for axis in axes]
        out = {}
        # V_1 for each x_1; deeper levels recursively over the product of the other axes
        for i1, x1 in enumerate(logs[0]):
            prefix, w1, v1 = split((0.0, 1.0), x1)
            pw, pv = _float_powers(w1, N), _float_powers(v1, N)
            W = {left: weights(left, pw, pv) for left in {left for _, left, _ in vecs}}
            V1 = {}
            for tail, left, rows in vecs:
                w = W[left]
                V1[tail] = [sum(map(mul, w, rows[j])) for j in range(m)]
            stack = [((i1,), prefix, V1)]
            while stack:
                idx, prefix, V = stack.pop()
                level = len(idx) + 1            # the next coordinate to break off
                if level == m:
                    out[idx] = V[()]
                    continue
                for i, x in enumerate(logs[level - 1]):
                    after, wl, vl = split(prefix, x)
                    pw, pv = _float_powers(wl, N), _float_powers(vl, N)
                    nxt = {}
                    for tail in compositions_upto(N, m - level - 1):
                        left = N - sum(tail)
                        w = weights(left, pw, pv)
                        vals = [V[(k,) + tail] for k in range(left + 1)]
                        nxt[tail] = [sum(map(mul, w, [v[j] for v in vals])) for j in range(m)]
                    stack.append((idx + (i,), after, nxt))
        return out

    def _horner(self):
        """The :class:`_HornerTable` of this model (one, its Arb coefficients kept at the largest precision asked)."""
        table = self._tables.get("horner")
        if table is None:
            table = self._tables["horner"] = _HornerTable(self)
        return table

    def phi(self, q, ctx):
        if ctx is MP:
            return self._horner().values(q, 0)
        comps, coef, _, _ = self._multinomial_table(ctx)
        if ctx is FLOAT:
            return _power_sums_float(comps, coef, q, self.group - 1, self._tables["columns"][0])
        return _power_sums(comps, coef, q, self.group - 1, ctx)

    def jacobian(self, q, ctx):
        m, N = self.m, self.group - 1
        if ctx is MP:
            table = self._horner()
            cols = [table.values(q, i) for i in range(1, m)]
        elif ctx is FLOAT:
            _, _, dcomps, dcoef = self._multinomial_table(ctx)
            cols = _power_sums_float(dcomps, dcoef, q, N - 1, self._tables["columns"][1])
        else:
            _, _, dcomps, dcoef = self._multinomial_table(ctx)
            cols = [_power_sums(dcomps, dcoef[i], q, N - 1, ctx) for i in range(m - 1)]
        return [[cols[i][j] for i in range(m - 1)] for j in range(m)]


class _BinomialIntegers:
    """Integer coefficient bounds of the binomial sums, at the scale ``2**bits``.

    For ``Phi_1 = U`` and ``-Phi_0 = L`` the Horner coefficients are
    ``C(N,k) c_k`` with ``c_k = sqrt((N-k)/(k+1))`` and ``sqrt(k/(G-k))``; their
    derivatives (in ``q_1``, ``q_0 = 1 - q_1``) are ``-N C(N-1,k) |c_{k+1} - c_k|``.
    Every table has one sign, so it is stored as magnitudes.  Each entry is a
    pair of integers ``lo <= 2**bits * a_k <= hi``, computed exactly with
    ``math.isqrt`` (so the bounds are rigorous and no floating point is used).
    """

    def __init__(self, group, bits):
        self.bits = bits
        G = group
        N = G - 1
        binom = [1] * (N + 1)
        for k in range(1, N + 1):
            binom[k] = binom[k - 1] * (N - k + 1) // k
        binom_d = [1] * max(N, 1)
        for k in range(1, N):
            binom_d[k] = binom_d[k - 1] * (N - k) // k
        two = 2 * bits

        def root(num, den):
            # floor and ceil of 2**bits sqrt(num/den)
            q, r = divmod(num << two, den)
            lo = math.isqrt(q)
            hi = lo if (r == 0 and lo * lo == q) else lo + 1
            return lo, hi

        s1 = [root(N - k, k + 1) for k in range(N + 1)]
        s0 = [root(k, G - k) for k in range(N + 1)]
        self.a1 = ([b * x[0] for b, x in zip(binom, s1)], [b * x[1] for b, x in zip(binom, s1)])
        self.a0 = ([b * x[0] for b, x in zip(binom, s0)], [b * x[1] for b, x in zip(binom, s0)])
        # c1 decreases and c0 increases in k: both derivative tables are negative
        self.b1 = (
            [max(0, N * binom_d[k] * (s1[k][0] - s1[k + 1][1])) for k in range(N)],
            [N * binom_d[k] * (s1[k][1] - s1[k + 1][0]) for k in range(N)],
        )
        self.b0 = (
            [max(0, N * binom_d[k] * (s0[k + 1][0] - s0[k][1])) for k in range(N)],
            [N * binom_d[k] * (s0[k + 1][1] - s0[k][0]) for k in range(N)],
        )


def _fixed_point(raw, P, upper):
    """``floor`` (or ``ceil``) of ``2**P x`` for a raw mpf ``x``."""
    man, exp = mantissa_exponent(raw)
    e = exp + P
    if e >= 0:
        return man << e
    return -((-man) >> -e) if upper else man >> -e


def _fixed_horner(coeffs, bits, n, T, P, reverse, upper):
    """``sum_k coeffs[k] t^k`` (or ``t^(n-k)`` if ``reverse``) in fixed point at scale ``2**P``.

    ``coeffs`` are non-negative integers at scale ``2**bits`` (``P >= bits``),
    ``T >= 0`` is ``t`` at scale ``2**P``.  Truncations round down, or up when
    ``upper``, so the result is a lower (upper) bound when the inputs are.
    """
    shift = P - bits
    if upper:
        bump = (1 << P) - 1
        if reverse:
            s = coeffs[0] << shift
            for k in range(1, n + 1):
                s = ((s * T + bump) >> P) + (coeffs[k] << shift)
        else:
            s = coeffs[n] << shift
            for k in range(n - 1, -1, -1):
                s = ((s * T + bump) >> P) + (coeffs[k] << shift)
        return s
    if reverse:
        s = coeffs[0] << shift
        for k in range(1, n + 1):
            s = ((s * T) >> P) + (coeffs[k] << shift)
    else:
        s = coeffs[n] << shift
        for k in range(n - 1, -1, -1):
            s = ((s * T) >> P) + (coeffs[k] << shift)
    return s


def _ball_of_scaled(lo, hi, scale):
    """The Arb ball ``[lo, hi] * 2**-scale`` for integers ``lo <= hi`` (exact midpoint)."""
    return arb((fmpz(lo + hi), fmpz(-scale - 1)), (fmpz(hi - lo), fmpz(-scale - 1)))


def _fixed_bernstein(bounds, bits, n, q0, q1, ctx):
    """``sum_k a_k q1^k q0^(n-k)`` for non-negative ``a_k`` given as integer bounds.

    Horner's rule in ``t = q1/q0`` (or ``q0/q1`` when ``q1 > q0``, so ``t <= 1``)
    in exact integer arithmetic at scale ``2**P``; ``P`` exceeds the table scale
    by ``log2(n) + 8 + log2(1/t)`` bits so that the at most ``n + 1`` units of
    truncation stay ``2^-(prec + 30)`` below the sum (which is at least
    ``a t`` with ``a >= 1/sqrt(G)``).  In ``MP`` the result is rounded to the
    working precision; in ``ARB`` lower and upper sums are formed with the lower
    and upper coefficients, ends of the ball ``t`` and directed truncation, so
    the ball ``[s_lo, s_hi] 2^-P`` is rigorous (all terms are non-negative and
    increasing in ``t``).
    """
    lo, hi = bounds
    if n == 0:
        if ctx is ARB:
            return _ball_of_scaled(lo[0], hi[0], bits) + 0 * q1
        return mp.make_mpf(from_man_exp(lo[0], -bits, mp.prec, "n"))
    if ctx is ARB:
        reverse = q1.mid() > q0.mid()
        t = q0 / q1 if reverse else q1 / q0
        base = q1 if reverse else q0
        t_lo, t_hi = arb_ends(t)
        if not (mp.isfinite(t_lo) and mp.isfinite(t_hi)) or t_lo < 0:
            # the bounds need 0 <= t (monotone terms): no enclosure off the simplex
            return arb("nan")
        small = t_lo
        P = bits + n.bit_length() + 8 + (max(0, -int(mp.floor(mp.log(small, 2)))) if small > 0 else 0)
        T_lo = max(0, _fixed_point(t_lo._mpf_, P, False))
        T_hi = _fixed_point(t_hi._mpf_, P, True)
        s_lo = _fixed_horner(lo, bits, n, T_lo, P, reverse, False)
        s_hi = _fixed_horner(hi, bits, n, T_hi, P, reverse, True)
        return _ball_of_scaled(s_lo, s_hi, P) * base**n
    reverse = q1 > q0
    t = q0 / q1 if reverse else q1 / q0
    base = q1 if reverse else q0
    P = bits + n.bit_length() + 8 + (max(0, -int(mp.floor(mp.log(t, 2)))) if t > 0 else 0)
    T = _fixed_point(t._mpf_, P, False)
    s = _fixed_horner(lo, bits, n, T, P, reverse, False)
    return mp.make_mpf(from_man_exp(s, -P, mp.prec, "n")) * base**n


def _bernstein_float(N, q0, q1, coefficient_lists):
    """Double-precision ``sum_k c[k] C(N,k) q1^k q0^(N-k)`` for each list ``c``.

    Bernstein weights are generated from the mode outwards by the ratio
    recurrence and truncated below ``1e-18`` of the mode; the sums are divided
    by the sum of the generated weights (the exact weights sum to one), so no
    binomial coefficient is formed and nothing overflows.
    """
    if N == 0:
        return [c[0] for c in coefficient_lists]
    if q1 <= 0.0:
        return [c[0] for c in coefficient_lists]
    if q0 <= 0.0:
        return [c[N] for c in coefficient_lists]
    mode = int((N + 1) * q1)
    if mode > N:
        mode = N
    ratio = q1 / q0
    inverse = q0 / q1
    n_lists = len(coefficient_lists)
    if n_lists == 2:
        ca, cb = coefficient_lists
        sa = ca[mode]
        sb = cb[mode]
        total = 1.0
        w = 1.0
        k = mode
        while k < N:
            w *= (N - k) / (k + 1) * ratio
            k += 1
            if w < 1e-18:
                break
            total += w
            sa += w * ca[k]
            sb += w * cb[k]
        w = 1.0
        k = mode
        while k > 0:
            w *= k / (N - k + 1) * inverse
            k -= 1
            if w < 1e-18:
                break
            total += w
            sa += w * ca[k]
            sb += w * cb[k]
        return [sa / total, sb / total]
    sums = [c[mode] for c in coefficient_lists]
    total = 1.0
    for direction in (1, -1):
        w = 1.0
        k = mode
        while 0 < k if direction < 0 else k < N:
            if direction > 0:
                w *= (N - k) / (k + 1) * ratio
                k += 1
            else:
                w *= k / (N - k + 1) * inverse
                k -= 1
            if w < 1e-18:
                break
            total += w
            for idx, c in enumerate(coefficient_lists):
                sums[idx] += w * c[k]
    return [s / total for s in sums]


#: Groups with ``G > WINDOW_GROUP`` (two reward values) are evaluated on a
#: window of ``k`` around the mode of the binomial (:func:`_window_sums`) instead
#: of the exact coefficient tables (memory ``~G^2`` bits).
WINDOW_GROUP = 3000


def _bernstein_radius(E, variance):
    """``x`` with ``exp(-x^2 / (2 (variance + x/3))) = exp(-E)`` (Bernstein's inequality)."""
    return E / 3 + math.sqrt(E * E / 9 + 2 * E * variance)


def _window_ends(N, q1, E):
    """``(a, b)``: ``K ~ Bin(N, q1)`` lies outside ``[a, b]`` with probability below ``2 exp(-E)``.

    Bernstein's inequality, ``P(|K - N q1| >= x) <= 2 exp(-x^2/(2(N q1 q0 + x/3)))``
    (the summands are bounded by one); the ends are clipped to ``[0, N]``.
    Used only to choose the window: the neglected mass is then bounded
    rigorously by :func:`_tail_mass`.
    """
    q = float(q1)
    mean = N * q
    x = _bernstein_radius(E, N * q * (1 - q))
    a = max(0, math.floor(mean - x) - 1)
    b = min(N, math.ceil(mean + x) + 1)
    return a, b


def _chernoff_ends(N, q0, q1, E):
    """``(a, b)`` of :func:`_window_ends` narrowed by Chernoff's bound, for ``MP`` and ``ARB`` windows.

    ``P(K >= A) <= exp(-N D(A/N || q1))`` (and its mirror): the ends are the
    integers nearest the mean where ``N D`` reaches ``E``, found by bisection
    between the mean and Bernstein's ends (which satisfy it: Chernoff's bound
    is the sharper).  ``N D = N q1 h(d1) + N q0 h(d0)`` with
    ``h(x) = (1 + x) log(1 + x) - x`` (no cancellation), in mpmath at 128 bits
    (``q1`` may be far below the range of doubles).  Near a face this keeps
    the window to the few terms that matter (``E / log(1/(N q1))`` of them).
    """
    with mp.workprec(128):
        q0, q1 = mp.mpf(q0), mp.mpf(q1)
        m1, m0 = N * q1, N * q0

        def nd(A):
            return m1 * _h_mp((A - m1) / m1) + m0 * _h_mp((m1 - A) / m0)

        mean = int(mp.floor(m1))
        a, b = _window_ends(N, q1, E)
        lo, hi = max(mean, 0), b          # nd(hi) >= E (or hi = N); nd(lo) < E
        if hi < N or nd(N) >= E:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if nd(mid) >= E:
                    hi = mid
                else:
                    lo = mid
        upper = min(N, hi + 1)
        lo, hi = a, min(mean + 1, N)      # nd(lo) >= E (or lo = 0); nd(hi) < E
        if lo > 0 or nd(0) >= E:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if nd(mid) >= E:
                    lo = mid
                else:
                    hi = mid
        lower = max(0, lo - 1)
    return lower, upper


def _h_mp(x):
    """``(1 + x) log(1 + x) - x`` in mpmath (``x >= -1``; below, from rounding, taken as ``-1``)."""
    if x <= -1:
        return mp.one
    return (1 + x) * mp.log1p(x) - x


def _tail_mass(N, a, b, q0, q1):
    """A ball containing ``[0, P(K < a) + P(K > b)]`` for ``K ~ Bin(N, q1)``, ``q1`` a ball.

    Chernoff's bound ``P(K >= A) <= exp(-N D(A/N || q1))`` for ``A >= N q1`` (and
    its mirror for ``K <= A``), with ``N D = A log(A/(N q1)) + (N - A) log((N - A)/(N q0))``
    evaluated in Arb over the whole ball ``q1`` (the upper end is taken).
    A side whose condition fails is bounded by one.
    """
    total = mp.mpf(0)
    with arb_precision(64):
        Nb = arb(N)
        for A, upper in ((b + 1, True), (a - 1, False)):
            if (upper and A > N) or (not upper and A < 0):
                continue
            lo1, hi1 = arb_ends(q1)
            if (upper and not A > N * hi1) or (not upper and not A < N * lo1):
                return arb(0, "inf") if not mp.isfinite(hi1) else _ball_upto(mp.mpf(2))
            nd = arb(0)
            if A > 0:
                nd += A * (arb(A) / (Nb * q1)).log()
            if A < N:
                nd += (N - A) * (arb(N - A) / (Nb * q0)).log()
            total += arb_ends((-nd).exp())[1]
    return _ball_upto(total)


def _ball_upto(x):
    """The ball ``[0, x]`` (``x >= 0`` an mpf), radius rounded up."""
    return interval(0, x)


def _window_weight(N, m, q0, q1, ctx, bits):
    """``C(N, m) q1^m q0^(N-m)`` from log-gamma, at ``bits`` extra bits (Arb ball or mpf)."""
    if ctx is ARB:
        with arb_precision(flint.ctx.prec + bits):
            lg = arb(N + 1).lgamma() - arb(m + 1).lgamma() - arb(N - m + 1).lgamma()
            if m:
                lg += m * q1.log()
            if m < N:
                lg += (N - m) * q0.log()
            return lg.exp()
    with mp.extraprec(bits):
        lg = mp.loggamma(N + 1) - mp.loggamma(m + 1) - mp.loggamma(N - m + 1)
        if m:
            lg += m * mp.log(q1)
        if m < N:
            lg += (N - m) * mp.log(q0)
        return +mp.exp(lg)


def _window_coefficients(N, a, b, P):
    """``(first, c1, c0)``: ``floor(2**P c1_k)`` and ``floor(2**P c0_k)`` for ``first <= k <= min(N, b + 1)``."""
    two = 2 * P
    first = max(0, a - 1)
    isqrt = math.isqrt
    ks = range(first, min(N, b + 1) + 1)
    return first, [isqrt(((N - k) << two) // (k + 1)) for k in ks], [isqrt((k << two) // (N + 1 - k)) for k in ks]


def _window_integer_sums(N, a, m, b, T, Tinv, P, upper, reverse, coefficients):
    """The four window sums in fixed point, relative to the weight of the mode ``m``.

    With ``v_k = w_k / w_m`` at scale ``2**P`` (``w_k = C(N,k) q1^k q0^(N-k)``), generated
    by ``v_{k+1} = v_k (N-k) t / (k+1)`` upwards and ``v_{k-1} = v_k k / ((N-k+1) t)``
    downwards (``T``, ``Tinv``: ``t = q1/q0`` and ``1/t`` at scale ``2**P``), and the
    coefficients ``c1_k = sqrt((N-k)/(k+1))``, ``c0_k = sqrt(k/(N+1-k))`` at scale
    ``2**Pc`` (``math.isqrt``: floor, and floor + 1 as the upper bound), returns
    ``(SU, SL, SdU, SdL)`` at scale ``2**(P + Pc)``, sums over ``a <= k <= b`` of

    * ``v_k c1_k`` and ``v_k c0_k``;
    * ``v_k (N-k) (c1_k - c1_{k+1})`` and ``v_k (N-k) (c0_{k+1} - c0_k)``, or, when
      ``reverse``, ``v_k k (c1_{k-1} - c1_k)`` and ``v_k k (c0_k - c0_{k-1})``.

    Every term is non-negative; truncations round down, or up when ``upper``, so
    the sums are lower (upper) bounds when ``T`` and ``Tinv`` are.
    ``coefficients`` is :func:`_window_coefficients` of the same window.
    """
    lo_k, c1, c0 = coefficients
    e = 1 if upper else 0
    # weights v_k (k = a..b) at scale 2^P
    v = [0] * (b - a + 1)
    one = 1 << P
    v[m - a] = one
    w = one
    for k in range(m, b):
        num = w * (N - k) * T
        den = (k + 1) << P
        w = -((-num) // den) if upper else num // den
        v[k + 1 - a] = w
    w = one
    for k in range(m, a, -1):
        num = w * k * Tinv
        den = (N - k + 1) << P
        w = -((-num) // den) if upper else num // den
        v[k - 1 - a] = w
    SU = SL = SdU = SdL = 0
    off = lo_k
    for k in range(a, b + 1):
        vk = v[k - a]
        if not vk:
            continue
        i = k - off
        # c1_N = c0_0 = 0 exactly: no rounding allowance (it would swamp a sum of tiny terms)
        SU += vk * (c1[i] + e) if k < N else 0
        SL += vk * (c0[i] + e) if k > 0 else 0
        if reverse:
            if k > 0:
                SdU += vk * k * max(0, c1[i - 1] - c1[i] - 1 + 2 * e)
                SdL += vk * k * max(0, c0[i] - c0[i - 1] - 1 + 2 * e)
        elif k < N:
            SdU += vk * (N - k) * max(0, c1[i] - c1[i + 1] - 1 + 2 * e)
            SdL += vk * (N - k) * max(0, c0[i + 1] - c0[i] - 1 + 2 * e)
    return SU, SL, SdU, SdL


def _edge_values(N, at_zero, ctx):
    """``(U, L, dU/dq1, dL/dq1)`` exactly at ``q1 = 0`` (``at_zero``) or ``q1 = 1``."""
    n = ctx.num
    root = ctx.sqrt
    if at_zero:
        # U(0) = c1_0, L(0) = c0_0 = 0; derivatives N (c_1 - c_0)
        return (root(n(N)), n(0), n(N) * (root(n(Fraction(N - 1, 2))) - root(n(N))),
                n(N) * root(n(Fraction(1, N))))
    # q1 = 1: U(1) = c1_N = 0, L(1) = c0_N = sqrt(N); derivatives N (c_N - c_{N-1})
    return (n(0), root(n(N)), -n(N) * root(n(Fraction(1, N))),
            n(N) * (root(n(N)) - root(n(Fraction(N - 1, 2)))))


def _window_sums(N, q0, q1, ctx):
    """``(U, L, dU/dq1, dL/dq1)`` of the binomial sums for huge ``N``, in ``MP`` or ``ARB``.

    ``U = sum_k w_k c1_k`` and ``L = sum_k w_k c0_k`` with ``w_k = C(N,k) q1^k q0^(N-k)``
    (arXiv:2502.18548v3, Eq. (6) for two reward values); the derivatives use
    ``C(N-1,k) q1^k q0^(N-1-k) = w_k (N-k)/(N q0) = w_{k+1} (k+1)/(N q1)``, so one
    set of weights serves all four sums (divided by the larger of ``q0`` and
    ``q1``).  Only ``a <= k <= b`` is summed, a window of a few dozen standard
    deviations ``sqrt(N q0 q1)`` around the mean (clipped at ``0`` and ``N``), chosen
    by Bernstein's inequality so that the neglected mass is far below the
    working precision.  The weights are the weight of the mode (log-gamma, at
    extra precision) times the ratios generated outwards in fixed point
    (:func:`_window_integer_sums`): memory and time ``O(sqrt(N))`` per evaluation.

    In ``ARB`` the result is rigorous: lower and upper fixed-point sums give
    the window, and the neglected terms, each at most ``sqrt(N)`` (``N sqrt(N)``
    for the derivatives) times its weight, add the Chernoff bound of the
    neglected mass (:func:`_tail_mass`) to the ball.  The window is widened
    until that bound is ``2^-(prec + 10)`` of the sum.
    """
    prec = ctx.precision()
    rigorous = ctx is ARB
    if rigorous:
        lo1, hi1 = arb_ends(q1)
        lo0, hi0 = arb_ends(q0)
        if not all(mp.isfinite(x) for x in (lo1, hi1, lo0, hi0)):
            return [arb("nan")] * 4
        if hi1 == 0 or hi0 == 0:
            return list(_edge_values(N, hi1 == 0, ctx))
        if lo1 <= 0 or lo0 <= 0:
            return [arb("nan")] * 4     # the ratios need q0, q1 > 0 on the whole ball
        Q0, Q1 = q0, q1
        mid1 = (lo1 + hi1) / 2
        mid0 = (lo0 + hi0) / 2
    else:
        if q1 == 0 or q0 == 0:
            return list(_edge_values(N, q1 == 0, ctx))
        # q0 + q1 = 1 only to the working precision, and the weights sum to
        # (q0 + q1)^N: normalise at log2(N) more bits (each keeps its relative accuracy)
        with mp.extraprec(N.bit_length() + 20):
            total = q0 + q1
            q0, q1 = q0 / total, q1 / total
        Q0, Q1 = arb_of_mpf(q0), arb_of_mpf(q1)
        mid1, mid0 = q1, q0
    reverse = mid1 > mid0
    small = min(mid1 / mid0, mid0 / mid1)
    extra = max(0, -int(mp.floor(mp.log(small, 2)))) if small > 0 else 0
    nbits = N.bit_length()
    Pc = prec + 2 * nbits + 40      # the coefficients (of size 1 down to 1/sqrt(N))
    P = Pc + extra                  # the weights relative to the mode (down to t or 1/t)
    # t = q1/q0 at P bits: its error is raised to the power |k - m| by the ratios
    with arb_precision(P + 10):
        t_lo, t_hi = arb_ends(Q1 / Q0)
        i_lo, i_hi = arb_ends(Q0 / Q1)
    E = (prec + 40 + extra) * math.log(2) + 3 * math.log(N + 1)
    for _ in range(8):
        a, b = _chernoff_ends(N, mid0, mid1, E)
        m = min(b, max(a, int(mp.floor((N + 1) * mid1))))
        if not rigorous and b - a > SAMPLE_TERMS and 0 < a and b < N:
            return _sampled_sums(N, q0, q1, a, b, m, reverse)
        Wm = _window_weight(N, m, Q0 if rigorous else q0, Q1 if rigorous else q1, ctx, nbits + 64)
        T_lo = max(0, _fixed_point(t_lo._mpf_, P, False))
        I_lo = max(0, _fixed_point(i_lo._mpf_, P, False))
        coefficients = _window_coefficients(N, a, b, Pc)
        low = _window_integer_sums(N, a, m, b, T_lo, I_lo, P, False, reverse, coefficients)
        tail = _tail_mass(N, a, b, Q0, Q1)
        # the neglected terms against the smallest sum (relative accuracy)
        tail_hi = arb_ends(tail)[1]
        w_lo = arb_ends(Wm)[0] if rigorous else Wm
        smallest = min(low) * w_lo * mp.mpf(2) ** (-(P + Pc))
        need = tail_hi * mp.mpf(N) ** 1.5
        if smallest > 0 and need <= smallest * mp.mpf(2) ** (-(prec + 10)):
            break
        deficit = (mp.log(need, 2) - mp.log(smallest, 2)) if smallest > 0 and need > 0 else 64
        E += (float(deficit) + prec + 20) * math.log(2)
    if rigorous:
        T_hi = _fixed_point(t_hi._mpf_, P, True)
        I_hi = _fixed_point(i_hi._mpf_, P, True)
        high = _window_integer_sums(N, a, m, b, T_hi, I_hi, P, True, reverse, coefficients)
        root = arb(N).sqrt()
        coef = (root, root, N * root, N * root)
        sums = [Wm * _ball_of_scaled(lo, hi, P + Pc) + tail * c for lo, hi, c in zip(low, high, coef)]
    else:
        sums = [Wm * mp.make_mpf(from_man_exp(s, -(P + Pc), mp.prec, "n")) for s in low]
    base = q1 if reverse else q0
    U, L, dU, dL = sums
    return [U, L, -dU / base, dL / base]


#: Windows longer than this are sampled in ``MP`` (:func:`_sampled_sums`).
SAMPLE_TERMS = 4000


def _sqrt_ratio(num, den, bits):
    """``sqrt(num/den)`` truncated to ``bits`` fractional bits, as an exact mpf (``math.isqrt``)."""
    return mp.make_mpf(from_man_exp(math.isqrt((num << (2 * bits)) // den), -bits))


def _sampled_sums(N, q0, q1, a, b, m, reverse):
    """``MP`` sums of :func:`_window_sums` from every ``h``-th term of a long window.

    For ``sqrt(N q0 q1)`` in the thousands the weights ``w(x) = C(N,x) q1^x q0^(N-x)``
    (an entire function of ``x``: ``1/Gamma`` is entire) and the coefficients
    are smooth on the scale of the standard deviation ``s``, so by Poisson
    summation ``h sum_j g(m + j h)`` differs from ``sum_k g(k)`` by about
    ``exp(-2 pi^2 (s/h)^2)`` relative (the next terms of the series); ``h`` is
    chosen so that this is ``2^-(prec + 40)``.  The window must not touch ``0``
    or ``N``.  The weight of the mode ``m`` (a sample) comes from log-gamma,
    the others by the exact ratios ``C(N, k + h)/C(N, k)`` (products of ``h``
    integers) times ``t^h``; the coefficients from ``math.isqrt`` and their
    differences from ``c_k^2 - c_{k+1}^2`` in closed form.  Not rigorous
    (``ARB`` always sums every term).
    """
    prec = mp.prec
    s = math.sqrt(N * float(q0) * float(q1))
    ratio = math.sqrt((prec + 40) * math.log(2) / (2 * math.pi ** 2)) + 0.5
    h = max(1, int(s / ratio))
    nbits = N.bit_length()
    extra = 2 * nbits + 20
    bits = prec + extra + nbits
    prod = math.prod
    su = sl = sdu = sdl = mp.zero
    with mp.extraprec(extra):
        Wm = _window_weight(N, m, q0, q1, MP, nbits + 64)
        Np = N + 1
        ks = list(range(m - ((m - a) // h) * h, b + 1, h))
        weights = {m: Wm}
        if h * nbits <= 32 * bits:
            # short products of integers are cheaper than log-gamma at this precision
            th = (q1 / q0) ** h
            w = Wm
            for k in range(m, ks[-1], h):      # upwards: C(N, k+h)/C(N, k) = prod (N-k-i)/(k+1+i)
                w = w * th * prod(range(N - k - h + 1, N - k + 1)) / prod(range(k + 1, k + h + 1))
                weights[k + h] = w
            w = Wm
            for k in range(m, ks[0], -h):      # downwards: C(N, k-h)/C(N, k) = prod (k-i)/(N-k+1+i)
                w = w / th * prod(range(k - h + 1, k + 1)) / prod(range(N - k + 1, N - k + h + 1))
                weights[k - h] = w
        else:
            lq1, lq0 = mp.log(q1), mp.log(q0)
            top = mp.loggamma(N + 1)
            for k in ks:
                if k != m:
                    weights[k] = mp.exp(top - mp.loggamma(k + 1) - mp.loggamma(N - k + 1)
                                        + k * lq1 + (N - k) * lq0)
        for k in ks:                             # the window lies inside (0, N): 0 < k < N
            w = weights[k]
            c1 = _sqrt_ratio(N - k, k + 1, bits)
            c0 = _sqrt_ratio(k, N + 1 - k, bits)
            su += w * c1
            sl += w * c0
            if reverse:
                sdu += w * Np / ((k + 1) * (c1 + _sqrt_ratio(N - k + 1, k, bits)))
                sdl += w * k * Np / ((N - k + 1) * (N + 2 - k) * (c0 + _sqrt_ratio(k - 1, N + 2 - k, bits)))
            else:
                sdu += w * (N - k) * Np / ((k + 1) * (k + 2) * (c1 + _sqrt_ratio(N - k - 1, k + 2, bits)))
                sdl += w * Np / ((N + 1 - k) * (c0 + _sqrt_ratio(k + 1, N - k, bits)))
        base = q1 if reverse else q0
        out = [h * su, h * sl, -h * sdu / base, h * sdl / base]
    return [+x for x in out]


def _h_float(x):
    """``(1 + x) log(1 + x) - x`` without cancellation (``x >= -1``)."""
    if abs(x) < 1e-2:
        # sum_{n >= 2} (-1)^n x^n / (n (n - 1))
        s = 0.0
        p = x * x
        for n in range(2, 12):
            s += p / (n * (n - 1)) if n % 2 == 0 else -p / (n * (n - 1))
            p *= x
        return s
    if x == -1.0:
        return 1.0
    return (1 + x) * math.log1p(x) - x


def _stirling_rest(n):
    """``log(n!) - (n + 1/2) log n + n - log(2 pi)/2`` (``n >= 1``)."""
    if n >= 10:
        r = 1.0 / n
        r2 = r * r
        return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)))
    return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - 0.5 * math.log(2 * math.pi)


def _log_weight_float(N, k, q0, q1):
    """``log(C(N,k) q1^k q0^(N-k))`` in double precision, accurate for huge ``N``.

    Stirling with the remainder series: ``-N D(k/N || q1) - log(2 pi k (N-k)/N)/2``
    plus the remainders, and ``N D`` written as ``N q1 h(d1) + N q0 h(d0)``
    (``h(x) = (1+x) log(1+x) - x``, ``d1 = k/(N q1) - 1``, ``d0 = (N-k)/(N q0) - 1``),
    whose linear parts cancel exactly: no cancellation of large logarithms.
    """
    if k == 0:
        return N * math.log(q0)
    if k == N:
        return N * math.log(q1)
    m1, m0 = N * q1, N * q0
    nd = m1 * _h_float((k - m1) / m1) + m0 * _h_float((m1 - k) / m0)
    return (-nd - 0.5 * math.log(2 * math.pi * k * (N - k) / N)
            + _stirling_rest(N) - _stirling_rest(k) - _stirling_rest(N - k))


def _window_float(N, q0, q1):
    """Double-precision ``(U, L, dU/dq1, dL/dq1)`` for huge ``N`` (the root scan only).

    The terms of a window of about ten standard deviations ``s = sqrt(N q0 q1)``
    are sampled every ``h = floor(s/6)`` steps (every step when ``s < 24``),
    with log-weights from :func:`_log_weight_float`; the sums are divided by the
    sum of the sampled weights.  The binomial weights are smooth on the scale
    ``s``, so by Poisson summation the sampled sums are relatively accurate to
    about ``exp(-2 pi^2 (s/h)^2)`` (negligible); the coefficient differences
    use ``c_k^2 - c_{k+1}^2`` in closed form (no cancellation).
    """
    if q1 <= 0.0:
        return list(_edge_values(N, True, FLOAT))
    if q0 <= 0.0:
        return list(_edge_values(N, False, FLOAT))
    s = math.sqrt(N * q0 * q1)
    step = 1 if s < 24 else int(s / 6)
    a, b = _window_ends(N, q1, 50.0)
    mode = min(b, max(a, int((N + 1) * q1)))
    start = mode - ((mode - a) // step) * step
    ref = _log_weight_float(N, mode, q0, q1)
    reverse = q1 > q0
    tot = su = sl = sdu = sdl = 0.0
    Np = N + 1.0
    for k in range(start, b + 1, step):
        w = math.exp(_log_weight_float(N, k, q0, q1) - ref)
        c1 = math.sqrt((N - k) / (k + 1))
        c0 = math.sqrt(k / (N + 1 - k))
        tot += w
        su += w * c1
        sl += w * c0
        if reverse:
            if k > 0:
                sdu += w * Np / ((k + 1) * (c1 + math.sqrt((N - k + 1) / k)))
                sdl += w * k * Np / ((N - k + 1) * (N + 2 - k) * (c0 + math.sqrt((k - 1) / (N + 2 - k))))
        elif k < N:
            sdu += w * (N - k) * Np / ((k + 1) * (k + 2) * (c1 + math.sqrt((N - k - 1) / (k + 2))))
            sdl += w * Np / ((N + 1 - k) * (c0 + math.sqrt((k + 1) / (N - k))))
    base = q1 if reverse else q0
    return [su / tot, sl / tot, -sdu / (tot * base), sdl / (tot * base)]


def _power_sums(comps, coef, q, degree, ctx):
    """``[sum_n coef[j][n] prod_k q_k^{n_k} for j]`` with power tables.

    Each monomial is ``q_0^{n_0} q_1^{n_1} ...`` multiplied left to right from
    the power tables, and each sum is accumulated in the order of ``comps``.
    In ``FLOAT`` the loops run in C (``map`` over floats), with exactly the
    roundings of the generic loop (used for ``ARB``), only faster.  ``MP``
    evaluates by :class:`_HornerTable` instead.
    """
    if ctx is FLOAT:
        return _power_sums_float(comps, coef, q, degree)
    m = len(q)
    powers = []
    for k in range(m):
        row = [to_context(ctx, 1)]
        for _ in range(degree):
            row.append(row[-1] * q[k])
        powers.append(row)
    out = [to_context(ctx, 0) for _ in coef]
    nj = len(coef)
    for idx, n in enumerate(comps):
        mono = powers[0][n[0]]
        for k in range(1, m):
            mono = mono * powers[k][n[k]]
        for j in range(nj):
            out[j] += coef[j][idx] * mono
    return out


def _power_sums_float(comps, coef, q, degree, cols=None):
    """:func:`_power_sums` in floats: the same products and the same left-to-right sums, in C loops.

    ``coef`` may also be a list of coefficient sets (the columns of a
    Jacobian): the monomials are then formed once for all of them.  ``cols``
    is ``tuple(zip(*comps))`` (the exponents of each part), if already at hand.
    """
    from operator import mul

    m = len(q)
    powers = []
    for k in range(m):
        row = [1.0]
        x = q[k]
        for _ in range(degree):
            row.append(row[-1] * x)
        powers.append(row)
    if cols is None:
        cols = tuple(zip(*comps))
    monos = map(powers[0].__getitem__, cols[0])
    for k in range(1, m):
        monos = map(mul, monos, map(powers[k].__getitem__, cols[k]))
    monos = list(monos)
    # sum() of floats adds left to right from 0.0 in this Python (no compensation)
    if coef and coef[0] and isinstance(coef[0][0], list):
        return [[_fsum_sequential(map(mul, row, monos)) for row in rows] for rows in coef]
    return [_fsum_sequential(map(mul, row, monos)) for row in coef]


def _fsum_sequential(terms):
    """``((0.0 + t_0) + t_1) + ...`` in double precision."""
    acc = 0.0
    for t in terms:
        acc += t
    return acc


if sys.version_info < (3, 12):      # sum() of floats is plain left-to-right addition
    _fsum_sequential = sum


class _HornerTable:
    """``Phi_j(q)`` of many reward levels in ``MP``, by nested Horner's rule in Arb (C loops).

    With ``b`` the index of the largest ``q_k`` and ``t_k = q_k/q_b <= 1``,

        Phi_j(q) = q_b^N sum_n multinomial(N; n) A(v_j; n) prod_{k != b} t_k^{n_k},

    a polynomial in the ``m - 1`` ratios, evaluated by Horner's rule in the
    outer ratios and, in the last one, by Arb's polynomial evaluation
    (``arb_poly``, one C call per row of coefficients): no power table and no
    monomial is formed.  The derivative columns ``dPhi_j/dq_i`` are the same
    construction on the coefficients ``N multinomial(N-1; n) (A(v_j; n + e_i) -
    A(v_j; n + e_0))`` (degree ``N - 1``).

    The coefficients are Arb balls of the exact values (``A(v_j; n) = X/sqrt(Y)``
    with integers ``X = G a_j - S_1``, ``Y = G S_2 - S_1^2`` over the common
    denominator of the values), built once at a precision that is raised when
    more is asked and reused below it.  The evaluation runs at ``mp.prec``
    plus guard bits; as every term ``|c_n t^n| q_b^N`` is at most ``sqrt(N)``
    times a multinomial weight (the weights sum to one), the ball's radius is
    about ``N^1.5 2^-(working bits)``, and the guard bits are doubled until the
    radius is below ``2^-(mp.prec + 8)`` times ``max(1, |Phi|)`` (at most three
    times).  The value returned is the midpoint rounded to ``mp.prec``.  Not a
    rigorous path (``ARB`` evaluates the power sums of :func:`_power_sums`);
    the same absolute accuracy as summing the terms in mpmath, and faster.
    """

    def __init__(self, model):
        self.model = model
        self.bits = 0
        self.coef = None          # [set][j][idx] Arb balls; set 0: values, set i: d/dq_i
        self.polys: dict = {}     # (bits, base, set) -> per j: {prefix: arb_poly}

    def _coefficients(self, bits):
        if self.coef is not None and self.bits >= bits:
            return
        model = self.model
        _, dcomps, weights, dweights, parts, index, _ = model._multinomial_exact()
        m = model.m
        bits = max(bits, 64)
        with arb_precision(bits):
            cache: dict = {}
            adv = []
            for j in range(m):
                row = []
                for pair in parts[j]:
                    x = cache.get(pair)
                    if x is None:
                        X, Y = pair       # the advantage X / sqrt(Y), exact integers
                        x = cache[pair] = arb(0) if Y == 0 else arb(fmpz(X)) / arb(fmpz(Y)).sqrt()
                    row.append(x)
                adv.append(row)
            sets = [[[arb(fmpz(w)) * a for w, a in zip(weights, adv[j])] for j in range(m)]]
            shifted = _shifted_positions(m, dcomps, index)
            dw = [arb(fmpz(w)) for w in dweights]
            for i in range(1, m):
                sets.append([[w * (adv[j][k] - adv[j][k0]) for w, k, k0 in zip(dw, shifted[i], shifted[0])]
                             for j in range(m)])
        self.coef = sets
        self.bits = bits
        self.polys = {}

    def _rows(self, base, which):
        """Per ``j``: ``{prefix: arb_poly}``, the coefficients grouped by the exponents of the outer ratios."""
        key = (self.bits, base, which)
        hit = self.polys.get(key)
        if hit is not None:
            return hit
        model = self.model
        comps, dcomps = model._multinomial_exact()[:2]
        comps = comps if which == 0 else dcomps
        order = [k for k in range(model.m) if k != base]
        outer, last = order[:-1], order[-1]
        total = model.group - 1 - (0 if which == 0 else 1)
        groups: dict = {}
        for idx, n in enumerate(comps):
            prefix = tuple(n[k] for k in outer)
            groups.setdefault(prefix, []).append((n[last], idx))
        out = []
        with arb_precision(self.bits):
            for row in self.coef[which]:
                polys = {}
                for prefix, members in groups.items():
                    coeffs = [arb(0)] * (total - sum(prefix) + 1)
                    for e, idx in members:
                        coeffs[e] = row[idx]
                    polys[prefix] = arb_poly(coeffs)
                out.append(polys)
        hit = (order, total, out)
        self.polys[key] = hit
        return hit

    def values(self, q, which):
        """``[Phi_j(q)]`` (``which = 0``) or ``[dPhi_j/dq_which]`` as mpf at ``mp.prec``."""
        prec = mp.prec
        model = self.model
        guard = 2 * model.group.bit_length() + 24
        base = max(range(model.m), key=lambda k: q[k])
        for _ in range(3):
            bits = prec + guard
            self._coefficients(bits)
            order, total, rows = self._rows(base, which)
            with arb_precision(bits):
                Q = [ARB.num(x) for x in q]
                t = {k: Q[k] / Q[base] for k in order}
                scale = Q[base] ** total
                balls = [scale * _nested_horner(polys, order, t, total, 0, ()) for polys in rows]
            if all(x.is_finite() and _radius_ok(x, prec + 8) for x in balls):
                break
            guard *= 2
        return [_mpf_of_ball(x) for x in balls]


def _nested_horner(polys, order, t, total, level, prefix):
    """``sum`` over the exponents of ``order[level:-1]`` by Horner's rule; ``arb_poly`` in the last ratio."""
    if level == len(order) - 1:
        return polys[prefix](t[order[-1]])
    x = t[order[level]]
    left = total - sum(prefix)
    acc = _nested_horner(polys, order, t, total, level + 1, prefix + (left,))
    for e in range(left - 1, -1, -1):
        acc = acc * x + _nested_horner(polys, order, t, total, level + 1, prefix + (e,))
    return acc


def _radius_ok(x, bits):
    """Whether the radius of ``x`` is below ``2^-bits max(1, |mid|)``."""
    rad = x.rad()
    if rad == 0:
        return True
    bound = arb(abs(x.mid()))
    if bound < 1:
        bound = arb(1)
    return bool(rad < bound * arb(2) ** (-bits))


def _mpf_of_ball(x):
    """The midpoint of a finite Arb ball rounded to ``mp.prec`` (``nan`` for a ball that is not finite)."""
    if not x.is_finite():
        return mp.nan
    man, exp = dyadic_parts(x.mid())
    return mp.make_mpf(from_man_exp(man, exp, mp.prec, "n"))


@lru_cache(maxsize=64)
def group_preference(values, group, normalisation="shift-scale") -> GroupPreference:
    """The cached :class:`GroupPreference` for ``(values, G, normalisation)``.

    ``values`` is a tuple of exact rationals, ``group`` an integer ``G >= 2`` or
    ``None`` for ``G = infinity``.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {', '.join(NORMALISATIONS)}")
    if group is not None and (isinstance(group, bool) or not isinstance(group, int) or group < 2):
        raise ValueError("group must be an integer >= 2 or None (infinity)")
    return GroupPreference(tuple(Fraction(v) for v in values), group, normalisation)


class PreferenceTable:
    """``Phi(q)`` and its derivatives for one ``(G, values, normalisation)``, in any number type.

    :meth:`phi` returns ``phi[j] = Phi_j(q)`` (arXiv:2502.18548v3, Eq. (6) via
    ``P_G(o|pi) = sum_j rho_o(v_j) Phi_j(q)``); :meth:`phi_and_derivative`
    returns ``(phi, dphi)`` with ``dphi[j][k]`` a derivative along the simplex
    normalised so that ``dphi[j][k] - dphi[j][0] = dPhi_j/dq_k`` with
    ``q_0 = 1 - q_1 - ... - q_{m-1}`` (the column ``k = 0`` is zero).  Only these
    differences are meaningful: ``Phi`` is defined on the simplex.  ``q`` is the
    full law (``m`` entries) in the number type ``ctx``.

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 20
    >>> t = PreferenceTable(3, (F(0), F(1)), SHIFT_SCALE)
    >>> phi, dphi = t.phi_and_derivative(MP, [MP.num(F(1, 2)), MP.num(F(1, 2))])
    >>> print(mp.nstr(phi[1], 18))            # U(1/2) at G = 3: (1/4)sqrt(2) + (1/2)sqrt(1/2)
    0.707106781186547524
    >>> print(mp.nstr(dphi[1][1] - dphi[1][0], 18))   # U'(1/2) = -sqrt(2)
    -1.41421356237309505
    """

    def __init__(self, group, values, normalisation=SHIFT_SCALE):
        self.group = group
        self.values = tuple(Fraction(v) for v in values)
        self.normalisation = normalisation
        self._model = group_preference(self.values, group, normalisation)

    def phi(self, ctx, q):
        """``[Phi_0(q), ..., Phi_{m-1}(q)]``."""
        return self._model.phi_values(q, ctx)

    def phi_and_derivative(self, ctx, q):
        """``(phi, dphi)``, ``dphi[j]`` padded with a zero column ``k = 0`` (see the class)."""
        model = self._model
        values = model.phi_values(q, ctx)
        zero = ctx.num(0)
        reduced = model.phi_jacobian(q, ctx)
        return values, [[zero] + list(reduced[j]) for j in range(model.m)]


def _mp_vector(xs):
    return [x if isinstance(x, mp.mpf) else (to_context(MP, x) if isinstance(x, (Fraction, int)) else mp.mpf(x)) for x in xs]


def value_preference(values, q, group, normalisation="shift-scale") -> tuple:
    """``Phi_j(q) = E[A_1 | r_1 = v_j]``: the preference of each reward value.

    The other ``G - 1`` rewards are i.i.d. from ``q``; ``group=None`` is the
    limit ``G -> infinity`` (arXiv:2502.18548v3, Eq. (13)).  The preference of
    an output is ``P_G(o | pi) = sum_j rho[o][j] Phi_j(q)``
    (arXiv:2502.18548v3, Eq. (6)).  Evaluated at the current ``mp.prec``.

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 25
    >>> U = value_preference((F(0), F(1)), (F(1, 2), F(1, 2)), 3)[1]
    >>> print(mp.nstr(U, 20))                      # (1/4)sqrt(2) + (1/2)sqrt(1/2) + 0
    0.7071067811865475244
    >>> print([mp.nstr(x, 20) for x in value_preference((F(0), F(1)), (F(3, 4), F(1, 4)), None)])
    ['-0.57735026918962576451', '1.7320508075688772935']
    """
    model = group_preference(tuple(Fraction(v) for v in values), group, normalisation)
    return tuple(model.phi_values(_mp_vector(q), MP))


def value_preference_jacobian(values, q, group, normalisation="shift-scale") -> tuple:
    """``dPhi_j/dq_i`` in reduced coordinates ``q_1..q_{m-1}`` (``q_0 = 1 - sum``).

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 20
    >>> value_preference_jacobian((F(0), F(1)), (F(1, 2), F(1, 2)), 2)   # G = 2: d(-q)/dq, d(1-q)/dq
    ((mpf('-1.0'),), (mpf('-1.0'),))
    """
    model = group_preference(tuple(Fraction(v) for v in values), group, normalisation)
    return tuple(tuple(row) for row in model.phi_jacobian(_mp_vector(q), MP))


def reward_distribution(rho, pi, ctx=None) -> list:
    """``q_j = sum_o pi(o) rho[o][j]``: the reward distribution of one draw from ``pi``."""
    ctx = MP if ctx is None else ctx
    m = len(rho[0])
    out = []
    for j in range(m):
        acc = to_context(ctx, 0)
        for o, row in enumerate(rho):
            if row[j]:
                acc += pi[o] * (to_context(ctx, row[j]) if isinstance(row[j], (Fraction, int)) else row[j])
        out.append(acc)
    return out


def reward_preference(values, rho, pi, group, normalisation="shift-scale") -> tuple:
    """``P_G(o | pi) = E[A_1 | o_1 = o]`` for every output (arXiv:2502.18548v3, Eq. (6)).

    ``rho[o][j]`` is the probability that output ``o`` has reward ``values[j]``;
    ``pi`` is the policy the other ``G - 1`` members are drawn from.  The
    expectation under ``pi`` of the result is zero (exchangeability).

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 20
    >>> values, rho = deterministic_rewards([1, 0])
    >>> reward_preference(values, rho, (F(1, 4), F(3, 4)), 2)    # G = 2: P(a > b) terms
    (mpf('0.75'), mpf('-0.25'))
    """
    pi = _mp_vector(pi)
    q = reward_distribution(rho, pi, MP)
    phi = value_preference(values, q, group, normalisation)
    return tuple(
        sum((to_context(MP, r) * p for r, p in zip(row, phi) if r), mp.mpf(0)) for row in rho
    )


def objective_gradient(values, rho, ref, pi, beta, group, penalty="k3", normalisation="shift-scale") -> tuple:
    """The field ``g_o``: derivative of the GRPO objective in ``pi(o)`` at ``pi_old = pi``.

    * ``"k3"`` (GRPO as published): ``g_o = P_G(o|pi) - beta (1 - pi_ref(o)/pi(o))``
      (arXiv:2502.18548v3, Eqs. (8), (10)); stationary interior points satisfy
      Eq. (11).
    * ``"k3-is"`` (importance-weighted, i.e. ``KL(pi || pi_ref)``,
      arXiv:2502.18548v3, Section 3 and Eq. (9)):
      ``g_o = P_G(o|pi) - beta (log(pi(o)/pi_ref(o)) + 1)``.

    A policy with full support is stationary when ``g_o`` is constant in ``o``.

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 20
    >>> values, rho = deterministic_rewards([1, 0])
    >>> g = objective_gradient(values, rho, (F(1, 2), F(1, 2)), (F(1, 2), F(1, 2)), F(1), 2)
    >>> g
    (mpf('0.5'), mpf('-0.5'))
    """
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {', '.join(PENALTIES)}")
    pi = _mp_vector(pi)
    preference = reward_preference(values, rho, pi, group, normalisation)
    beta = to_context(MP, beta)
    return tuple(field(preference, pi, [to_context(MP, r) for r in ref], beta, penalty, MP))


def solve_linear(A, b):
    """Solve ``A x = b`` (small dense system) by Gaussian elimination with partial pivoting.

    Works in whatever number type the entries have (floats, mpf); ``None`` if
    ``A`` is singular.

    >>> solve_linear([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0])
    [0.8, 1.4]
    """
    n = len(b)
    M = [list(A[i]) + [b[i]] for i in range(n)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(M[r][c]))
        if M[piv][c] == 0:
            return None
        M[c], M[piv] = M[piv], M[c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            if f:
                for k in range(c, n + 1):
                    M[r][k] -= f * M[c][k]
    x = [0] * n
    for r in range(n - 1, -1, -1):
        acc = M[r][n]
        for k in range(r + 1, n):
            acc -= M[r][k] * x[k]
        x[r] = acc / M[r][r]
    return x
