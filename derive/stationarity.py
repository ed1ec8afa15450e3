"""Stationary policies of GRPO, arXiv:2502.18548v3, Section 2.3 and Appendix A.

A stationary policy maximises ``J(pi; pi_old)`` when ``pi_old`` is set equal to
it.  Ignoring clipping, the objective seen by ``pi`` is linear in the
preferences ``P_G(o | pi_old)`` minus ``beta`` times the expected k3 penalty:

    J(pi; pi_old) = sum_o pi(o) P_G(o | pi_old) - beta D(pi; pi_old).

:class:`Stationarity` forms the Lagrangian on the simplex, differentiates it,
sets ``pi_old = pi``, solves each condition for ``pi(o)``, and eliminates the
multiplier by summing the conditions weighted by ``pi(o)``.  The result is
Eq. (11),

    (1 - (P_G(o|pi) - E_pi P_G)/beta) pi(o) = pi_ref(o)   wherever pi(o) > 0,

and, substituting the G = 2 and G -> infinity preferences of
:mod:`derive.preference`, Eqs. (12) and (13).
"""

from functools import cached_property

from sympy import Add, Integer, Mul, Rational, Symbol, cancel, diff, expand, solve

from derive import claims
from derive import symbols as S
from derive.checks import (
    CHECK_DIGITS,
    CHECK_SEED,
    ENUMERATION,
    Section,
    inequality_check,
    numeric_check,
    random_points,
    symbolic_check,
)
from derive.display import U, condition, frac, value
from derive.latex import equation
from derive.penalty import Penalty


class Stationarity:
    """KKT conditions of the GRPO objective on the simplex (Appendix A).

    >>> st = Stationarity("ab").derive()
    >>> st.policy_solution[0]
    beta*pi_ref_a/(-P_a + beta + lambda)
    """

    def __init__(self, outputs="abc"):
        self.outputs = outputs
        self.penalty = Penalty(outputs)
        self.pi, self.ref, self.old = self.penalty.pi, self.penalty.ref, self.penalty.old
        #: P_G(o | pi_old): constants for the optimisation over pi.
        self.P = S.preference_symbols(outputs)
        self._derived = False

    @cached_property
    def objective(self):
        """``J(pi; pi_old)`` without clipping (from Eqs. (1), (6) and (7))."""
        return sum(p * P for p, P in zip(self.pi, self.P)) - S.beta * self.penalty.expected

    @cached_property
    def lagrangian(self):
        return self.objective - S.lam * (sum(self.pi) - 1)

    def derive(self):
        """Differentiate, set ``pi_old = pi``, solve for ``pi(o)``, eliminate ``lambda``."""
        self.conditions = [cancel(self.penalty.on_policy(diff(self.lagrangian, p)))
                           for p in self.pi]
        self.policy_solution = [solve(c, p)[0] for c, p in zip(self.conditions, self.pi)]
        # Multiply each condition by pi(o) and sum; then use sum pi = sum pi_ref = 1.
        summed = expand(sum(cancel(c * p) for c, p in zip(self.conditions, self.pi)))
        summed = summed.subs({sum(self.pi): 1}).subs(
            {self.pi[-1]: 1 - sum(self.pi[:-1]), self.ref[-1]: 1 - sum(self.ref[:-1])})
        lam = solve(expand(summed), S.lam)[0]
        self.multiplier = expand(lam)
        self.mean_preference = sum(p * P for p, P in zip(self.pi, self.P))
        self.policy = [cancel(sol.subs(S.lam, self.mean_preference)) for sol in self.policy_solution]
        self._derived = True
        return self

    def claim_residue(self):
        """Eq. (11) as printed, at the derived policy: ``cancel`` gives 0 per output."""
        E = self.mean_preference
        return [cancel(claims.stationarity(sol, r, P, E))
                for sol, r, P in zip(self.policy, self.ref, self.P)]

    def multiplier_residue(self):
        """``lambda - E_pi P_G`` with the last coordinates eliminated: 0."""
        E = self.mean_preference.subs(self.pi[-1], 1 - sum(self.pi[:-1]))
        return expand(self.multiplier - E)


