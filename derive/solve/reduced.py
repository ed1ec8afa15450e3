r"""Many answers: stationary policies through a handful of unknowns, whatever ``K`` is.

Two cases of shift-scale GRPO with ``beta > 0`` have a preference that depends
on the policy through very few numbers (arXiv:2502.18548v3, Section 2.1):

* ``G -> infinity``: ``P_inf(o|pi) = (r(o) - mu)/sigma`` (Eq. (13)), where ``mu``
  and ``sigma^2`` are the mean and the variance of one draw's reward, reward
  noise included (per output: the mean ``r(o)`` and the noise variance
  ``v(o)``).
* ``G = 2`` with deterministic rewards: ``P_2(o|pi) = F_<(r(o)) - F_>(r(o))``
  (Eq. (12)), the probability that a draw from ``pi`` has a smaller reward
  minus the probability that it has a larger one.

Outputs with the same reward distribution have the same ``P``, so by Eq. (11)
they keep the proportions of ``pi_ref`` (``pi(o)/pi_ref(o)`` depends on
``P(o)`` alone): they are grouped into *classes* ``c`` with reference mass
``R_c`` first.  Every interior stationary policy is then found as follows.

``G = infinity``, k3 (Eq. (11) with ``E_pi P = 0``)
    Write ``t = 1/(beta sigma)`` and ``y = mu - r_max + 1/t > 0``,
    ``e_c = y + r_max - r_c``.  Eq. (11) reads ``pi_c = R_c/(t e_c)``.  The
    normalisation gives ``F_1 = sum_c R_c/e_c - t = 0`` (and then
    ``sum_c pi_c r_c = mu`` follows, since ``sum_c pi_c (1 - t (r_c - mu)) = 1``),
    and the variance ``sigma^2 = sum_c pi_c ((r_c - mu)^2 + v_c) = 1/(beta t)^2``
    gives ``F_2 = sum_c R_c (1/(t e_c) - 2 + t e_c + t v_c/e_c) - 1/beta^2 = 0``.
    For fixed ``t`` the first equation has exactly one root ``y(t)`` (its left
    side decreases from ``+inf`` to 0), so the roots are those of the scalar
    ``h(t) = F_2(y(t), t) = t^2 sigma^2 - 1/beta^2``.  Every root lies in
    ``[t_lo, t_hi]``: ``t_lo = 2/(beta w)`` with ``w`` the range of the reward
    values (the variance is at most ``w^2/4``), and
    ``t_hi = max(2/g_min, 4/(beta^2 R_out g_min))`` with ``g_min`` the smallest
    gap below the top mean and ``R_out`` the reference mass below it (there
    every lower class has ``t e_c >= 2``, so ``h(t) >= t R_out g_min/4 - 1/beta^2 > 0``).  The interval is scanned on a log grid
    (sign changes bracket roots), the roots are polished by Newton's method
    in ``(y, t)`` in mpmath and certified by a Krawczyk test in Arb in these
    two unknowns.
``G = infinity``, k3-is (log pooling, Section 3)
    ``pi_c ∝ R_c exp(t r_c)``, so ``mu(t)`` and ``sigma^2(t)`` are explicit and
    the one unknown ``t`` solves ``h(t) = t^2 sigma^2(t) - 1/beta^2 = 0``; the
    roots are bracketed the same way and certified by an interval Newton test.
``G = 2``, k3, deterministic rewards
    Sort the reward levels ``v_1 < ... < v_L``, with masses ``q_l`` and
    ``C_l = q_1 + ... + q_l``.  Then ``P_l = C_{l-1} - (1 - C_l)`` and Eq. (11)
    is the quadratic ``q_l^2 - a_l q_l + beta R_l = 0`` with
    ``a_l = beta + 1 - 2 C_{l-1}``.  Its larger root would give
    ``C_l = (beta + 1 + sqrt(disc))/2`` and so ``a_{l+1} = -sqrt(disc) <= 0``: no
    positive root at the next level.  Hence every level below the top takes
    the smaller root ``q_l = 2 beta R_l/(a_l + sqrt(a_l^2 - 4 beta R_l))``, and
    the top one ``q_L = 1 - C_{L-1}`` (the telescoped sum of the ``L``
    equations is ``(C_L - 1)(1 - C_L/beta) = 0``, and ``C_L = 1``).  So there is
    at most one interior stationary policy, given by an explicit recursion;
    evaluated in Arb (every ``a_l``, discriminant and ``q_L`` a ball proved
    positive) it is a certified enclosure.

Stability.  At ``G = 2`` every interior stationary point is an attractor of the logit
flow: its Jacobian is ``S H S`` with
``S = diag(pi) - pi pi^T`` and ``H = Sigma - C``, ``Sigma`` skew-symmetric
(``dP_2`` is a skew bilinear form) and ``C`` a positive diagonal (the penalty
curvature); for an eigenpair ``S^2 H y = lambda y`` with ``y`` orthogonal to
``1`` and ``z = H y``, ``lambda z^* y = z^* S^2 z >= 0`` while
``Re z^* y = -y^* C y < 0``, so ``Re lambda < 0`` (and ``lambda = 0`` is excluded
because ``H`` is invertible with ``Re 1^T H^{-1} 1 < 0``).  At ``G = infinity``
the eigenvalues are computed (:mod:`derive.dynamics.iteration`) for ``K <= 12``;
beyond, a sufficient test in ``O(K)`` (:func:`infinite_stability`) proves
``"attractor"`` or leaves the classification ``"undecided"`` (the note says so).
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise

from mpmath import mp

from derive.numerics.certify import (
    KRAWCZYK_NOT_INSIDE,
    NEWTON_NOT_INSIDE,
    krawczyk_image,
    newton_image,
    widen_until,
)
from derive.numerics.context import ARB, MP, arb_ends, arb_precision, interval, mpf_exact
from derive.numerics.field import field, field_term_scale
from derive.numerics.roots import bisect_geometric, sign_changes

__all__ = ["SMALL_K", "applies", "g2_stability_note", "infinite_stability", "infinite_stability_note",
           "reduced_policies", "reduced_residual"]

#: Up to this many outputs the eigenvalues of the logit Jacobian (``K^3`` in
#: mpmath) and the finite-group correction are computed as for the general solver.
SMALL_K = 12
#: Range of the constants (``beta``, gaps between mean rewards, class masses) for which the
#: double-precision scan of ``G = infinity`` is used; outside, the general solver is.
_FLOAT_LOW, _FLOAT_HIGH = Fraction(1, 10**100), Fraction(10**100)
#: Points of the log-spaced sign scan of ``h(t)``.
SCAN_POINTS = 600


def applies(problem) -> str | None:
    """``"infinite"``, ``"pairwise"`` or ``None``: whether a reduced system of this module applies.

    >>> from fractions import Fraction as F
    >>> from derive.solve.solver import Problem
    >>> applies(Problem.deterministic((F(1, 3),) * 3, (0, 1, 2), F(1, 2), None))
    'infinite'
    >>> applies(Problem.deterministic((F(1, 3),) * 3, (0, 1, 2), F(1, 2), 2))
    'pairwise'
    >>> applies(Problem.deterministic((F(1, 3),) * 3, (0, 1, 2), F(1, 2), 3)) is None
    True
    """
    if problem.beta <= 0 or problem.normalisation != "shift-scale":
        return None
    means = problem.mean_rewards
    if len(set(means)) < 2:
        return None
    if problem.group is None:
        # the sign scan runs in double precision: every constant well inside its range
        classes = _classes(problem)
        gaps = [b[2] - a[2] for a, b in pairwise(classes) if b[2] != a[2]]
        # (and beta moderate: for beta beyond 1e8 or below 1e-8 the roots sit where 1 - t e_c
        # cancels, which the (y, t) Newton step does not resolve at digits + 12)
        if not Fraction(1, 10**8) <= problem.beta <= 10**8:
            return None
        consts = [problem.beta, problem.values[-1] - problem.values[0]] + gaps + [c[1] for c in classes]
        consts += [c[3] for c in classes if c[3]]
        if not all(_FLOAT_LOW <= abs(x) <= _FLOAT_HIGH for x in consts):
            return None
        return "infinite"
    deterministic = all(sum(1 for w in row if w) == 1 for row in problem.rho)
    if problem.group == 2 and deterministic and problem.penalty == "k3":
        return "pairwise"
    return None


def _classes(problem):
    """``(members, R, r, v)`` per class of outputs with the same reward distribution.

    ``r``: the exact mean reward, ``v``: the exact noise variance; classes sorted by ``(r, v)``.
    """
    groups: dict = {}
    for o, row in enumerate(problem.rho):
        groups.setdefault(row, []).append(o)
    out = []
    for row, members in groups.items():
        r = sum(w * x for w, x in zip(row, problem.values) if w)
        v = sum(w * x * x for w, x in zip(row, problem.values) if w) - r * r
        out.append((tuple(members), sum(problem.ref[o] for o in members), r, v))
    out.sort(key=lambda c: (c[2], c[3]))
    return out


# ---------------------------------------------------------------------------
# G = infinity
# ---------------------------------------------------------------------------


class _Infinite:
    """The two-unknown system of the module docstring for ``G = infinity``."""

    def __init__(self, problem):
        self.problem = problem
        self.kl = problem.penalty == "k3-is"
        self.classes = _classes(problem)
        self.R = [c[1] for c in self.classes]
        self.r = [c[2] for c in self.classes]
        self.v = [c[3] for c in self.classes]
        self.rmax = max(self.r)
        self.g = [self.rmax - x for x in self.r]           # exact gaps r_max - r_c >= 0
        self.beta = problem.beta
        values = problem.values
        self.width = values[-1] - values[0]
        self.t_lo = 2 / (self.beta * self.width)

    # -- k3: y(t), h(t) ------------------------------------------------------
    def y_of_t(self, t, ctx_float=True, tol=None):
        """The root ``y > 0`` of ``sum_c R_c/(y + g_c) = t`` (Newton in ``log y``, from the left)."""
        R, g = (self.Rf, self.gf) if ctx_float else (self.Rm, self.gm)
        log = math.log if ctx_float else mp.log
        exp = math.exp if ctx_float else mp.exp
        top = sum(Ri for Ri, gi in zip(R, g) if gi == 0)
        # the root lies in [top/t, 1/t]: the left end has f >= t, Newton in z = log y then
        # increases monotonically (f is convex decreasing in y, and log f convex in log y
        # is not needed: the step is safeguarded by the bracket)
        lo, hi = top / t, 1 / t
        y = lo
        for _ in range(200):
            f = 0
            df = 0
            for Ri, gi in zip(R, g):
                e = y + gi
                f += Ri / e
                df -= Ri / (e * e)
            if f > t:
                lo = y
            else:
                hi = y
            # Newton on log f(y) - log t in z = log y
            step = (log(f) - log(t)) / (df * y / f)
            ynew = y * exp(-step) if abs(step) < 50 else (lo + hi) / 2
            if not (lo <= ynew <= hi):
                ynew = (lo + hi) / 2
            done = abs(ynew - y) <= (tol if tol is not None else 1e-15) * y
            y = ynew
            if done:
                break
        return y

    def h_float(self, t):
        if self.kl:
            return self._h_kl(t, float)
        y = self.y_of_t(t)
        acc = err = 0.0
        for Ri, gi, vi in zip(self.Rf, self.gf, self.vf):
            e = y + gi
            te = t * e
            # R (1 - t e)^2/(t e) + R t v/e = R t^2 ((r_c - mu)^2 + v_c) pi_c/R_c, without the
            # cancellation of 1/(t e) - 2 + t e; t e carries a relative error of about 1e-14
            d = 1e-14 * max(1.0, te)
            acc += Ri * ((1 - te) ** 2 / te + t * vi / e)
            err += Ri * (2 * abs(1 - te) * d + d * d) / te
        value = acc - self.inv_beta2f
        if abs(value) > 10 * err:
            return value
        return self.h_mp(t)

    def h_mp(self, t):
        """``h(t)`` (k3) in mpmath, at rising precision until its sign is decided (as a float)."""
        dps = 40
        while dps <= 2000:
            with mp.workdps(dps):
                R = [mpf_exact(x) for x in self.R]
                g = [mpf_exact(x) for x in self.g]
                v = [mpf_exact(x) for x in self.v]
                tt = mp.mpf(t)
                y = _y_mp(R, g, tt, mp.mpf(10) ** (5 - dps))
                acc = err = mp.zero
                eps = mp.mpf(10) ** (8 - dps)
                for Ri, gi, vi in zip(R, g, v):
                    e = y + gi
                    te = tt * e
                    d = eps * max(1, te)
                    acc += Ri * ((1 - te) ** 2 / te + tt * vi / e)
                    err += Ri * (2 * abs(1 - te) * d + d * d) / te
                value = acc - mpf_exact(1 / self.beta**2)
                if abs(value) > 10 * err:
                    return float(value) if value else 0.0
            dps *= 2
        return 0.0

    def _h_kl(self, t, kind):
        exp = math.exp if kind is float else mp.exp
        R, g, v = (self.Rf, self.gf, self.vf) if kind is float else (self.Rm, self.gm, self.vm)
        w = [Ri * exp(-t * gi) for Ri, gi in zip(R, g)]
        Z = sum(w)
        m1 = sum(wi * gi for wi, gi in zip(w, g)) / Z
        var = sum(wi * ((gi - m1) ** 2 + vi) for wi, gi, vi in zip(w, g, v)) / Z
        return t * t * var - (self.inv_beta2f if kind is float else self.inv_beta2m)

    def setup_float(self):
        self.Rf = [float(x) for x in self.R]
        self.gf = [float(x) for x in self.g]
        self.vf = [float(x) for x in self.v]
        self.inv_beta2f = float(1 / self.beta**2)

    def setup_mp(self):
        self.Rm = [mpf_exact(x) for x in self.R]
        self.gm = [mpf_exact(x) for x in self.g]
        self.vm = [mpf_exact(x) for x in self.v]
        b = self.beta
        self.inv_beta2m = mp.mpf(b.denominator) ** 2 / mp.mpf(b.numerator) ** 2

    # -- the interval that holds every root -------------------------------------
    def t_range(self):
        """``(t_lo, t_hi)`` (floats) with ``h < 0`` below ``t_lo`` and no root above ``t_hi``."""
        t_lo = float(self.t_lo)
        nontop = [(Ri, gi, vi) for Ri, gi, vi in zip(self.R, self.g, self.v) if gi > 0]
        top = [(Ri, vi) for Ri, gi, vi in zip(self.R, self.g, self.v) if gi == 0]
        gmin = float(min(gi for _, gi, _ in nontop))
        beta = float(self.beta)
        if not self.kl:
            # once t g_min >= 2, every outside class has t e_c >= 2, so its term
            # R_c (1 - t e_c)^2/(t e_c) >= R_c t g_c/4: h(t) >= t R_nt g_min/4 - 1/beta^2
            Rnt = float(sum(Ri for Ri, _, _ in nontop))
            t_hi = max(2 / gmin, 4 / (beta * beta * Rnt * gmin))
            return t_lo, 1.01 * t_hi
        w = float(sum(Ri * vi for Ri, vi in top))
        if w > 0:
            # pi_c >= R_c on the top classes (Z <= 1), so sigma^2 >= w
            return t_lo, 1.01 / (beta * math.sqrt(w))
        # sigma^2 <= (1/R_top) sum_nt R_c exp(-t g_c) (g_c^2 + v_c) <= A exp(-t g_min)/R_top
        Rtop = float(sum(Ri for Ri, _ in top))
        A = float(sum(Ri * (gi * gi + vi) for Ri, gi, vi in nontop))
        t = 2 / gmin
        while 2 * math.log(t) - t * gmin + math.log(A / Rtop) >= -2 * math.log(beta) - 1e-9:
            t *= 2
        return t_lo, 1.01 * t


def _y_mp(R, g, t, tol):
    """The root ``y > 0`` of ``sum_c R_c/(y + g_c) = t`` in mpmath (safeguarded Newton in ``log y``)."""
    top = mp.fsum(Ri for Ri, gi in zip(R, g) if gi == 0)
    lo, hi = top / t, 1 / t
    y = lo
    for _ in range(400):
        f = mp.fsum(Ri / (y + gi) for Ri, gi in zip(R, g))
        df = -mp.fsum(Ri / (y + gi) ** 2 for Ri, gi in zip(R, g))
        if f > t:
            lo = y
        else:
            hi = y
        step = (mp.log(f) - mp.log(t)) / (df * y / f)
        ynew = y * mp.exp(-step) if abs(step) < 50 else (lo + hi) / 2
        if not (lo <= ynew <= hi):
            ynew = (lo + hi) / 2
        if abs(ynew - y) <= tol * y:
            return ynew
        y = ynew
    return y


def _scan(f, t_lo, t_hi, n=SCAN_POINTS):
    """Sign changes of ``f`` on a log grid of ``[t_lo, t_hi]``: brackets ``(a, b)``, ``(t, t)`` at a zero
    (:func:`derive.numerics.roots.sign_changes`)."""
    a, b = math.log(t_lo), math.log(t_hi)
    ts = [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
    return [(ts[i], ts[j]) for i, j in sign_changes([f(t) for t in ts])]


def _k3_system(sysm, y, t, ctx):
    """``F_1, F_2`` and their Jacobian in ``(y, t)`` (MP numbers or ARB balls)."""
    R, g, v, ib2 = sysm
    F1 = -t
    F2 = -ib2 - 2
    J11 = J12 = J21 = J22 = 0
    J12 = -1
    J11 = 0
    for Ri, gi, vi in zip(R, g, v):
        e = y + gi
        inv = 1 / e
        F1 = F1 + Ri * inv
        J11 = J11 - Ri * inv * inv
        F2 = F2 + Ri * (inv / t + t * e + t * vi * inv)
        J21 = J21 + Ri * (-inv * inv / t + t - t * vi * inv * inv)
        J22 = J22 + Ri * (-inv / (t * t) + e + vi * inv)
    return (F1, F2), ((J11, J12), (J21, J22))


def _kl_h(sysm, t):
    """``h(t)`` and ``h'(t)`` for k3-is (MP or ARB)."""
    R, g, v, ib2 = sysm
    w = [Ri * (-t * gi).exp() if hasattr(t, "mid") else Ri * mp.exp(-t * gi) for Ri, gi in zip(R, g)]
    Z = sum(w[1:], w[0])
    m1 = sum((wi * gi for wi, gi in zip(w, g)), 0 * Z) / Z
    m2 = sum((wi * (gi * gi + vi) for wi, gi, vi in zip(w, g, v)), 0 * Z) / Z
    m3 = sum((wi * gi * (gi * gi + vi) for wi, gi, vi in zip(w, g, v)), 0 * Z) / Z
    m11 = sum((wi * gi * gi for wi, gi in zip(w, g)), 0 * Z) / Z
    var = m2 - m1 * m1
    # d/dt E[X] = -(E[X g] - E[X] E[g])
    dm1 = -(m11 - m1 * m1)
    dm2 = -(m3 - m2 * m1)
    dvar = dm2 - 2 * m1 * dm1
    return t * t * var - ib2, 2 * t * var + t * t * dvar, w, Z


