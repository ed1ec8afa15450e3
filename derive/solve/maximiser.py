r"""Whether a stationary policy maximises the paper's objective ``J(.; pi_old = pi)``.

arXiv:2502.18548v3, Section 2.3, calls ``pi`` stationary when it *maximises*
the objective ``J(pi'; pi_old)`` of Eq. (1) (reward part Eq. (6), no clipping)
with ``pi_old = pi``.  The solver (:mod:`derive.solve.solver`) finds the points that
satisfy the first-order (KKT) conditions, Eq. (11); this module decides, for
each of them, whether it is a maximiser: ``"global"``, ``"local"`` (a strict
local maximiser that is certified not to be global), ``"no"`` (not a local
maximiser) or ``"unknown"`` (not decided, with a note saying why).

The objective with ``pi_old`` fixed
-----------------------------------
With ``pi_old = pi`` fixed, the reward part is linear in the trial policy ``y``:
``sum_o y(o) P_G(o|pi)`` (Eq. (6)), and the expected penalty
``D(y; pi) = sum_o D_o(y(o))`` of :class:`derive.paper.penalty.Penalty` is separable.
So ``J(y; pi) = sum_o [P_o y_o - beta D_o(y_o)]``.  At an interior KKT point
``P_o - beta D_o'(pi_o) = lambda`` for every ``o``, which eliminates ``P_o``:
on the simplex

    J(y; pi) = lambda + beta * sum_o psi_o(y_o),   psi_o(y) = D_o'(pi_o) y - D_o(y),

with ``psi_o'(pi_o) = 0``.  :class:`ReducedObjective` derives ``psi_o`` from the
encoded penalty with SymPy.  Whether ``pi`` maximises ``J(.; pi)`` therefore
depends on ``pi``, ``pi_ref`` and the penalty only (``beta > 0`` scales, ``G``
and the normalisation enter only through ``pi``).

* k3 with importance weight (``"k3-is"``, whose expectation is
  ``KL(y || pi_ref)``): ``psi_o'' < 0`` (decided by SymPy from the assumptions),
  so ``J(.; pi)`` is strictly concave and every interior KKT point is the global
  maximiser.
* GRPO's own k3 (``"k3"``): ``psi_o''(y) = pi_o (y - 2 pi_ref(o)) / y^3`` changes
  sign at ``y = 2 pi_ref(o)``, so ``J(.; pi)`` is not concave.

Decisions (ball arithmetic in Arb, python-flint, on the certified enclosure of
the policy; every comparison must be decided by the balls, else ``"unknown"``):

1. *Local*: the Hessian of ``sum_o psi_o`` is diagonal, ``h_o = psi_o''(pi_o)``;
   on the tangent space ``sum_o d_o = 0`` it is negative definite iff all
   ``h_o < 0``, or exactly one ``h_j > 0`` and ``sum_o 1/h_o > 0`` (minimise
   ``sum_{o != j} |h_o| d_o^2`` subject to ``sum_{o != j} d_o = -d_j``: the form
   is ``d_j^2 (h_j - 1/sum_{o != j} 1/|h_o|)``); it has a positive direction
   (``"no"``) iff two ``h_o > 0``, or one and ``sum_o 1/h_o < 0``.  For a binary
   question this is ``h_a + h_b``, the second derivative of ``J(x, 1 - x)``.
2. *Global, binary*: ``Psi(x) = psi_a(x) + psi_b(1 - x)`` on ``(0, 1)``.  Its
   derivative's numerator ``Q(x)`` is a polynomial with the root ``x = pi(a)``;
   ``Q = (x - pi(a)) C(x)`` (SymPy division, zero remainder checked).  The real
   roots of ``C`` in ``[0, 1]`` are isolated by branch and bound (mean-value
   form, monotone boxes with a certified sign change) and ``Psi`` there, and the
   one-sided limits of ``Psi`` at the ends (derived with SymPy), are compared
   with ``Psi(pi(a))``.
3. *Global, K > 2*: the Lagrangian (dual) bound with multiplier 0:
   ``sum_o psi_o(y_o) <= sum_o sup_(0,1) psi_o``; when each ``pi_o`` maximises
   ``psi_o`` on ``(0, 1)`` (the same 1-D test), ``pi`` is a global maximiser.
   Otherwise branch and bound over the simplex (:func:`_branch_and_bound`)
   either proves ``Psi <= Psi(pi)`` or finds a point with a larger value
   (``"local"``); if it gives up, a seeded search looks for a better point,
   verified in Arb, else ``"unknown"``.

Boundary points (see :mod:`derive.solve.solver`): at ``beta = 0``, ``J(.; pi)`` is
linear with gradient ``P_G(o|pi)``; at ``G -> infinity`` with k3-is on a face of
equal deterministic rewards ``v``, ``P_inf(o|pi) = (r(o) - v) / 0 = -infinity``
for an output with ``r(o) < v`` and ``+infinity`` for ``r(o) > v``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from flint import arb, ctx, fmpq
from mpmath import mp
from sympy import (
    Add,
    Integer,
    Mul,
    Poly,
    Pow,
    Rational,
    Symbol,
    cancel,
    diff,
    div,
    expand,
    factor,
    fraction,
    lambdify,
    limit,
    log,
    oo,
    together,
)

from derive.numerics.context import mpf_exact
from derive.paper import symbols as S
from derive.paper.penalty import Penalty

__all__ = [
    "VERDICTS",
    "MaximiserVerdict",
    "ReducedObjective",
    "maximiser",
    "objective_value",
    "reduced_objective",
]

#: The possible verdicts, in the order of the JSON field ``"maximiser"``.
VERDICTS = ("global", "local", "no", "unknown")


@dataclass(frozen=True)
class MaximiserVerdict:
    """``verdict`` in :data:`VERDICTS` and a ``note`` (why, when not plain)."""

    verdict: str
    note: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


# ---------------------------------------------------------------------------
# The derivation
# ---------------------------------------------------------------------------


class ReducedObjective:
    r"""The per-output term ``psi_o`` of ``J(.; pi_old = pi)`` at a KKT point.

    Built from the encoded penalty (:class:`derive.paper.penalty.Penalty`, Eq. (7);
    importance-weighted for ``"k3-is"``, Section 3) and the linear reward term
    of Eq. (6): ``f_o(y) = P_o y - beta D_o(y)``; the KKT condition
    ``f_o'(pi_o) = lambda`` gives ``P_o``, and ``psi_o = (f_o - lambda y)/beta``.

    >>> k3 = ReducedObjective("k3").derive()
    >>> k3.second
    pi_old_o*(-2*pi_ref_o + y)/y**3
    >>> k3.concave, ReducedObjective("k3-is").derive().concave
    (False, True)
    >>> k3.other_critical_point
    pi_old_o*pi_ref_o/(pi_old_o - pi_ref_o)
    """

    def __init__(self, penalty="k3"):
        if penalty not in ("k3", "k3-is"):
            raise ValueError("penalty must be k3 or k3-is")
        self.penalty = penalty
        pen = Penalty("o", importance_weighted=penalty == "k3-is")
        self.y = Symbol("y", positive=True)
        self.pi = pen.old[0]          # the stationary policy, pi_old = pi
        self.ref = pen.ref[0]
        self._pen = pen

    def derive(self):
        """Derive ``psi``, its derivatives, and the factorisation of ``psi'``."""
        pen, y, pi = self._pen, self.y, self.pi
        P = Symbol("P_o", real=True)
        beta, lam = S.beta, S.lam
        f = (P * pen.pi[0] - beta * pen.expected).subs(pen.pi[0], y)   # Eqs. (1), (6), (7)
        P_kkt = _linear_root(diff(f, y).subs(y, pi) - lam, P)           # Eq. (11), KKT
        psi = expand((f.subs(P, P_kkt) - lam * y) / beta)
        self.term = psi
        self.first = cancel(diff(psi, y))
        self.second = factor(cancel(diff(psi, y, 2)))
        self.kkt_residual = cancel(self.first.subs(y, pi))
        if self.kkt_residual != 0:
            raise ArithmeticError("psi'(pi) must vanish identically")
        self.concave = bool(self.second.is_negative)
        self.limit_at_zero = limit(psi, y, 0, "+")
        num, den = fraction(together(self.first))
        if not den.subs(y, Symbol("t", positive=True)).is_positive:
            raise ArithmeticError("the denominator of psi' must be positive")
        self.numerator = expand(num)          # sign(psi') = sign(numerator)
        self.cofactor = None
        self.other_critical_point = None
        if self.numerator.is_polynomial(y):
            quotient, remainder = div(Poly(self.numerator, y), Poly(y - pi, y))
            if cancel(remainder.as_expr()) != 0:
                raise ArithmeticError("y = pi must be a root of the numerator of psi'")
            self.cofactor = quotient.as_expr()
            if Poly(self.cofactor, y).degree() == 1:
                self.other_critical_point = cancel(_linear_root(self.cofactor, y))
        return self


