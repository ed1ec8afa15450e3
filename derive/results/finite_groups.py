"""The section and the checks of finite group sizes for binary questions: beyond arXiv:2502.18548v3.

Its derivation, :mod:`derive.paper.finite_groups`, is checked here against the
claims and an independent path.
"""

from fractions import Fraction

import mpmath
from sympy import Add, Mul, Pow, cancel, expand, sqrt

from derive.numerics.certify import newton_enclosure, value_and_enclosure
from derive.numerics.context import mpf_exact
from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.finite_groups import (
    ASYMPTOTIC_FROM,
    FIGURE_GROUPS,
    GROUP_BETAS,
    GROUP_P,
    GROUPS,
    SYMBOLIC_GROUPS,
    asymptotic_correction,
    beta,
    closed_form,
    condition,
    correction_display,
    display_three,
    p,
    stationary_x,
    stationary_x_b,
    x,
)
from derive.paper.latex import equation, latex, number_tex, scientific_tex
from derive.paper.preference import binomial_sums
from derive.verify.checks import INTERVAL, Section, numeric_check, symbolic_check, tolerance_for
from derive.verify.display import U, frac, value
from derive.verify.display import condition as shown_condition


def certified_x(G, pv, bv, xv, dps):
    """Interval Newton on ``f(x) = beta (x - p) - x U_G(x)`` around *xv*.

    ``U_G`` and its derivative are Bernstein sums evaluated in Arb ball
    arithmetic (python-flint) at ``dps`` digits, with exact binomial
    coefficients; *pv* and *bv* are the exact ``p`` and ``beta`` (``Fraction``,
    or an mpf taken as the exact binary number it is).  Returns
    ``(lo, hi, certified)`` with exact mpf ends.

    >>> from fractions import Fraction as F
    >>> mpmath.mp.dps = 40
    >>> x2 = (mpmath.mpf(1) / 2 + mpmath.sqrt(mpmath.mpf(13) / 20)) / 2     # (14), beta = 1/2, p = 1/5
    >>> lo, hi, cert = certified_x(2, F(1, 5), F(1, 2), x2, 40)
    >>> cert and lo < x2 < hi and hi - lo < mpmath.mpf(10) ** -30
    True
    """
    from math import comb

    from flint import arb, fmpq

    from derive.numerics.context import ARB, arb_precision, interval

    with arb_precision(mpmath.libmp.dps_to_prec(dps)):
        P, B = ARB.num(pv), ARB.num(bv)

        def U(X):
            if G is None:
                return ((1 - X) / X).sqrt()
            total = arb(0)
            for k in range(G - 1):
                total += (arb(comb(G - 1, k)) * X**k * (1 - X) ** (G - 1 - k)
                          * arb(fmpq(G - 1 - k, k + 1)).sqrt())
            return total

        def dU(X):
            if G is None:
                return -1 / (2 * X * X * ((1 - X) / X).sqrt())
            c = [arb(fmpq(G - 1 - k, k + 1)).sqrt() for k in range(G)]
            total = arb(0)
            for k in range(G - 1):
                total += arb(comb(G - 2, k)) * X**k * (1 - X) ** (G - 2 - k) * (c[k + 1] - c[k])
            return (G - 1) * total

        with mpmath.workdps(dps):
            w = mpmath.mpf(10) ** (-(dps - 12))
            xv = mpmath.mpf(xv)
        X = interval(mpmath.fsub(xv, w, exact=True), mpmath.fadd(xv, w, exact=True))
        m = X.mid()
        return newton_enclosure(X, m, B * (m - P) - m * U(m), B - U(X) - X * dU(X))