def _consts(inf, ctx):
    if ctx == "mp":
        return inf.Rm, inf.gm, inf.vm, inf.inv_beta2m
    num = ARB.num
    b = inf.beta
    return ([num(x) for x in inf.R], [num(x) for x in inf.g], [num(x) for x in inf.v],
            num(Fraction(b.denominator**2, b.numerator**2)))


def _newton_k3(inf, y, t, tol):
    c = _consts(inf, "mp")
    y, t = mp.mpf(y), mp.mpf(t)
    for _ in range(100):
        F, J = _k3_system(c, y, t, "mp")
        det = J[0][0] * J[1][1] - J[0][1] * J[1][0]
        if det == 0:
            return None
        dy = (F[0] * J[1][1] - F[1] * J[0][1]) / det
        dt = (J[0][0] * F[1] - J[1][0] * F[0]) / det
        # damped so that y stays positive
        lam = mp.mpf(1)
        while y - lam * dy <= 0 or t - lam * dt <= 0:
            lam /= 2
            if lam < mp.mpf(2) ** -60:
                return None
        y, t = y - lam * dy, t - lam * dt
        if abs(dy) <= tol * y and abs(dt) <= tol * t:
            return y, t
    return None


def _newton_kl(inf, t, tol):
    c = _consts(inf, "mp")
    t = mp.mpf(t)
    for _ in range(100):
        h, dh, _, _ = _kl_h(c, t)
        if dh == 0:
            return None
        step = h / dh
        if t - step <= 0:
            step = t / 2
        t = t - step
        if abs(step) <= tol * t:
            return t
    return None


