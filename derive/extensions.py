"""Extensions of GRPO, arXiv:2502.18548v3, Section 3 and Appendix B.2.

* **Direct KL.**  Importance-weighting the k3 penalty by ``pi/pi_old`` makes
  the expected penalty ``KL(pi || pi_ref)`` for every ``pi_old``; the
  stationary policies are then a logarithmic pooling with a policy-dependent
  preference, ``pi(o) ∝ pi_ref(o) exp(P_G(o|pi)/beta)``.  For binary questions
  this gives a logistic closed form at G = 2, and at G -> infinity the field
  ``beta h(x)`` whose zeros :class:`DirectKLLimit` classifies.
* **Shift-only normalisation.**  Without the division by the standard
  deviation the preference is ``(1 - 1/G)(r(o) - E r)``; with the direct KL
  penalty this is RLHF's logarithmic pooling (4) with ``beta G/(G-1)``.
"""

from functools import cache

import mpmath
from sympy import (
    Add,
    Integer,
    Mul,
    Pow,
    Rational,
    Symbol,
    cancel,
    diff,
    exp,
    expand,
    expand_log,
    factor,
    limit,
    log,
    oo,
    powsimp,
    solve,
    sqrt,
    together,
)

from derive import claims
from derive import symbols as S
from derive.checks import CHECK_DIGITS, Section, inequality_check, numeric_check, symbolic_check
from derive.display import U, condition, frac, value
from derive.latex import equation
from derive.limit import preference_limit
from derive.penalty import Penalty
from derive.roots import bisect

x, p, beta, gamma = S.x, S.p, S.beta, S.gamma


class DirectKL:
    """Stationarity with the importance-weighted k3 penalty (Section 3)."""

    def __init__(self, outputs="ab"):
        self.penalty = Penalty(outputs, importance_weighted=True)
        self.pi, self.ref = self.penalty.pi, self.penalty.ref
        self.P = S.preference_symbols(outputs)

    def derive(self):
        pen = self.penalty
        L = (sum(a * b for a, b in zip(self.pi, self.P)) - beta * pen.expected
             - S.lam * (sum(self.pi) - 1))
        self.conditions = [expand(diff(L, q)) for q in self.pi]
        #: pi_old drops out: the penalty is KL(pi || pi_ref) whatever pi_old is.
        self.old_free = all(not (c.free_symbols & set(pen.old)) for c in self.conditions)
        self.solutions = [solve(c, q)[0] for c, q in zip(self.conditions, self.pi)]
        lam = solve(sum(self.solutions) - 1, S.lam)[0]
        self.multiplier = lam
        self.policy = [powsimp(expand_log(s.subs(S.lam, lam), force=True)) for s in self.solutions]
        return self

    def pooling_residue(self):
        """Ratio of the derived policy to ``pi_ref(o) exp(P/beta)/Z``: 0 after powsimp."""
        Z = sum(r * exp(P / beta) for r, P in zip(self.ref, self.P))
        return [cancel(powsimp(expand_log(sol / (r * exp(P / beta) / Z), force=True)) - 1)
                for sol, r, P in zip(self.policy, self.ref, self.P)]

    def binary_two(self):
        """G = 2: ``P_2(a) = gamma (1 - x)``, ``P_2(b) = -gamma x``; solve the pooling for x."""
        subs = {self.P[0]: gamma * (1 - x), self.P[1]: -gamma * x,
                self.ref[0]: p, self.ref[1]: 1 - p}
        ratio = powsimp(self.policy[0].subs(subs) / self.policy[1].subs(subs))
        sol = solve(x / (1 - x) - ratio, x)
        return [powsimp(s) for s in sol]


