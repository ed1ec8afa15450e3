"""Figures 1-3 of arXiv:2502.18548v3 and a comparison figure, as pgfplots.

The data are evaluated by mpmath from the closed forms that SymPy derived, and
every plotted point is verified against a bracketed root of the unsquared
stationarity condition at 50 digits before it is written (6 significant
digits).  The jump at ``pi_ref(a) = 0`` is drawn honestly: the limit
``p -> 0+`` as an open mark, the value ``pi(a) = 0`` required by the support
assumption as a filled mark.
"""

from fractions import Fraction

import mpmath
from sympy import Integer, lambdify, limit

from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS
from derive.numerics.roots import root_below_one
from derive.paper import closed_forms
from derive.paper import symbols as S
from derive.paper.binary import condition_limit, condition_two
from derive.paper.extensions import pooling_residual
from derive.verify.checks import numeric_check

#: Reference probabilities of the plotted points: denser near 0, where the curves are steep.
POINTS = tuple(Fraction(k * k, 48 * 48) for k in range(1, 49))
COORD_DIGITS = 6
#: Colours of the curves of one figure, in order (xcolor names, standard).
COLOURS = ("blue", "red", "green!50!black", "orange")
#: Line styles of the curves of one figure, in order: dash patterns and marks, so
#: that the curves stay distinguishable in greyscale.
STYLES = ("solid, mark=*, mark repeat=6, mark size=1.3pt",
          "dashed, mark=square*, mark repeat=6, mark phase=2, mark size=1.3pt",
          "densely dotted, mark=triangle*, mark repeat=6, mark phase=4, mark size=1.6pt",
          "dashdotted, mark=diamond*, mark repeat=6, mark phase=6, mark size=1.6pt")


KINDS = {
    # key: (closed form in (p, beta), unsquared condition, paper ref)
    "g2": (lambda: closed_forms.policy_two().subs(S.gamma, 1),
           lambda t, P, B: condition_two(t, P, B), "(14)"),
    "ginf": (closed_forms.policy_limit, lambda t, P, B: condition_limit(t, P, B), "(15)"),
    "dkl2": (lambda: closed_forms.direct_kl_policy_two().subs(S.gamma, 1), pooling_residual,
             "Sec. 3"),
    "rlhf": (closed_forms.rlhf_policy_binary,
             pooling_residual, "(4)"),
}

LEGEND = {"g2": "GRPO, $G = 2$", "ginf": "GRPO, $G \\to \\infty$",
          "dkl2": "GRPO, direct KL, $G = 2$", "rlhf": "RLHF"}

FIGURES = (
    ("binary-two", "Stationary $\\pi(a)$ against $\\pi_{\\mathrm{ref}}(a)$ for $G = 2$ "
     "(Figure 1 of the paper), for several $\\beta/\\gamma$.",
     [("g2", b, f"$\\beta/\\gamma = {b}$") for b in ("0.1", "0.5", "1", "2")]),
    ("binary-limit", "Stationary $\\pi(a)$ against $\\pi_{\\mathrm{ref}}(a)$ for $G \\to \\infty$ "
     "and deterministic rewards (Figure 2 of the paper), for several $\\beta$.",
     [("ginf", b, f"$\\beta = {b}$") for b in ("0.1", "0.5", "1", "2")]),
    ("binary-direct-kl", "Stationary $\\pi(a)$ against $\\pi_{\\mathrm{ref}}(a)$ with the direct KL "
     "penalty, $G = 2$ (Figure 3 of the paper), for several $\\beta/\\gamma$.",
     [("dkl2", b, f"$\\beta/\\gamma = {b}$") for b in ("0.1", "0.5", "1", "2")]),
    ("binary-compare", "GRPO ($G = 2$, $G \\to \\infty$, direct KL) and RLHF side by side, "
     "$\\beta = 0.5$, $r(a) = 1$, $r(b) = 0$.  The direct-KL curve at $G = 2$ and the RLHF curve "
     "coincide: with a unit reward gap the confidence margin is $\\gamma = 1$, and both give "
     "$\\pi(a)/\\pi(b) = e^{1/\\beta}\\,\\pi_{\\mathrm{ref}}(a)/\\pi_{\\mathrm{ref}}(b)$ "
     "(with three or more answers they differ: $P_2$ depends on ranks, not on reward values).",
     [(k, "0.5", LEGEND[k]) for k in ("g2", "ginf", "dkl2", "rlhf")]),
)


def _fmt(v):
    """A figure coordinate: :data:`COORD_DIGITS` digits, trailing zeros stripped."""
    return decimal(v, COORD_DIGITS, strip=True)


def curve(kind, beta_text, digits=CHECK_DIGITS):
    """Coordinates of one curve, the jump marks at p = 0, and the worst error."""
    closed, cond, _ = KINDS[kind]
    expr = closed()
    f = lambdify((S.p, S.beta), expr, "mpmath")
    B = Fraction(beta_text)
    at_zero = limit(expr.subs(S.beta, Integer(B.numerator) / B.denominator), S.p, 0, "+")
    coords, worst = [], mpmath.mpf(0)
    with mpmath.workdps(digits + 15):
        Bm = mpmath.mpf(B.numerator) / B.denominator
        for pv in POINTS:
            P = mpmath.mpf(pv.numerator) / pv.denominator
            value = mpmath.mpf(f(P, Bm))
            if P == 1:
                root = mpmath.mpf(1)
            else:
                root = root_below_one(lambda t: cond(t, P, Bm), P)
            worst = max(worst, abs(value - root))
            coords.append(f"({_fmt(P)},{_fmt(value)})")
        limit_value = mpmath.mpf(at_zero.evalf(digits + 10))
    marks = {"filled": "(0,0)"}
    if limit_value > 0:
        marks["open"] = f"(0,{_fmt(limit_value)})"
    return coords, marks, worst


def results():
    checks, artefacts = [], []
    for key, caption, curves in FIGURES:
        plotted = []
        worst_all = []
        for (kind, beta_text, legend), colour, style in zip(curves, COLOURS, STYLES):
            coords, marks, worst = curve(kind, beta_text)
            worst_all.append(worst)
            plotted.append({"legend": legend, "coords": coords, "marks": marks, "colour": colour,
                            "style": style})
        refs = sorted({KINDS[k][2] for k, _, _ in curves})
        checks.append(numeric_check(
            f"figure-{key}", ", ".join(refs),
            f"figure {key}: every plotted point ({len(POINTS)} per curve, {len(curves)} curves) "
            "equals a bracketed root of the unsquared stationarity condition at 50 digits",
            worst_all, CHECK_DIGITS))
        artefacts.append({"path": f"figures/{key}.tex", "template": "figure.tex.jinja",
                          "context": {"key": key, "curves": plotted,
                                      "caption": caption + " Curves: " + "; ".join(
                                          legend for _, _, legend in curves) + "."}})
        csv = "curve,pi_ref_a,pi_a\n" + "".join(
            f"{i},{xy[1:-1]}\n" for i, c in enumerate(plotted) for xy in c["coords"])
        artefacts.append({"path": f"data/figure-{key}.csv", "text": csv})
    return {"sections": [], "checks": checks, "artefacts": artefacts}
