"""Where arXiv:2502.18548v3 and the derivation differ, and what the paper leaves out.

A report, each statement of which is backed by a verification record:

* the paper's extracted text loses square roots that the paper has (the std of
  Eq. (2), Eq. (18), Eq. (19) and ``pi(a) = sqrt(pi_ref(a))`` at
  ``beta = gamma``); the derivation has them;
* small slips a careful reader meets (``gamma_{a,b} = 0`` for ``!= 0`` in
  Appendix B.1, "asymmetric" for antisymmetric, ``pi_theta(q|q)``, the
  definition of ``gamma~`` in Appendix B.2) and the source of ``beta = 0.04``;
* results the paper states without derivation or leaves out, derived here:
  Eqs. (16) and (18); ``R_2 = 2 E[P(o > o')] - 1`` (true with the antisymmetric,
  tie-splitting preference, not with ``P(o > o') = P[r > r']``); the
  ``G -> infinity`` tie; ``G -> infinity`` is more reward-biased than ``G = 2``
  (``x_inf(beta, p) > x_2(beta, p)``); and the ``pi(o) = 0`` branch of the KKT
  conditions of Appendix A.

:func:`section` prints the report in ``results/sections/paper_notes.tex``;
:func:`checks` returns its records.
"""

from fractions import Fraction

import mpmath
from sympy import Rational, Symbol, cancel, diff, expand, factor, lambdify, solve, sqrt

from derive.numerics.context import mpf_exact
from derive.numerics.precision import CHECK_DIGITS
from derive.paper import claims
from derive.paper import symbols as S
from derive.verify.checks import ENUMERATION, Section, inequality_check, numeric_check, symbolic_check

x, p, beta, gamma = S.x, S.p, S.beta, S.gamma
#: pi_old(a) of a binary question.
y = Symbol("y", positive=True)


# -- Section 2.1: R_2 from the encoded G = 2 preference ---------------------------

def pair_probabilities(outputs):
    """``w[i][j] = P(r_i > r_j)`` for independent rewards of outputs i, j.

    ``w[i][j]`` and ``w[j][i]`` are free symbols (the tie probability is
    ``1 - w[i][j] - w[j][i]``); on the diagonal both are the same symbol, since
    two independent draws of the same output are exchangeable.
    """
    K = len(outputs)
    w = [[None] * K for _ in range(K)]
    for i in range(K):
        w[i][i] = Symbol(f"s_{outputs[i]}", nonnegative=True)
        for j in range(K):
            if j != i:
                w[i][j] = Symbol(f"w_{outputs[i]}{outputs[j]}", nonnegative=True)
    return w


def reward_preference_two(outputs="abc"):
    """``R_2 = E_{o~pi, o'~pi_old} E[A_1 | o, o']`` from the derived advantage.

    Returns ``(R_2, win, lose, win_antisymmetric, ties, pi, old)`` with the
    sums of the literal ``P(o > o') = P[r > r']`` (Section 2.1), of its mirror
    ``P(o' > o)``, of the antisymmetric ``P~(o > o') = P[r > r'] + P[r = r']/2``,
    and of the tie probability, all over ``o ~ pi``, ``o' ~ pi_old``.
    """
    from derive.paper.baselines import pairwise_expected_advantage

    e_adv, p_tilde, (w_, l_) = pairwise_expected_advantage()
    K = len(outputs)
    pi = S.policy_symbols("pi", outputs)
    old = S.policy_symbols("pi_old", outputs)
    pi = pi[:-1] + (1 - sum(pi[:-1]),)
    old = old[:-1] + (1 - sum(old[:-1]),)
    w = pair_probabilities(outputs)
    pairs = [(i, j) for i in range(K) for j in range(K)]

    def E(f):
        return expand(sum(pi[i] * old[j] * f(i, j) for i, j in pairs))

    R2 = E(lambda i, j: e_adv.subs({w_: w[i][j], l_: w[j][i]}, simultaneous=True))
    win = E(lambda i, j: w[i][j])
    lose = E(lambda i, j: w[j][i])
    anti = E(lambda i, j: p_tilde.subs({w_: w[i][j], l_: w[j][i]}, simultaneous=True))
    ties = E(lambda i, j: 1 - w[i][j] - w[j][i])
    return R2, win, lose, anti, ties, pi, old


# -- Appendix B.1: Eqs. (16) and (18) ----------------------------------------------