def _policy_k3(inf, y, t, ctx):
    _, g, _, _ = _consts(inf, ctx) if ctx == "arb" else _consts(inf, "mp")
    per_class = [1 / (t * (y + gi)) for gi in g]          # pi_c / R_c
    return _spread(inf, per_class, ctx)


def _policy_kl(inf, t, ctx):
    c = _consts(inf, ctx) if ctx == "arb" else _consts(inf, "mp")
    _, _, w, Z = _kl_h(c, t)
    per_class = [wi / (Ri * Z) for wi, Ri in zip(w, c[0])]
    return _spread(inf, per_class, ctx)


def _spread(inf, per_class, ctx):
    """``pi(o) = pi_ref(o) * (pi_c/R_c)`` for every output, in the order of ``ref``."""
    problem = inf.problem
    out = [None] * problem.K
    for (members, _, _, _), ratio in zip(inf.classes, per_class):
        for o in members:
            ref = ARB.num(problem.ref[o]) if ctx == "arb" else mpf_exact(problem.ref[o])
            out[o] = ref * ratio
    return out


def _certify_k3(inf, y, t, digits):
    """Krawczyk test in ``(y, t)``; returns ``(enclosure, certified, why)``."""
    c = _consts(inf, "mp")
    F, J = _k3_system(c, y, t, "mp")
    det = J[0][0] * J[1][1] - J[0][1] * J[1][0]
    if det == 0:
        return None, False, "the Jacobian of the reduced system is singular at the root"
    Y = ((J[1][1] / det, -J[0][1] / det), (-J[1][0] / det, J[0][0] / det))
    step = max(abs(Y[0][0] * F[0] + Y[0][1] * F[1]) / y, abs(Y[1][0] * F[0] + Y[1][1] * F[1]) / t)
    rel = max(mp.mpf(10) ** (-(digits - 1)), 1000 * step)
    limit = mp.mpf(10) ** (-(digits - 4))

    def krawczyk(rel):
        """The policy enclosure on the box ``(y, t) (1 +- rel)``, or why the test failed."""
        with arb_precision(mp.prec + 10):
            X = [interval(y * (1 - rel), y * (1 + rel)), interval(t * (1 - rel), t * (1 + rel))]
            xm = [ARB.num(y), ARB.num(t)]
            ca = _consts(inf, "arb")
            Fm, _ = _k3_system(ca, xm[0], xm[1], "arb")
            _, JX = _k3_system(ca, X[0], X[1], "arb")
            why = krawczyk_image(X, xm, Fm, JX, Y)
            if why:
                return why
            return [arb_ends(p) for p in _policy_k3(inf, X[0], X[1], "arb")]

    enclosure, why = widen_until(krawczyk, rel, limit)
    if why == "":
        return enclosure, True, ""
    return None, False, KRAWCZYK_NOT_INSIDE


