"""Baselines beside GRPO, arXiv:2502.18548v3, Eqs. (3)-(5).

* RLHF (3)-(4): maximising ``E_pi r - beta KL(pi || pi_ref)`` gives the
  logarithmic pooling ``pi(o) ∝ pi_ref(o) exp(r(o)/beta)``.
* NLHF (5): the symmetric Nash equilibrium of the game with payoff
  ``J(pi, pi') = E_{o~pi, o'~pi'}[P(o > o') - beta log(pi(o)/pi_ref(o))
  + beta log(pi'(o')/pi_ref(o'))]``.  The paper takes the pairwise preference
  antisymmetric, ``P(o' > o) = 1 - P(o > o')`` (Section 1.1), hence
  ``P(o > o) = 1/2``.  :class:`NLHF` encodes the payoff with that preference,
  derives the best response on the simplex (a Lagrangian, as for RLHF) and sets
  ``pi' = pi``: the fixed point ``pi(o) ∝ pi_ref(o) exp(E_{o'~pi} P(o > o')/beta)``.

For a binary question the exponent difference ``E P(a > o') - E P(b > o')``
is ``P(a > b) - 1/2 = gamma/2`` whatever ``pi``, so NLHF is logistic:
``x/(1-x) = p/(1-p) e^{gamma/(2 beta)}``.  For any number of outputs NLHF at
``beta`` is GRPO with the direct-KL penalty at ``G = 2`` and ``2 beta``: the
``G = 2`` preference is ``P_2(o|pi) = 2 E_{o'~pi} P(o > o') - 1`` and the
constant cancels in the normalisation (:meth:`NLHF.direct_kl_residue`).
"""

from functools import cache

import mpmath
from sympy import Rational, Symbol, cancel, diff, exp, expand, expand_log, log, powsimp, solve

from derive.numerics.roots import bisect
from derive.paper import claims
from derive.paper import symbols as S

x, p, beta, gamma = S.x, S.p, S.beta, S.gamma


#: P(o > o) under the paper's antisymmetry.
HALF = Rational(1, 2)


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


def antisymmetric_preference(outputs, diagonal=HALF):
    """The matrix ``P[o][o'] = P(o > o')`` with ``P(o' > o) = 1 - P(o > o')``.

    One symbol ``P_{oo'}`` (``0 <= P <= 1``) per unordered pair; the diagonal is
    ``1/2`` (antisymmetry at ``o' = o``).  *diagonal* exists only to show what
    another diagonal (the ``P(a > a) = 0`` of an earlier version) breaks.

    >>> antisymmetric_preference("ab")
    [[1/2, P_ab], [1 - P_ab, 1/2]]
    """
    K = len(outputs)
    P = [[None] * K for _ in range(K)]
    for i in range(K):
        P[i][i] = diagonal
        for j in range(i + 1, K):
            s = Symbol(f"P_{outputs[i]}{outputs[j]}", nonnegative=True)
            P[i][j], P[j][i] = s, 1 - s
    return P


def pairwise_expected_advantage():
    """``E[A_1 | o_1 = o, o_2 = o']`` at G = 2 and the antisymmetric preference.

    The advantage is the derived one (:class:`derive.paper.advantage.Advantage`, with
    the 0/0 convention) at the three orderings of two rewards; ``w``, ``l`` and
    ``t = 1 - w - l`` are the probabilities that ``o``'s reward is above, below
    or equal to ``o'``'s.  Returns ``(E[A_1], P~)`` with the tie-splitting
    ``P~(o > o') = w + t/2``, which is antisymmetric (``P~(o' > o) = l + t/2``)
    even when ties have positive probability, as at ``o' = o``.
    """
    from derive.paper.advantage import Advantage

    adv = Advantage(2)
    w, l = Symbol("w", nonnegative=True), Symbol("l", nonnegative=True)
    t = 1 - w - l
    above, below, tie = (adv.advantage(0, r) for r in ((1, 0), (0, 1), (1, 1)))
    return expand(w * above + l * below + t * tie), w + t / 2, (w, l)