def binary_reward_preference_two():
    """``E_{o~pi} P_2(o | pi_old)`` for a binary question (Eq. (16)), from the derived
    expected pairwise advantage; ``gamma = P(a > b) - P(b > a)``."""
    from derive.paper.baselines import pairwise_expected_advantage

    e_adv, _, (w_, l_) = pairwise_expected_advantage()
    w = pair_probabilities("ab")
    A = [[e_adv.subs({w_: w[i][j], l_: w[j][i]}, simultaneous=True) for j in range(2)]
         for i in range(2)]
    old, pi = (y, 1 - y), (x, 1 - x)
    P2 = [sum(old[j] * A[i][j] for j in range(2)) for i in range(2)]
    value = expand(sum(pi[i] * P2[i] for i in range(2)))
    return value, expand(w[0][1] - w[1][0]), w


def binary_reward_preference_limit(sign):
    """``(E_pi r - E_old r)/sigma(pi_old)`` for deterministic rewards ``r(a)``,
    ``r(b) = r(a) - sign d`` (``d > 0``): the left side of Eq. (18), derived."""
    d = Symbol("d", positive=True)
    ra = Symbol("r_a", real=True)
    rb = ra - sign * d
    mean = lambda q: q * ra + (1 - q) * rb
    var = factor(expand(y * ra**2 + (1 - y) * rb**2 - mean(y) ** 2))
    return cancel((mean(x) - mean(y)) / sqrt(var))


# -- Section 2.3.1: the G -> infinity tie and G -> infinity against G = 2 ---------

def tie_residues():
    """A tie ``r(a) = r(b)``: every group has equal rewards, every advantage is 0
    (the 0/0 convention of Eq. (2)), so ``P_G = 0`` for every G; (11) then gives
    ``pi = pi_ref``.  Returns the residues (0 proves it)."""
    from derive.paper.advantage import tie_residue
    from derive.paper.stationarity import Stationarity

    adv = [a for G in (2, 3, 4, 8) for a in tie_residue(G)]
    st = Stationarity("ab").derive()
    zero = {P: 0 for P in st.P}
    policy = [cancel(pol.subs(zero) - r) for pol, r in zip(st.policy, st.ref)]
    # the binary G -> infinity condition with sign(r(a) - r(b)) = 0: P_G = 0 for every G, so
    # P_inf = 0 too, and the kernel of (11) gives beta (x - p) = 0
    from derive.paper.binary import stationary_numerator

    cond, _ = stationary_numerator(0, 0)
    limit = solve(cond, x)
    return adv, policy, limit


def reward_bias_residues():
    """``G -> infinity`` against ``G = 2`` (``gamma = 1``): symbolic steps.

    With ``F_2 = beta (x - p) - x (1 - x)`` (Eq. (17)) and
    ``F_inf = beta (x - p) - sqrt(x (1 - x))`` (Eq. (19)), both derived:

    * ``F_inf - F_2 = u - sqrt(u)`` with ``u = x (1 - x)``;
    * ``1/4 - u = (x - 1/2)^2``, so ``u <= 1/4 < 1`` and ``u - sqrt(u) < 0`` on ``(0, 1)``;
    * ``F_inf'' = 1/(4 u^(3/2)) > 0``: ``F_inf`` is convex, negative at ``p``, positive
      at 1, so it has one root ``x_inf`` in ``(p, 1)`` and is negative on ``[p, x_inf)``.

    Since ``F_inf(x_2) = F_2(x_2) + u - sqrt(u) < 0``, ``x_2 < x_inf``.
    """
    from derive.paper import closed_forms

    F2 = closed_forms.quadratic_two().subs(gamma, 1)
    Finf = closed_forms.unsquared_limit()
    u = Symbol("u", positive=True)
    res = {}
    res["gap"] = expand(Finf - F2 - (x * (1 - x) - sqrt(x) * sqrt(1 - x)))
    res["quarter"] = expand(Rational(1, 4) - x * (1 - x) - (x - Rational(1, 2)) ** 2)
    curv = diff(Finf, x, 2)
    res["convex"] = expand(cancel(expand(curv.subs(1 - x, u) * 4 * x**Rational(3, 2)
                                         * u**Rational(3, 2))).subs(u, 1 - x)) - 1
    res["ends"] = expand(Finf.subs(x, 1) - beta * (1 - p)) + expand(
        Finf.subs(x, p) + sqrt(p) * sqrt(1 - p))
    return res


