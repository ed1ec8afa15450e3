"""Baselines beside GRPO, arXiv:2502.18548v3, Eqs. (3)-(5).

* RLHF (3)-(4): maximising ``E_pi r - beta KL(pi || pi_ref)`` gives the
  logarithmic pooling ``pi(o) ∝ pi_ref(o) exp(r(o)/beta)``.
* NLHF (5): the fixed point ``pi(o) ∝ pi_ref(o) exp(E_{o'~pi} P(o > o')/beta)``.

For a binary question with deterministic rewards ``r(a) = 1 > r(b) = 0``
(so ``P(a > b) = 1``) both have a stationary ``x = pi(a)`` that the engine
tabulates beside GRPO's.
"""

import mpmath
from sympy import Symbol, cancel, diff, exp, expand, expand_log, log, powsimp, solve

from derive import claims
from derive import symbols as S
from derive.checks import CHECK_DIGITS, Section, numeric_check, symbolic_check
from derive.latex import equation, latex
from derive.roots import bisect

x, p, beta = S.x, S.p, S.beta


class RLHF:
    """Eq. (3) on outputs a, b: ``max_pi sum_o pi(o) r(o) - beta KL(pi || pi_ref)``."""

    def derive(self):
        self.pi = S.policy_symbols("pi", "ab")
        self.ref = S.policy_symbols("pi_ref", "ab")
        self.r = (Symbol("r_a", real=True), Symbol("r_b", real=True))
        kl = sum(q * log(q / r) for q, r in zip(self.pi, self.ref))
        L = sum(q * r for q, r in zip(self.pi, self.r)) - beta * kl - S.lam * (sum(self.pi) - 1)
        sols = [solve(diff(L, q), q)[0] for q in self.pi]
        lam = solve(sum(sols) - 1, S.lam)[0]
        self.policy = [powsimp(expand_log(s.subs(S.lam, lam), force=True)) for s in sols]
        #: the same policy with its exponent expanded: pi_ref(o) e^{r(o)/beta} / Z
        self.pooling = [expand(exp(expand(s.args[0])), power_exp=True) if s.func == exp else s
                        for s in self.policy]
        return self

    def residue(self):
        Z = sum(r * exp(v / beta) for r, v in zip(self.ref, self.r))
        return [cancel(powsimp(expand_log(s / claims.rlhf_policy(r, v, Z), force=True)) - 1)
                for s, r, v in zip(self.policy, self.ref, self.r)]


def rlhf_binary(pv, bv):
    """RLHF's ``x`` for ``r(a) - r(b) = 1`` (closed form of (4))."""
    e = mpmath.exp(1 / bv)
    return pv * e / (pv * e + 1 - pv)


def nlhf_binary(pv, bv):
    """NLHF's fixed point for a binary question with ``P(a > b) = 1``.

    ``x/(1-x) = p/(1-p) exp((1 - x)/beta)``: the left side increases and the
    right side decreases in ``x``, so the root in ``(p, 1)`` is unique (bisection).
    """
    f = lambda t: mpmath.log(t / (1 - t)) - mpmath.log(pv / (1 - pv)) - (1 - t) / bv
    return bisect(f, pv, 1 - mpmath.mpf(10) ** (-mpmath.mp.dps))


def checks():
    rl = RLHF().derive()
    out = [symbolic_check("rlhf-pooling", "(4)",
                          "maximising E_pi r - beta KL(pi || pi_ref) on the simplex gives "
                          "pi(o) = pi_ref(o) exp(r(o)/beta)/Z (powsimp, cancel)",
                          sum(map(abs, rl.residue())))]
    # Numeric: RLHF's closed form solves its stationarity condition; NLHF solves its own.
    errs = []
    with mpmath.workdps(CHECK_DIGITS + 10):
        for pv in (mpmath.mpf(1) / 10, mpmath.mpf(1) / 2, mpmath.mpf(9) / 10):
            for bv in (mpmath.mpf(1) / 10, mpmath.mpf(1), mpmath.mpf(2)):
                xr = rlhf_binary(pv, bv)
                errs.append(bv * (mpmath.log(xr / (1 - xr)) - mpmath.log(pv / (1 - pv))) - 1)
                xn = nlhf_binary(pv, bv)
                errs.append(bv * (mpmath.log(xn / (1 - xn)) - mpmath.log(pv / (1 - pv))) - (1 - xn))
    out.append(numeric_check("baselines-binary-numeric", "(4)--(5)",
                             "binary, r(a) = 1 > r(b) = 0: RLHF's closed form and NLHF's bisected "
                             "fixed point satisfy their stationarity conditions at 50 digits, "
                             "9 (p, beta)", errs, CHECK_DIGITS))
    return out


def section():
    rl = RLHF().derive()
    sec = Section("baselines", "Baselines: RLHF and NLHF", "(3)--(5)",
                  "The aggregation rules that GRPO is compared with.")
    sec.step("RLHF maximises $\\mathbb{E}_{\\pi} r - \\beta\\,\\mathrm{KL}(\\pi \\,\\|\\, "
             "\\pi_{\\mathrm{ref}})$; the Lagrangian on the simplex gives logarithmic pooling, "
             "Eq. (4):", equation("\\pi(a)", latex(rl.pooling[0])), "rlhf")
    sec.step("NLHF's stationary policy is the fixed point of Eq. (5):",
             equation("\\pi(o)", "\\frac{\\pi_{\\mathrm{ref}}(o) \\exp\\bigl(\\mathbb{E}_{o' \\sim \\pi}"
                      " P(o \\succ o')/\\beta\\bigr)}{Z}."), "nlhf")
    sec.step("For a binary question with $r(a) = 1 > r(b) = 0$, RLHF gives "
             "$x = p e^{1/\\beta}/(p e^{1/\\beta} + 1 - p)$, and NLHF the unique root of "
             "$\\log\\frac{x}{1-x} - \\log\\frac{p}{1-p} = (1 - x)/\\beta$.  "
             "Table [[tab:baselines]] places them beside GRPO.")
    return sec
