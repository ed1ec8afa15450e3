"""The reward preference model, arXiv:2502.18548v3, Section 2.1, Eqs. (5)-(6).

The preference of output ``o`` against a policy ``pi'`` is the expected
advantage of ``o`` in a group whose other G - 1 members are drawn from ``pi'``:

    P_G(o | pi') = E[A_1 | o_1 = o, o_2..o_G ~ pi' iid]           (Eq. (6))

It depends on ``pi'`` only through ``q``, the distribution of the reward of one
draw from ``pi'`` (a mixture over outputs, reward noise included).  For rewards
on a finite value set ``v_0 < ... < v_{m-1}``:

    P_G(o | pi') = sum_j rho_o(v_j) Phi_j(q),
    Phi_j(q) = sum_{n: |n| = G-1} multinomial(G-1; n) prod_k q_k^{n_k} A(v_j; n),

a finite sum over compositions ``n`` of G - 1 into m parts, where
``A(v_j; n)`` is the advantage (Eq. (2)) of ``v_j`` in the group made of
``v_j`` and ``n_k`` copies of each ``v_k``.  For 0/1 rewards this is a binomial
sum with G terms.  :class:`PreferenceModel` builds these sums from
:class:`~derive.advantage.Advantage`, so the preference model is derived from
the encoded advantage, never typed in.
"""

from functools import cached_property

from sympy import (
    Add,
    Mul,
    Rational,
    Symbol,
    binomial,
    cancel,
    combsimp,
    expand,
    factor,
    factorial,
    limit,
    oo,
    sqrt,
)

from derive import claims
from derive import symbols as S
from derive.advantage import Advantage
from derive.checks import (
    CHECK_DIGITS,
    CHECK_SEED,
    ENUMERATION,
    Section,
    numeric_check,
    random_points,
    symbolic_check,
)
from derive.display import U, frac, value
from derive.latex import equation, latex


def compositions(total, parts):
    """All tuples of *parts* non-negative integers summing to *total*, sorted."""
    if parts == 1:
        return [(total,)]
    return [(first,) + rest for first in range(total + 1)
            for rest in compositions(total - first, parts - 1)]


class PreferenceModel:
    """``P_G(o | pi')`` for rewards on the finite value set *values* (Eq. (6)).

    >>> from sympy import Rational
    >>> model = PreferenceModel(2, (0, 1))
    >>> model.phi(1, (1 - S.q, S.q))
    1 - q
    """

    def __init__(self, G, values):
        self.G = int(G)
        self.values = tuple(Rational(v) for v in values)
        if list(self.values) != sorted(set(self.values)):
            raise ValueError("reward values must be distinct and increasing")
        self.advantage = Advantage(self.G)
        self._phi, self._values = {}, {}

    @cached_property
    def compositions(self):
        return compositions(self.G - 1, len(self.values))

    def group_advantage(self, j, n):
        """``A(v_j; n)``: advantage of ``v_j`` among ``n_k`` copies of each ``v_k``."""
        rewards = [self.values[j]] + [v for v, c in zip(self.values, n) for _ in range(c)]
        return self.advantage.advantage(0, rewards)

    def weight(self, n, q):
        """Multinomial probability of the composition *n* under *q*."""
        coeff = factorial(self.G - 1)
        for c in n:
            coeff /= factorial(c)
        return coeff * Mul(*(qk**c for qk, c in zip(q, n)))

    def phi(self, j, q):
        """``Phi_j(q) = E[A_1 | r_1 = v_j]`` with the others' rewards iid from *q*."""
        key = (j, tuple(q))
        if key not in self._phi:
            self._phi[key] = Add(*(self.weight(n, q) * self.group_advantage(j, n)
                                   for n in self.compositions))
        return self._phi[key]

    def phi_numeric(self, j, q):
        """``Phi_j(q)`` at numeric *q* (mpmath numbers), at the current mp.dps.

        Evaluates the same composition sum term by term: each exact advantage
        ``A(v_j; n)`` is evaluated once with ``evalf``.
        """
        import mpmath

        total = mpmath.mpf(0)
        for n in self.compositions:
            a = self._advantage_value(j, n, mpmath.mp.dps)
            if a == 0:
                continue
            w = mpmath.mpf(int(self.weight(n, (1,) * len(n))))
            total += w * mpmath.fprod(qk**c for qk, c in zip(q, n)) * a
        return total

    def _advantage_value(self, j, n, dps):
        import mpmath

        key = (j, n, dps)
        if key not in self._values:
            self._values[key] = mpmath.mpmathify(str(self.group_advantage(j, n).evalf(dps + 5)))
        return self._values[key]

    def preference(self, rho, q):
        """``P_G(o | pi')`` for an output with reward distribution *rho* (Eq. (6))."""
        return Add(*(w * self.phi(j, q) for j, w in enumerate(rho) if w != 0))