#: Dense grid of the reward-bias inequality: p in (0, 1) and beta over four decades.
BIAS_P = tuple(Fraction(k, 100) for k in range(1, 100)) + (Fraction(1, 1000), Fraction(999, 1000))
BIAS_BETA = tuple(Fraction(b) for b in ("0.001", "0.01", "0.02", "0.04", "0.1", "0.2", "0.5", "1",
                                        "2", "5", "10", "100"))


def reward_bias_margins(digits=CHECK_DIGITS):
    """``x_inf(beta, p) - x_2(beta, p)`` (gamma = 1) on the dense grid, from the derived
    closed forms (15) and (14), at *digits* (+10 guard) digits."""
    from derive.paper import closed_forms

    f2 = lambdify((p, beta), closed_forms.policy_two().subs(gamma, 1), "mpmath")
    fi = lambdify((p, beta), closed_forms.policy_limit(), "mpmath")
    out = []
    with mpmath.workdps(digits + 10):
        for bv in BIAS_BETA:
            B = mpf_exact(bv)
            for pv in BIAS_P:
                P = mpf_exact(pv)
                out.append(fi(P, B) - f2(P, B))
    return out


# -- Appendix A: the pi(o) = 0 branch of the KKT conditions -------------------------

class BoundaryBranch:
    """KKT on the simplex with ``pi(c) = pi_old(c) = 0`` and ``a, b`` in the support.

    Appendix A writes, for each output, "either ``pi(o) = 0`` or (11)", and
    eliminates the multiplier with ``sum_o pi_ref(o) = 1``.  On the branch where
    some ``pi(o) = 0`` with ``pi_ref(o) > 0`` that sum runs over the support only:

    * the multiplier is ``lambda = E_pi P_G - beta pi_ref(Z)`` (``Z`` the zero set),
      not ``E_pi P_G``, and the support condition reads
      ``(pi_ref(S) - (P_G(o|pi) - E_pi P_G)/beta) pi(o) = pi_ref(o)``;
    * an output ``c`` of the zero set has ``dJ/dpi(c) = P_G(c | pi_old)`` (its
      penalty term carries the weight ``pi_old(c) = 0``) when ``J`` is written as
      Eq. (6), ``sum_o pi(o) P_G(o | pi_old)``; its KKT multiplier
      ``mu_c = lambda - P_G(c|pi)`` must be ``>= 0``.
    """

    def derive(self):
        from derive.paper.penalty import Penalty

        pen = Penalty("abc")
        self.pi, self.ref, self.old = pen.pi, pen.ref, pen.old
        self.P = S.preference_symbols("abc")
        J = sum(a * b for a, b in zip(self.pi, self.P)) - beta * pen.expected
        L = J - S.lam * (sum(self.pi) - 1)
        on = {self.old[0]: self.pi[0], self.old[1]: self.pi[1]}
        self.grad_zero = expand(diff(L, self.pi[2]).subs(self.old[2], 0))   # P_c - lambda
        conds = [cancel(expand(diff(L, q).subs(on))) for q in self.pi[:2]]
        sols = [solve(c, q)[0] for c, q in zip(conds, self.pi[:2])]
        # multiply each support condition by pi(o) and sum; pi(a) + pi(b) = 1 on the support
        summed = expand(sum(cancel(c * q) for c, q in zip(conds, self.pi[:2])))
        summed = summed.subs(self.pi[1], 1 - self.pi[0])
        self.multiplier = expand(solve(summed, S.lam)[0])
        self.mean_preference = self.pi[0] * self.P[0] + (1 - self.pi[0]) * self.P[1]
        self.support_policy = [cancel(sol.subs(S.lam, self.multiplier)) for sol in sols]
        return self

    def multiplier_residue(self):
        """``lambda - (E_pi P - beta pi_ref(c))`` with ``pi_ref(c) = 1 - pi_ref(a) - pi_ref(b)``."""
        refc = 1 - self.ref[0] - self.ref[1]
        return expand(self.multiplier - self.mean_preference + beta * refc)

    def paper_multiplier_gap(self):
        """``lambda - E_pi P`` (the multiplier that gives (11)): ``-beta pi_ref(c)``, not 0."""
        return expand(self.multiplier - self.mean_preference)

    def support_residue(self):
        """The support condition with ``pi_ref(S) = pi_ref(a) + pi_ref(b)`` at the derived
        policy (``pi(a)`` on both sides; ``pi(b) = 1 - pi(a)``)."""
        E = self.mean_preference
        refS = self.ref[0] + self.ref[1]
        return [cancel((refS - (P - E) / beta) * sol - r)
                for P, r, sol in zip(self.P[:2], self.ref[:2], self.support_policy)]

    @staticmethod
    def binary_vertex():
        """``mu_b`` at the vertex ``pi = (1, 0)`` of a binary question, G = 2, rewards 1, 0.

        KKT on outputs ``a, b`` with ``pi(b) = pi_old(b) = 0``: the support condition of
        ``a`` times ``pi(a) = 1`` gives ``lambda``; ``P_2(.|pi)`` comes from the derived
        preference model at the reward distribution of one draw from ``pi`` (reward 1
        surely).  Returns ``mu_b = lambda - P_2(b|pi)``, which is ``1 - beta (1 - p)``.

        >>> BoundaryBranch.binary_vertex()
        beta*p - beta + 1
        """
        from derive.paper.penalty import Penalty
        from derive.paper.preference import PreferenceModel

        pen = Penalty("ab")
        pi, ref, old = pen.pi, pen.ref, pen.old
        P = S.preference_symbols("ab")
        L = sum(a * b for a, b in zip(pi, P)) - beta * pen.expected - S.lam * (sum(pi) - 1)
        cond_a = cancel(expand(diff(L, pi[0]).subs(old[0], pi[0])))
        lam = solve(cancel(cond_a * pi[0]).subs(pi[0], 1), S.lam)[0]
        grad_b = expand(diff(L, pi[1]).subs(old[1], 0))          # P_b - lambda
        model = PreferenceModel(2, (0, 1))
        q = (0, 1)                                               # one draw from pi: reward 1
        values = {P[0]: model.phi(1, q), P[1]: model.phi(0, q), ref[0]: p}
        mu_b = -grad_b.subs(S.lam, lam).subs(values)
        return expand(mu_b)


