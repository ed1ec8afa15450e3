"""The section and the checks of the penalty of GRPO, arXiv:2502.18548v3, Section 2.2, Eqs. (7)-(10).

Its derivation, :mod:`derive.paper.penalty`, is checked here against the
claims and an independent path.
"""

from sympy import Add, Mul, cancel, diff, expand, expand_log, log

from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.paper import claims
from derive.paper.latex import equation, latex
from derive.paper.penalty import OUTPUTS, Penalty, kl
from derive.verify.checks import Section, inequality_check, numeric_difference, random_points, symbolic_check
from derive.verify.display import U, frac, value


def checks(digits=CHECK_DIGITS):
    pen = Penalty()
    pen_is = Penalty(importance_weighted=True)
    out = []
    n = len(OUTPUTS)
    res8 = [cancel(pen.gradient(o) - claims.penalty_gradient(pen.pi[o], pen.ref[o], pen.old[o]))
            for o in range(n)]
    out.append(symbolic_check("penalty-gradient", "(8)",
                              "dD/dpi(o) of the expected k3 penalty (7) equals Eq. (8) (cancel)",
                              sum(map(abs, res8))))
    kl_fwd = kl(pen.pi, pen.ref)
    res9 = [expand(expand_log(diff(kl_fwd, pen.pi[o]) - claims.kl_gradient(pen.pi[o], pen.ref[o]),
                              force=True)) for o in range(n)]
    out.append(symbolic_check("kl-gradient", "(9)",
                              "dKL(pi || pi_ref)/dpi(o) equals Eq. (9) (expand_log)",
                              sum(map(abs, res9))))
    res10 = [cancel(pen.on_policy(pen.gradient(o))
                    - claims.penalty_gradient_on_policy(pen.pi[o], pen.ref[o])) for o in range(n)]
    out.append(symbolic_check("penalty-gradient-on-policy", "(10)",
                              "Eq. (8) at pi_old = pi equals 1 - pi_ref(o)/pi(o), Eq. (10) (cancel)",
                              sum(map(abs, res10))))
    kl_rev = kl(pen.ref, pen.pi)
    res_rev = [cancel(pen.on_policy(pen.gradient(o)) - (diff(kl_rev, pen.pi[o]) + 1))
               for o in range(n)]
    out.append(symbolic_check("penalty-reverse-kl", "(10)",
                              "at pi_old = pi, dD/dpi(o) = dKL(pi_ref || pi)/dpi(o) + 1 (cancel)",
                              sum(map(abs, res_rev))))
    res7 = cancel(pen.normalise(expand(expand_log(pen.on_policy(pen.expected) - kl_fwd, force=True))))
    out.append(symbolic_check("penalty-kl-on-policy", "(7)",
                              "D(pi; pi) = KL(pi || pi_ref) when pi and pi_ref sum to 1 "
                              "(expand_log, expand, cancel)", res7))
    res_is = cancel(pen_is.normalise(expand(expand_log(pen_is.expected - kl_fwd, force=True))))
    out.append(symbolic_check("penalty-is-kl", "Sec. 3",
                              "importance-weighted k3: D(pi; pi_old) = KL(pi || pi_ref) for every "
                              "pi_old (expand_log, expand, cancel)", res_is))
    # Off-policy the k3 expectation is not KL(pi || pi_ref): seeded points.
    names = [str(s) for s in pen.pi[:-1] + pen.ref[:-1] + pen.old[:-1]]
    pts = random_points(8, names, seed=CHECK_SEED + 7, low=0.05, high=0.45)
    diff_expr = pen.normalise(pen.expected - kl_fwd).subs(pen.old[-1], 1 - sum(pen.old[:-1]))
    margins = [abs(e) for e in numeric_difference(diff_expr, 0, pts, digits)]
    out.append(inequality_check("penalty-not-kl-off-policy", "(7)",
                                "D(pi; pi_old) - KL(pi || pi_ref) is nonzero at 8 seeded points "
                                f"with pi != pi_old (smallest |difference| "
                                f"{float(min(margins)):.3g})", margins, digits))
    return out


def section():
    pen = Penalty("o")
    pi, ref, old = pen.pi[0], pen.ref[0], pen.old[0]
    sec = Section("penalty", "The penalty and the direction of its KL divergence", "(7)--(10)",
                  "GRPO's k3 penalty is evaluated on samples of the old policy; its gradient at "
                  "the old policy is that of $\\mathrm{KL}(\\pi_{\\mathrm{ref}} \\,\\|\\, \\pi)$.")
    ratio = frac(ref, pi)
    sum_form = U(Mul, old, U(Add, ratio, -1, -log(ratio, evaluate=False)))
    sec.step("The expected k3 penalty over outputs drawn from the old policy is",
             value(sec, "penalty-expected", "(7)", "D(\\pi; \\pi_{\\mathrm{old}})",
                   sum_form, pen.expected, prefix="\\sum_{o} "), "penalty-expected")
    sec.step("Differentiating with respect to $\\pi(o)$ gives Eq. (8):",
             value(sec, "penalty-gradient", "(8)", "\\frac{\\partial D}{\\partial \\pi(o)}",
                   U(Mul, frac(old, pi), U(Add, 1, -frac(ref, pi))), pen.gradient(0)),
             "penalty-gradient")
    sec.step("whereas the divergence $\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$ has the "
             "gradient of Eq. (9):",
             value(sec, "kl-gradient", "(9)",
                   "\\frac{\\partial}{\\partial \\pi(o)} \\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})",
                   U(Add, log(frac(pi, ref), evaluate=False), 1), diff(pi * log(pi / ref), pi)),
             "kl-gradient")
    sec.step("At $\\pi_{\\mathrm{old}} = \\pi$, Eq. (8) becomes Eq. (10), which is the gradient of "
             "$\\mathrm{KL}(\\pi_{\\mathrm{ref}} \\,\\|\\, \\pi)$ (the paper's reverse KL) plus "
             "the constant $1$:",
             equation("\\left.\\frac{\\partial D}{\\partial \\pi(o)}\\right|_{\\pi_{\\mathrm{old}} = \\pi}",
                      latex(cancel(pen.on_policy(pen.gradient(0)))))
             + " \\\\ " + equation("", "\\frac{\\partial}{\\partial \\pi(o)} "
                                   "\\mathrm{KL}(\\pi_{\\mathrm{ref}} \\,\\|\\, \\pi) + 1."),
             "penalty-on-policy")
    sec.step("At $\\pi_{\\mathrm{old}} = \\pi$ the expected penalty itself equals "
             "$\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$, because both policies sum "
             "to one; for $\\pi_{\\mathrm{old}} \\ne \\pi$ it does not, so its value and its "
             "gradient follow different divergences.")
    return sec