class DirectKLLimit:
    """Binary question, G -> infinity, deterministic rewards, direct KL (Appendix B.2).

    The derivative of the objective along ``x = pi(a)`` at ``pi_old = pi`` is
    ``beta h(x)``.  ``h`` falls on ``(0, x*]``, rises on ``[x*, 1)`` and tends
    to infinity at both ends, so for ``beta`` above a critical ``beta_c(p)``
    it has two zeros: the left one is an attractor of the GRPO iteration (the
    field turns from positive to negative) and the right one a repeller;
    ``x = 1`` is a boundary attractor for every ``beta > 0``.  Since
    ``J(.; pi_old)`` is strictly concave for this penalty, each zero maximises
    ``J(.; itself)`` (:mod:`derive.maximiser`).
    """

    def derive(self):
        u = Symbol("u", positive=True)                   # 1 - x
        sigma = sqrt(x * u)
        P_a = preference_limit(1, 1 - u, sigma)      # the derived limit (13)
        P_b = preference_limit(0, x, sigma)
        grad = (P_a - beta * (log(x / p) + 1)) - (P_b - beta * (log(u / (1 - p)) + 1))
        self.field = expand(expand_log(grad, force=True)).subs(u, 1 - x)
        self.h = self.field / beta
        self.h_prime = diff(self.h, x)
        # h'(x) = 0, cleared of its denominator 2 beta x^(3/2) (1-x)^(3/2) > 0 (with 1 - x kept
        # as the positive u so that the powers combine): (2x - 1) - 2 beta sqrt(x (1-x)), which
        # needs x > 1/2 (unsquared); square it by separating the radical terms.
        cleared = expand(self.h_prime.subs(1 - x, u) * 2 * beta * x**Rational(3, 2)
                         * u**Rational(3, 2))
        self.stationary_unsquared = expand(cleared.subs(u, 1 - x))
        radical = sum(t for t in self.stationary_unsquared.as_ordered_terms() if t.has(sqrt(x)))
        rest = expand(self.stationary_unsquared - radical)
        self.critical_roots = solve(expand(rest**2 - radical**2), x)
        self.minimiser = [r for r in self.critical_roots
                          if all((2 * r - 1).subs(beta, b).evalf() > 0
                                 for b in (Rational(1, 10), 1, 10))][0]
        return self

    def h_residue(self):
        return cancel(together(expand(expand_log(self.h - claims.direct_kl_h(), force=True))))

    def end_limits(self):
        """Limits of h at x -> 0+ and x -> 1-, through x = eps^2 and x = 1 - eps^2.

        SymPy 1.14's ``limit(h, x, 1, '-')`` returns ``-oo`` for this h (wrong:
        ``1/(beta sqrt(1-x))`` dominates ``log(1/(1-x))``); the substitution
        ``x = 1 - eps^2`` makes the limit rational in ``eps`` and correct.
        """
        eps = Symbol("epsilon", positive=True)
        h = self.h
        return [limit(h.subs(x, eps**2), eps, 0, "+"), limit(h.subs(x, 1 - eps**2), eps, 0, "+")]

    def minimiser_residue(self):
        return cancel(factor(expand(self.minimiser - claims.direct_kl_h_minimiser()))
                      .replace(lambda e: e.is_Pow and e.exp == Rational(1, 2),
                               lambda e: sqrt(factor(cancel(e.base)))))


# -- numerics for the direct-KL limit: h, its zeros, and beta_c(p) ------------

def h_value(xv, pv, bv):
    return 1 / (bv * mpmath.sqrt(xv * (1 - xv))) - mpmath.log(xv / (1 - xv)) + mpmath.log(pv / (1 - pv))


def h_derivative(xv, bv):
    return -(1 - 2 * xv) / (2 * bv * (xv * (1 - xv)) ** mpmath.mpf(1.5)) - 1 / (xv * (1 - xv))


def h_minimiser(bv):
    return (1 + mpmath.sqrt(1 - 1 / (1 + bv**2))) / 2


def critical_beta(pv):
    """``beta_c(p)``: the root of ``beta -> h(x*(beta); beta, p)``, which decreases strictly
    (envelope theorem: ``d/dbeta h = -1/(beta^2 sqrt(x(1-x))) < 0``).  Bracketed."""
    f = lambda b: h_value(h_minimiser(b), pv, b)
    lo, hi = mpmath.mpf(1) / 1000, mpmath.mpf(1)
    while f(hi) > 0:
        hi *= 2
    while f(lo) < 0:
        lo /= 2
    return bisect(f, lo, hi)


def critical_beta_joint(pv, start_beta):
    """Independent path: Newton on the system ``h(x) = 0, h'(x) = 0`` in ``(x, beta)``."""
    x0 = h_minimiser(start_beta)
    sol = mpmath.findroot(lambda xv, bv: (h_value(xv, pv, bv), h_derivative(xv, bv)),
                          (x0, start_beta))
    return sol[1], sol[0]