class NLHF:
    """NLHF, arXiv:2502.18548v3, Eq. (5): payoff, best response, symmetric equilibrium.

    >>> nl = NLHF("ab").derive()
    >>> nl.binary_policy
    p*exp(gamma/(2*beta))/(p*exp(gamma/(2*beta)) - p + 1)
    """

    def __init__(self, outputs="abc", diagonal=HALF):
        self.outputs = outputs
        self.pi = S.policy_symbols("pi", outputs)
        self.opp = S.policy_symbols("pi_opp", outputs)        # the other player's pi'
        self.ref = S.policy_symbols("pi_ref", outputs)
        self.P = antisymmetric_preference(outputs, diagonal)

    def payoff(self, pi, opp):
        """Eq. (5) for one context: ``J(pi, pi')``, a double sum over (o, o')."""
        K = len(self.outputs)
        return sum(pi[i] * opp[j] * (self.P[i][j] - beta * log(pi[i] / self.ref[i])
                                     + beta * log(opp[j] / self.ref[j]))
                   for i in range(K) for j in range(K))

    def expected_win(self, opp):
        """``E_{o'~pi'} P(o > o')`` for each output ``o``."""
        K = len(self.outputs)
        return [sum(opp[j] * self.P[i][j] for j in range(K)) for i in range(K)]

    def _on_simplex(self, expr, policy):
        return expr.subs(policy[-1], 1 - sum(policy[:-1]))

    def derive(self):
        """Best response by a Lagrangian on the simplex, then ``pi' = pi``.

        Each condition ``dL/dpi(o) = 0`` is solved for ``log pi(o)``; the
        multiplier, and every term that does not depend on ``o`` (the other
        player's KL), enter all of them equally, so the differences
        ``log pi(o) - log pi(last)`` are free of them, and normalisation gives
        the best response.
        """
        J = self._on_simplex(self.payoff(self.pi, self.opp), self.opp)
        L = J - S.lam * (sum(self.pi) - 1)
        u = Symbol("u", real=True)
        logs = [solve(expand(expand_log(diff(L, q), force=True)).subs(log(q), u), u)[0]
                for q in self.pi]
        #: log(pi(o)/pi(last)) of the best response: free of lambda
        self.log_ratio = [expand(expand_log(lo - logs[-1], force=True)) for lo in logs]
        self.multiplier_free = all(S.lam not in d.free_symbols for d in self.log_ratio)
        weights = [exp(d) for d in self.log_ratio]
        #: argmax_pi J(pi, pi'): pi(o) = pi_ref(o) exp(E_{pi'} P(o > o')/beta)/Z
        self.best_response = [w / sum(weights) for w in weights]
        #: second derivative of J in pi(o): -beta/pi(o) < 0, so the best response is a maximiser
        self.curvature = [cancel(diff(J, q, 2)) for q in self.pi]
        on = dict(zip(self.opp, self.pi))
        self.fixed_log_ratio = [expand(self._on_simplex(d.subs(on), self.pi))
                                for d in self.log_ratio]
        self.fixed_point = [self._on_simplex(b.subs(on), self.pi) for b in self.best_response]
        if len(self.outputs) == 2:
            self._derive_binary()
        return self

    def _derive_binary(self):
        subs = {self.pi[0]: x, self.ref[0]: p, self.ref[1]: 1 - p,
                self.P[0][1]: (1 + gamma) / 2}       # gamma = P(a>b) - P(b>a) = 2 P(a>b) - 1
        win = [w.subs({self.opp[0]: x, self.opp[1]: 1 - x}).subs(subs) for w in
               self.expected_win(self.opp)]
        #: E_{o'~pi} P(a > o') - E_{o'~pi} P(b > o'), which is gamma/2 for every x
        self.exponent_gap = expand(win[0] - win[1])
        ratio = exp(self.fixed_log_ratio[0].subs(subs))     # pi(a)/pi(b) at the fixed point
        roots = solve(x / (1 - x) - ratio, x)
        if len(roots) != 1:
            raise ArithmeticError(f"NLHF binary: {len(roots)} roots")
        self.binary_policy = powsimp(roots[0])
        return self

    # -- residues (0 proves the statement) ------------------------------------

    def claim_residue(self):
        """The derived fixed point against the printed NLHF form (after Eq. (5)):
        ``log(pi(o)/pi(last))`` of both, subtracted (``expand_log``, ``expand``); the
        printed form is normalised by construction, as is the derived one."""
        pi_full = self.pi[:-1] + (1 - sum(self.pi[:-1]),)
        win = self.expected_win(pi_full)
        Z = sum(r * exp(w / beta) for r, w in zip(self.ref, win))
        claim = [claims.nlhf_policy(r, w, Z) for r, w in zip(self.ref, win)]
        return [expand(expand_log(log(c / claim[-1]), force=True) - d)
                for c, d in zip(claim, self.fixed_log_ratio)]

    def constant_sum_residue(self):
        """``J(pi, pi') + J(pi', pi) - (sum pi)(sum pi')``: 0 exactly when ``P`` is
        antisymmetric, diagonal included (the game is constant-sum)."""
        return expand(self.payoff(self.pi, self.opp) + self.payoff(self.opp, self.pi)
                      - sum(self.pi) * sum(self.opp))

    def direct_kl_residue(self):
        """NLHF at ``beta`` against GRPO with the direct KL penalty at G = 2 and ``2 beta``.

        The direct-KL stationary policy is derived in
        :class:`derive.paper.extensions.DirectKL` with symbolic preferences ``P_G(o|pi)``;
        they are replaced by the G = 2 preference built from the derived
        advantage, ``P_2(o|pi) = sum_o' pi(o') E[A_1 | o, o']`` with
        ``E[A_1 | o, o'] = 2 P(o > o') - 1`` (:func:`pairwise_expected_advantage`),
        and ``beta`` by ``2 beta``.  Returns, for each output, the log-ratio
        ``log(pi(o)/pi(last))`` of the two policies subtracted (expanded).
        """
        from derive.paper.extensions import DirectKL

        dk = DirectKL(self.outputs).derive()
        e_adv, p_tilde, (w, _) = pairwise_expected_advantage()
        K = len(self.outputs)
        pi_full = self.pi[:-1] + (1 - sum(self.pi[:-1]),)
        # E[A_1 | o, o'] in terms of P~ = P(o > o'): solve P~ = w + t/2 for w, substitute
        pt = Symbol("P_tilde")
        w_of = solve(p_tilde - pt, w)[0]
        pair = expand(e_adv.subs(w, w_of))                  # 2 P~ - 1 (l drops out)
        P2 = [sum(pi_full[j] * pair.subs(pt, self.P[i][j]) for j in range(K)) for i in range(K)]
        subs = dict(zip(dk.P, P2))
        subs[beta] = 2 * beta
        dk_policy = [e.subs(subs, simultaneous=True) for e in dk.policy]
        out = []
        for i in range(K - 1):
            lhs = expand(expand_log(log(dk_policy[i] / dk_policy[-1]), force=True))
            out.append(expand(lhs - self.fixed_log_ratio[i]))
        return out, expand(pair - (2 * pt - 1))