def table_rows(digits=CHECK_DIGITS):
    """``pi(a)`` for :data:`GROUPS` x :data:`GROUP_BETAS` at ``p = 0.3``: two paths,
    a certified enclosure, and the worst disagreement."""
    rows, worst, encl_ok = [], mpmath.mpf(0), []
    with mpmath.workdps(digits + 15):
        P = mpf_exact(GROUP_P)
        for G in GROUPS:
            cells = []
            for bt in GROUP_BETAS:
                B = mpf_exact(bt)
                xa, xb = stationary_x(G, P, B), stationary_x_b(G, P, B)
                worst = max(worst, abs(xa - xb))
                lo, hi, cert = certified_x(G, Fraction(GROUP_P), Fraction(bt), xa, digits + 15)
                slack = mpmath.mpf(10) ** (-(digits + 5))
                ok = cert and lo - slack <= xa <= hi + slack and hi - lo < tolerance_for(digits)
                encl_ok.append(ok)
                cells.append({"value": xa, "lo": lo, "hi": hi, "certified": cert})
            rows.append({"G": "inf" if G is None else str(G), "cells": cells})
    return rows, worst, encl_ok


def add_asymptotic(rows, digits=CHECK_DIGITS):
    """Give every cell of :func:`table_rows` the limit ``pi_inf`` (the root of (19)), the
    asymptotic value ``pi_inf + c/G`` (c derived) and its error ``pi(a) - (pi_inf + c/G)``."""
    corr = asymptotic_correction()
    with mpmath.workdps(digits + 15):
        P = mpf_exact(GROUP_P)
        for bt, col in zip(GROUP_BETAS, zip(*(r["cells"] for r in rows))):
            B = mpf_exact(bt)
            limit, c = stationary_x(None, P, B), corr(P, B)
            for r, cell in zip(rows, col):
                asym = limit if r["G"] == "inf" else limit + c / int(r["G"])
                cell.update(limit=limit, asymptotic=asym, error=cell["value"] - asym)
    return rows


def error_tex(err):
    r"""A signed error with 2 significant digits as TeX, always with a power of ten.

    >>> from mpmath import mpf
    >>> error_tex(mpf("-7.5e-7")), error_tex(mpf(0)), error_tex(mpf(1)), error_tex(mpf(-12))
    ('$-7.5 \\times 10^{-7}$', '$0$', '$1.0 \\times 10^{0}$', '$-1.2 \\times 10^{1}$')
    """
    if err == 0:
        return "$0$"
    text = decimal(err, 2, strip=True, min_fixed=1, max_fixed=0)   # exponent form, but not e+0
    return scientific_tex(text if "e" in text else text + "e0")


def figure_curves(digits=30):
    """``(G, pi(a))`` for each beta, and the G -> infinity value (dashed line)."""
    curves = []
    with mpmath.workdps(digits):
        P = mpf_exact(GROUP_P)
        for bt in GROUP_BETAS:
            B = mpf_exact(bt)
            pts = [(G, stationary_x(G, P, B)) for G in FIGURE_GROUPS]
            curves.append({"beta": bt, "points": pts, "limit": stationary_x(None, P, B)})
    return curves


def checks():
    out = []
    for G in SYMBOLIC_GROUPS:
        cond, mean = condition(G)
        out.append(symbolic_check(f"finite-mean-zero-G{G}", "(6)",
                                  f"G={G}, 0/1 rewards: E_pi P_G = x U_G(x) - (1-x) L_G(x) = 0, so "
                                  "(11) for a is beta (x - p) = x U_G(x) (expand)", mean))
    for G, c in ((2, 1), (3, sqrt(2))):
        form, cG = closed_form(G)
        out.append(symbolic_check(f"finite-closed-form-G{G}", "(14)",
                                  f"G={G}: x U_G(x) = c x (1-x) with c = {c}, so the stationary policy "
                                  f"is (14) with gamma = {c} (expand)",
                                  expand(cG - c) + expand(condition(G)[0]
                                                         - claims.binary_quadratic_two(gamma=c))))
    from derive.paper.binary import factor_radicands

    out.append(symbolic_check("finite-closed-form-G3-display", "(14)",
                              "G=3: the displayed (14) at gamma = sqrt(2) equals the derived root "
                              "(radicands factored, cancel)",
                              cancel(factor_radicands(closed_form(3)[0] - display_three()))))
    from sympy import lambdify
    f3 = lambdify((p, beta), closed_form(3)[0], "mpmath")
    for digits in (15, 30, 50):
        errs = []
        with mpmath.workdps(digits + 10):
            for pt, bt in (("0.01", "0.04"), ("0.3", "0.5"), ("0.9", "2"), ("0.5", "1")):
                P, B = mpf_exact(pt), mpf_exact(bt)
                errs.append(f3(P, B) - stationary_x(3, P, B))
        out.append(numeric_check(f"finite-closed-form-G3-root-{digits}", "(14)",
                                 f"G=3: the closed form equals the root of beta (x-p) = x U_3(x) at "
                                 f"4 points, {digits} digits", errs, digits))
    return out


