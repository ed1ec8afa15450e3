"""Verified tables of stationary policies for binary questions (Section 2.3.1, 3).

Each cell is computed twice, independently: from the closed form derived by
SymPy (lambdified to mpmath) and from a bracketed root of the *unsquared*
stationarity condition, both at 50 digits.  A cell is printed (12 significant
digits by default) only if the two agree to within ``10^-45``; every
comparison is a record of ``verification.json``.

``beta = 0`` means no reference regularisation.  The stationary set is then
degenerate (for a binary question both ``x = 0`` and ``x = 1`` are
stationary: a group of identical answers has zero advantages); the tabulated
value is the limit ``beta -> 0+``, the stable point ``x = 1``, checked against
the root of the condition at ``beta = 10^-60``.
"""

from fractions import Fraction

import mpmath
from sympy import lambdify, limit

from derive.numerics.certify import value_and_enclosure
from derive.numerics.context import mpf_exact
from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS
from derive.paper import closed_forms
from derive.paper import symbols as S
from derive.paper.binary import condition_limit, condition_two
from derive.paper.extensions import direct_kl_condition_two, pooling_residual
from derive.paper.latex import TABLE_DIGITS, number_tex
from derive.verify.checks import INTERVAL, numeric_check, tolerance_for


def Check_interval(id, ref, statement, violations):
    """An interval check: passes when no cell violates its enclosure or certificate."""
    return numeric_check(id, ref, statement, violations, CHECK_DIGITS, tolerance=0,
                         method=INTERVAL)
from derive.numerics.roots import root_below_one

BETA_TEXT = ("0", "0.01", "0.04", "0.1", "0.5", "1", "2")
REF_TEXT = ("0.01", "0.1", "0.3", "0.5", "0.9")
BETAS = tuple(Fraction(b) for b in BETA_TEXT)
REFS = tuple(Fraction(v) for v in REF_TEXT)
#: Significant digits printed in a cell (the data files keep 50).
CELL_DIGITS = TABLE_DIGITS
#: beta at which the beta = 0 column's numeric root is taken.
TINY_BETA = mpmath.mpf(10) ** -60


def _panels():
    """(key, caption, paper_ref, closed form in (p, beta), unsquared condition)."""
    gamma = S.gamma
    return (
        ("g2", "$G = 2$, Eq. (14) with $\\gamma = 1$", "(14)",
         closed_forms.policy_two().subs(gamma, 1), lambda t, P, B: condition_two(t, P, B)),
        ("ginf", "$G \\to \\infty$, deterministic rewards, Eq. (15)", "(15)",
         closed_forms.policy_limit(), lambda t, P, B: condition_limit(t, P, B)),
        ("dkl2", "$G = 2$, direct KL penalty $\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$, "
         "$\\gamma = 1$", "Sec. 3",
         closed_forms.direct_kl_policy_two().subs(gamma, 1),
         pooling_residual),
    )


def _symbolic_conditions():
    """The unsquared conditions of the panels as SymPy expressions in x (for intervals)."""
    return {"g2": closed_forms.quadratic_two().subs(S.gamma, 1),
            "ginf": closed_forms.unsquared_limit(),
            "dkl2": direct_kl_condition_two().subs(S.gamma, 1)}


def _root(cond, P, B):
    return root_below_one(lambda t: cond(t, P, B), P)


def compute_panel(closed, cond, digits=CHECK_DIGITS, cell_digits=CELL_DIGITS, condition=None):
    """Rows of cells ``{"text", "error", "lo", "hi", "certified"}`` for one panel.

    With the SymPy *condition*, each cell also gets a certified enclosure
    (:func:`derive.numerics.enclosures.certified_root`); at ``beta = 0`` the value is the
    exact limit 1 and its enclosure is ``[1, 1]`` (not a Newton certificate).
    """
    from derive.numerics.enclosures import certified_root
    p, beta = S.p, S.beta
    f = lambdify((p, beta), closed, "mpmath")
    at_zero = lambdify(p, limit(closed, beta, 0, "+"), "mpmath")
    rows = []
    with mpmath.workdps(digits + 15):
        for bv in BETAS:
            cells = []
            for pv in REFS:
                P = mpf_exact(pv)
                if bv == 0:
                    value, root = mpmath.mpf(at_zero(P)), _root(cond, P, TINY_BETA)
                else:
                    B = mpf_exact(bv)
                    value, root = f(P, B), _root(cond, P, B)
                err = abs(value - root)
                if condition is None:
                    lo = hi = value
                    cert = False
                elif bv == 0:
                    lo = hi = mpmath.mpf(1)
                    cert = False
                else:
                    lo, hi, cert = certified_root(condition, closed, S.x, (p, beta), (pv, bv),
                                                  dps=digits + 15)
                slack = mpmath.mpf(10) ** (-(digits + 5))      # rounding of the mpmath value
                inside = lo - slack <= value <= hi + slack and hi - lo <= tolerance_for(digits)
                ok = err <= tolerance_for(digits) and inside
                cells.append({"text": number_tex(value, cell_digits) if ok else "--",
                              "error": err, "ok": ok, "value": value, "lo": lo, "hi": hi,
                              "certified": cert, "inside": inside})
            rows.append({"beta": BETA_TEXT[BETAS.index(bv)], "cells": cells})
    return rows