def pairwise_residue():
    """Eq. (12) from Eq. (11) at G = 2, three outputs with rewards 1, 1/2, 0.

    ``P_2`` comes from the composition sum of :mod:`derive.preference`; the
    claim uses the pairwise win and loss probabilities.  Returns the expanded
    differences of the two conditions, one per output (0 proves it).
    """
    from derive.preference import PreferenceModel

    st = Stationarity()
    values = (Rational(0), Rational(1, 2), Rational(1))
    rewards = (2, 1, 0)                       # index into values: a=1, b=1/2, c=0
    pi = st.pi[:-1] + (1 - sum(st.pi[:-1]),)
    model = PreferenceModel(2, values)
    q = tuple(sum(pi[o] for o in range(3) if rewards[o] == j) for j in range(3))
    P = [model.phi(rewards[o], q) for o in range(3)]
    E = expand(sum(pi[o] * P[o] for o in range(3)))
    out = []
    for o in range(3):
        win = sum(pi[u] for u in range(3) if rewards[o] > rewards[u])
        lose = sum(pi[u] for u in range(3) if rewards[o] < rewards[u])
        derived = claims.stationarity(pi[o], st.ref[o], P[o], E)
        out.append(expand(derived - claims.stationarity_two(pi[o], st.ref[o], win, lose)))
    return out


def limit_residue():
    """Eq. (13) from Eq. (11) with ``P_inf(o|pi) = (r(o) - mu)/sigma``, the limit derived
    in :mod:`derive.large_group`.

    With deterministic rewards ``r_a, r_b, r_c`` and ``mu = E_pi r``, the mean
    preference ``E_pi P_inf`` expands to 0, so (11) becomes (13).
    """
    st = Stationarity()
    r = [Symbol(f"r_{o}", real=True) for o in st.outputs]
    pi = st.pi[:-1] + (1 - sum(st.pi[:-1]),)
    mu = sum(p * ro for p, ro in zip(pi, r))
    from derive.limit import preference_limit

    P = [preference_limit(ro, mu, S.sigma) for ro in r]
    E = expand(sum(p * Po for p, Po in zip(pi, P)))
    return [E] + [expand(claims.stationarity(pi[o], st.ref[o], P[o], E)
                         - claims.stationarity_limit(pi[o], st.ref[o], r[o], mu, S.sigma))
                  for o in range(3)]


def solve_fixed_point(preference, ref, beta, start=None):
    """Numerically solve the derived condition ``pi(o) (beta + E_pi P - P(o)) = beta pi_ref(o)``.

    *preference(pi)* returns the list ``P_G(o | pi)``.  Unknowns are the first
    K - 1 coordinates; ``mp.findroot`` (Newton) at the current precision.  This
    is the derived form (before ``lambda`` is replaced), not the printed one.
    """
    import mpmath

    K = len(ref)

    def full(y):
        return list(y) + [1 - mpmath.fsum(y)]

    def F(*y):
        pi = full(y)
        P = preference(pi)
        E = mpmath.fsum(p * q for p, q in zip(pi, P))
        return [pi[o] * (beta + E - P[o]) - beta * ref[o] for o in range(K - 1)]

    y0 = list(start or ref)[: K - 1]
    sol = mpmath.findroot(F, y0, tol=mpmath.mpf(10) ** (-mpmath.mp.dps + 5))
    y = [sol[i] for i in range(K - 1)] if hasattr(sol, "rows") else [sol]
    return full(y)


#: Instances of the numeric checks: reward distributions of three outputs on
#: three values (noisy), from :mod:`derive.preference`.
def _instances(n, seed):
    from fractions import Fraction

    pts = random_points(n, ["a", "b", "beta"], seed=seed, low=0.15, high=0.45)
    out = []
    for pt in pts:
        ref = (pt["a"], pt["b"], 1 - pt["a"] - pt["b"])
        beta = pt["beta"] * 4 + Fraction(1, 2)           # beta in [1.1, 2.3]
        out.append((ref, beta))
    return out