def results():
    rows, worst, encl_ok = table_rows()
    add_asymptotic(rows)
    out = checks()
    out.append(numeric_check("finite-table-two-paths", "(11)",
                             "finite G (2..1024, inf), p = 0.3: pi(a) from the equation for a equals "
                             "pi(a) from the equation for b (they agree only through "
                             "E_pi P_G = 0), 44 cells, 50 digits", [worst], CHECK_DIGITS))
    out.append(numeric_check("finite-table-enclosures", "(11)",
                             "finite G table: every value lies in an interval enclosure (Bernstein "
                             "sums in Arb ball arithmetic) certified by an interval Newton step to hold exactly "
                             "one root", [0 if ok else 1 for ok in encl_ok], CHECK_DIGITS,
                             tolerance=0, method=INTERVAL))
    from derive.verify.checks import inequality_check

    margins = [abs(c["value"] - c["limit"]) - abs(c["error"]) for r in rows
               if r["G"] != "inf" and int(r["G"]) >= ASYMPTOTIC_FROM for c in r["cells"]]
    out.append(inequality_check("finite-table-asymptotic", "(15)",
                                f"finite G table, G >= {ASYMPTOTIC_FROM}: pi_inf + c/G (c the derived "
                                "first correction) is closer to the exact pi(a) than pi_inf is, "
                                "every beta", margins))
    table = [{"G": r["G"], "cells": [number_tex(c["value"]) for c in r["cells"]],
              "errors": [error_tex(c["error"]) if r["G"] != "inf" else "" for c in r["cells"]]}
             for r in rows]
    csv = ("G,beta,pi_ref_a,pi_a,enclosure_lo,enclosure_hi,certified,"
           "asymptotic_pi_inf_plus_c_over_G,asymptotic_error\n") + "".join(
        f"{r['G']},{bt},{GROUP_P},"
        f"{value_and_enclosure(decimal(c['value'], CHECK_DIGITS), c['lo'], c['hi'], CHECK_DIGITS + 5)},"
        f"{'true' if c['certified'] else 'false'},"
        f"{decimal(c['asymptotic'], CHECK_DIGITS)},"
        f"{decimal(c['error'], 10, strip=True, min_fixed=1, max_fixed=0) if r['G'] != 'inf' else 0}\n"
        for r in rows for bt, c in zip(GROUP_BETAS, r["cells"]))
    curves = figure_curves()
    colours = ("blue", "red", "green!50!black", "orange")
    fig = [{"legend": f"$\\beta = {c['beta']}$", "colour": col,
            "coords": [f"({G},{decimal(v, 6)})" for G, v in c["points"]],
            "limit": decimal(c["limit"], 6)} for c, col in zip(curves, colours)]
    # Every figure point is also a bisected root of the condition for a: check against b.
    with mpmath.workdps(40):
        P = mpf_exact(GROUP_P)
        errs = [stationary_x_b(G, P, mpf_exact(c["beta"])) - v for c in curves for G, v in c["points"]]
    out.append(numeric_check("finite-figure-two-paths", "(11)",
                             "finite-G figure: every point from the equation for a agrees with the "
                             "equation for b at 30 digits", errs, 30))
    return {"sections": [section()], "checks": out,
            "artefacts": [{"path": "tables/finite_groups.tex",
                           "template": "finite_groups_table.tex.jinja",
                           "context": {"rows": table, "betas": list(GROUP_BETAS), "p": GROUP_P}},
                          {"path": "data/finite_groups.csv", "text": csv},
                          {"path": "figures/finite-groups.tex",
                           "template": "finite_groups_figure.tex.jinja",
                           "context": {"curves": fig, "p": GROUP_P}}]}