def boundary_numeric(digits=CHECK_DIGITS):
    """Independent paths at the vertex ``pi = (1, 0)`` of a binary question (G = 2,
    deterministic rewards 1, 0): the enumerated ``P_2(b | delta_a)`` and the
    derivative in ``x`` at ``x = 1`` of Eq. (1) as written (groups from ``pi_old``,
    importance ratio), which has no reward term because ``b`` is never sampled."""
    from derive.verify import enumeration

    errs_p, errs_j = [], []
    with mpmath.workdps(digits + 10):
        values = (0, 1)
        rho = ((0, 1), (1, 0))                        # a gets 1, b gets 0
        vertex = (mpmath.mpf(1), mpmath.mpf(0))
        errs_p.append(enumeration.preference(1, vertex, rho, values, 2) + 1)
        errs_p.append(enumeration.preference(0, vertex, rho, values, 2))
        for pv, bv in ((Fraction(1, 10), Fraction(1, 2)), (Fraction(1, 2), Fraction(1, 25)),
                       (Fraction(9, 10), Fraction(2))):
            P = mpf_exact(pv)
            B = mpf_exact(bv)
            ref = (P, 1 - P)
            def f(t, ref=ref, B=B):
                return enumeration.objective((t, 1 - t), vertex, ref, rho, values, 2, B)
            errs_j.append(mpmath.diff(f, 1) + B * (1 - P))
    return errs_p, errs_j


# -- the records ------------------------------------------------------------------