def checks(digits=CHECK_DIGITS):
    import mpmath

    from derive import enumeration
    from derive.checks import numeric_difference
    from derive.enumeration import exact
    from derive.preference import RHO, VALUES, PreferenceModel, mixture

    st = Stationarity().derive()
    out = [
        symbolic_check("stationarity-kkt", "(11)",
                       "KKT on the simplex at pi_old = pi gives Eq. (11) for every output: the "
                       "solved condition, with lambda eliminated, satisfies the printed form (cancel)",
                       sum(map(abs, st.claim_residue()))),
        symbolic_check("stationarity-multiplier", "(11)",
                       "the Lagrange multiplier equals E_pi P_G(.|pi) when pi and pi_ref sum to 1 "
                       "(expand)", st.multiplier_residue()),
        symbolic_check("stationarity-pairwise", "(12)",
                       "G=2, rewards 1, 1/2, 0: Eq. (11) with P_2 from the composition sum equals "
                       "Eq. (12) with pairwise win/loss probabilities (expand)",
                       sum(map(abs, pairwise_residue()))),
        symbolic_check("stationarity-limit", "(13)",
                       "G -> infinity: E_pi P_inf = 0 and Eq. (11) becomes Eq. (13) (expand)",
                       sum(map(abs, limit_residue()))),
    ]
    # Numeric: the printed (11) against the derived solution at seeded points.
    names = [str(s) for s in st.pi + st.ref + st.P] + ["beta"]
    pts = random_points(6, names, seed=CHECK_SEED + 11, low=0.1, high=0.9)
    errs = []
    for o in range(3):
        E = st.mean_preference
        errs += numeric_difference(claims.stationarity(st.policy[o], st.ref[o], st.P[o], E), 0,
                                   pts, digits)
    out.append(numeric_check("stationarity-kkt-numeric", "(11)",
                             "the printed (11) vanishes at the derived policy expression, 6 seeded "
                             "points, 3 outputs", errs, digits))
    # Independent path: the enumerated objective's gradient vanishes at the solution.
    margins, err_enum, err_two = [], {}, []
    for G in (2, 3):
        model = PreferenceModel(G, VALUES)
        err_enum[G] = []
        for ref, beta in _instances(2, CHECK_SEED + 20 + G):
            with mpmath.workdps(digits + 20):
                rho = [[exact(w) for w in row] for row in RHO]
                refm = [exact(r) for r in ref]
                bm = mpmath.mpf(beta.numerator) / beta.denominator

                def pref(pi):
                    q = mixture(pi, rho)
                    phis = [model.phi_numeric(j, q) for j in range(3)]
                    return [mpmath.fsum(rho[o][j] * phis[j] for j in range(3)) for o in range(3)]

                pi = solve_fixed_point(pref, refm, bm)
                P = pref(pi)
                E = mpmath.fsum(a * b for a, b in zip(pi, P))
                margins += [E + bm - P[o] for o in range(3)] + list(pi)
                grad = enumeration.objective_gradient(pi, refm, RHO, VALUES, G, bm)
                gbar = mpmath.fsum(a * b for a, b in zip(pi, grad))
                err_enum[G] += [g - gbar for g in grad]
                if G == 2:
                    # Eq. (12) as printed, with win/loss probabilities from the reward law.
                    for o in range(3):
                        win = mpmath.fsum(pi[u] * rho[o][j] * rho[u][l] for u in range(3)
                                          for j in range(3) for l in range(3) if j > l)
                        lose = mpmath.fsum(pi[u] * rho[o][j] * rho[u][l] for u in range(3)
                                           for j in range(3) for l in range(3) if j < l)
                        err_two.append((1 - (win - lose) / bm) * pi[o] - refm[o])
        out.append(numeric_check(
            f"stationarity-enumeration-G{G}", "(11)",
            f"G={G}, three outputs with noisy rewards: at the numerical solution of the derived "
            "condition, the gradient of the exhaustively enumerated objective J(pi'; pi) is "
            "constant over outputs (mp.diff), 2 seeded instances", err_enum[G], digits,
            method=ENUMERATION))
    out.append(numeric_check(
        "stationarity-pairwise-numeric", "(12)",
        "G=2, noisy rewards: the printed (12) holds at the numerical solution of the derived "
        "condition, 2 seeded instances", err_two, digits))
    out.append(inequality_check(
        "stationarity-support-bound", "(11)",
        "every output kept with positive probability has P_G(o|pi) < E_pi P_G + beta, and "
        "pi(o) > 0, at the solutions above (G=2,3)", margins, digits))
    return out