def _linear_root(expr, x):
    """The root in ``x`` of ``expr = 0`` when ``expr`` is linear in ``x``: ``-expr(0) / expr'``.

    (``sympy.solve`` would do, but it simplifies its answer, which imports
    ``sympy.physics.units`` and takes a fifth of a second.)  Refuses an
    ``expr`` that is not linear in ``x`` or whose slope may be zero.

    >>> from sympy import Symbol
    >>> a, x = Symbol("a", positive=True), Symbol("x")
    >>> _linear_root(a * x - 2 + x, x)
    2/(a + 1)
    """
    slope = cancel(diff(expr, x))
    if slope.has(x) or slope == 0:
        raise ArithmeticError(f"{expr} = 0 is not linear in {x}")
    return expand(-expr.subs(x, 0) / slope)


@cache
def reduced_objective(penalty) -> ReducedObjective:
    """The derived :class:`ReducedObjective` of *penalty* (cached)."""
    return ReducedObjective(penalty).derive()


class _Binary:
    """``Psi(x) = psi_a(x) + psi_b(1 - x)`` and the cofactor ``C`` of its critical numerator."""

    def __init__(self, red: ReducedObjective):
        x = S.x
        pa, pb, ra, rb = (Symbol(n, positive=True) for n in ("pi_a", "pi_b", "r_a", "r_b"))
        y, pi, ref = red.y, red.pi, red.ref
        one = {y: x, pi: pa, ref: ra}
        two = {y: 1 - x, pi: pb, ref: rb}
        self.symbols = (x, pa, pb, ra, rb)
        self.term = red.term.subs(one, simultaneous=True) + red.term.subs(two, simultaneous=True)
        # sign Psi'(x) = sign(n_a(x) d_b(1-x) - n_b(1-x) d_a(x)), both denominators positive
        num, den = fraction(together(red.first))
        Q = expand(num.subs(one, simultaneous=True) * den.subs(two, simultaneous=True)
                   - num.subs(two, simultaneous=True) * den.subs(one, simultaneous=True))
        Q = expand(Q.subs({pb: 1 - pa}))
        quotient, remainder = div(Poly(Q, x), Poly(x - pa, x))
        if cancel(remainder.as_expr()) != 0:
            raise ArithmeticError("x = pi(a) must be a root of Psi'")
        self.cofactor = cancel(quotient.as_expr())
        self.cofactor_derivative = cancel(diff(self.cofactor, x))
        self.limits = (limit(red.term, y, 0, "+"),)   # Psi -> -oo at both ends iff this is -oo


