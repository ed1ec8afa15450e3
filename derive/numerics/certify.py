r"""Interval certificates for stationary policies (Arb ball arithmetic).

The solver (:mod:`derive.solve.solver`) reduces stationarity -- arXiv:2502.18548v3,
Eq. (11) for the k3 penalty, its Section 3 analogue for k3-is -- to a small
system ``F(w) = 0``.  Given a numerical root ``w*`` (at ``digits + 12`` digits
or more) this module proves that a tiny box around it contains exactly one
root, in Arb ball arithmetic (python-flint; every operation returns a ball
that provably contains the exact result) at the working precision plus 10
bits.  The inclusion tests compare the exact ends of the balls:

* One unknown (interval Newton).  ``W = [w* - r, w* + r]`` with
  ``r = max(10^-(digits-1) |w*|, 1000 |F(w*)/F'(w*)|)`` (widened by factors of
  1000, up to ``10^-(digits-4) |w*|``, if the test fails).  If ``F'(W)`` does not contain 0 and
  ``N(W) = w* - F(w*)/F'(W)`` lies in the interior of ``W``, then ``W`` holds
  exactly one root (and it lies in ``N(W)``).  ``F(w*)`` is an interval
  evaluation at the point, ``F'(W)`` an interval evaluation over the box.
* Several unknowns (Krawczyk).  With ``Y`` an approximate inverse of the
  Jacobian at ``w*``,
  ``K(W) = w* - Y F(w*) + (I - Y F'(W)) (W - w*)``; ``K(W)`` inside the interior
  of ``W`` proves existence and uniqueness in ``W``.

The enclosure of the policy is the policy map (``pi(q)`` or the softmax of the
logits) on the box, in ball arithmetic: the intersection of its direct
evaluation with the centred form ``pi(w*) + pi'(W) (W - w*)`` (the direct
evaluation of a degree-``G`` polynomial over a box overestimates by a factor
about ``G``; the centred form does not).  It contains the exact stationary
policy; it is then widened, if need be, to contain the returned
values as well (which are rounded at the working precision).  Its width is
about ``10^-(digits-1)`` relative to each coordinate, so that the values
printed at ``digits`` significant digits lie inside it.  When a test fails the
enclosure returned is the computed point itself (no claim).

A test can fail without the root being wrong: at a double root (tangency)
``F'(W)`` contains 0, and a box that is too wide for the curvature makes
``N(W)`` spill out.  The caller then reports ``certified=False`` and says why.
Boundary points (closed forms) get :func:`exact_enclosure`, the exact rational
point enclosed in an Arb ball.

The two tests themselves, :func:`newton_image` (with :func:`newton_enclosure`,
its ``X ∩ N`` form) and :func:`krawczyk_image` for a given ``Y``, and the widening
of the box (:func:`widen_until`), are written here once; every certificate of the
project uses them, each with its own box, ``Y`` and enclosure rule
(:mod:`derive.solve.reduced` in its reduced unknowns,
:func:`derive.numerics.enclosures.certified_root` for the tabulated closed forms).

``mpmath.iv`` is not used: its ``exp`` does not round outward correctly for
every argument (mpmath issue 1181), so its intervals are not proofs.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction

from flint import arb
from mpmath import mp

from derive.numerics.context import ARB, MP, arb_ends, arb_precision, interval
from derive.numerics.group_preference import solve_linear

__all__ = ["DERIVATIVE_HOLDS_ZERO", "KRAWCZYK_NOT_INSIDE", "NEWTON_NOT_INSIDE", "certify_root_1d",
           "certify_root_nd", "directed_decimal", "exact_enclosure", "exact_value", "interval_ends",
           "krawczyk_image", "newton_enclosure", "newton_image", "printed_enclosure", "value_and_enclosure",
           "widen_until"]


def interval_ends(x):
    """``(lo, hi)`` of an Arb ball as exact mpf (no rounding); see :func:`derive.numerics.context.arb_ends`."""
    return arb_ends(x)


def exact_enclosure(values, prec):
    """Enclosures ``(lo, hi)`` of exact rationals: their Arb balls at ``prec`` bits.

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> mp.dps = 40
    >>> lo, hi = exact_enclosure([F(1, 3)], 80)[0]
    >>> lo < mp.mpf(1) / 3 < hi and hi - lo < 1e-23
    True
    """
    out = []
    with arb_precision(prec):
        for v in values:
            out.append(interval_ends(ARB.num(v)))
    return tuple(out)


def _finite(values):
    """Whether every Arb ball in a nested tuple/list of results is finite (no ``nan``, no infinite radius).

    Arb does not raise where ``mpmath.iv`` raised (a division by a ball holding
    0, the log of a ball reaching below 0): it returns a ball that is not
    finite.  Such an evaluation is reported as failed, as an exception was.
    """
    if values is None:
        return True
    if isinstance(values, (list, tuple)):
        return all(_finite(v) for v in values)
    return not isinstance(values, arb) or values.is_finite()


def _intersect(centred, direct):
    """Coordinatewise intersection of two interval enclosures of the same point, as ``(lo, hi)``."""
    out = []
    for a, b in zip(centred, direct):
        a_lo, a_hi = interval_ends(a)
        b_lo, b_hi = interval_ends(b)
        out.append((max(a_lo, b_lo), min(a_hi, b_hi)))
    return tuple(out)


def _hull(enclosure, policy):
    """The enclosure widened, if need be, to contain the returned (rounded) values.

    The interval enclosure contains the exact stationary policy; a coordinate
    can be enclosed more tightly than the working precision resolves it (e.g.
    ``1 - 1e-20`` enclosed to ``1e-72``), so the returned mpf may sit just
    outside.  The hull still contains the exact policy.
    """
    return tuple((min(lo, p), max(hi, p)) for (lo, hi), p in zip(enclosure, policy))


#: Why a test proved nothing (printed in the ``stationary`` notes).
NEWTON_NOT_INSIDE = "the interval Newton image is not inside the box"
DERIVATIVE_HOLDS_ZERO = "the interval derivative contains 0 (tangency or a box too wide)"
KRAWCZYK_NOT_INSIDE = "the Krawczyk image is not inside the box"


def _strictly_inside(inner, outer):
    """Whether the ball *inner* lies in the interior of the ball *outer* (exact ends)."""
    i_lo, i_hi = interval_ends(inner)
    o_lo, o_hi = interval_ends(outer)
    return o_lo < i_lo and i_hi < o_hi


def newton_image(X, m, f_m, df_X):
    """The interval Newton image ``N = m - f(m)/f'(X)`` of the box *X* (Arb balls), and why it
    proves nothing (``""`` when it proves).

    *f_m* encloses ``f`` at the point ``m`` of *X*, *df_X* encloses ``f'`` over *X*.  If
    ``f'(X)`` does not contain 0 and ``N`` lies in the interior of *X* (compared on the
    exact ends of the balls), then *X* holds exactly one root of ``f``, and it lies in
    ``N`` (Moore, *Interval Analysis*, 1966).  Returns ``(N, "")`` then; otherwise
    ``(N or None, why)``, the reason being :data:`DERIVATIVE_HOLDS_ZERO` (``N`` is then
    not formed) or :data:`NEWTON_NOT_INSIDE`.

    >>> from derive.numerics.context import ARB, interval
    >>> mp.dps = 30
    >>> with arb_precision(100):                     # f(x) = x^2 - 2 on [1.41, 1.42]
    ...     X, m = interval(Fraction(141, 100), Fraction(142, 100)), ARB.num(Fraction(283, 200))
    ...     N, why = newton_image(X, m, m * m - 2, 2 * X)
    ...     lo, hi = interval_ends(N)
    >>> why == "" and lo < mp.sqrt(2) < hi
    True
    >>> with arb_precision(100):                     # f(x) = x^2 - 3 has no root there
    ...     newton_image(X, m, m * m - 3, 2 * X)[1]
    'the interval Newton image is not inside the box'
    >>> with arb_precision(100):                     # f(x) = x^2 - 2 on [-1, 2]: f' holds 0
    ...     newton_image(interval(-1, 2), ARB.num(Fraction(1, 2)), ARB.num(Fraction(-7, 4)), 2 * interval(-1, 2))
    (None, 'the interval derivative contains 0 (tangency or a box too wide)')
    """
    if not (df_X > 0 or df_X < 0):          # also a ball that is not finite
        return None, DERIVATIVE_HOLDS_ZERO
    N = m - f_m / df_X
    return N, ("" if _strictly_inside(N, X) else NEWTON_NOT_INSIDE)


def newton_enclosure(X, m, f_m, df_X):
    """One interval Newton test (:func:`newton_image`) as ``(lo, hi, certified)``: the exact
    ends of ``X ∩ N`` when it proves a unique root in *X*, else those of *X* and ``False``.

    >>> from derive.numerics.context import ARB, interval
    >>> mp.dps = 30
    >>> with arb_precision(100):
    ...     X, m = interval(Fraction(141, 100), Fraction(142, 100)), ARB.num(Fraction(283, 200))
    ...     lo, hi, certified = newton_enclosure(X, m, m * m - 2, 2 * X)
    >>> certified and lo < mp.sqrt(2) < hi and hi - lo < mp.mpf(10) ** -5
    True
    >>> with arb_precision(100):
    ...     newton_enclosure(X, m, m * m - 3, 2 * X)[2]
    False
    """
    N, why = newton_image(X, m, f_m, df_X)
    x_lo, x_hi = interval_ends(X)
    if why:
        return x_lo, x_hi, False
    n_lo, n_hi = interval_ends(N)
    return max(n_lo, x_lo), min(n_hi, x_hi), True


def krawczyk_image(X, Xm, F_m, J_X, Y):
    """Whether the Krawczyk image ``K = Xm - Y F(Xm) + (I - Y F'(X)) (X - Xm)`` of the box *X*
    lies in its interior: ``""`` if so, else :data:`KRAWCZYK_NOT_INSIDE`.

    *X* and *Xm* (the point) are lists of Arb balls, *F_m* encloses ``F`` at *Xm*, *J_X*
    (``J_X[k][j] = dF_k/dx_j``) the Jacobian over *X*, and *Y* (numbers, an approximate
    inverse of the Jacobian at the point, rows first) is entered as balls.  If the
    image is inside, *X* holds exactly one root of ``F`` (Krawczyk, Computing 4 (1969)
    187; Moore, SIAM J. Numer. Anal. 14 (1977) 611).  Coordinates are tested in order,
    and the test stops at the first that fails.

    >>> from derive.numerics.context import ARB, interval
    >>> mp.dps = 30
    >>> with arb_precision(100):                     # F = (x^2 + y^2 - 1, x - y), root (1, 1)/sqrt(2)
    ...     X = [interval(Fraction(70, 100), Fraction(72, 100))] * 2
    ...     Xm = [ARB.num(Fraction(707, 1000))] * 2
    ...     F_m = [Xm[0] * Xm[0] + Xm[1] * Xm[1] - 1, Xm[0] - Xm[1]]
    ...     J_X = [[2 * X[0], 2 * X[1]], [ARB.num(1), ARB.num(-1)]]
    ...     Y = [[1 / (4 * mp.mpf("0.707")), mp.mpf(1) / 2], [1 / (4 * mp.mpf("0.707")), -mp.mpf(1) / 2]]
    ...     krawczyk_image(X, Xm, F_m, J_X, Y), krawczyk_image(X, Xm, [F_m[0] + 1, F_m[1]], J_X, Y)
    ('', 'the Krawczyk image is not inside the box')
    """
    n = len(X)
    Yi = [[ARB.num(c) for c in row] for row in Y]
    for i in range(n):
        acc = Xm[i]
        for k in range(n):
            acc = acc - Yi[i][k] * F_m[k]
        for j in range(n):
            m_ij = ARB.num(1 if i == j else 0)
            for k in range(n):
                m_ij = m_ij - Yi[i][k] * J_X[k][j]
            acc = acc + m_ij * (X[j] - Xm[j])
        if not _strictly_inside(acc, X[i]):
            return KRAWCZYK_NOT_INSIDE
    return ""


def widen_until(test, radius, limit, retry=None, factor=1000):
    """Apply *test* to the radii ``radius, factor radius, ...`` up to *limit*: ``(result, "")``
    for the first that succeeds, else ``(None, why)``.

    *test* returns its result, or a string saying why it failed; ``why`` is the last such
    string (``None`` when *radius* already exceeds *limit*).  A failure is retried
    with a wider box only while ``retry(why)`` holds (always, by default): a box too
    narrow for the rounding of the root, or too wide for its curvature, fails in
    different ways.

    >>> widen_until(lambda r: "too narrow" if r < 50 else r, 1, 10**6)
    (1000, '')
    >>> widen_until(lambda r: "too narrow", 1, 10**6)
    (None, 'too narrow')
    >>> widen_until(lambda r: "undefined" if r < 50 else r, 1, 10**6, retry=lambda why: "narrow" in why)
    (None, 'undefined')
    """
    why = None
    while radius <= limit:
        result = test(radius)
        if not isinstance(result, str):
            return result, ""
        why = result
        if retry is not None and not retry(why):
            break
        radius *= factor
    return None, why


def certify_root_1d(system, u, v, digits, policy):
    """Interval Newton test around the root ``(u, v = 1 - u)`` of a one-unknown system.

    Returns ``(enclosure, certified, why)``; ``enclosure`` has one ``(lo, hi)``
    pair per coordinate of the policy.  The unknown used is the smaller of
    ``u`` and ``v`` so that the box is relative to it.  The radius starts at
    ``max(10^-(digits-1) |w|, 1000 |F/F'|)`` -- wider than the rounding of ``w``
    to ``digits`` significant digits, so the printed value lies in the box -- and is widened (at most to
    ``10^-(digits-4) |w|``) if the test fails.
    """
    u, v = mp.mpf(u), mp.mpf(v)
    flip = v < u
    w = v if flip else u
    point = tuple((p, p) for p in policy)
    out = system.residual_1d.value_and_jacobian(u, v, MP)
    if out is None or out[1] == 0:
        return point, False, "the derivative is undefined or zero at the root"
    newton = abs(out[0] / out[1])
    radius = max(abs(w) * mp.mpf(10) ** (-(digits - 1)), 1000 * newton)
    limit = abs(w) * mp.mpf(10) ** (-(digits - 4))
    result, why = widen_until(lambda r: _interval_newton(system, w, flip, r), radius, limit,
                              retry=lambda why: "contains 0" in why or "failed" in why)
    if why == "":
        return _hull(result, policy), True, ""
    return point, False, why or NEWTON_NOT_INSIDE


def _interval_newton(system, w, flip, radius):
    """One interval Newton test on ``[w - radius, w + radius]``: the enclosure, or why it failed."""
    try:
        with arb_precision(mp.prec + 10):
            W = interval(w - radius, w + radius)
            Wm = ARB.num(w)

            def uv(x):
                return (1 - x, x) if flip else (x, 1 - x)

            at_point = system.residual_1d(*uv(Wm), ARB)
            on_box = system.residual_1d.with_policy_derivative(*uv(W), ARB)
            if at_point is None or on_box is None:
                return "the interval evaluation is undefined"
            if not (_finite(at_point) and _finite(on_box)):
                return "interval evaluation failed (a ball is not finite)"
            dF = -on_box[1] if flip else on_box[1]
            _, why = newton_image(W, Wm, at_point[0], dF)
            if why:
                return why
            sign = -1 if flip else 1
            step = W - Wm
            centred = [p + sign * d * step for p, d in zip(at_point[2], on_box[3])]
            return _intersect(centred, on_box[2])
    except (ZeroDivisionError, ValueError, OverflowError) as exc:
        return f"interval evaluation failed ({type(exc).__name__})"


def certify_root_nd(system, x, digits, policy):
    """Krawczyk test around the root ``x`` (logits) of a system with several unknowns.

    Returns ``(enclosure, certified, why)``.  The radius starts at
    ``max(10^-(digits-1), 1000 max|Y F(x)|)`` (a logit box of radius ``r`` moves
    every probability by a relative ``2 r`` at most, wider than its rounding) and is widened (at most to
    ``10^-(digits-4)``) if the test fails, which handles ill-conditioned roots.
    """
    n = len(x)
    x = [mp.mpf(a) for a in x]
    point = tuple((p, p) for p in policy)
    out = system.residual_nd.value_and_jacobian(x, MP)
    if out is None:
        return point, False, "the Jacobian is undefined at the root"
    F, J = out[0], out[1]
    Y = []
    for k in range(n):
        col = solve_linear(J, [mp.mpf(int(i == k)) for i in range(n)])
        if col is None:
            return point, False, "the Jacobian is singular at the root"
        Y.append(col)
    Y = [[Y[k][i] for k in range(n)] for i in range(n)]  # Y[i][k]
    newton = max(abs(mp.fsum(Y[i][k] * F[k] for k in range(n))) for i in range(n))
    radius = max(mp.mpf(10) ** (-(digits - 1)), 1000 * newton)
    limit = mp.mpf(10) ** (-(digits - 4))
    result, why = widen_until(lambda r: _krawczyk(system, x, Y, r), radius, limit,
                              retry=lambda why: "not inside" in why)
    if why == "":
        return _hull(result, policy), True, ""
    return point, False, why or KRAWCZYK_NOT_INSIDE


def _krawczyk(system, x, Y, radius):
    """One Krawczyk test on the box ``x +- radius``: the policy enclosure, or why it failed."""
    try:
        with arb_precision(mp.prec + 10):
            X = [interval(a - radius, a + radius) for a in x]
            Xm = [ARB.num(a) for a in x]
            at_point = system.residual_nd(Xm, ARB)
            on_box = system.residual_nd.with_policy_derivative(X, ARB)
            if at_point is None or on_box is None:
                return "the interval evaluation is undefined"
            if not (_finite(at_point) and _finite(on_box)):
                return "interval evaluation failed (a ball is not finite)"
            why = krawczyk_image(X, Xm, at_point[0], on_box[1], Y)
            if why:
                return why
            steps = [a - b for a, b in zip(X, Xm)]
            centred = []
            for p, row in zip(at_point[2], on_box[3]):
                acc = p
                for d, h in zip(row, steps):
                    acc = acc + d * h
                centred.append(acc)
            return _intersect(centred, on_box[2])
    except (ZeroDivisionError, ValueError, OverflowError) as exc:
        return f"interval evaluation failed ({type(exc).__name__})"


def exact_value(x):
    """An mpf, an int, a Fraction or a decimal string as an exact Fraction.

    >>> from mpmath import mpf
    >>> exact_value(mpf(0.375)), exact_value("0.1"), exact_value(1)
    (Fraction(3, 8), Fraction(1, 10), Fraction(1, 1))
    """
    if isinstance(x, (int, Fraction)):
        return Fraction(x)
    if isinstance(x, str):
        return Fraction(Decimal(x))
    sign, man, exp, _ = x._mpf_
    if not man:
        return Fraction(0)
    q = Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)
    return -q if sign else q


def directed_decimal(q, sig, up):
    """``q`` rounded to ``sig`` significant digits toward +inf (``up``) or -inf, as text.

    >>> from fractions import Fraction
    >>> directed_decimal(Fraction(2, 3), 3, False), directed_decimal(Fraction(2, 3), 3, True)
    ('0.666', '0.667')
    """
    ctx = Context(prec=sig, rounding=ROUND_CEILING if up else ROUND_FLOOR)
    d = ctx.divide(Decimal(q.numerator), Decimal(q.denominator))
    return str(d).lower()


def printed_enclosure(enclosure, printed, sig):
    """Each ``[lo, hi]`` rounded outward to ``sig`` digits and widened to hold the printed value.

    The rounding is directed, so the printed interval still contains the exact
    stationary policy, and it contains the decimal printed as ``policy`` too.
    """
    out = []
    for (lo, hi), text in zip(enclosure, printed):
        shown = exact_value(text)
        out.append([directed_decimal(min(exact_value(lo), shown), sig, False),
                    directed_decimal(max(exact_value(hi), shown), sig, True)])
    return out


def value_and_enclosure(value_text, lo, hi, sig):
    """``"value,lo,hi"`` for a data file: the printed value and its outward-rounded enclosure.

    >>> from fractions import Fraction
    >>> value_and_enclosure("0.6667", Fraction(2, 3), Fraction(2, 3), 6)
    '0.6667,0.666666,0.6667'
    """
    lo_text, hi_text = printed_enclosure([(lo, hi)], [value_text], sig)[0]
    return f"{value_text},{lo_text},{hi_text}"