def checks():
    out = []
    R2, win, lose, anti, ties, _, _ = reward_preference_two()
    out.append(symbolic_check(
        "notes-r2-pairwise", "Sec. 2.1",
        "R_2 = E_{o~pi, o'~pi_old} E[A_1 | o, o'] from the derived G = 2 advantage equals the "
        "printed E[P(o > o') - P(o' > o)] with P(o > o') = P[r > r'], three outputs with "
        "independent stochastic rewards (expand)", expand(R2 - claims.reward_preference_two(win, lose))))
    out.append(symbolic_check(
        "notes-r2-antisymmetric", "Sec. 2.1",
        "R_2 = 2 E[P(o > o')] - 1 holds with the antisymmetric P(o > o') = P[r > r'] + "
        "P[r = r']/2, three outputs, any reward distributions (expand)",
        expand(R2 - claims.reward_preference_two_antisymmetric(anti))))
    out.append(symbolic_check(
        "notes-r2-literal-needs-ties", "Sec. 2.1",
        "with the literal P(o > o') = P[r > r'] of Section 2.1, 2 E[P(o > o')] - 1 - R_2 = "
        "-E[P(r = r')]: not antisymmetric whenever ties have positive probability, as for o' = o "
        "with deterministic rewards (expand)",
        expand(claims.reward_preference_two_antisymmetric(win) - R2 + ties)))
    value, gam, _ = binary_reward_preference_two()
    out.append(symbolic_check(
        "notes-eq16", "(16)",
        "binary, G = 2, any reward distributions: E_{o~pi} P_2(o|pi_old) = gamma_{a,b} "
        "(pi(a) - pi_old(a)), gamma_{a,b} = P(a > b) - P(b > a), from the derived pairwise "
        "advantage (expand)", expand(value - claims.binary_reward_preference_two(x, y, gam))))
    out.append(_eq16_enumeration())
    res18 = [cancel(binary_reward_preference_limit(s) - claims.binary_reward_preference_limit(x, y, s))
             for s in (1, -1)]
    out.append(symbolic_check(
        "notes-eq18", "(18)",
        "binary, G -> inf, deterministic rewards: (E_pi r - E_old r)/sigma(pi_old) = (pi(a) - "
        "pi_old(a)) sign(r(a) - r(b))/sqrt(pi_old(a)(1 - pi_old(a))), both signs (factor, "
        "cancel); the square root is needed", sum(map(abs, res18))))
    no_root = binary_reward_preference_limit(1) - (x - y) / (y * (1 - y))
    out.append(inequality_check(
        "notes-eq18-square-root", "(18)",
        "(18) without the square root (as the extracted text reads) differs from the derivation: "
        "|difference| > 0 at pi(a) = 1/2, pi_old(a) = 1/5",
        [mpmath.mpf(str(abs(no_root.subs({x: Rational(1, 2), y: Rational(1, 5)}).evalf(CHECK_DIGITS))))]))
    adv, policy, limit = tie_residues()
    out.append(symbolic_check(
        "notes-tie-limit", "(13), (15)",
        "a tie r(a) = r(b): every advantage of a constant group is 0 (G = 2, 3, 4, 8), so "
        "P_G = 0 and (11) gives pi = pi_ref; the G -> inf condition beta (x - p) = "
        "sign(r(a) - r(b)) sqrt(x(1-x)) gives x = p (solve)",
        sum(map(abs, adv)) + sum(map(abs, policy)) + (0 if limit == [p] else 1)))
    out.append(_tie_solver())
    bias = reward_bias_residues()
    labels = {"gap": "F_inf - F_2 = x(1-x) - sqrt(x(1-x)) identically (expand)",
              "quarter": "1/4 - x(1-x) = (x - 1/2)^2, so x(1-x) <= 1/4 < 1 and F_inf < F_2 on "
                         "(0, 1) (expand)",
              "convex": "F_inf'' = 1/(4 (x(1-x))^(3/2)) > 0: F_inf is convex (cancel)",
              "ends": "F_inf(p) = -sqrt(p(1-p)) < 0 < beta(1-p) = F_inf(1): one root x_inf in "
                      "(p, 1), and F_inf(x_2) < F_2(x_2) = 0 gives x_2 < x_inf (expand)"}
    for key, value in bias.items():
        out.append(symbolic_check(f"notes-bias-{key}", "Sec. 2.3.1",
                                  "G -> inf is more reward-biased than G = 2 (gamma = 1): "
                                  + labels[key], value))
    margins = reward_bias_margins()
    out.append(inequality_check(
        "notes-bias-grid", "Sec. 2.3.1",
        f"x_inf(beta, p) - x_2(beta, p) > 0 (closed forms (15), (14) with gamma = 1) on a dense "
        f"grid of {len(margins)} points, p in [0.001, 0.999], beta in [0.001, 100], at 50 digits",
        margins))
    br = BoundaryBranch().derive()
    out.append(symbolic_check(
        "notes-kkt-zero-multiplier", "App. A",
        "KKT with pi(c) = pi_old(c) = 0: dJ/dpi(c) = P_G(c|pi_old) - lambda (the penalty term of c "
        "has weight pi_old(c) = 0), and the multiplier is lambda = E_pi P_G - beta pi_ref(c), "
        "not the E_pi P_G of (11) (expand)",
        abs(br.multiplier_residue()) + abs(expand(br.grad_zero - (br.P[2] - S.lam)))
        + abs(expand(br.paper_multiplier_gap() + beta * (1 - br.ref[0] - br.ref[1])))))
    out.append(symbolic_check(
        "notes-kkt-zero-support", "App. A",
        "on that branch the support condition is (pi_ref(S) - (P_G(o|pi) - E_pi P_G)/beta) "
        "pi(o) = pi_ref(o) with pi_ref(S) = 1 - pi_ref(c) (cancel)",
        sum(map(abs, br.support_residue()))))
    out.append(symbolic_check(
        "notes-kkt-binary-vertex", "App. A",
        "binary, G = 2, rewards 1, 0, pi = (1, 0), J written as Eq. (6): lambda = P_2(a|pi) - "
        "beta(1 - p), and mu_b = lambda - P_2(b|pi) = 1 - beta(1 - p) (P_2 from the derived "
        "preference model), so the vertex satisfies KKT iff beta (1 - p) <= 1 = gamma (expand)",
        expand(BoundaryBranch.binary_vertex() - (1 - beta * (1 - p)))))
    errs_p, errs_j = boundary_numeric()
    out.append(numeric_check(
        "notes-kkt-vertex-enumeration", "App. A", "binary, G = 2, rewards 1, 0, pi_old = (1, 0): "
        "enumeration gives P_2(a|pi_old) = 0, P_2(b|pi_old) = -1 (= -gamma), at 50 digits",
        errs_p, CHECK_DIGITS, method=ENUMERATION))
    out.append(numeric_check(
        "notes-kkt-vertex-objective", "App. A",
        "binary, G = 2, pi_old = (1, 0): Eq. (1) as written (groups from pi_old, importance "
        "ratio) has dJ/dx = -beta(1 - p) at x = 1 (no reward term: b is never sampled), so the "
        "vertex is not stationary for it; by enumeration and mpmath.diff, 3 (p, beta), 50 digits",
        errs_j, CHECK_DIGITS, method=ENUMERATION))
    return out