def section():
    st = Stationarity("o").derive()
    pi, ref, P = st.pi[0], st.ref[0], st.P[0]
    beta, lam = S.beta, S.lam
    sec = Section("stationarity", "Stationary policies", "(11)--(13)",
                  "A stationary policy maximises the GRPO objective when the sampling policy is "
                  "set equal to it (Appendix A).")
    sec.step("Ignoring clipping, the objective seen by $\\pi$ when the groups are drawn from "
             "$\\pi_{\\mathrm{old}}$ is",
             equation("J(\\pi; \\pi_{\\mathrm{old}})",
                      "\\sum_o \\pi(o)\\, P_G(o \\mid \\pi_{\\mathrm{old}}) - \\beta D(\\pi; "
                      "\\pi_{\\mathrm{old}})"), "stationarity-objective")
    sec.step("With a multiplier $\\lambda$ for the constraint that $\\pi$ sums to one, the partial "
             "derivative of the Lagrangian at $\\pi_{\\mathrm{old}} = \\pi$, for an output with "
             "$\\pi(o) > 0$, is",
             condition(sec, "stationarity-kkt", "(11)",
                       U(Add, P, -U(Mul, beta, U(Add, 1, -frac(ref, pi))), -lam), Integer(0),
                       st.conditions[0]), "stationarity-kkt")
    sec.step("Solving for $\\pi(o)$,",
             value(sec, "stationarity-solved", "(11)", "\\pi(o)",
                   frac(U(Mul, beta, ref), U(Add, beta, lam, -P)), st.policy_solution[0]),
             "stationarity-solved")
    sec.step("Multiplying each condition by $\\pi(o)$ and summing over outputs, with $\\pi$ and "
             "$\\pi_{\\mathrm{ref}}$ summing to one, gives the multiplier",
             equation("\\lambda", "\\sum_o \\pi(o) P_G(o \\mid \\pi) = \\mathbb{E}_{o \\sim \\pi} "
                      "P_G(o \\mid \\pi)"), "stationarity-multiplier")
    mean_P = Symbol("E_pi_P", real=True)
    kkt = st.conditions[0].subs(lam, mean_P)

    def eleven(numerator, scale):
        return U(Mul, U(Add, 1, -frac(numerator, scale)), pi)

    sec.step("and hence Eq. (11): either $\\pi(o) = 0$ or",
             condition(sec, "stationarity-general", "(11)",
                       eleven(U(Add, P, -mean_P), beta), ref, kkt) + ".",
             "stationarity-general")
    sec.step("Since $\\pi(o)$ and $\\pi_{\\mathrm{ref}}(o)$ are positive, every output kept with "
             "positive probability has $P_G(o \\mid \\pi) < \\mathbb{E}_{o' \\sim \\pi} "
             "P_G(o' \\mid \\pi) + \\beta$.")
    pairwise = Symbol("pairwise_o", real=True)
    sec.step("For $G = 2$ the preference is pairwise and has mean zero under $\\pi$ "
             "(Section [[sec:preference]]), which gives Eq. (12), with $o' \\sim \\pi$:",
             condition(sec, "stationarity-two", "(12)", eleven(pairwise, beta), ref,
                       kkt.subs({P: pairwise, mean_P: 0})), "stationarity-two")
    reward, mean_r, sigma = Symbol("r_o", real=True), Symbol("E_pi_r", real=True), \
        Symbol("sigma_pi", positive=True)
    sec.step("As $G$ grows, the preference tends to the standardised reward "
             "$(r(o) - \\mathbb{E}_{\\pi} r)/\\sigma(\\pi)$, whose mean under $\\pi$ is zero "
             "(Section [[sec:preference]]); this gives Eq. (13), and the effective "
             "regularisation is $\\beta\\, \\sigma(\\pi)$:",
             condition(sec, "stationarity-limit", "(13)",
                       eleven(U(Add, reward, -mean_r), U(Mul, beta, sigma)), ref,
                       kkt.subs({P: (reward - mean_r) / sigma, mean_P: 0})) + ".",
             "stationarity-limit")
    return sec