def results():
    panels, checks, data_rows = [], [], []
    conditions = _symbolic_conditions()
    for key, caption, ref, closed, cond in _panels():
        rows = compute_panel(closed, cond, condition=conditions[key])
        cells = [c for r in rows for c in r["cells"]]
        checks.append(Check_interval(
            f"table-{key}-enclosures", ref,
            f"table panel {key}: every value lies in an interval enclosure of width < 1e-45; "
            f"{sum(c['certified'] for c in cells)} of {len(cells)} enclosures certified to hold "
            "exactly one root of the unsquared condition by an interval Newton step (the "
            "beta = 0 cells are the exact limit 1)",
            [0 if c["inside"] else 1 for c in cells]
            + [0 if c["certified"] or r["beta"] == "0" else 1 for r in rows for c in r["cells"]]))
        for r in rows:
            for pv, c in zip(REF_TEXT, r["cells"]):
                shown = value_and_enclosure(decimal(c['value'], CHECK_DIGITS), c['lo'], c['hi'],
                                            CHECK_DIGITS + 5)
                data_rows.append(f"{key},{r['beta']},{pv},{shown},"
                                 f"{'true' if c['certified'] else 'false'}\n")
        for row in rows:
            for pv, cell in zip(REF_TEXT, row["cells"]):
                checks.append(numeric_check(
                    f"table-{key}-beta{row['beta']}-p{pv}", ref,
                    f"table cell {caption.split(',')[0]}, beta = {row['beta']}, pi_ref(a) = {pv}: "
                    "closed form = bracketed root of the unsquared condition"
                    + (" (beta = 0: limit beta -> 0+ vs root at beta = 1e-60)" if row["beta"] == "0"
                       else ""), [cell["error"]], CHECK_DIGITS))
        panels.append({"key": key, "caption": caption,
                       "rows": [{"beta": r["beta"], "cells": [c["text"] for c in r["cells"]]}
                                for r in rows]})
    artefact = {"path": "tables/binary.tex", "template": "binary_table.tex.jinja",
                "context": {"panels": panels, "refs": list(REF_TEXT),
                            "digits": CELL_DIGITS, "check_digits": CHECK_DIGITS}}
    data = "panel,beta,pi_ref_a,pi_a,enclosure_lo,enclosure_hi,certified\n" + "".join(data_rows)
    return {"sections": [], "checks": checks,
            "artefacts": [artefact, {"path": "data/binary_table.csv", "text": data}]}


# -- GRPO beside the baselines -------------------------------------------------

BASELINE_BETAS = ("0.1", "0.5", "1", "2")
BASELINE_REFS = ("0.1", "0.5")
BASELINE_DIGITS = TABLE_DIGITS


def baseline_rows(digits=CHECK_DIGITS):
    """Rows ``(beta, p, [GRPO G=2, GRPO G=inf, GRPO direct KL, RLHF, NLHF])`` and the
    worst disagreement of each column's two computations."""
    from derive.paper.baselines import nlhf_best_response_binary, nlhf_binary, rlhf_binary

    panels = {k: (lambdify((S.p, S.beta), closed, "mpmath"), cond)
              for k, _, _, closed, cond in _panels()}
    worst = [mpmath.mpf(0)] * 5
    rows = []
    with mpmath.workdps(digits + 15):
        for bt in BASELINE_BETAS:
            for pt in BASELINE_REFS:
                B, P = mpf_exact(Fraction(bt)), mpf_exact(Fraction(pt))
                vals = []
                for i, key in enumerate(("g2", "ginf", "dkl2")):
                    f, cond = panels[key]
                    v = f(P, B)
                    worst[i] = max(worst[i], abs(v - _root(cond, P, B)))
                    vals.append(v)
                v = rlhf_binary(P, B)
                root = _root(pooling_residual, P, B)
                worst[3] = max(worst[3], abs(v - root))
                vals.append(v)
                v = nlhf_binary(P, B)                 # derived closed form, antisymmetric P
                # independent path: the best response to v computed from the payoff (5)
                worst[4] = max(worst[4], abs(v - nlhf_best_response_binary(v, P, B)))
                vals.append(v)
                encl = _baseline_enclosures(vals, pt, bt, digits)
                rows.append({"beta": bt, "p": pt,
                             "cells": [number_tex(v, BASELINE_DIGITS) for v in vals],
                             "values": vals, "enclosures": encl})
    return rows, worst