@cache
def _binary(penalty) -> _Binary:
    return _Binary(reduced_objective(penalty))


# ---------------------------------------------------------------------------
# Arb evaluation of SymPy expressions (exact rationals, no floats)
# ---------------------------------------------------------------------------


def _arb_eval(expr, env):
    """*expr* evaluated on the balls of *env* (symbol -> arb)."""
    if isinstance(expr, Symbol):
        return env[expr]
    if isinstance(expr, Integer):
        return arb(int(expr))
    if isinstance(expr, Rational):
        return arb(fmpq(int(expr.p), int(expr.q)))
    if isinstance(expr, Add):
        out = arb(0)
        for a in expr.args:
            out = out + _arb_eval(a, env)
        return out
    if isinstance(expr, Mul):
        out = arb(1)
        for a in expr.args:
            out = out * _arb_eval(a, env)
        return out
    if isinstance(expr, Pow) and expr.exp.is_Integer:
        base, e = _arb_eval(expr.base, env), int(expr.exp)
        return base ** e if e >= 0 else 1 / base ** (-e)
    if isinstance(expr, log):
        return _arb_eval(expr.args[0], env).log()
    raise TypeError(f"cannot evaluate {expr!r} in Arb")


def _ball(value) -> arb:
    """An mpf, Fraction or int as a ball that contains it."""
    if isinstance(value, (int, Fraction)):
        v = Fraction(value)
        return arb(fmpq(v.numerator, v.denominator))
    man, exp = mp.mpf(value).man_exp
    return arb(fmpq(int(man) * 2 ** exp, 1) if exp >= 0 else fmpq(int(man), 2 ** (-exp)))