def _certify_kl(inf, t, digits):
    """Interval Newton test in ``t``; returns ``(enclosure, certified, why)``."""
    c = _consts(inf, "mp")
    h, dh, _, _ = _kl_h(c, t)
    if dh == 0:
        return None, False, "h'(t) = 0 at the root (a double root)"
    rel = max(mp.mpf(10) ** (-(digits - 1)), 1000 * abs(h / dh) / t)
    limit = mp.mpf(10) ** (-(digits - 4))

    def newton(rel):
        """The policy enclosure on the box ``t (1 +- rel)``, or why the test failed."""
        with arb_precision(mp.prec + 10):
            ca = _consts(inf, "arb")
            T = interval(t * (1 - rel), t * (1 + rel))
            tm = ARB.num(t)
            _, why = newton_image(T, tm, _kl_h(ca, tm)[0], _kl_h(ca, T)[1])
            if why:
                return why
            return [arb_ends(p) for p in _policy_kl(inf, T, "arb")]

    enclosure, why = widen_until(newton, rel, limit)
    if why == "":
        return enclosure, True, ""
    return None, False, NEWTON_NOT_INSIDE


def _infinite_roots(problem, digits):
    """``[(policy, enclosure, certified, why)]`` for ``G = infinity``."""
    inf = _Infinite(problem)
    inf.setup_float()
    inf.setup_mp()
    t_lo, t_hi = inf.t_range()
    brackets = _scan(inf.h_float, t_lo, t_hi)
    out = []
    tol = mp.mpf(10) ** (-(digits + 6))
    for a, b in brackets:
        t0 = bisect_geometric(inf.h_float, a, b)
        if inf.kl:
            t = _newton_kl(inf, t0, tol)
            if t is None:
                continue
            pi = _policy_kl(inf, t, "mp")
            enc, ok, why = _certify_kl(inf, t, digits)
        else:
            y0 = inf.y_of_t(t0)
            root = _newton_k3(inf, y0, t0, tol)
            if root is None:
                continue
            y, t = root
            pi = _policy_k3(inf, y, t, "mp")
            enc, ok, why = _certify_k3(inf, y, t, digits)
        out.append((pi, enc, ok, why, t))
    note = (f"G -> infinity: reduced to t = 1/(beta sigma); every root lies in [{t_lo:.3g}, {t_hi:.3g}], "
            f"scanned for sign changes on {SCAN_POINTS} log-spaced points")
    return out, note