def stationary_points_limit(pv, bv):
    """Zeros of h on (0, 1), classified, plus the boundary point x = 1.

    Returns ``[(x, classification)]``: interior zeros by bracketing on
    ``(0, x*)`` and ``(x*, 1)``, ``"attractor"`` where ``h`` falls through zero
    and ``"repeller"`` where it rises; ``x = 1`` is always a boundary attractor
    because ``h -> +infinity`` as ``x -> 1``.
    """
    xs = h_minimiser(bv)
    out = []
    if h_value(xs, pv, bv) < 0:
        eps = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
        lo = eps
        while h_value(lo, pv, bv) < 0:
            lo /= 10
        hi = 1 - eps
        while h_value(hi, pv, bv) < 0:
            hi = 1 - (1 - hi) / 10
        out.append((bisect(lambda t: h_value(t, pv, bv), lo, xs), "attractor"))
        out.append((bisect(lambda t: h_value(t, pv, bv), xs, hi), "repeller"))
    out.append((mpmath.mpf(1), "boundary-attractor"))
    return out


def shift_only_preference(G):
    """``E[r_1 - mean(r) | o_1 = o]`` for a group of size *G*, others iid with mean mu.

    By linearity only the means of the rewards enter: ``r_1 -> r(o)`` and
    ``r_j -> mu`` for ``j >= 2``.
    """
    r = S.rewards(G)
    adv = r[0] - Rational(1, G) * sum(r)
    return expand(adv.subs({r[0]: Symbol("r_o", real=True), **{rj: S.mu for rj in r[1:]}}))


#: Values of p at which beta_c(p) is tabulated.
CRITICAL_P = (Rational(1, 100), Rational(1, 10), Rational(3, 10), Rational(1, 2), Rational(9, 10))


