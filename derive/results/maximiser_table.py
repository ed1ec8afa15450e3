r"""Where "stationary" and "maximiser" part: GRPO's k3 fixed points of binary questions.

arXiv:2502.18548v3, Section 2.3, calls ``pi`` stationary when it maximises
``J(.; pi_old)`` of Eq. (1) with ``pi_old = pi``; the closed forms (14), (15)
and the finite-``G`` roots solve the first-order conditions (11) only.  For a
grid of ``(beta, p)`` (binary question, rewards 1, 0, so ``gamma = 1``) and
``G = 2, 3, infinity``, every fixed point of GRPO with its own k3 penalty is
tabulated with

* whether the GRPO iteration converges to it (``stable``: the sign of the
  logit-flow eigenvalue, :mod:`derive.dynamics.iteration`), and
* whether it maximises ``J(.; pi_old = pi)`` (:mod:`derive.solve.maximiser`).

Independent checks (:func:`brute_force_agrees`): the verdict against a search
of ``J(x, 1 - x; pi)`` computed from the preferences ``P_G(o|pi)``
(:func:`derive.numerics.group_preference.reward_preference`) and the k3 penalty, on a grid
uniform in ``x`` and in ``logit x``, refined by golden section at 50 digits,
with ``J''(x*)`` by ``mpmath.diff``; stability against the sign of the
numerical derivative of the field ``g_a - g_b``
(:func:`derive.numerics.group_preference.objective_gradient`).
"""

from __future__ import annotations

from fractions import Fraction as F

import mpmath

from derive.numerics.context import mpf_exact
from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS
from derive.verify.checks import (
    ENUMERATION,
    INTERVAL,
    Section,
    inequality_check,
    numeric_check,
    symbolic_check,
)

#: The grid of the table: beta (rows) and p = pi_ref(a) (columns), exact.
BETAS = (F(1, 10), F(1, 4), F(1, 2), F(1), F(2), F(4), F(10))
PS = (F(1, 1000), F(1, 100), F(1, 20), F(1, 10), F(3, 10), F(1, 2))
GROUPS = (2, 3, None)

_GOLDEN = (mpmath.sqrt(5) - 1) / 2


def objective_along(problem, policy):
    """``x -> J(x, 1 - x; pi_old = policy)`` from ``P_G(o|policy)`` and the k3 penalty (Eq. (1), (7)).

    The preferences are computed once; the penalty is written from Eq. (7)
    (importance-weighted for ``"k3-is"``).  Evaluate at the working precision.
    """
    from derive.numerics.group_preference import reward_preference

    pi = tuple(policy)
    P = reward_preference(problem.values, problem.rho, pi, problem.group, problem.normalisation)
    beta = mpf_exact(problem.beta)
    ref = [mpf_exact(r) for r in problem.ref]
    weighted = problem.penalty == "k3-is"

    def J(x):
        total = mpmath.mpf(0)
        for t, old, r, pref in zip((x, 1 - x), pi, ref, P):
            k3 = r / t - mpmath.log(r / t) - 1
            # pi_old * (t / pi_old) * k3 for k3-is, written so that pi_old = 0 is allowed
            total += t * pref - beta * (t if weighted else old) * k3
        return total

    return J


def brute_force(problem, x_star, digits=CHECK_DIGITS):
    """``(J(x*), the largest J found, J''(x*))`` of a binary question, at *digits*.

    The grid is 401 points uniform in ``logit x`` on ``[-21, 21]`` plus 199
    uniform in ``x``; every grid local maximum is refined by 100 golden-section
    steps.
    """
    with mpmath.workdps(digits):
        J = objective_along(problem, (x_star, 1 - x_star))
        grid = sorted([1 / (1 + mpmath.exp(-t)) for t in mpmath.linspace(-21, 21, 401)]
                      + [mpmath.mpf(k) / 200 for k in range(1, 200)])
        values = [J(t) for t in grid]
        best = max(values)
        for i in range(1, len(grid) - 1):
            if values[i] >= values[i - 1] and values[i] >= values[i + 1]:
                lo, hi = grid[i - 1], grid[i + 1]
                for _ in range(100):
                    a, b = hi - (hi - lo) * _GOLDEN, lo + (hi - lo) * _GOLDEN
                    if J(a) < J(b):
                        lo = a
                    else:
                        hi = b
                best = max(best, J((lo + hi) / 2))
        return J(x_star), best, mpmath.diff(J, x_star, 2)