def binary_coefficients():
    """Advantages in a 0/1 group for symbolic G: the binomial form of Eq. (6).

    A member with reward 1 among ``k`` other ones and ``G - 1 - k`` zeros has
    advantage ``sqrt((G-1-k)/(k+1))``; a member with reward 0 among ``k`` ones
    has ``-sqrt(k/(G-k))``.  Derived from the population variance of the group
    for symbolic ``k`` and ``u = G - 1 - k > 0`` (away from a tie).

    Returns ``(A_one, claimed_one, A_zero, claimed_zero)`` and the symbols
    ``(u, w, k_one, k_zero)``: the count ``k`` of other ones is a non-negative
    integer for a one and positive for a zero.
    """
    u = Symbol("u", positive=True)       # G - 1 - k zeros besides a one
    kk = S.k
    G = kk + 1 + u
    m = (kk + 1) / G
    var = factor(((kk + 1) * (1 - m) ** 2 + u * m**2) / G)
    a_one = cancel((1 - m)) / sqrt(var)
    # a zero among k ones and G - 1 - k = u zeros: k + ... shift the count
    w = Symbol("w", positive=True)       # w = G - k zeros including itself
    kp = Symbol("k", positive=True)      # k >= 1 ones among the others
    G2 = kp + w
    m2 = kp / G2
    var2 = factor((kp * (1 - m2) ** 2 + w * m2**2) / G2)
    a_zero = -m2 / sqrt(var2)
    return (a_one, sqrt(u / (kk + 1)), a_zero, -sqrt(kp / w)), (u, w, kk, kp)


def binomial_sums(G, q=S.q):
    """``(U(q), L(q))`` for 0/1 rewards: ``Phi_1 = U`` and ``Phi_0 = -L``."""
    model = PreferenceModel(G, (0, 1))
    qq = (1 - q, q)
    return expand(model.phi(1, qq)), expand(-model.phi(0, qq))


def expectation_identity_general():
    """The reindexing behind ``E_pi P_G = 0`` for 0/1 rewards and any G.

    ``q U(q)`` and ``(1 - q) L(q)`` have the same terms after ``j = k + 1``
    because ``C(G-1, j-1) sqrt((G-j)/j) = C(G-1, j) sqrt(j/(G-j))``; the ratio
    of the binomials is ``j/(G-j)`` (``combsimp``).
    """
    j = Symbol("j", integer=True, positive=True)
    ratio = combsimp(binomial(S.G - 1, j - 1) / binomial(S.G - 1, j))
    return cancel(ratio - j / (S.G - j))


def limit_coefficients():
    """G -> infinity of the binomial coefficients at ``k = t G``: ``sqrt((1-t)/t)``."""
    t = Symbol("t", positive=True)
    one = limit(sqrt((S.G - 1 - t * S.G) / (t * S.G + 1)), S.G, oo)
    zero = limit(sqrt((t * S.G) / (S.G - t * S.G)), S.G, oo)
    return one, zero, t


#: An example with three outputs and noisy rewards on three values, used by the
#: enumeration checks: reward distributions over VALUES for outputs a, b, c.
VALUES = (Rational(0), Rational(1, 2), Rational(1))
RHO = ((Rational(1, 5), Rational(3, 10), Rational(1, 2)),
       (Rational(1, 2), Rational(1, 4), Rational(1, 4)),
       (Rational(0), Rational(1), Rational(0)))
#: Group sizes checked against enumeration and symbolically.
ENUMERATED = (2, 3, 4, 5)
BINOMIAL = (2, 3, 4, 5, 6)


def mixture(pi, rho):
    """``q``: distribution of the reward of one draw from *pi* (noise included)."""
    return tuple(sum(pi[o] * rho[o][j] for o in range(len(pi))) for j in range(len(rho[0])))


def claimed_binomial(G, q=S.q):
    """``sum_k C(G-1,k) q^k (1-q)^(G-1-k) sqrt((G-1-k)/(k+1))`` and its zero-side twin."""
    one = sum(binomial(G - 1, kk) * q**kk * (1 - q) ** (G - 1 - kk) * sqrt(Rational(G - 1 - kk, kk + 1))
              for kk in range(G))
    zero = sum(binomial(G - 1, kk) * q**kk * (1 - q) ** (G - 1 - kk) * sqrt(Rational(kk, G - kk))
               for kk in range(G))
    return expand(one), expand(zero)


