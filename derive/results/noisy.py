"""The section and the checks of binary questions with noisy (Bernoulli) rewards: beyond arXiv:2502.18548v3.

Its derivation, :mod:`derive.paper.noisy`, is checked here against the
claims and an independent path.
"""

import mpmath
from sympy import Add, Mul, Symbol, expand, sqrt

from derive.numerics.certify import value_and_enclosure
from derive.numerics.context import mpf_exact
from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS
from derive.paper import closed_forms
from derive.paper.latex import equation, latex, number_tex
from derive.paper.noisy import (
    DEV_BETAS,
    DEV_P,
    NOISE,
    beta,
    claim_residue,
    condition_limit_noisy,
    deterministic_residue,
    margin_two,
    p,
    s_a,
    s_b,
    stationary_limit_noisy,
    stationary_limit_noisy_b,
    x,
)
from derive.verify.checks import Section, numeric_check, symbolic_check
from derive.verify.display import U, condition, value


def deviation_rows(digits=CHECK_DIGITS, p_text=DEV_P):
    """How far (15) is from the noisy G -> infinity stationary policy.

    Rows ``(s_a, s_b, beta, x_noisy, x_15, x_noisy - x_15)`` and the largest
    disagreement between the two independent solutions.
    """

    from sympy import lambdify

    f15 = lambdify((p, beta), closed_forms.policy_limit(), "mpmath")
    rows, worst = [], mpmath.mpf(0)
    with mpmath.workdps(digits + 15):
        P = mpf_exact(p_text)
        for sa_t, sb_t in NOISE:
            sa, sb = mpf_exact(sa_t), mpf_exact(sb_t)
            for bt in DEV_BETAS:
                B = mpf_exact(bt)
                xn = stationary_limit_noisy(P, B, sa, sb)
                xb = stationary_limit_noisy_b(P, B, sa, sb)
                worst = max(worst, abs(xn - xb))
                x15 = f15(P, B)
                rows.append({"s_a": sa_t, "s_b": sb_t, "beta": bt, "noisy": xn, "det": x15,
                             "diff": xn - x15})
    return rows, worst


def checks():

    derived, q = condition_limit_noisy()
    out = [
        symbolic_check("noisy-margin-two", "(14)",
                       "Bernoulli rewards, G=2: gamma = P(a>b) - P(b>a) = s_a - s_b, so (14) holds "
                       "with gamma = s_a - s_b (expand)", margin_two() - (s_a - s_b)),
        symbolic_check("noisy-limit-claim", "(13)",
                       "Bernoulli rewards, G->inf: (11) with the derived limit preference (13) "
                       "equals the printed (13) for answer a times beta sigma (expand)",
                       claim_residue()),
        symbolic_check("noisy-limit-condition", "(13)",
                       "Bernoulli rewards, G->inf: (13) for answer a times beta sigma is "
                       "beta sigma (x - p) = (s_a - s_b) x (1 - x), sigma^2 = q(1-q) with the "
                       "noise (expand)",
                       expand(derived - (beta * Symbol("sigma", positive=True) * (x - p)
                                         - (s_a - s_b) * x * (1 - x)))),
        symbolic_check("noisy-limit-deterministic", "(19)",
                       "with s_a = 1, s_b = 0 the noisy condition is the unsquared (19) "
                       "(sigma = sqrt(x(1-x)); expand)",
                       deterministic_residue(derived, q)),
    ]
    rows, worst = deviation_rows()
    out.append(numeric_check("noisy-limit-two-paths", "(13)",
                             "Bernoulli rewards, G->inf: the stationary x from the equation for a "
                             "(in x) equals the one from the equation for b (in q), 16 cases, "
                             "50 digits", [worst], CHECK_DIGITS))
    exact = [r["diff"] for r in rows if r["s_a"] == "1" and r["s_b"] == "0"]
    out.append(numeric_check("noisy-limit-reduces-to-15", "(15)",
                             "with s_a = 1, s_b = 0 the noisy solution equals (15), 4 values of beta",
                             exact, CHECK_DIGITS))
    return out