@cache
def nlhf_binary_derivation():
    return NLHF("ab").derive()


@cache
def nlhf_policy_binary():
    """NLHF's ``pi(a)`` in ``(p, beta, gamma)``, as derived from Eq. (5)."""
    return nlhf_binary_derivation().binary_policy


@cache
def nlhf_condition_binary():
    """NLHF's binary fixed-point condition as ``lhs - rhs`` in ``(x, p, beta, gamma)``:
    ``log(x/(1-x)) - log(pi(a)/pi(b))`` of the derived fixed point, Eq. (5)."""
    nl = nlhf_binary_derivation()
    subs = {nl.pi[0]: x, nl.ref[0]: p, nl.ref[1]: 1 - p, nl.P[0][1]: (1 + gamma) / 2}
    return log(x / (1 - x)) - nl.fixed_log_ratio[0].subs(subs)


@cache
def _nlhf_binary_mp():
    from sympy import lambdify

    return lambdify((p, beta, gamma), nlhf_policy_binary(), "mpmath")


@cache
def _rlhf_binary_mp():
    from sympy import lambdify

    return lambdify((p, beta), rlhf_policy_binary(), "mpmath")


def rlhf_binary(pv, bv):
    """RLHF's ``x`` for ``r(a) - r(b) = 1``: the derived arXiv:2502.18548v3, Eq. (4)
    (:func:`rlhf_policy_binary`) at numbers."""
    return _rlhf_binary_mp()(pv, bv)


def nlhf_binary(pv, bv, gv=1):
    """NLHF's fixed point for a binary question, from the derived closed form.

    ``gv = P(a > b) - P(b > a)``; deterministic rewards ``r(a) > r(b)`` give 1.
    """
    return _nlhf_binary_mp()(mpmath.mpf(pv), mpmath.mpf(bv), mpmath.mpf(gv))