def brute_force_agrees(problem, x_star, verdict, digits=CHECK_DIGITS):
    """Margin (> 0 when the brute-force search agrees with *verdict*)."""
    with mpmath.workdps(digits):
        J_star, best, curvature = brute_force(problem, x_star, digits)
        # golden section locates a maximum to ~digits/2 digits, hence J to ~digits - 5
        tol = mpmath.mpf(10) ** (-(digits - 10))
        gap = best - J_star
        if verdict == "global":
            return min(tol - gap, -curvature)
        if verdict == "local":
            return min(gap - tol, -curvature)
        if verdict == "no":
            return curvature
        return mpmath.mpf(-1)


def simplex_gap(problem, policy, n=160):
    """``max J(y; pi) - J(pi; pi)`` from a float search of ``J(.; pi)`` on a 3-simplex.

    ``J(y; pi) = sum_o y_o P_G(o|pi) - beta sum_o pi_o k3(y_o)`` (arXiv:2502.18548v3,
    Eqs. (1), (6), (7), k3 penalty) on a grid uniform in the logits of ``y_1``, ``y_2``
    (``e^-12`` to ``1 - e^-12``, ``n + 1`` ticks each), in floats.
    """
    import math

    from derive.numerics.group_preference import reward_preference

    P = [float(v) for v in reward_preference(problem.values, problem.rho, policy, problem.group,
                                             problem.normalisation)]
    pi, ref, beta = [float(v) for v in policy], [float(r) for r in problem.ref], float(problem.beta)

    def J(y):
        return sum(t * p - beta * o * (r / t - math.log(r / t) - 1)
                   for t, p, o, r in zip(y, P, pi, ref))

    ticks = [1 / (1 + math.exp(12 - 24 * k / n)) for k in range(n + 1)]
    return max(J((a, b, 1 - a - b)) for a in ticks for b in ticks if a + b < 1) - J(pi)


def simplex_search_agrees(problem, policy, verdict, n=160):
    """Margin (> 0 when it agrees with *verdict*) from :func:`simplex_gap`: floats, so a
    "global" verdict allows ``10^-12`` and a "local" one needs ``10^-9``."""
    gap = simplex_gap(problem, policy, n)
    if verdict == "global":
        return 1e-12 - gap
    if verdict == "local":
        return gap - 1e-9
    return -1.0


def field_slope(problem, x_star, digits=CHECK_DIGITS):
    """``d(g_a - g_b)/dx`` at ``x*`` by ``mpmath.diff`` of the field of :mod:`derive.numerics.field`."""
    from derive.numerics.group_preference import objective_gradient

    with mpmath.workdps(digits):
        def g(x):
            ga, gb = objective_gradient(problem.values, problem.rho, problem.ref, (x, 1 - x),
                                        problem.beta, problem.group, problem.penalty,
                                        problem.normalisation)
            return ga - gb
        return mpmath.diff(g, x_star)


def concavity_checks():
    """The curvature of ``J(.; pi_old = pi)`` along one output, derived from the encoded penalties."""
    from sympy import cancel

    from derive.solve.maximiser import reduced_objective

    k3, kl = reduced_objective("k3"), reduced_objective("k3-is")
    y = k3.y
    return [
        symbolic_check("maximiser-k3-not-concave", "(1), (7), (11)",
                       "GRPO's k3 penalty: psi_o''(y) = pi(o) (y - 2 pi_ref(o)) / y^3 for the term "
                       "of J(.; pi_old = pi) at a KKT point, derived from the encoded penalty; "
                       "it changes sign at y = 2 pi_ref(o), so J(.; pi) is not concave (cancel)",
                       cancel(k3.second - k3.pi * (y - 2 * k3.ref) / y**3)),
        symbolic_check("maximiser-direct-kl-concave", "Sec. 3, App. B.2",
                       "importance-weighted k3 (direct KL): psi_o''(y) = -1/y < 0, so "
                       "J(.; pi_old) is strictly concave and every interior KKT point (both "
                       "zeros of h in App. B.2) is the unique maximiser of J(.; itself) (cancel)",
                       cancel(kl.second + 1 / kl.y)),
    ]