def _eq16_enumeration(digits=CHECK_DIGITS):
    """Eq. (16) by enumeration: Bernoulli rewards, every group of two and outcome."""
    from derive.verify import enumeration

    errs = []
    with mpmath.workdps(digits + 10):
        values = (0, 1)
        for sa, sb, xv, yv in (("0.8", "0.3", "0.6", "0.25"), ("0.5", "0.5", "0.1", "0.9"),
                               ("0.2", "0.7", "0.45", "0.3")):
            sa, sb, xv, yv = (mpmath.mpf(v) for v in (sa, sb, xv, yv))
            rho = ((1 - sa, sa), (1 - sb, sb))
            old = (yv, 1 - yv)
            lhs = (xv * enumeration.preference(0, old, rho, values, 2)
                   + (1 - xv) * enumeration.preference(1, old, rho, values, 2))
            g = sa * (1 - sb) - sb * (1 - sa)             # P(a > b) - P(b > a)
            errs.append(lhs - g * (xv - yv))
    return numeric_check("notes-eq16-enumeration", "(16)",
                         "(16) by enumerating every group of two and every Bernoulli reward "
                         "outcome, 3 instances (one a tie, gamma = 0), at 50 digits", errs,
                         digits, method=ENUMERATION)


def _tie_solver(digits=CHECK_DIGITS):
    """The general solver on a tie: its only stationary policy is pi_ref (G = 2, 8, inf)."""
    from derive.solve.solver import Problem, stationary_policies

    ref = (Fraction(1, 10), Fraction(9, 10))
    errs = []
    with mpmath.workdps(digits + 10):
        for G in (2, 8, None):
            pb = Problem.deterministic(ref=ref, rewards=(1, 1), beta=Fraction(1, 2), group=G)
            sols = stationary_policies(pb, digits=digits + 5, certify=False)
            if len(sols) != 1:
                errs.append(mpmath.mpf(1))
                continue
            errs.extend(mpmath.mpf(v) - mpf_exact(r)
                        for v, r in zip(sols[0].policy, ref))
    return numeric_check("notes-tie-solver", "(13), (15)",
                         "a tie r(a) = r(b) = 1, pi_ref = (1/10, 9/10), beta = 1/2: the general "
                         "solver's only stationary policy is pi_ref at G = 2, 8 and infinity, at "
                         "50 digits", errs, digits)