def nlhf_payoff(pi, opp, ref, P, bv):
    """Eq. (5) at numbers: ``sum_{o,o'} pi(o) pi'(o') [P(o>o') - beta log(pi(o)/pi_ref(o))
    + beta log(pi'(o')/pi_ref(o'))]``, with the full matrix ``P`` (diagonal 1/2)."""
    K = len(ref)
    return mpmath.fsum(pi[i] * opp[j] * (P[i][j] - bv * mpmath.log(pi[i] / ref[i])
                                         + bv * mpmath.log(opp[j] / ref[j]))
                       for i in range(K) for j in range(K))


def binary_preference_matrix(P_ab=1):
    """``[[P(a>a), P(a>b)], [P(b>a), P(b>b)]]`` with the paper's antisymmetry."""
    half = mpmath.mpf(1) / 2
    P_ab = mpmath.mpf(P_ab)
    return [[half, P_ab], [1 - P_ab, half]]


def nlhf_best_response_binary(y, pv, bv, P_ab=1):
    """``argmax_x J((x, 1-x), (y, 1-y))`` with J of Eq. (5), by bisection on the
    numerical derivative (``mpmath.diff``).  No derived formula is used: ``J`` is
    strictly concave in ``x`` (``d^2 J/dx^2 = -beta/(x(1-x))``) and its derivative
    goes from ``+inf`` at 0 to ``-inf`` at 1."""
    P = binary_preference_matrix(P_ab)
    ref = (mpmath.mpf(pv), 1 - mpmath.mpf(pv))
    opp = (y, 1 - y)
    dJ = lambda t: mpmath.diff(lambda s: nlhf_payoff((s, 1 - s), opp, ref, P, bv), t)
    eps = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
    lo, hi = eps, 1 - eps
    while dJ(lo) < 0:
        lo /= 10 ** 5
    while dJ(hi) > 0:
        hi = 1 - (1 - hi) / 10 ** 5
    return bisect(dJ, lo, hi)


def rank_preference(rewards):
    """``P(o > o')`` for deterministic rewards: 1 above, 0 below, 1/2 on a tie (antisymmetric)."""
    half = mpmath.mpf(1) / 2
    return [[1 if ri > rj else 0 if ri < rj else half for rj in rewards] for ri in rewards]


def nlhf_payoff_gradient(pi, ref, P, bv):
    """``d/dpi(o) J(pi, pi*) - d/dpi(last) J(pi, pi*)`` at ``pi = pi*``, by numerical
    differentiation of the payoff (5): zero on the simplex at an equilibrium."""
    K = len(pi)
    star = list(pi)

    def J(*y):
        full = list(y) + [1 - mpmath.fsum(y)]
        return nlhf_payoff(full, star, ref, P, bv)

    return [mpmath.diff(J, star[:-1], tuple(1 if j == i else 0 for j in range(K - 1)))
            for i in range(K - 1)]


#: Seeded-by-hand grid of the NLHF checks: (p, beta) exact.
NLHF_GRID = tuple((Rational(pn, 100), Rational(bn, 100)) for pn in (1, 10, 30, 50, 90)
                  for bn in (1, 4, 10, 50, 100, 200))


@cache
def _rlhf_pooled_binary():
    """RLHF's ``(pi(a), pi(b))`` (Eq. (4)) for ``r(a) = 1``, ``r(b) = 0``, ``pi_ref(a) = p``."""
    rlhf = RLHF().derive()
    subs = {rlhf.r[0]: 1, rlhf.r[1]: 0, rlhf.ref[0]: S.p, rlhf.ref[1]: 1 - S.p}
    return tuple(pol.subs(subs) for pol in rlhf.pooling)


def rlhf_policy_binary():
    """RLHF's ``pi(a)`` (arXiv:2502.18548v3, Eq. (4)) for ``r(a) = 1``, ``r(b) = 0``,
    ``pi_ref(a) = p``, derived once.

    >>> rlhf_policy_binary()
    p*exp(1/beta)/(p*exp(1/beta) - p + 1)
    """
    return _rlhf_pooled_binary()[0]


@cache
def rlhf_condition_binary():
    """RLHF's binary condition ``beta (logit x - logit p) - 1`` (``r(a) - r(b) = 1``), derived
    from the pooling (arXiv:2502.18548v3, Eq. (4)) by :func:`derive.paper.extensions.pooling_condition`.

    >>> rlhf_condition_binary()
    beta*(-log(p/(1 - p)) + log(x/(1 - x))) - 1
    """
    from derive.paper.extensions import pooling_condition

    return pooling_condition(*_rlhf_pooled_binary())