def _baseline_enclosures(vals, pt, bt, digits):
    """Certified enclosures of the five baseline columns (interval Newton)."""
    from derive.numerics.enclosures import certified_root
    from derive.paper.baselines import nlhf_condition_binary, nlhf_policy_binary, rlhf_condition_binary

    x, p, beta = S.x, S.p, S.beta
    conds = _symbolic_conditions()
    specs = [(conds["g2"], closed_forms.policy_two().subs(S.gamma, 1)),
             (conds["ginf"], closed_forms.policy_limit()),
             (conds["dkl2"], closed_forms.direct_kl_policy_two().subs(S.gamma, 1)),
             (rlhf_condition_binary(), closed_forms.rlhf_policy_binary()),
             (nlhf_condition_binary().subs(S.gamma, 1), nlhf_policy_binary().subs(S.gamma, 1))]
    out = []
    for (cond, closed), v in zip(specs, vals):
        lo, hi, cert = certified_root(cond, v if closed is None else closed, x, (p, beta),
                                      (Fraction(pt), Fraction(bt)), dps=digits + 15)
        slack = mpmath.mpf(10) ** (-(digits + 5))
        out.append((lo, hi, cert, lo - slack <= v <= hi + slack))
    return out


def critical_rows(digits=CHECK_DIGITS):
    """beta_c(p) and the stationary points at a few beta for p = 1/2, direct KL, G -> inf."""
    from derive.numerics.context import arb_ends, arb_precision, interval
    from derive.numerics.enclosures import arb_function, certified_root
    from derive.paper.extensions import h_derivative, h_value, stationary_points_limit
    from derive.results.extensions import critical_beta_table

    H = closed_forms.direct_kl_h().subs(S.x, closed_forms.direct_kl_minimiser())
    xstar = arb_function(closed_forms.direct_kl_minimiser(), (S.beta,))
    crit, encl = [], []
    for pv, bc, xs in critical_beta_table(digits):
        lo, hi, cert = certified_root(H, bc, S.beta, (S.p,), (pv,), dps=digits + 15)
        with arb_precision(mpmath.libmp.dps_to_prec(digits + 15)):
            xlo, xhi = arb_ends(xstar(interval(lo, hi)))   # x* of every beta in the enclosure
        with mpmath.workdps(digits + 15):
            slack = mpmath.mpf(10) ** (-(digits + 5))       # bc, xs are 60-digit values
            inside = lo - slack <= bc <= hi + slack and xlo - slack <= xs <= xhi + slack
        encl.append({"p": str(pv), "what": "beta_c", "value": bc, "lo": lo, "hi": hi, "cert": cert,
                     "inside": inside})
        encl.append({"p": str(pv), "what": "x_star", "value": xs, "lo": xlo, "hi": xhi,
                     "cert": cert, "inside": inside})
        crit.append({"p": decimal(mpf_exact(pv), 3).rstrip("0").rstrip("."), "beta_c": number_tex(bc),
                     "x": number_tex(xs)})
    points, residuals = [], []
    with mpmath.workdps(digits + 15):
        slack = mpmath.mpf(10) ** (-(digits + 6))
        P = mpmath.mpf(1) / 2
        for bt in ("1", "2", "4"):
            B = mpf_exact(Fraction(bt))
            for xv, kind in stationary_points_limit(P, B):
                if kind != "boundary-attractor":
                    residuals.append(h_value(xv, P, B))
                    lo, hi, cert = certified_root(closed_forms.direct_kl_h(), xv, S.x, (S.p, S.beta),
                                                  (Fraction(1, 2), Fraction(bt)), dps=digits + 15)
                    encl.append({"p": "1/2", "what": f"x beta={bt} {kind}", "value": xv, "lo": lo,
                                 "hi": hi, "cert": cert,
                                 "inside": lo - 10 * slack <= xv <= hi + 10 * slack})
                    slope = h_derivative(xv, B)
                    residuals.append(0 if (slope < 0) == (kind == "attractor") else 1)
                points.append({"beta": bt, "x": number_tex(xv), "kind": kind})
    return crit, points, residuals, encl