# ---------------------------------------------------------------------------
# G = 2, deterministic rewards, k3
# ---------------------------------------------------------------------------


def _pairwise_masses(levels, beta, ctx):
    """The level masses ``q_l`` of the recursion (module docstring), or ``None`` if infeasible.

    ``levels``: reference masses ``R_l`` in increasing reward order.
    """
    if ctx == "arb":
        num = ARB.num

        def positive(x):
            return arb_ends(x)[0] > 0
    else:
        def num(x):
            return mpf_exact(x)

        def positive(x):
            return x > 0
    b = num(beta)
    C = num(0)
    q = []
    for R in levels[:-1]:
        a = b + 1 - 2 * C
        disc = a * a - 4 * b * num(R)
        if not (positive(a) and positive(disc)):
            return None
        ql = 2 * b * num(R) / (a + disc.sqrt() if ctx == "arb" else a + mp.sqrt(disc))
        q.append(ql)
        C = C + ql
    # the top level: q_L = 1 - C_{L-1}, equal to beta R_L/(beta - C_{L-1}) (its own equation
    # with C_L = 1); the first cancels when q_L is tiny, the second when beta ~ C_{L-1}
    last = 1 - C
    gap = b - C
    if not (positive(last) and positive(gap)):
        return None
    other = b * num(levels[-1]) / gap
    if ctx == "arb":
        last = last.intersection(other)         # both enclose the same exact number
    elif C / abs(gap) < C / abs(last):
        last = other
    q.append(last)
    return q