def checks(digits=CHECK_DIGITS):
    import mpmath

    from derive import enumeration

    out = []
    (a1, c1, a0, c0), _ = binary_coefficients()
    out.append(symbolic_check(
        "preference-binomial-coefficients", "(6)",
        "0/1 rewards, any G: advantage of a 1 among k ones is sqrt((G-1-k)/(k+1)), of a 0 among "
        "k ones is -sqrt(k/(G-k)) (derived from the population variance; cancel)",
        cancel(a1 - c1) + cancel(a0 - c0)))
    for G in BINOMIAL:
        U, L = binomial_sums(G)
        cU, cL = claimed_binomial(G)
        out.append(symbolic_check(
            f"preference-binomial-G{G}", "(6)",
            f"G={G}: the composition sum for 0/1 rewards is the binomial sum with G terms (expand)",
            expand(U - cU) + expand(L - cL)))
    q0, q1 = Symbol("q_0", positive=True), Symbol("q_1", positive=True)
    qs = (q0, q1, 1 - q0 - q1)
    for G in ENUMERATED:
        model = PreferenceModel(G, VALUES)
        total = expand(sum(qs[j] * model.phi(j, qs) for j in range(3)))
        out.append(symbolic_check(
            f"preference-expectation-G{G}", "(6)",
            f"G={G}, three reward values: E_(o~pi) P_G(o|pi) = sum_j q_j Phi_j(q) = 0 for every q "
            "(expand)", total))
    out.append(symbolic_check(
        "preference-expectation-any-G", "(6)",
        "0/1 rewards, any G: q U(q) = (1-q) L(q) because C(G-1,j-1)/C(G-1,j) = j/(G-j) "
        "(combsimp), so E_(o~pi) P_G(o|pi) = 0", expectation_identity_general()))
    # G = 2: the pairwise-comparison form (5)/(12), for symbolic noisy rewards.
    r0, r1 = Symbol("rho_0", positive=True), Symbol("rho_1", positive=True)
    rho = (r0, r1, 1 - r0 - r1)
    model = PreferenceModel(2, VALUES)
    win = sum(rho[j] * qs[l] for j in range(3) for l in range(3) if VALUES[j] > VALUES[l])
    lose = sum(rho[j] * qs[l] for j in range(3) for l in range(3) if VALUES[j] < VALUES[l])
    out.append(symbolic_check(
        "preference-pairwise-G2", "(5)",
        "G=2, noisy rewards on three values: P_2(o|pi) = P(r(o) > r') - P(r(o) < r') with "
        "r' the reward of a draw from pi (expand)",
        expand(model.preference(rho, qs) - claims.preference_two(win, lose))))
    one, zero, t = limit_coefficients()
    s, a, b = (Symbol(n, positive=True) for n in "sab")
    qq = a / (a + b)                     # 0 < q < 1 without assumptions on 1 - q
    limit_form = s * one.subs(t, qq) - (1 - s) * zero.subs(t, qq)
    claim = claims.preference_limit(s, qq, sqrt(qq * (1 - qq)))
    out.append(symbolic_check(
        "preference-limit-bernoulli", "(13)",
        "G -> infinity, Bernoulli(s) rewards: the limit of the binomial coefficients at k = qG gives "
        "(s - q)/sqrt(q(1-q)), i.e. (r(o) - E r)/sigma with sigma^2 = q(1-q) including the noise "
        "(limit, q = a/(a+b), cancel)",
        cancel(limit_form - claim)))
    # Independent path: enumeration of every group and reward outcome.
    pts = random_points(3, ["a", "b"], seed=CHECK_SEED + 6, low=0.1, high=0.45)
    for G in ENUMERATED:
        model = PreferenceModel(G, VALUES)
        errs, sums = [], []
        with mpmath.workdps(digits + 15):
            for pt in pts[: 4 - G // 2]:
                pi = (mpmath.mpf(pt["a"].numerator) / pt["a"].denominator,
                      mpmath.mpf(pt["b"].numerator) / pt["b"].denominator)
                pi = pi + (1 - pi[0] - pi[1],)
                qv = mixture(pi, [[mpmath.mpf(w.p) / w.q for w in row] for row in RHO])
                phis = [model.phi_numeric(j, qv) for j in range(3)]
                formula = [mpmath.fsum(mpmath.mpf(w.p) / w.q * phis[j] for j, w in enumerate(RHO[o]))
                           for o in range(3)]
                enum = [enumeration.preference(o, pi, RHO, VALUES, G) for o in range(3)]
                errs += [abs(formula[o] - enum[o]) for o in range(3)]
                sums.append(mpmath.fsum(pi[o] * enum[o] for o in range(3)))
        out.append(numeric_check(
            f"preference-enumeration-G{G}", "(6)",
            f"G={G}, three outputs with noisy rewards on three values: the composition sum equals "
            "exhaustive enumeration of all groups and reward outcomes at 3 seeded policies",
            errs, digits, method=ENUMERATION))
        out.append(numeric_check(
            f"preference-expectation-enumeration-G{G}", "(6)",
            f"G={G}: E_(o~pi) P_G(o|pi) = 0 by exhaustive enumeration at 3 seeded policies",
            sums, digits, method=ENUMERATION))
    return out


def _derived_limit(r_o):
    """The G -> infinity preference derived in :mod:`derive.large_group` (Eq. (13))."""
    from derive.limit import preference_limit

    return preference_limit(r_o, S.mu, S.sigma)


def section():
    sec = Section("preference", "The reward preference model", "(5)--(6)",
                  "The preference of an output against a policy is its expected advantage in a "
                  "group whose other members are drawn from that policy.")
    sec.step("The engine encodes the preference of output $o$ against the policy $\\pi$ as",
             equation("P_G(o \\mid \\pi)",
                      "\\mathbb{E}\\bigl[A_1 \\bigm| o_1 = o,\\; o_2, \\dots, o_G \\sim \\pi\\bigr]"),
             "preference")
    sec.step("It depends on $\\pi$ only through the law $q$ of the reward of one draw from $\\pi$, "
             "reward noise included.  For rewards on the values $v_0 < \\dots < v_{m-1}$ it is a "
             "finite sum over the compositions $n = (n_0, \\dots, n_{m-1})$ of $G - 1$:",
             equation("P_G(o \\mid \\pi)", "\\sum_{j} \\rho_o(v_j)\\, \\Phi_j(q)") + " \\\\ "
             + equation("\\Phi_j(q)", "\\sum_{n} \\binom{G-1}{n_0, \\dots, "
                        "n_{m-1}} \\prod_k q_k^{n_k}\\, A(v_j; n)"),
             "preference-compositions")
    (a1, c1, a0, c0), (u, w, k_one, k_zero) = binary_coefficients()
    sec.step("For $0/1$ rewards, the population variance of a group with $k + 1$ ones among $G$ "
             "members gives the advantage of a one; with $u = G - 1 - k$,",
             value(sec, "preference-binomial-one", "(2)", "A(1; k)",
                   sqrt(frac(u, U(Add, k_one, 1)), evaluate=False), a1) + " \\\\ "
             + value(sec, "preference-binomial-zero", "(2)", "A(0; k)",
                     -sqrt(frac(k_zero, w), evaluate=False), a0) + " \\quad (w = G - k)",
             "preference-binomial-coefficients")
    qs = S.q
    U2, L2 = binomial_sums(2)
    U3, L3 = binomial_sums(3)
    sec.step("so the composition sum is a binomial sum with $G$ terms, $U(q)$ for a one and "
             "$-L(q)$ for a zero.  For $G = 2$ and $G = 3$ SymPy reduces them to",
             " \\\\ ".join(value(sec, f"preference-{name}-G{g}", "(6)",
                                 f"{name}(q)\\big|_{{G={g}}}", form, e)
                           for g, name, form, e in (
                               (2, "U", U(Add, 1, -qs), U2), (2, "L", qs, L2),
                               (3, "U", U(Mul, sqrt(2), U(Add, 1, -qs)), U3),
                               (3, "L", U(Mul, sqrt(2), qs), L3))),
             "preference-small-groups")
    sec.step("Because the advantages of a group sum to zero, the preference has mean zero "
             "under the policy it is measured against; for $0/1$ rewards and any $G$ this is the "
             "reindexing $q\\, U(q) = (1 - q)\\, L(q)$:",
             equation("\\mathbb{E}_{o \\sim \\pi} P_G(o \\mid \\pi)", "0."),
             "preference-mean-zero")
    sec.step("For $G = 2$ the advantage is a sign, and the preference is a pairwise comparison "
             "as in (5):",
             equation("P_2(o \\mid \\pi)", "\\mathbb{E}_{o' \\sim \\pi}\\bigl[P(r(o) > r(o')) "
                      "- P(r(o) < r(o'))\\bigr]."), "preference-pairwise")
    one, zero, t = limit_coefficients()
    sec.step("As $G$ grows the binomial weights concentrate at $k = tG$ with $t = q$, and the "
             "coefficients tend to",
             value(sec, "preference-limit-one", "(13)", "\\sqrt{\\tfrac{G-1-tG}{tG+1}}",
                   sqrt(frac(U(Add, 1, -t), t), evaluate=False), one) + " \\\\ "
             + value(sec, "preference-limit-zero", "(13)", "\\sqrt{\\tfrac{tG}{G - tG}}",
                     sqrt(frac(t, U(Add, 1, -t)), evaluate=False), zero),
             "preference-limit-coefficients")
    sec.step("so that, with $\\mu$ and $\\sigma$ the mean and standard deviation of the reward of "
             "one draw from $\\pi$ (noise included),",
             equation("P_\\infty(o \\mid \\pi)",
                      latex(_derived_limit(Symbol("r_o", real=True))) + "."),
             "preference-limit")
    return sec