def section():
    derived, q = condition_limit_noisy()
    (sigma,) = derived.free_symbols - {x, p, beta, s_a, s_b}
    sec = Section("noisy", "Noisy rewards (beyond the paper)", "(13)--(15)",
                  "Bernoulli rewards with success probabilities $s_a > s_b$: the confidence margin "
                  "at $G = 2$ and a standard deviation that includes the reward noise at "
                  "$G \\to \\infty$.")
    sec.step("For $G = 2$ the pairwise form (5) gives the confidence margin",
             equation("\\gamma", "P(a \\succ b) - P(b \\succ a)") + " \\\\ "
             + equation("", "s_a (1 - s_b) - s_b (1 - s_a) = "
                      + latex(margin_two())), "noisy-margin")
    sec.step("so Eq. (14) holds with $\\gamma = s_a - s_b$.  For $G \\to \\infty$ the reward of one "
             "draw from $\\pi$ is Bernoulli with mean $q = x s_a + (1 - x) s_b$, so "
             "$\\sigma(\\pi)^2 = q(1 - q)$ includes the noise, and (13) for $a$, multiplied by "
             "$\\beta\\sigma$, becomes",
             condition(sec, "noisy-limit", "(13)", U(Mul, beta, sigma, U(Add, x, -p)),
                       U(Mul, U(Add, s_a, -s_b), x, U(Add, 1, -x)), derived) + ", \\\\ "
             + value(sec, "noisy-mean", "(13)", "q", U(Add, U(Mul, x, s_a), U(Mul, U(Add, 1, -x), s_b)),
                     q) + ".", "noisy-limit")
    sec.step("With $s_a = 1$, "
             "$s_b = 0$ it is $\\sigma$ times the unsquared (19); otherwise (15) no longer holds.  "
             "Multiplying by $\\sigma$ adds the spurious root $x = 1$ when $s_a = 1$, which the "
             "engine excludes.  Table [[tab:noisy]] shows how far (15) is from the noisy "
             "stationary policy; each value was computed from the equation for $a$ in $x$ and, "
             "independently, from the equation for $b$ in $q$, agreeing at 50 digits.")
    return sec


def enclosure_rows(rows, digits=CHECK_DIGITS, p_text=DEV_P):
    """Certified enclosures of the noisy stationary values (interval Newton on the
    unsquared condition, centred at the bisected root)."""
    from fractions import Fraction

    from derive.numerics.enclosures import certified_root

    q = x * s_a + (1 - x) * s_b
    cond = beta * sqrt(q * (1 - q)) * (x - p) - (s_a - s_b) * x * (1 - x)
    out = []
    for r in rows:
        vals = (Fraction(p_text), Fraction(r["beta"]), Fraction(r["s_a"]), Fraction(r["s_b"]))
        lo, hi, cert = certified_root(cond, r["noisy"], x, (p, beta, s_a, s_b), vals,
                                      dps=digits + 15)
        with mpmath.workdps(digits + 15):
            slack = mpmath.mpf(10) ** (-(digits + 5))
            out.append((lo, hi, cert, lo - slack <= r["noisy"] <= hi + slack))
    return out


def formula_15_enclosures(rows, digits=CHECK_DIGITS, p_text=DEV_P):
    """Certified enclosures ``(lo, hi, certified)`` of the values of (15) in *rows*: interval
    Newton on the unsquared (19), started from (15) evaluated in interval arithmetic."""
    from fractions import Fraction

    from derive.numerics.enclosures import certified_root

    cond, closed = closed_forms.unsquared_limit(), closed_forms.policy_limit()
    return [certified_root(cond, closed, x, (p, beta), (Fraction(p_text), Fraction(r["beta"])),
                           dps=digits + 15)
            for r in rows]


def results():
    from derive.verify.checks import INTERVAL

    rows, worst = deviation_rows()
    encl = enclosure_rows(rows)
    interval = numeric_check("noisy-limit-enclosures", "(13)",
                             "Bernoulli rewards, G->inf: every tabulated noisy value lies in an "
                             "enclosure certified by an interval Newton step to hold exactly one "
                             "root of the unsquared condition", [0 if c and i else 1
                                                                 for _, _, c, i in encl],
                             CHECK_DIGITS, tolerance=0, method=INTERVAL)
    det = formula_15_enclosures(rows)
    interval15 = numeric_check("noisy-formula-15-enclosures", "(15)",
                               "the tabulated values of (15) lie in enclosures certified by an "
                               "interval Newton step on the unsquared (19) to hold exactly one "
                               "root", [0 if c and lo <= r["det"] <= hi else 1
                                        for r, (lo, hi, c) in zip(rows, det)],
                               CHECK_DIGITS, tolerance=0, method=INTERVAL)
    csv = ("s_a,s_b,beta,pi_ref_a,pi_a,enclosure_lo,enclosure_hi,certified,"
           "formula_15,formula_15_lo,formula_15_hi\n") + "".join(
        f"{r['s_a']},{r['s_b']},{r['beta']},{DEV_P},"
        f"{value_and_enclosure(decimal(r['noisy'], CHECK_DIGITS), lo, hi, CHECK_DIGITS + 5)},"
        f"{'true' if c else 'false'},"
        f"{value_and_enclosure(decimal(r['det'], CHECK_DIGITS), d[0], d[1], CHECK_DIGITS + 5)}\n"
        for r, (lo, hi, c, _), d in zip(rows, encl, det))
    table = [{"s_a": r["s_a"], "s_b": r["s_b"], "beta": r["beta"], "noisy": number_tex(r["noisy"]),
              "det": number_tex(r["det"]), "diff": number_tex(r["diff"], 3)
              if abs(r["diff"]) > mpmath.mpf(10) ** -40 else "$0$"} for r in rows]
    return {"sections": [section()], "checks": checks() + [interval, interval15],
            "artefacts": [{"path": "tables/noisy.tex", "template": "noisy_table.tex.jinja",
                           "context": {"rows": table, "p": DEV_P}},
                          {"path": "data/noisy.csv", "text": csv}]}