def _pairwise_roots(problem, digits):
    classes = _classes(problem)          # deterministic: one class per reward level, sorted
    levels = [c[1] for c in classes]
    q = _pairwise_masses(levels, problem.beta, "mp")
    note = ("G = 2: explicit level recursion (Eq. (11) as one quadratic per reward level, smaller root "
            "below the top level), which has at most one solution")
    if q is None:
        return [], note + "; the recursion is infeasible: no interior stationary policy"
    with arb_precision(mp.prec + 10):
        qa = _pairwise_masses(levels, problem.beta, "arb")
        enclosure, ok, why = None, False, "the interval recursion could not decide a sign"
        if qa is not None:
            enc = [None] * problem.K
            for (members, R, _, _), ql in zip(classes, qa):
                for o in members:
                    enc[o] = arb_ends(ARB.num(problem.ref[o]) * ql / ARB.num(R))
            enclosure, ok, why = enc, True, ""
    pi = [None] * problem.K
    for (members, R, _, _), ql in zip(classes, q):
        for o in members:
            pi[o] = mpf_exact(problem.ref[o]) * ql / mpf_exact(R)
    return [(pi, enclosure, ok, why, None)], note


# ---------------------------------------------------------------------------
# Residual and entry point
# ---------------------------------------------------------------------------