def checks():
    from derive.binary import PRECISIONS, to_mp

    dk = DirectKL().derive()
    out = [
        symbolic_check("direct-kl-pi-old-free", "Sec. 3",
                       "importance-weighted k3: the stationarity conditions do not involve pi_old",
                       0 if dk.old_free else 1),
        symbolic_check("direct-kl-pooling", "Sec. 3",
                       "importance-weighted k3: the KKT solution is pi(o) = pi_ref(o) "
                       "exp(P_G(o|pi)/beta)/Z, logarithmic pooling (powsimp, cancel)",
                       sum(map(abs, dk.pooling_residue()))),
    ]
    two = dk.binary_two()
    claim = claims.direct_kl_policy_two()
    out.append(symbolic_check("direct-kl-two", "Sec. 3",
                              "G=2, direct KL: x = e^(gamma/(2beta)) p/(e^(gamma/(2beta)) p + "
                              "e^(-gamma/(2beta)) (1-p)) (powsimp, cancel)",
                              sum(abs(cancel(powsimp(s - claim))) for s in two)
                              + (len(two) != 1)))
    lim = DirectKLLimit().derive()
    out.append(symbolic_check("direct-kl-limit-h", "App. B.2",
                              "G->inf, deterministic, direct KL: the derivative of the objective "
                              "along x is beta h(x) with the printed h (expand_log)",
                              lim.h_residue()))
    out.append(symbolic_check("direct-kl-limit-minimiser", "App. B.2",
                              "h'(x) = 0 at the root of (2x-1) = 2 beta sqrt(x(1-x)) with x > 1/2, "
                              "x* = (1 + sqrt(1 - 1/(1+beta^2)))/2 (factor, cancel)",
                              lim.minimiser_residue()))
    ends = lim.end_limits()
    out.append(symbolic_check("direct-kl-limit-ends", "App. B.2",
                              "h(x) -> +infinity as x -> 0+ and as x -> 1- (limit through "
                              "x = eps^2 and x = 1 - eps^2)", 0 if ends == [oo, oo] else 1))
    with mpmath.workdps(CHECK_DIGITS + 10):
        grow = []
        for bv in (mpmath.mpf(1) / 10, mpmath.mpf(1), mpmath.mpf(10)):
            vals = [h_value(1 - mpmath.mpf(10) ** -k, mpmath.mpf(1) / 2, bv) for k in (20, 30, 40)]
            grow += [vals[1] - vals[0], vals[2] - vals[1], vals[0]]
    out.append(inequality_check("direct-kl-limit-ends-numeric", "App. B.2",
                                "h(1 - 10^-k) is positive and increasing in k = 20, 30, 40 for "
                                "beta = 0.1, 1, 10 (p = 1/2)", grow))
    # Shift-only normalisation.
    G = Symbol("G", integer=True, positive=True)
    so = [shift_only_preference(g) for g in (2, 3, 4, 5)]
    r_o = Symbol("r_o", real=True)
    res = sum(abs(expand(so[i] - (1 - Rational(1, g)) * (r_o - S.mu)))
              for i, g in enumerate((2, 3, 4, 5)))
    out.append(symbolic_check("shift-only-preference", "Sec. 3",
                              "shift-only advantage r_i - mean: P_G(o|pi') = (1 - 1/G)(r(o) - "
                              "E_pi' r) for G = 2..5 (expand)", res))
    m_pi, m_old = Symbol("m_pi", real=True), Symbol("m_old", real=True)
    out.append(symbolic_check("shift-only-mean", "Sec. 3",
                              "E_(o~pi) P_G(o|pi_old) = (1 - 1/G)(E_pi r - E_old r) (linearity; "
                              "G = 4 shown, expand)",
                              expand(so[2].subs({r_o: m_pi, S.mu: m_old})
                                     - claims.shift_only_mean_preference(4, m_pi, m_old))))
    # Shift-only + direct KL = RLHF (4) with beta G/(G-1): ratio of two outputs.
    ra, rb = Symbol("r_a", real=True), Symbol("r_b", real=True)
    Pa, Pb = ((1 - 1 / G) * (rv - S.mu) for rv in (ra, rb))
    ratio = powsimp((dk.policy[0] / dk.policy[1]).subs({dk.P[0]: Pa, dk.P[1]: Pb}))
    Z = Symbol("Z", positive=True)
    rl = claims.rlhf_policy(dk.ref[0], ra, Z, beta * G / (G - 1)) / \
        claims.rlhf_policy(dk.ref[1], rb, Z, beta * G / (G - 1))
    out.append(symbolic_check("shift-only-direct-kl-rlhf", "(4)",
                              "shift-only normalisation with the direct KL penalty gives RLHF's "
                              "pi(o) ∝ pi_ref(o) exp(r(o)/beta') with beta' = beta G/(G-1) "
                              "(ratio of two outputs; powsimp, cancel)",
                              cancel(powsimp(ratio / rl, force=True) - 1)))
    # Numeric: the logistic form against the root of the unsquared direct-KL condition.
    from sympy import lambdify
    f_two = lambdify((p, beta, gamma), claim, "mpmath")
    from derive.binary import _grid
    for digits in PRECISIONS:
        errs = []
        with mpmath.workdps(digits + 10):
            for pv, bv, gv in _grid():
                P, B, Gm = to_mp(pv), to_mp(bv), to_mp(gv)
                cond = lambda t: B * (mpmath.log(t / (1 - t)) - mpmath.log(P / (1 - P))) - Gm
                root = bisect(cond, P, 1 - mpmath.mpf(10) ** (-digits - 5))
                errs.append(f_two(P, B, Gm) - root)
        out.append(numeric_check(f"direct-kl-two-root-{digits}", "Sec. 3",
                                 f"G=2 direct KL: the closed form equals the root of beta(logit x - "
                                 f"logit p) = gamma by bracketing, 10 seeded points, {digits} digits",
                                 errs, digits))
    # beta_c(p): two independent computations at 50 digits, and the zero count on each side.
    errs, margins = [], []
    with mpmath.workdps(CHECK_DIGITS + 10):
        for pv in CRITICAL_P:
            P = to_mp(pv)
            bc = critical_beta(P)
            bj, _ = critical_beta_joint(P, bc * (1 + mpmath.mpf(10) ** -3))
            errs.append(bc - bj)
            below = stationary_points_limit(P, bc * (1 - mpmath.mpf(10) ** -6))
            above = stationary_points_limit(P, bc * (1 + mpmath.mpf(10) ** -6))
            margins.append(1 if [c for _, c in below] == ["boundary-attractor"] and
                           [c for _, c in above] == ["attractor", "repeller", "boundary-attractor"] else -1)
            for xv, c in above[:2]:
                margins.append(abs(h_derivative(xv, bc * (1 + mpmath.mpf(10) ** -6))))
                margins.append(-h_derivative(xv, bc) if c == "attractor" else 1)
    out.append(numeric_check("direct-kl-critical-beta", "App. B.2",
                             "beta_c(p) from h(x*(beta)) = 0 equals the Newton solution of "
                             "{h = 0, h' = 0} in (x, beta), p in {0.01, 0.1, 0.3, 0.5, 0.9}, 50 digits",
                             errs, CHECK_DIGITS))
    out.append(inequality_check("direct-kl-classification", "App. B.2",
                                "just below beta_c only x = 1 (boundary attractor) is stationary; "
                                "just above, two interior zeros appear: h' < 0 at the left one "
                                "(an attractor of the iteration) and h' > 0 at the right one "
                                "(a repeller)",
                                margins))
    return out