def vertex_records(digits=CHECK_DIGITS):
    """The vertex ``x = 1`` of the direct-KL penalty: not a maximiser of ``J(.; itself)`` at finite G.

    Binary question, rewards 1, 0, ``pi_old = (1, 0)``.  Enumerating the groups
    gives ``P_G(b | pi_old) = -sqrt(G - 1)`` (``b`` against ``G - 1`` copies of
    ``a``), finite at every ``G``; with Eq. (6) and the importance-weighted
    penalty ``J(y; pi_old) = -sqrt(G - 1) y_b - beta KL(y || pi_ref)``, which
    increases as ``y`` leaves the vertex (the log of the KL wins).  Returns
    ``(errors, margins)``: the enumerated ``P_G(b|pi_old) + sqrt(G - 1)``, and
    ``J(y_b = t) - J(y_b = 10^-20 t)`` (> 0) for several ``(G, p, beta)``, with ``t``
    below the scale ``exp(-sqrt(G - 1)/beta)`` where ``J`` turns.
    """
    from derive.solve.maximiser import objective_value
    from derive.solve.solver import Problem
    from derive.verify import enumeration

    errors, margins = [], []
    with mpmath.workdps(digits + 10):
        values, rho = (0, 1), ((0, 1), (1, 0))
        vertex = (mpmath.mpf(1), mpmath.mpf(0))
        for G in (2, 3, 4, 5):
            errors.append(enumeration.preference(1, vertex, rho, values, G) + mpmath.sqrt(G - 1))
            for p, beta in ((F(1, 5), F(3)), (F(1, 2), F(1, 10)), (F(9, 10), F(1, 100))):
                pb = Problem.deterministic((p, 1 - p), (1, 0), beta, G, "k3-is")
                # J rises towards the vertex down to y_b of order exp(-sqrt(G - 1)/beta), and
                # falls below that: test points there, at a precision that resolves them
                scale = mpmath.exp(-mpmath.sqrt(G - 1) * beta.denominator / beta.numerator - 3)
                near = scale * (1 - p) / p
                with mpmath.workdps(digits + 30 - int(mpmath.log10(near))):
                    nearer = near * mpmath.mpf(10) ** -20
                    margins.append(objective_value(pb, (1 - near, near), vertex)
                                   - objective_value(pb, (1 - nearer, nearer), vertex))
    return errors, margins


def grid_points(digits=CHECK_DIGITS):
    """Every (G, beta, p) cell: the stationary policies with stability and maximiser verdicts."""
    from derive.solve.maximiser import maximiser
    from derive.solve.solver import Problem, stationary_policies

    cells = []
    for G in GROUPS:
        for beta in BETAS:
            for p in PS:
                problem = Problem.deterministic((p, 1 - p), (1, 0), beta, G)
                points = []
                for s in stationary_policies(problem, digits=digits):
                    points.append({"solution": s, "verdict": maximiser(problem, s, digits)})
                cells.append({"G": G, "beta": beta, "p": p, "problem": problem, "points": points})
    return cells


def _label(value):
    return str(value) if value.denominator == 1 else mpmath.nstr(mpf_exact(value), 6)