def results_extra():
    rows, worst = baseline_rows()
    names = ("GRPO G=2", "GRPO G=inf", "GRPO direct KL G=2", "RLHF", "NLHF")
    refs = ("(14)", "(15)", "Sec. 3", "(4)", "(5)")
    how = ("closed form (14) = bracketed root of the unsquared (17)",
           "closed form (15) = bracketed root of the unsquared (19)",
           "logistic closed form = bracketed root of its logit condition",
           "closed form (4) = bracketed root of its logit condition",
           "closed form (antisymmetric P, P(a > a) = 1/2) = best response to it computed "
           "from the payoff (5) by bisection on its numerical derivative")
    checks = [numeric_check(f"baselines-table-{i}", ref,
                            f"baselines table, column {name}: {h}, agree at 50 digits in every "
                            "row", [w], CHECK_DIGITS)
              for i, (name, ref, w, h) in enumerate(zip(names, refs, worst, how))]
    same = max(abs(r["values"][2] - r["values"][3]) for r in rows)
    checks.append(numeric_check(
        "baselines-table-direct-kl-is-rlhf", "(4), Sec. 3",
        "baselines table: the direct-KL G = 2 and RLHF columns are equal in every row (binary, "
        "gamma = 1 = r(a) - r(b): the same logistic curve), as the caption says", [same],
        CHECK_DIGITS))
    checks.append(Check_interval(
        "baselines-table-enclosures", "(4)--(15)",
        "baselines table: every value lies in an enclosure certified by an interval Newton step "
        "to hold exactly one root of its stationarity condition",
        [0 if (c and inside) else 1 for r in rows for _, _, c, inside in r["enclosures"]]))
    base_csv = "beta,pi_ref_a,method,pi_a,enclosure_lo,enclosure_hi,certified\n" + "".join(
        f"{r['beta']},{r['p']},{name},"
        f"{value_and_enclosure(decimal(v, CHECK_DIGITS), lo, hi, CHECK_DIGITS + 5)},"
        f"{'true' if c else 'false'}\n"
        for r in rows for name, v, (lo, hi, c, _) in zip(
            ("grpo-g2", "grpo-ginf", "grpo-direct-kl-g2", "rlhf", "nlhf"), r["values"],
            r["enclosures"]))
    rows = [{k: r[k] for k in ("beta", "p", "cells")} for r in rows]
    crit, points, residuals, encl = critical_rows()
    checks.append(Check_interval(
        "direct-kl-critical-enclosures", "App. B.2",
        "beta_c(p) and every interior stationary point of the direct-KL table lie in enclosures "
        "certified by an interval Newton step (on h(x*(beta)) in beta, and on h in x)",
        [0 if e["cert"] and e["inside"] else 1 for e in encl]))
    crit_csv = "p,quantity,value,enclosure_lo,enclosure_hi,certified\n" + "".join(
        f"{e['p']},{e['what']},"
        f"{value_and_enclosure(decimal(e['value'], CHECK_DIGITS), e['lo'], e['hi'], CHECK_DIGITS + 5)},"
        f"{'true' if e['cert'] else 'false'}\n" for e in encl)
    checks.append(numeric_check("direct-kl-stationary-points", "App. B.2",
                                "direct KL, G -> inf, p = 1/2, beta = 1, 2, 4: every tabulated "
                                "interior point is a zero of h and its classification matches the "
                                "sign of h'", residuals, CHECK_DIGITS))
    arts = [{"path": "tables/baselines.tex", "template": "baselines_table.tex.jinja",
             "context": {"rows": rows, "digits": BASELINE_DIGITS}},
            {"path": "tables/critical_beta.tex", "template": "critical_beta_table.tex.jinja",
             "context": {"crit": crit, "points": points}},
            {"path": "data/baselines.csv", "text": base_csv},
            {"path": "data/critical_beta.csv", "text": crit_csv}]
    return checks, arts


_results_main = results


def results():
    out = _results_main()
    checks, arts = results_extra()
    out["checks"].extend(checks)
    out["artefacts"].extend(arts)
    return out