# -- the report ------------------------------------------------------------------

#: The text items (no formula to check): where the extracted text, not the paper, lacks a
#: square root, and the slips of the printed text.
EXTRACTION = (
    ('the population standard deviation in Eq. (2), $\\mathrm{std} = \\sqrt{(1/G) \\sum_i '
     '(r_i - \\mathrm{mean})^2}$'),
    ('Eq. (18), whose denominator is $\\sqrt{\\pi_{\\mathrm{old}}(a)(1 - '
     '\\pi_{\\mathrm{old}}(a))}$'),
    ('Eq. (19), $\\beta (x - p) = \\sqrt{x (1 - x)}$ (the quadratic and Eq. (15) are '
     'consistent only with it)'),
    '$\\pi(a) = \\sqrt{\\pi_{\\mathrm{ref}}(a)}$ at $\\beta = \\gamma_{a,b}$ (Section 2.3.1)',
)

SLIPS = (
    ("Appendix B.1 reads ``for the case where $\\gamma_{a,b} = 0$'' twice; the second, "
     'which leads to the quadratic (it divides by $\\gamma_{a,b}$), means $\\gamma_{a,b} '
     '\\neq 0$.'),
    ("Section 2.1 calls preferences with $P(o \\succ o') + P(o' \\succ o) = 1$ "
     "``asymmetric''; the property is antisymmetry, as Section 1.1 says."),
    ('Section 2.3.1 writes $\\pi_\\theta(q \\mid q)$ for $\\pi_\\theta(a \\mid q)$ in the '
     'comparison of the bounds $1/(1+\\beta^2)$ and $1 - \\beta$.'),
    ('Appendix B.2 defines $\\tilde\\gamma_{a,b} = \\mathrm{sign}(r(a \\mid b) > r(b \\mid '
     'q))$; meant is $\\mathrm{sign}(r(a \\mid q) - r(b \\mid q))$.'),
    ('Appendix A writes the non-negativity of the KKT multipliers as $\\gamma_0 \\geq 0$ for '
     '$\\gamma_o \\geq 0$ (and $\\gamma_o$ is not the margin $\\gamma_{a,b}$).'),
    ("The paper's value $\\beta = 0.04$ is attributed, in its footnote, to the default of a "
     "trainer (TRL's GRPOConfig at the time), not to DeepSeekMath."),
)