def results(digits=CHECK_DIGITS):
    from derive.numerics.certify import printed_enclosure

    cells = grid_points(digits)
    agree, slopes, encl, certified, csv = [], [], [], [], []
    rows = []
    verified = True
    for cell in cells:
        problem = cell["problem"]
        texts = []
        for pt in cell["points"]:
            s, v = pt["solution"], pt["verdict"]
            x = s.policy[0]
            margin = brute_force_agrees(problem, x, v.verdict, digits)
            agree.append(margin)
            slope = field_slope(problem, x, digits)
            slopes.append(-slope if s.stable else slope)
            encl.append(0 if all(lo <= c <= hi for c, (lo, hi) in zip(s.policy, s.enclosure)) else 1)
            certified.append(1 if s.certified else -1)
            ok = margin > 0 and (slope < 0) == s.stable and s.certified
            verified = verified and ok
            shown = [decimal(c, digits) for c in s.policy]
            lo, hi = printed_enclosure(s.enclosure, shown, digits + 5)[0]
            csv.append(f"{'inf' if cell['G'] is None else cell['G']},{cell['beta']},{cell['p']},"
                       f"{shown[0]},{lo},{hi},{'true' if s.certified else 'false'},"
                       f"{s.classification},{'true' if s.stable else 'false'},{v.verdict}\n")
            word = v.verdict if v.verdict != "no" else "\\textbf{no}"
            texts.append(word + ("" if s.stable else "$^{\\dagger}$") if ok else "--")
        rows.append({"G": "\\infty" if cell["G"] is None else str(cell["G"]),
                     "beta": _label(cell["beta"]), "p": _label(cell["p"]),
                     "text": "; ".join(texts) or "--"})
    n = len(agree)
    checks = [
        inequality_check("maximiser-table-brute-force", "Sec. 2.3, (1)",
                         f"maximiser table: each of the {n} verdicts (global / local / no) agrees "
                         "with a search of J(x, 1 - x; pi) computed from P_G(o|pi) and the k3 "
                         "penalty (grid in x and logit x, golden-section refinement, J'' by "
                         "mpmath.diff), 50 digits", agree, digits),
        inequality_check("maximiser-table-stability", "(11)",
                         f"maximiser table: 'stable' agrees with the sign of d(g_a - g_b)/dx "
                         f"(mpmath.diff of the field) at each of the {n} fixed points", slopes,
                         digits),
        numeric_check("maximiser-table-enclosures", "(11)",
                      f"maximiser table: each of the {n} fixed points lies in its enclosure",
                      encl, digits, tolerance=0, method=INTERVAL),
        inequality_check("maximiser-table-certified", "(11)",
                         f"maximiser table: each of the {n} enclosures is certified to hold "
                         "exactly one fixed point", certified, digits, method=INTERVAL),
    ]
    checks.extend(concavity_checks())
    errors, margins = vertex_records(digits)
    checks.append(numeric_check(
        "direct-kl-vertex-preference", "App. B.2, (6)",
        "binary, rewards 1, 0, pi_old = (1, 0): enumeration gives P_G(b|pi_old) = -sqrt(G - 1) "
        "for G = 2..5 (finite; -> -infinity only as G -> infinity)", errors, digits,
        method=ENUMERATION))
    checks.append(inequality_check(
        "direct-kl-vertex-not-maximiser-finite-G", "App. B.2, (6)",
        "direct KL, pi_old = (1, 0), G = 2..5, three (p, beta): J(.; pi_old) of Eq. (6) with "
        "P_G from the preferences is larger at a small pi(b) = t (t below "
        "exp(-sqrt(G - 1)/beta)) than at 1e-20 t, so the vertex does not maximise J(.; itself) "
        "at any finite G", margins, digits))
    table = []
    for G in GROUPS:
        G_tex = "\\infty" if G is None else str(G)
        block = [r for r in rows if r["G"] == G_tex]
        for beta in BETAS:
            cells_b = [r for r in block if r["beta"] == _label(beta)]
            table.append({"G": G_tex if beta == BETAS[0] else "", "beta": f"${_label(beta)}$",
                          "cells": [r["text"] for r in cells_b]})
    parted = sum(1 for cell in cells for pt in cell["points"]
                 if pt["solution"].stable and pt["verdict"].verdict != "global")
    header = ("group,beta,pi_ref_a,pi_a,enclosure_lo,enclosure_hi,certified,classification,"
              "stable,maximiser\n")
    issue = next(pt for cell in cells for pt in cell["points"]
                 if (cell["G"], cell["beta"], cell["p"]) == (2, F(1), F(1, 100)))
    facts = {"total": n, "parted": parted,
             "all_stable": all(pt["solution"].stable for cell in cells for pt in cell["points"]),
             "issue": issue["verdict"].verdict if issue["solution"].stable else None}
    return {"sections": [section(facts)], "checks": checks,
            "artefacts": [{"path": "tables/maximiser.tex", "template": "maximiser_table.tex.jinja",
                           "context": {"rows": table, "ps": [f"${_label(p)}$" for p in PS],
                                       "verified": verified}},
                          {"path": "data/maximiser.csv", "text": header + "".join(csv)}]}