def section():
    cond3, _ = condition(3)
    form3, c3 = closed_form(3)
    U4, _ = binomial_sums(4, x)
    root2 = sqrt(2)
    ratio = frac(S.beta, root2)
    sec = Section("finite-groups", "Finite group sizes (beyond the paper)", "(11), (14), (15)",
                  "Binary questions with 0/1 rewards for every group size, from $G = 2$ to "
                  "$G \\to \\infty$.")
    sec.step("For 0/1 rewards the preference of $a$ is the binomial sum $U_G(x)$ and its mean "
             "under $\\pi$ vanishes, so the derived condition (11) for $a$ is",
             equation("\\beta (x - p)", "x\\, U_G(x)") + " \\\\ "
             + equation("U_G(x)", "\\sum_{k=0}^{G-1} \\binom{G-1}{k} x^k (1-x)^{G-1-k} "
                        "\\sqrt{\\frac{G-1-k}{k+1}}."), "finite-condition")
    sec.step("For $G = 3$ SymPy reduces it to the quadratic",
             shown_condition(sec, "finite-three", "(17)", U(Mul, S.beta, U(Add, x, -S.p)),
                       U(Mul, root2, x, U(Add, 1, -x)), cond3) + ",", "finite-three")
    sec.step("which is (17) with $\\gamma = \\sqrt{2}$: a group of three acts like a pair with a "
             "confidence margin larger by $\\sqrt{2}$, and the stationary policy is (14) with "
             "$\\gamma = \\sqrt{2}$:",
             value(sec, "finite-three-closed", "(14)", "x",
                   frac(U(Add, 1, -ratio, sqrt(U(Add, U(Pow, U(Add, 1, -ratio), 2),
                                                  U(Mul, 4, ratio, S.p)), evaluate=False)), 2),
                   form3), "finite-three-closed")
    sec.step("From $G = 4$ on the condition is a polynomial of degree $G$ (even $G$) or $G - 1$ "
             "(odd $G$) with radical coefficients, for example",
             value(sec, "finite-four", "(11)", "x\\, U_4(x)",
                   U(Mul, x, U(Add, 1, -x),
                     U(Add, sqrt(3), -U(Mul, U(Add, U(Mul, 2, sqrt(3)), -3), x, U(Add, 1, -x)))),
                   expand(x * U4)), "finite-four")
    sec.step("SymPy's quartic formula exists for $G = 4, 5$ but spans pages, so the engine solves "
             "these conditions numerically: by bisection on the equation for $a$ and, "
             "independently, on the equation for $b$, $(1 + L_G(x)/\\beta)(1 - x) = 1 - p$, which "
             "agree only through $x U_G(x) = (1 - x) L_G(x)$; each value is enclosed by an interval "
             "Newton step.  Table [[tab:finite-groups]] and Figure [[fig:finite-groups]] show the "
             "path from (14) at $G = 2$ to (15) as $G \\to \\infty$: $\\pi(a)$ increases with $G$.")
    sec.step("Beside each value the table gives the error of the first-order large-group "
             "approximation $\\pi_\\infty + c/G$, with $c$ derived in Section [[sec:large-group]]:",
             equation("c", latex(correction_display())), "finite-asymptotic")
    sec.step("From $G = 32$ on this approximation is closer to the exact value than "
             "$\\pi_\\infty$ for every $\\beta$ of the table.")
    return sec