def critical_beta_table(digits=CHECK_DIGITS):
    """``[(p, beta_c(p), x*(beta_c))]`` at *digits*, for :data:`CRITICAL_P`."""
    from derive.binary import to_mp

    rows = []
    with mpmath.workdps(digits + 10):
        for pv in CRITICAL_P:
            bc = critical_beta(to_mp(pv))
            rows.append((pv, +bc, +h_minimiser(bc)))
    return rows


def section():
    dk = DirectKL().derive()
    lim = DirectKLLimit().derive()
    pi_a, ref_a, P_a = dk.pi[0], dk.ref[0], dk.P[0]
    x, p, gamma = S.x, S.p, S.gamma
    e_full = exp(frac(gamma, S.beta), evaluate=False)
    e_half = exp(frac(gamma, U(Mul, 2, S.beta)), evaluate=False)
    e_minus = exp(-frac(gamma, U(Mul, 2, S.beta)), evaluate=False)
    sec = Section("extensions", "Extensions: the direct KL penalty and shift-only normalisation",
                  "Sec. 3, App. B.2",
                  "Importance weighting turns the penalty into $\\mathrm{KL}(\\pi \\,\\|\\, "
                  "\\pi_{\\mathrm{ref}})$; dropping the scale normalisation recovers RLHF.")
    sec.step("Weighting each k3 term by $\\pi(o_i)/\\pi_{\\mathrm{old}}(o_i)$ makes the expected "
             "penalty $\\mathrm{KL}(\\pi \\,\\|\\, \\pi_{\\mathrm{ref}})$ for every "
             "$\\pi_{\\mathrm{old}}$, and the stationarity condition for output $a$ reads",
             condition(sec, "direct-kl-condition", "Sec. 3",
                       U(Add, P_a, -U(Mul, S.beta, log(frac(pi_a, ref_a), evaluate=False)), -S.lam),
                       Integer(0), dk.conditions[0]), "direct-kl-condition")
    sec.step("Solving and normalising gives logarithmic pooling with a policy-dependent "
             "preference:",
             equation("\\pi(o)", "\\frac{\\pi_{\\mathrm{ref}}(o)\\, e^{P_G(o \\mid \\pi)/\\beta}}"
                      "{\\sum_{o'} \\pi_{\\mathrm{ref}}(o')\\, e^{P_G(o' \\mid \\pi)/\\beta}}."),
             "direct-kl-pooling")
    (two,) = dk.binary_two()
    sec.step("For a binary question with $G = 2$ the preferences are $\\gamma(1-x)$ and "
             "$-\\gamma x$, whose difference $\\gamma$ does not depend on $x$, so",
             value(sec, "direct-kl-two", "App. B.2", "x",
                   frac(U(Mul, p, e_full), U(Add, U(Mul, p, e_full), 1, -p)), two)
             + " \\\\ " + value(sec, "direct-kl-two-symmetric", "App. B.2", "",
                                frac(U(Mul, e_half, p),
                                     U(Add, U(Mul, e_half, p), U(Mul, e_minus, U(Add, 1, -p)))),
                                two) + ".", "direct-kl-two")
    sec.step("For $G \\to \\infty$ and deterministic rewards the derivative of the objective "
             "along $x$ at $\\pi_{\\mathrm{old}} = \\pi$ is $\\beta h(x)$ with",
             value(sec, "direct-kl-h", "App. B.2", "h(x)",
                   U(Add, frac(1, U(Mul, S.beta, sqrt(U(Mul, x, U(Add, 1, -x)), evaluate=False))),
                     -log(frac(x, U(Add, 1, -x)), evaluate=False),
                     log(frac(p, U(Add, 1, -p)), evaluate=False)),
                   lim.h, positive=(1 - x, 1 - p)) + ".", "direct-kl-h")
    sec.step("Setting $h'(x) = 0$ and clearing the positive denominator "
             "$2\\beta x^{3/2}(1-x)^{3/2}$ gives",
             condition(sec, "direct-kl-critical", "App. B.2", U(Add, U(Mul, 2, x), -1),
                       U(Mul, 2, S.beta, sqrt(U(Mul, x, U(Add, 1, -x)), evaluate=False)),
                       lim.stationary_unsquared) + ",", "direct-kl-critical")
    sec.step("which needs $x > 1/2$; of the two roots of its square the admissible one is",
             value(sec, "direct-kl-minimiser", "App. B.2", "x^{*}",
                   frac(U(Add, 1, frac(S.beta, sqrt(U(Add, 1, U(Pow, S.beta, 2)), evaluate=False))), 2),
                   lim.minimiser), "direct-kl-minimiser")
    sec.step("$h$ falls on $(0, x^*]$, rises on $[x^*, 1)$, and tends to $+\\infty$ at both ends "
             "(the term $1/(\\beta\\sqrt{x(1-x)})$ dominates the logarithms).  By the envelope "
             "theorem $\\beta \\mapsto h(x^*(\\beta))$ is strictly decreasing, so there is one "
             "critical $\\beta_c(p)$: for $\\beta < \\beta_c(p)$, $h > 0$ on $(0,1)$ and the only "
             "stationary point is $x = 1$, an attractor of the iteration; for "
             "$\\beta > \\beta_c(p)$, $h$ has two zeros $x_1 < x^* < x_2$: $x_1$ attracts the "
             "iteration (there $h$ turns from positive to negative) and $x_2$ repels it, besides "
             "the boundary attractor $x = 1$.  "
             "Table [[tab:critical-beta]] gives $\\beta_c(p)$ and classifies the stationary "
             "points; Figure [[fig:binary-direct-kl]] draws the $G = 2$ closed form.")
    sec.step("Without the division by the standard deviation ($A_i = r_i - \\bar r$), "
             "linearity gives",
             equation("P_G(o \\mid \\pi')", "\\Bigl(1 - \\frac{1}{G}\\Bigr)\\bigl(r(o) - "
                      "\\mathbb{E}_{\\pi'} r\\bigr)") + " \\\\ "
             + equation("\\mathbb{E}_{o \\sim \\pi} P_G(o \\mid \\pi_{\\mathrm{old}})",
                        "\\Bigl(1 - \\frac{1}{G}\\Bigr)\\bigl(\\mathbb{E}_{\\pi} r - "
                        "\\mathbb{E}_{\\pi_{\\mathrm{old}}} r\\bigr),"), "shift-only")
    sec.step("and with the direct KL penalty the stationary policy is RLHF's logarithmic "
             "pooling (4) with the regularisation $\\beta G/(G-1)$:",
             equation("\\pi(o)", "\\frac{\\pi_{\\mathrm{ref}}(o)\\, e^{(1 - 1/G)\\, r(o)/\\beta}}"
                      "{\\sum_{o'} \\pi_{\\mathrm{ref}}(o')\\, e^{(1 - 1/G)\\, r(o')/\\beta}}."),
             "shift-only-rlhf")
    sec.remarks.append("The paper describes the two interior zeros of $h$ at large $\\beta$ as "
                       "two values that maximise the objective.  In its sense they do: with the "
                       "direct KL penalty $J(\\cdot\\,; \\pi_{\\mathrm{old}})$ is strictly "
                       "concave, so each zero is the unique maximiser of $J(\\cdot\\,; \\pi)$ "
                       "with $\\pi_{\\mathrm{old}} = \\pi$ set to itself.  As rest points of "
                       "the GRPO iteration they differ: the left zero attracts it and the right "
                       "zero repels it, and $x = 1$ attracts it for every $\\beta > 0$; $x = 1$ "
                       "maximises $J(\\cdot\\,; \\text{itself})$ only with the limit "
                       "$G \\to \\infty$ taken first (at every finite $G$ it does not).  Which "
                       "attractor the iteration reaches depends on where it starts.")
    return sec


@cache
def direct_kl_limit():
    """The :class:`DirectKLLimit` derivation, once per process."""
    return DirectKLLimit().derive()


@cache
def direct_kl_policy_two():
    """``pi(a)`` at G = 2 with the direct KL penalty, in ``(p, beta, gamma)`` (Section 3), derived once."""
    (two,) = DirectKL().derive().binary_two()
    return two