def reduced_residual(problem, policy, kind):
    """``max_o |g_o - E_pi g|`` relative to the largest term of ``g_o`` (as :func:`derive.solve.solver.stationarity_residual`).

    ``P`` is computed from its definition for the case: pairwise sums for
    ``G = 2`` (sorted cumulative masses), ``(r(o) - mu)/sigma`` at infinity.
    """
    pi = [mp.mpf(p) for p in policy]
    K = len(pi)
    beta = mpf_exact(problem.beta)
    ref = [mpf_exact(r) for r in problem.ref]
    vals = [mpf_exact(v) for v in problem.values]
    rho = problem.rho
    if kind == "infinite":
        r = [mp.fsum(w * x for w, x in zip(row, vals) if w) for row in rho]
        s = [mp.fsum(w * x * x for w, x in zip(row, vals) if w) for row in rho]
        mu = mp.fsum(p * x for p, x in zip(pi, r))
        var = mp.fsum(p * (si - 2 * mu * ri + mu * mu) for p, ri, si in zip(pi, r, s))
        sigma = mp.sqrt(var)
        P = [(x - mu) / sigma for x in r]
    else:
        reward = [problem.values[row.index(1)] for row in rho]
        mass: dict = {}
        for p, x in zip(pi, reward):
            mass[x] = mass.get(x, 0) + p
        below, acc = {}, mp.mpf(0)
        for x in sorted(mass):
            below[x] = acc
            acc += mass[x]
        total = acc
        P = [below[x] - (total - below[x] - mass[x]) for x in reward]
    g = field(P, pi, ref, beta, problem.penalty, MP)
    gbar = mp.fsum(p * x for p, x in zip(pi, g))
    scale = field_term_scale([abs(x) for x in P], pi, ref, beta, problem.penalty, range(K))
    return max(abs(x - gbar) for x in g) / scale


def g2_stability_note() -> str:
    """The note of a ``G = 2`` policy classified by the argument of the module docstring."""
    return ("stable: at G = 2 every eigenvalue of the logit Jacobian has negative real part (skew "
            "pairwise preference plus a positive penalty curvature, see derive.solve.reduced); "
            f"eigenvalues not listed for K > {SMALL_K}")


