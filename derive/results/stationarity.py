"""The section and the checks of stationary policies of GRPO, arXiv:2502.18548v3, Section 2.3 and Appendix A.

Its derivation, :mod:`derive.paper.stationarity`, is checked here against the
claims and an independent path.
"""

from sympy import Add, Integer, Mul, Symbol

from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED
from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.latex import equation
from derive.paper.stationarity import Stationarity, limit_residue, pairwise_residue, solve_fixed_point
from derive.verify.checks import (
    ENUMERATION,
    Section,
    inequality_check,
    numeric_check,
    random_points,
    symbolic_check,
)
from derive.verify.display import U, condition, frac, value


#: Instances of the numeric checks: reward distributions of three outputs on
#: three values (noisy), from :mod:`derive.paper.preference`.
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

    from derive.numerics.context import mpf_exact
    from derive.paper.preference import RHO, VALUES, PreferenceModel, mixture
    from derive.verify import enumeration
    from derive.verify.checks import numeric_difference

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
                rho = [[mpf_exact(w) for w in row] for row in RHO]
                refm = [mpf_exact(r) for r in ref]
                bm = mpf_exact(beta)

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