def section(facts=None):
    """The appendix section; *facts* (from :func:`results`) are the computed counts it quotes."""
    sec = Section("maximiser_table", "Fixed points that are not maximisers (beyond the paper)",
                  "(1), (6), (11)",
                  "A fixed point of GRPO need not maximise the objective it was derived from.")
    sec.step("The paper calls $\\pi$ stationary when it maximises "
             "$J(\\cdot\\,; \\pi_{\\mathrm{old}})$ with $\\pi_{\\mathrm{old}} = \\pi$; the "
             "conditions (11) are only first-order.  With $\\pi_{\\mathrm{old}} = \\pi$ fixed, the "
             "reward part $\\sum_o \\pi'(o) P_G(o \\mid \\pi)$ is linear in the trial policy "
             "$\\pi'$ and the expected penalty (7) is a sum over outputs, so (11) eliminates "
             "$P_G$: on the simplex $J(\\pi'; \\pi) = \\lambda + \\beta \\sum_o \\psi_o(\\pi'(o))$ "
             "with $\\psi_o(y) = D_o'(\\pi(o))\\, y - D_o(y)$.  For GRPO's k3 penalty "
             "$\\psi_o''(y) = \\pi(o)(y - 2\\pi_{\\mathrm{ref}}(o))/y^3$ changes sign at "
             "$y = 2\\pi_{\\mathrm{ref}}(o)$, so $J(\\cdot\\,; \\pi)$ is not concave; for the "
             "importance-weighted (direct KL) penalty $\\psi_o'' = -1/y < 0$ and every "
             "stationary point is the global maximiser of $J(\\cdot\\,; \\pi)$.")
    sec.step("For a binary question the second derivative of $J(x, 1 - x; \\pi)$ at "
             "$x = \\pi(a)$ decides whether the fixed point is a local maximiser, and the "
             "critical points of $J(x, 1-x; \\pi)$ (the roots of a cubic after the known root "
             "$x = \\pi(a)$ is divided out) decide, in ball arithmetic, whether it is the global "
             "one.")
    if facts and facts["issue"] == "no":
        sec.step("Table [[tab:maximiser]] shows that GRPO's fixed points, "
                 + ("all attracting for the iteration, " if facts["all_stable"] else "")
                 + "are often not maximisers: at $p = 0.01$, $\\beta = \\gamma = 1$ the stable "
                 "fixed point $x = \\sqrt{p} = 0.1$ of (14) is a local minimum of "
                 "$J(\\cdot\\,; 0.1)$ along the simplex.  Such points are the rest points of "
                 "GRPO's small, clipped steps, not what a full inner maximisation would return.")
    sec.step("The direct KL penalty at $G \\to \\infty$ also has the boundary point $x = 1$, "
             "an attractor of the iteration.  Whether it is stationary in the paper's sense "
             "depends on how $P_G(b \\mid \\pi_{\\mathrm{old}})$ is read at "
             "$\\pi_{\\mathrm{old}} = (1, 0)$.  At every finite $G$, enumeration gives "
             "$P_G(b \\mid \\pi_{\\mathrm{old}}) = -\\sqrt{G - 1}$, and "
             "$J(y; \\pi_{\\mathrm{old}}) = -\\sqrt{G-1}\\, y_b - \\beta\\, "
             "\\mathrm{KL}(y \\,\\|\\, \\pi_{\\mathrm{ref}})$ increases as $y$ leaves the "
             "vertex, so the vertex is not a maximiser of $J(\\cdot\\,; \\text{itself})$.  "
             "With the limit $P_\\infty(b \\mid \\pi_{\\mathrm{old}}) = -\\infty$ "
             "($\\sigma(\\pi_{\\mathrm{old}}) = 0$) taken first, $J(\\cdot\\,; "
             "\\pi_{\\mathrm{old}})$ is $-\\infty$ off the vertex and the vertex is its "
             "maximiser; with Eq. (1) as written (groups drawn from $\\pi_{\\mathrm{old}}$, so "
             "$b$ is never sampled and every advantage is 0) the maximiser is "
             "$\\pi_{\\mathrm{ref}}$ and it is not.  So the engine's boundary point $x = 1$ is "
             "stationary in the paper's sense only with the limit $G \\to \\infty$ taken "
             "before $\\pi_{\\mathrm{old}}$ reaches the vertex, the reading of (13).")
    if facts:
        sec.step(f"Of the {facts['total']} tabulated fixed points, {facts['parted']} are stable "
                 "for the iteration but not global maximisers of $J(\\cdot\\,; \\pi)$.")
    return sec