def _hull(lo, hi) -> arb:
    return _ball(lo).union(_ball(hi))


def _sign(b: arb):
    """+1, -1, or 0 when the ball does not decide the sign."""
    return 1 if b > 0 else -1 if b < 0 else 0


# ---------------------------------------------------------------------------
# One-dimensional certified suprema
# ---------------------------------------------------------------------------


def _roots_in_unit(cof, dcof, bits, max_boxes=3000):
    """Balls that hold every root of ``cof`` in ``[0, 1]`` (``None`` if the search gives up)."""
    out = []
    stack = [(fmpq(0), fmpq(1))]
    boxes = 0
    tiny = fmpq(1, 2 ** (bits - 40))
    while stack:
        a, b = stack.pop()
        boxes += 1
        if boxes > max_boxes:
            return None
        A, B = arb(a), arb(b)
        box, mid = A.union(B), arb((a + b) / 2)
        d = dcof(box)
        enclosure = cof(mid) + d * (box - mid)
        if _sign(enclosure):
            continue
        if _sign(d):
            fa, fb = _sign(cof(A)), _sign(cof(B))
            if fa and fa == fb:
                continue
            if fa and fb:                    # one simple root: bisect
                while b - a > tiny:
                    c = (a + b) / 2
                    fc = _sign(cof(arb(c)))
                    if fc == 0:
                        break
                    a, b = (c, b) if fc == fa else (a, c)
                out.append(arb(a).union(arb(b)))
                continue
        if b - a <= tiny:
            out.append(A.union(B))           # a root may lie here; judged conservatively
            continue
        c = (a + b) / 2
        stack.extend([(c, b), (a, c)])
    return out


def _sup_at(value, candidates, end_limits):
    """``"max"`` if *value* is at least every candidate ball and every finite end limit.

    Returns ``("max" | "not" | "undecided", ball that beats or ties)``.
    """
    for lim in end_limits:
        if lim is None:                      # -infinity
            continue
        if not lim < value and not lim <= value:
            return ("not", lim) if lim > value else ("undecided", lim)
    for c in candidates:
        if c < value:
            continue
        if c > value:
            return "not", c
        return "undecided", c
    return "max", None


# ---------------------------------------------------------------------------
# The decision
# ---------------------------------------------------------------------------