def section():
    sec = Section("paper_notes", "Where the paper and the derivation differ", "(2)--(19)",
                  "What a careful reader of arXiv:2502.18548v3 meets, and what the engine adds; "
                  "every formula below is backed by verification records (Table [[tab:verification]]).")
    sec.step("The extracted text of the paper loses square roots that the paper has, and that "
             "the derivation produces: " + "; ".join(EXTRACTION) + ".  The engine keeps them "
             "(records binary-limit-condition, binary-two-beta-eq-gamma, advantage-pairwise-G2, "
             "notes-eq18).")
    sec.step("Small slips of the printed text: " + "  ".join(SLIPS))
    sec.step("Eqs. (16) and (18) of Appendix B.1 are now derived and checked.  Eq. (16) holds "
             "for any reward distributions; from the derived expected advantage "
             "$\\mathbb{E}[A_1 \\mid o, o'] = P(r > r') - P(r < r')$,",
             "\\mathbb{E}_{o \\sim \\pi} P_2(o \\mid \\pi_{\\mathrm{old}}) &= \\gamma_{a,b} "
             "\\bigl(\\pi(a) - \\pi_{\\mathrm{old}}(a)\\bigr),", "notes-eq16")
    sec.step("also checked by enumerating every group of two with Bernoulli rewards.  Eq. (18) "
             "needs its square root:",
             "\\frac{\\mathbb{E}_{\\pi} r - \\mathbb{E}_{\\pi_{\\mathrm{old}}} r}"
             "{\\sigma(\\pi_{\\mathrm{old}})} &= \\frac{\\pi(a) - \\pi_{\\mathrm{old}}(a)}"
             "{\\sqrt{\\pi_{\\mathrm{old}}(a)(1 - \\pi_{\\mathrm{old}}(a))}} \\\\ "
             "&\\quad \\times \\mathrm{sign}\\bigl(r(a) - r(b)\\bigr).", "notes-eq18")
    sec.step("$R_2 = 2\\,\\mathbb{E}[P(o \\succ o')] - 1$ (Section 2.1) holds for the antisymmetric "
             "preference $P(o \\succ o') = P(r > r') + \\tfrac12 P(r = r')$.  With the literal "
             "$P(o \\succ o') = P(r > r')$ of Section 2.1 it is off by the tie probability:",
             "2\\,\\mathbb{E}[P(r > r')] - 1 - R_2 &= -\\mathbb{E}[P(r = r')],", "notes-r2")
    sec.step("which is never zero with deterministic rewards, since $o' = o$ ties.")
    sec.step("A tie $r(a) = r(b)$ at $G \\to \\infty$ (stated, not derived, in Section 2.3.1): "
             "every group has equal rewards, every advantage is $0$ by the $0/0$ convention, so "
             "$P_G \\equiv 0$ for every $G$ and (11) gives $\\pi = \\pi_{\\mathrm{ref}}$; the "
             "general solver finds $\\pi_{\\mathrm{ref}}$ and nothing else.")
    sec.step("``The aggregation of preferences is more biased towards the reward preference than "
             "for the case of groups of size two'' (Section 2.3.1) is an inequality between the "
             "stationary policies, not only between their lower bounds $1/(1+\\beta^2)$ and "
             "$1 - \\beta$.  With $F_2 = \\beta(x - p) - x(1 - x)$ and "
             "$F_\\infty = \\beta(x - p) - \\sqrt{x(1-x)}$, for $0 < x < 1$",
             "F_\\infty(x) - F_2(x) &= x(1-x) - \\sqrt{x(1-x)} < 0,",
             "notes-bias")
    sec.step("since $x(1-x) \\leq 1/4$; $F_\\infty$ is convex, negative at $p$ and positive at "
             "$1$, so $F_\\infty(x_2) < 0$ puts its root above $x_2$: "
             "$x_\\infty(\\beta, p) > x_2(\\beta, p)$ for all $\\beta > 0$, $0 < p < 1$ "
             "($\\gamma = 1$), also checked on a dense grid.")
    sec.step("Appendix A stops at ``either $\\pi(o) = 0$ or (11)''.  On the branch where "
             "$\\pi(c) = 0 < \\pi_{\\mathrm{ref}}(c)$ for the outputs $c$ of a set $Z$, the "
             "multiplier is not $\\mathbb{E}_\\pi P_G$ but",
             "\\lambda &= \\mathbb{E}_\\pi P_G - \\beta\\, \\pi_{\\mathrm{ref}}(Z), \\qquad "
             "\\mu_c = \\lambda - P_G(c \\mid \\pi) \\geq 0,", "notes-kkt")
    sec.step("and the support condition reads $(\\pi_{\\mathrm{ref}}(S) - (P_G(o \\mid \\pi) - "
             "\\mathbb{E}_\\pi P_G)/\\beta)\\,\\pi(o) = \\pi_{\\mathrm{ref}}(o)$.  Whether a vertex "
             "qualifies depends on how $J(\\cdot\\,; \\pi_{\\mathrm{old}})$ is read off the support "
             "of $\\pi_{\\mathrm{old}}$: with Eq. (6), $\\sum_o \\pi(o) P_G(o \\mid "
             "\\pi_{\\mathrm{old}})$, the binary vertex $\\pi(a) = 1$ at $G = 2$ has "
             "$\\mu_b = \\gamma - \\beta(1 - p)$ (checked for rewards $1, 0$, $\\gamma = 1$) "
             "and satisfies the conditions when "
             "$\\beta(1 - p) \\leq \\gamma$; with Eq. (1) as written (groups drawn from "
             "$\\pi_{\\mathrm{old}}$, importance ratios), $b$ is never sampled, the reward term "
             "vanishes and $dJ/dx = -\\beta(1 - p) < 0$ at $x = 1$, so it does not.  With the k3 "
             "penalty and $\\beta > 0$ the engine's solver reports neither: it follows the field "
             "at $\\pi_{\\mathrm{old}} = \\pi$, which that penalty makes point into the simplex "
             "near every face.")
    return sec