def reduced_policies(problem, digits=50, certify=True):
    """Every interior stationary policy of a problem that :func:`applies` to, as :class:`derive.solve.solver.StationaryPolicy`.

    Boundary points are not included (the caller adds the closed-form ones).

    >>> from fractions import Fraction as F
    >>> from derive.solve.solver import Problem
    >>> from mpmath import mp
    >>> pb = Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2)
    >>> (s,) = reduced_policies(pb, digits=20)
    >>> mp.nstr(s.policy[0], 15), s.classification, s.certified    # Eq. (14)
    ('0.653112887414927', 'attractor', True)
    """
    from derive.dynamics import iteration as dynamics
    from derive.solve.records import StationaryPolicy

    kind = applies(problem)
    if kind is None:
        raise ValueError("no reduced system applies to this problem")
    digits = int(digits)
    out = []
    with mp.workdps(digits + 12):
        roots, note = (_infinite_roots if kind == "infinite" else _pairwise_roots)(problem, digits)
        seen = []
        for pi, enclosure, ok, why, _ in roots:
            if any(p <= 0 for p in pi):
                continue
            s = mp.fsum(pi)
            pi = tuple(p / s for p in pi)
            if any(max(abs(a - b) for a, b in zip(pi, other)) < mp.mpf(10) ** (-(digits // 2)) for other in seen):
                continue
            residual = reduced_residual(problem, pi, kind)
            if residual > mp.mpf(10) ** (-(digits - 5)):
                continue
            seen.append(pi)
            notes = [note]
            if not certify:
                enclosure, ok = tuple((p, p) for p in pi), False
                notes.append("certificate not requested")
            elif not ok:
                enclosure = tuple((p, p) for p in pi)
                notes.append("uniqueness not certified: " + why)
            else:
                enclosure = tuple((min(lo, p), max(hi, p)) for (lo, hi), p in zip(enclosure, pi))
            eig = ()
            if problem.K <= SMALL_K:
                eig, cls = dynamics.stability(problem, pi, digits)
                stable = cls == "attractor"
                if cls == "undecided" and kind == "pairwise":
                    cls, stable = "attractor", True
                    notes.append(g2_stability_note().replace(f"; eigenvalues not listed for K > {SMALL_K}",
                                                             " (the eigenvalues are below the precision)"))
                elif cls == "undecided":
                    stable = None
                    notes.append("an eigenvalue of the logit Jacobian is zero within the precision: "
                                 "stability undecided")
            elif kind == "pairwise":
                cls, stable = "attractor", True
                notes.append(g2_stability_note())
            else:
                cls, stable, why = infinite_stability_note(problem, pi, digits)
                notes.append(why)
            out.append(StationaryPolicy(pi, "interior", cls, residual, tuple(enclosure), bool(ok), stable,
                                        tuple(eig), "; ".join(notes)))
    return out


# ---------------------------------------------------------------------------
# Stability at G = infinity: a sufficient test in O(K)
# ---------------------------------------------------------------------------


def infinite_stability(problem, policy, digits=50):
    """``"attractor"`` when proved by the test below, else ``"undecided"``.

    The logit-flow Jacobian is ``M = S H S`` (``S = diag(pi) - pi pi^T``,
    ``H = dP - C``, ``C = diag(c)`` the penalty curvature:
    ``c = beta pi_ref/pi^2`` for k3, ``beta/pi`` for k3-is).  At
    ``G = infinity`` ``dP = 1 a^T + b e^T`` with ``b = r - mu`` and
    ``e = -(s - 2 mu r)/(2 sigma^3)`` (``s`` the second moment of the reward), so
    the non-zero eigenvalues of ``M`` are those of ``T = -S^2 C + (S^2 b) e^T``,
    similar to ``A = -B + u w^T`` with ``B = C^{1/2} S^2 C^{1/2}``,
    ``u = C^{1/2} S^2 b``, ``w = C^{-1/2} e``, on ``V``, the orthogonal complement of
    ``n0 = C^{-1/2} 1`` (the structural zero).  If the symmetric part of ``A`` is
    negative definite on ``V``, every eigenvalue has a negative real part.
    That symmetric part is a negative diagonal plus a matrix of rank 4, so
    its inertia on ``V`` follows from a 6 x 6 matrix (Haynsworth's inertia
    additivity on the matrix bordered by ``n0``).  Decided in mpmath with a
    margin of ``10^-(digits/2)`` of the scale; a failure is not a proof of
    instability.
    """
    with mp.workdps(int(digits) + 10):
        pi = [mp.mpf(p) for p in policy]
        beta = mpf_exact(problem.beta)
        ref = [mpf_exact(r) for r in problem.ref]
        vals = [mpf_exact(v) for v in problem.values]
        r = [mp.fsum(mpf_exact(w) * x for w, x in zip(row, vals) if w) for row in problem.rho]
        s = [mp.fsum(mpf_exact(w) * x * x for w, x in zip(row, vals) if w) for row in problem.rho]
        mu = mp.fsum(p * x for p, x in zip(pi, r))
        var = mp.fsum(p * (si - 2 * mu * ri + mu * mu) for p, ri, si in zip(pi, r, s))
        sigma = mp.sqrt(var)
        b = [x - mu for x in r]
        e = [-(si - 2 * mu * ri) / (2 * sigma**3) for ri, si in zip(r, s)]
        c = [beta / p if problem.penalty == "k3-is" else beta * q / (p * p) for p, q in zip(pi, ref)]
        h = [mp.sqrt(x) for x in c]
        p2 = [p * p for p in pi]
        norm2 = mp.fsum(p2)
        pb, p2b = mp.fsum(p * x for p, x in zip(pi, b)), mp.fsum(p * x for p, x in zip(p2, b))
        s2b = [q * x - q * pb - p * p2b + norm2 * p * pb for p, q, x in zip(pi, p2, b)]
        cols = [[hh * q for hh, q in zip(h, p2)], [hh * p for hh, p in zip(h, pi)],
                [hh * x for hh, x in zip(h, s2b)], [x / hh for x, hh in zip(e, h)],
                [1 / hh for hh in h]]
        diag = [-cc * q for cc, q in zip(c, p2)]
        # bordered N = blockdiag(diag, -1) + W S W^T with W = [P2, Pi, u, w, n0, eps]
        Sig = mp.zeros(6, 6)
        Sig[0, 1] = Sig[1, 0] = 1
        Sig[1, 1] = -norm2
        Sig[2, 3] = Sig[3, 2] = mp.mpf(1) / 2
        Sig[4, 5] = Sig[5, 4] = 1
        Sig[5, 5] = 1
        Q = -mp.inverse(Sig)
        for i in range(6):
            for j in range(i, 6):
                if i < 5 and j < 5:
                    acc = mp.fsum(ci * cj / d for ci, cj, d in zip(cols[i], cols[j], diag))
                elif i == 5 and j == 5:
                    acc = mp.mpf(-1)          # eps^T blockdiag(diag, -1)^{-1} eps
                else:
                    acc = mp.mpf(0)
                Q[i, j] = Q[i, j] - acc
                Q[j, i] = Q[i, j]
        ev = mp.eigsy(Q, eigvals_only=True)
        scale = max(abs(x) for x in ev)
        tol = mp.mpf(10) ** (-(int(digits) // 2)) * scale
        if any(abs(x) <= tol for x in ev):
            return "undecided"
        positive = sum(1 for x in ev if x > 0)
        # pos(N) = pos(Q) - neg(Sig) = pos(Q) - 3; stable when pos(N) = 1 (the border's own)
        return "attractor" if positive - 3 == 1 else "undecided"


def infinite_stability_note(problem, policy, digits):
    """``(classification, stable, note)`` at ``G = infinity`` for ``K > SMALL_K`` (:func:`infinite_stability`)."""
    if infinite_stability(problem, policy, digits) == "attractor":
        return "attractor", True, ("stable: the symmetric part of the (similarity-scaled) logit Jacobian is "
                                   "negative definite (derive.solve.reduced.infinite_stability); eigenvalues not "
                                   f"listed for K > {SMALL_K}")
    return "undecided", None, ("stability undecided: the sufficient test of derive.solve.reduced.infinite_stability "
                               f"does not decide, and eigenvalues are not computed for K > {SMALL_K}")