def _policy_balls(policy, enclosure, certified, digits):
    balls = []
    for p, (lo, hi) in zip(policy, enclosure):
        if certified and lo < hi:
            balls.append(_hull(lo, hi))
        else:
            r = mp.mpf(10) ** (-(digits // 2))
            balls.append(_hull(p - r, p + r))
    return balls


def _tangent_form(h):
    """Sign of the diagonal quadratic form ``sum h_o d_o^2`` on ``sum d_o = 0``.

    ``-1`` negative definite, ``+1`` has a positive direction, ``0`` undecided.
    """
    signs = [_sign(v) for v in h]
    if 0 in signs:
        return 0
    positive = signs.count(1)
    if positive == 0:
        return -1
    if positive >= 2:
        return 1
    s = arb(0)
    for v in h:
        s = s + 1 / v
    return -_sign(s)


def _interior_verdict(problem, policy, balls, digits) -> MaximiserVerdict:
    red = reduced_objective(problem.penalty)
    y, pi_s, ref_s = red.y, red.pi, red.ref
    refs = [_ball(r) for r in problem.ref]
    h = [_arb_eval(red.second, {y: b, pi_s: b, ref_s: r}) for b, r in zip(balls, refs)]
    form = _tangent_form(h)
    if red.concave:
        return MaximiserVerdict("global", "J(.; pi_old) is strictly concave (psi_o'' < 0): "
                                "the KKT point is the unique global maximiser")
    if form == 0:
        return MaximiserVerdict("unknown", "the second derivative of J(.; pi) along the simplex "
                                "is zero within the enclosure: second-order test undecided")
    if form > 0:
        return MaximiserVerdict("no", "J(.; pi) has positive curvature along a direction of the "
                                "simplex at pi (second-order test): not a local maximiser")
    bits = ctx.prec
    if problem.K == 2:
        return _binary_global(problem, balls, refs, bits)
    return _multi_global(problem, policy, balls, refs, bits)


def _binary_global(problem, balls, refs, bits) -> MaximiserVerdict:
    bn = _binary(problem.penalty)
    x, pa, pb, ra, rb = bn.symbols
    env = {pa: balls[0], pb: balls[1], ra: refs[0], rb: refs[1]}

    def at(expr, t):
        env[x] = t
        return _arb_eval(expr, env)

    roots = _roots_in_unit(lambda t: at(bn.cofactor, t), lambda t: at(bn.cofactor_derivative, t), bits)
    if roots is None:
        return MaximiserVerdict("unknown", "a strict local maximiser; the other critical points of "
                                "J(x, 1 - x) could not be isolated (near-double root)")
    if bn.limits[0] != -oo:
        return MaximiserVerdict("unknown", "a strict local maximiser; J(x, 1 - x) does not tend "
                                "to -infinity at the ends")
    value = at(bn.term, balls[0])
    candidates = [at(bn.term, r) for r in roots if r > 0 and r < 1]
    if any(not (r > 0 and r < 1) for r in roots):
        return MaximiserVerdict("unknown", "a strict local maximiser; a critical point of "
                                "J(x, 1 - x) could not be separated from the ends")
    outcome, _ = _sup_at(value, candidates, [])
    if outcome == "max":
        return MaximiserVerdict("global")
    if outcome == "not":
        return MaximiserVerdict("local", "another critical point of J(x, 1 - x) has a larger value")
    return MaximiserVerdict("unknown", "a strict local maximiser; another local maximiser of "
                            "J(x, 1 - x) ties with it within the enclosure")


def _per_output_max(red, ball, ref, bits):
    """Whether ``pi_o`` maximises ``psi_o`` on ``(0, 1)``: ``"max"``, ``"not"`` or ``"undecided"``."""
    y, pi_s, ref_s = red.y, red.pi, red.ref
    env = {pi_s: ball, ref_s: ref}

    def at(expr, t):
        env[y] = t
        return _arb_eval(expr, env)

    if red.limit_at_zero != -oo or red.cofactor is None:
        return "undecided"
    dcof = diff(red.cofactor, y)
    roots = _roots_in_unit(lambda t: at(red.cofactor, t), lambda t: at(dcof, t), bits)
    if roots is None or any(not (r > 0) for r in roots):
        return "undecided"
    value = at(red.term, ball)
    candidates = [at(red.term, r) for r in roots if r < 1]
    outcome, _ = _sup_at(value, candidates, [at(red.term, arb(1))])
    return outcome


def _multi_global(problem, policy, balls, refs, bits) -> MaximiserVerdict:
    red = reduced_objective(problem.penalty)
    outcomes = [_per_output_max(red, b, r, bits) for b, r in zip(balls, refs)]
    if all(o == "max" for o in outcomes):
        return MaximiserVerdict("global", "certified by the separable dual bound: each pi(o) "
                                "maximises its own term of J(.; pi) on (0, 1)")
    outcome = _branch_and_bound(red, balls, refs)
    if outcome == "max":
        return MaximiserVerdict("global", "certified by branch and bound over the simplex (box "
                                "relaxation of the separable J(.; pi), exact 1-D suprema, and a "
                                "box around pi where J(.; pi) is concave along the simplex)")
    if outcome == "not":
        return MaximiserVerdict("local", "a strict local maximiser; a point of the simplex with a "
                                "larger J(.; pi) was found by branch and bound (ball arithmetic)")
    better = _better_point(problem, policy, red, balls, refs)
    if better:
        return MaximiserVerdict("local", "a strict local maximiser; a point of the simplex with a "
                                "larger J(.; pi) was found and verified in ball arithmetic")
    searched = ("a seeded search found no better point" if better is not None else
                "a coordinate lies below the double-precision range, so no search was run")
    return MaximiserVerdict("unknown", f"a strict local maximiser; with {problem.K} outputs the "
                            f"separable dual bound does not certify it global and {searched}")


def _branch_and_bound(red, balls, refs, max_boxes=30000):
    """Whether ``sum_o psi_o(y_o) <= sum_o psi_o(pi_o)`` on the simplex: ``"max"``, ``"not"``, ``"undecided"``.

    The first ``K - 1`` coordinates are split into boxes; the last is
    ``1 - sum``.  On a box the separable objective is bounded above by the sum
    of the exact suprema of each ``psi_o`` over its coordinate's interval (the
    largest of the values at the ends and at the critical points ``pi_o`` and
    :attr:`ReducedObjective.other_critical_point` inside it; ``psi_o -> -inf``
    at 0).  A box is discarded when that bound is below ``Psi(pi)``, or when it
    lies in a box ``R`` around ``pi`` on which the diagonal Hessian is negative
    definite along the simplex for every point (:func:`_tangent_form` on
    balls): there ``Psi`` is concave on the convex ``R ∩ simplex`` and ``pi``,
    a KKT point, is its maximiser.  A box centre inside the simplex with a
    larger ``Psi`` (decided by the balls) gives ``"not"``.
    """
    if red.limit_at_zero != -oo or red.other_critical_point is None:
        return "undecided"
    y, pi_s, ref_s = red.y, red.pi, red.ref
    K = len(balls)
    envs = [{pi_s: b, ref_s: r} for b, r in zip(balls, refs)]

    def psi(o, t):
        envs[o][y] = t
        return _arb_eval(red.term, envs[o])

    crit = []
    for o in range(K):
        c = _arb_eval(red.other_critical_point, envs[o])
        crit.append([balls[o]] + ([c] if not c < 0 else []))
    value = arb(0)
    for o in range(K):
        value = value + psi(o, balls[o])

    def sup(o, lo, hi):
        """An upper bound of psi_o on [lo, hi] (balls, lo >= 0)."""
        best = None
        cands = [hi] + ([lo] if lo > 0 else [])
        for c in crit[o]:
            if not (c < lo) and not (c > hi):
                cands.append(c)
        for t in cands:
            if not t > 0:
                continue
            v = psi(o, t)
            best = v if best is None else best.union(v)   # the union's upper end is the max
        return best

    # the concavity box R around pi, radius rho in the first K - 1 coordinates
    rho = None
    r = min(float(b.mid()) for b in balls) / 4
    for _ in range(30):
        box = [arb(b.mid(), r) for b in balls[:-1]]
        last = balls[-1] + arb(0, (K - 1) * r)
        if last > 0 and all(b > 0 for b in box):
            h = [_arb_eval(red.second, {y: t, pi_s: b, ref_s: rf})
                 for t, b, rf in zip(box + [last], balls, refs)]
            if _tangent_form(h) == -1:
                rho = r
                break
        r /= 4
    if rho is None:
        return "undecided"
    R = []
    for b in balls[:-1]:
        lo, hi = b - rho, b + rho
        R.append((lo, hi))

    def inside_R(box):
        return all(arb(a) > lo and arb(c) < hi for (a, c), (lo, hi) in zip(box, R))

    stack = [[(fmpq(0), fmpq(1))] * (K - 1)]
    boxes = 0
    while stack:
        box = stack.pop()
        boxes += 1
        if boxes > max_boxes:
            return "undecided"
        lo_sum = sum((a for a, _ in box), fmpq(0))
        hi_sum = sum((c for _, c in box), fmpq(0))
        last_lo, last_hi = max(fmpq(0), 1 - hi_sum), min(fmpq(1), 1 - lo_sum)
        if last_hi <= 0:
            continue                              # outside the simplex
        if inside_R(box):
            continue
        bound = arb(0)
        for o, (a, c) in enumerate(box):
            v = sup(o, arb(a), arb(c))
            if v is None:
                bound = None
                break
            bound = bound + v
        if bound is not None:
            v = sup(K - 1, arb(last_lo), arb(last_hi))
            bound = None if v is None else bound + v
        if bound is not None and bound < value:
            continue
        centre = [(a + c) / 2 for a, c in box]
        rest = 1 - sum(centre, fmpq(0))
        if rest > 0 and all(t > 0 for t in centre):
            v = arb(0)
            for o, t in enumerate(centre + [rest]):
                v = v + psi(o, arb(t))
            if v > value:
                return "not"
        widths = [c - a for a, c in box]
        j = max(range(K - 1), key=lambda i: widths[i])
        a, c = box[j]
        m = (a + c) / 2
        stack.append(box[:j] + [(a, m)] + box[j + 1:])
        stack.append(box[:j] + [(m, c)] + box[j + 1:])
    return "max"


def _better_point(problem, policy, red, balls, refs, samples=4000, seed=20250313):
    """A seeded search of the simplex for a point with a larger reduced objective (Arb-verified)."""
    y, pi_s, ref_s = red.y, red.pi, red.ref
    K = problem.K

    def total(point, prec_balls):
        s = arb(0)
        for t, b, r in zip(point, prec_balls, refs):
            s = s + _arb_eval(red.term, {y: t, pi_s: b, ref_s: r})
        return s

    pf = [float(p) for p in policy]
    if min(pf) <= 0 or min(float(r) for r in problem.ref) <= 0:
        return None  # coordinates below the float range: the float search cannot run
    value = total(balls, balls)
    rng = random.Random(seed)
    best, best_val = None, None
    candidates = []
    for o in range(K):
        # the other coordinates' total, summed (1 - pf[o] is 0 in floats near a vertex)
        rest = math.fsum(pf[j] for j in range(K) if j != o)
        if rest <= 0:
            continue
        for k in range(1, 100):
            t = k / 100
            candidates.append([t if j == o else (1 - t) * pf[j] / rest for j in range(K)])
    for _ in range(samples):
        w = [rng.expovariate(1.0) for _ in range(K)]
        s = sum(w)
        candidates.append([v / s for v in w])
    term = lambdify((y, pi_s, ref_s), red.term, modules="math")

    def f(pt):
        if min(pt) <= 0:
            return -math.inf
        return sum(term(t, p, float(r)) for t, p, r in zip(pt, pf, problem.ref))

    for pt in candidates:
        v = f(pt)
        if best_val is None or v > best_val:
            best, best_val = pt, v
    if best is None or best_val <= f(pf):
        return False
    point = [_ball(Fraction(v).limit_denominator(10 ** 12)) for v in best[:-1]]
    last = arb(1)
    for t in point:
        last = last - t
    point.append(last)
    if not last > 0:
        return False
    return bool(total(point, balls) > value)


def _boundary_verdict(problem, policy) -> MaximiserVerdict:
    from derive.solve.solver import beta0_signs, system_of

    K = problem.K
    support = [o for o in range(K) if policy[o] > 0]
    outside = [o for o in range(K) if o not in support]
    if problem.beta == 0:
        if not outside:
            return MaximiserVerdict("global", "beta = 0 and every output has the same preference: "
                                    "J(.; pi) is constant, every policy maximises it")
        system = system_of(problem)
        exact = [Fraction(problem.ref[o]) / sum(problem.ref[m] for m in support) if o in support
                 else Fraction(0) for o in range(K)]
        by_mean = problem.group is None or problem.normalisation == "shift-only"
        signs = beta0_signs(problem, system, support, exact, by_mean, problem.mean_rewards)
        if 1 in signs:
            return MaximiserVerdict("no", "beta = 0: J(.; pi) is linear and an output outside the "
                                    "support has a larger preference P_G(o|pi)")
        if 0 in signs:
            return MaximiserVerdict("unknown", "beta = 0: the sign of P_G(o|pi) of an output "
                                    "outside the support is not decided")
        return MaximiserVerdict("global", "beta = 0: J(.; pi) is linear, maximal on the face of "
                                "the support (every policy on it maximises J)")
    if problem.group is None and problem.penalty == "k3-is":
        means = problem.mean_rewards
        (v,) = {means[o] for o in support}
        if any(means[o] > v for o in outside):
            return MaximiserVerdict("no", "P_inf(o|pi) = +infinity for an output outside the face "
                                    "(sigma(pi) = 0 and r(o) > r on the face): J(.; pi) is "
                                    "unbounded above")
        if any(means[o] == v for o in outside):
            return MaximiserVerdict("unknown", "an output outside the face has the face's mean "
                                    "reward: P_inf(o|pi) is 0/0")
        return MaximiserVerdict("global", "with the limit G -> infinity taken first, "
                                "P_inf(o|pi) = -infinity off the face (sigma(pi) = 0, r(o) < r on "
                                "the face), so J(.; pi) is finite only on the face, where it is "
                                "-beta KL(. || pi_ref) + const, maximal at pi; at any finite G, "
                                "P_G(o|pi) is finite and this point does not maximise J(.; pi)")
    return MaximiserVerdict("unknown", "a boundary point of a kind this module does not treat")


def maximiser(problem, stationary, digits=50) -> MaximiserVerdict:
    """Whether the stationary policy *stationary* maximises ``J(.; pi_old = pi)`` over the simplex.

    *stationary* is a :class:`derive.solve.solver.StationaryPolicy` of *problem*.
    arXiv:2502.18548v3, Section 2.3 (definition), Eqs. (1), (6), (7), (11).

    >>> from fractions import Fraction as F
    >>> from derive.solve.solver import Problem, stationary_policies
    >>> pb = Problem.deterministic((F(1, 100), F(99, 100)), (1, 0), F(1), 2)   # p = 0.01, beta = gamma = 1
    >>> (s,) = stationary_policies(pb, digits=30)
    >>> mp.nstr(s.policy[0], 10), maximiser(pb, s, 30).verdict                # x = sqrt(p) = 0.1
    ('0.1', 'no')
    >>> pb = Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1), 2)
    >>> maximiser(pb, stationary_policies(pb, digits=30)[0], 30).verdict
    'global'
    """
    digits = int(digits)
    old = ctx.prec
    ctx.prec = int(3.33 * (digits + 20)) + 40
    try:
        if stationary.kind == "boundary":
            return _boundary_verdict(problem, stationary.policy)
        if problem.beta == 0:
            return _boundary_verdict(problem, stationary.policy)
        balls = _policy_balls(stationary.policy, stationary.enclosure, stationary.certified, digits)
        verdict = _interior_verdict(problem, stationary.policy, balls, digits)
        if not stationary.certified and verdict.verdict != "unknown":
            extra = f"decided on a ball of radius 1e-{digits // 2} around the uncertified policy"
            verdict = MaximiserVerdict(verdict.verdict, "; ".join(n for n in (verdict.note, extra) if n))
        return verdict
    finally:
        ctx.prec = old


def objective_value(problem, trial, policy):
    """``J(trial; pi_old = policy)`` of Eq. (1) without clipping, from ``P_G`` and the penalty (mpmath).

    ``sum_o trial(o) P_G(o|policy) - beta D(trial; policy)`` with ``D`` the
    expected k3 penalty (Eq. (7)), importance-weighted for ``"k3-is"``.  An
    independent path to ``J``: it uses the preferences, not the KKT conditions.
    """
    from derive.numerics.group_preference import reward_preference

    P = reward_preference(problem.values, problem.rho, policy, problem.group, problem.normalisation)
    beta = mpf_exact(problem.beta)
    total = mp.mpf(0)
    for o, (t, p, r) in enumerate(zip(trial, policy, problem.ref)):
        t, p, r = (mpf_exact(v) if isinstance(v, Fraction) else mp.mpf(v)
                   for v in (t, p, r))
        k3 = r / t - mp.log(r / t) - 1
        # pi_old(o) * (t / pi_old(o)) * k3 for k3-is, written so that pi_old(o) = 0 is allowed
        total += t * P[o] - beta * (t if problem.penalty == "k3-is" else p) * k3
    return total
