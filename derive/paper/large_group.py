"""The large-group limit derived, with its first 1/G correction (arXiv:2502.18548v3, Eq. (13)).

The paper states the ``G -> infinity`` preference (13),
``P_inf(o | pi) = (r(o) - E_pi r)/sigma(pi)``.  Here it is *derived* from the
encoded advantage (Eq. (2)) as the limit of ``Phi_j(q; G) = E[A_1 | r_1 = v_j]``
(Eq. (6)), the other ``G - 1`` rewards i.i.d. from ``q``:

* :class:`LargeGroup` writes ``A_1`` as a function of the group mean
  ``m = (v + S_1)/G`` and second moment ``M = (v^2 + S_2)/G``, checks that this
  is the encoded advantage, and expands ``E[A_1]`` in ``h = 1/G`` by the delta
  method: ``f(E m, E M)`` plus half the Hessian contracted with the covariance
  of ``(m, M)`` (``(G-1)/G^2`` times the covariance of ``(r, r^2)`` under ``q``).
  Third- and fourth-order Taylor terms carry moments of size ``(G-1) h^3`` and
  ``(G-1)^2 h^4``, so they enter at ``O(h^2)``.  The result is

      Phi_j(q; G) = (v_j - mu)/sigma + d_j(q)/G + O(1/G^2),
      d_j = skew/2 + (3/8)(kurt - 1) z_j - z_j^3/2,   z_j = (v_j - mu)/sigma.

  Its leading term is (13) (checked against :mod:`derive.paper.claims`), and d_j is
  checked against Richardson extrapolation of the exact binomial sums at
  ``G = 1000..10000``.
* :class:`BinaryCorrection` derives, from the binary stationarity condition
  with this preference, the first correction of the stationary policy
  ``x_G = x_inf + c/G + O(1/G^2)`` in closed form:
  ``c = -1/(4 sqrt(1 + 4 beta^2 p (1 - p)))``.
* :class:`GroupStdIdentity`: for deterministic rewards and GRPO's k3 penalty
  with the population standard deviation, summing (11) against ``r`` gives
  ``beta (E_pi r - E_ref r) = E[sigma_hat_G]``, the expected standard deviation
  of a group's rewards, at every G; (17), (19) and the ``G = 3`` result are its
  binary special cases.

The numeric correction for any K and any reward distributions is
:func:`derive.solve.correction.finite_group_correction`.
"""

from functools import cache

import mpmath
from sympy import (
    Rational,
    Symbol,
    binomial,
    cancel,
    diff,
    expand,
    factor,
    radsimp,
    sqrt,
)

from derive.numerics.context import mpf_exact
from derive.paper import symbols as S
from derive.paper.advantage import Advantage, expand_radicand
from derive.paper.limit import (
    derived_large_group,
    h,
    mu,
    mu3,
    mu4,
    preference_correction,
    preference_limit,
    sigma,
    v,
)

x, p, beta = S.x, S.p, S.beta


#: The correction as an author writes it; :func:`correction_display_residue` checks it.
CORRECTION_DISPLAY = (r"\frac{\mu_3}{2 \sigma^3} + \frac{3}{8}\Bigl(\frac{\mu_4}{\sigma^4} - 1\Bigr) z"
                      r" - \frac{z^3}{2}")


def correction_display_residue():
    """The displayed ``d`` minus the derived one, with ``z = (v - mu)/sigma``: 0 (expand)."""
    zz = (v - mu) / sigma
    shown = mu3 / (2 * sigma**3) + Rational(3, 8) * (mu4 / sigma**4 - 1) * zz - zz**3 / 2
    return expand(shown - derived_large_group().correction)


def law_moments(values, q):
    """``(mean, variance, mu_3, mu_4)`` of the law *q* on *values* (SymPy, factored)."""
    mean = expand(sum(w * val for w, val in zip(q, values)))
    return (mean,) + tuple(factor(expand(sum(w * (val - mean) ** k for w, val in zip(q, values))))
                           for k in (2, 3, 4))


def bernoulli_preference(t, order=1):
    """``(Phi_0, Phi_1)`` of 0/1 rewards with success probability *t*, to ``O(h^order)``."""
    mean, var, third, fourth = law_moments((0, 1), (1 - t, t))
    std = sqrt(var)
    out = []
    for val in (0, 1):
        term = preference_limit(val, mean, std)
        if order:
            term = term + h * preference_correction(val, mean, std, third, fourth)
        out.append(term)
    return tuple(out)


class BinaryCorrection:
    """Binary question, deterministic rewards ``r(a) = 1 > r(b) = 0``: ``x_G = x_inf + c/G``.

    The preference of each answer is the derived expansion at the law
    ``(1 - x, x)``; the binary stationarity condition (11) becomes
    ``F(x, h) = beta (x - p) - x Phi_1(x; h) = 0``, and the implicit function
    theorem gives ``c = -F_h/F_x`` at ``h = 0``.  The algebra is done in the
    odds ``w = sqrt(x/(1 - x))``, where every half-integer power of ``x`` and
    ``1 - x`` that occurs is rational: ``x = w^2/(1+w^2)``,
    ``sqrt(x(1-x)) = w/(1+w^2)``.
    """

    w = Symbol("w", positive=True)

    @property
    def x_of_w(self):
        return self.w**2 / (1 + self.w**2)

    @property
    def std_of_w(self):
        return self.w / (1 + self.w**2)

    def derive(self):
        from derive.paper.binary import stationary_numerator

        X, w = self.x_of_w, self.w
        phi0, phi1 = bernoulli_preference(X)
        cond, mean = stationary_numerator(phi1, phi0, pi_b=1 - X)
        cond = expand(cond.subs(x, X))
        self.mean_preference = [cancel(expand(mean.subs(x, X)).coeff(h, k)) for k in (0, 1)]
        self.condition = cond
        #: d_1 at the law (1 - x, x), as a function of the odds w
        self.preference_one = cancel(expand(phi1).coeff(h, 1))
        F0, F1 = cond.coeff(h, 0), cond.coeff(h, 1)
        #: c as a function of the odds w (implicit function theorem, dF/dx = F_w / x_w)
        self.correction_of_w = cancel(-F1 * diff(X, w) / diff(F0, w))
        s = self.std_of_w
        #: the same c written in x: -1/(4 (2 beta sqrt(x(1-x)) + 2x - 1))
        self.correction_of_x = -1 / (4 * (2 * beta * sqrt(x * (1 - x)) + 2 * x - 1))
        self.correction_of_x_residue = cancel(
            self.correction_of_w - self.correction_of_x.subs(sqrt(x * (1 - x)), s).subs(x, X))
        # At the root sqrt(x(1-x)) = beta (x - p) (the derived unsquared condition), so
        # beta = sqrt(x(1-x))/(x - p) there:
        self.correction_on_root = (x - p) / (4 * (2 * p * x - p - x))
        self.on_root_residue = cancel(self.correction_of_w.subs(beta, s / (X - p))
                                      - self.correction_on_root.subs(x, X))
        from derive.paper.binary import binary_limit

        self.policy = binary_limit().policy
        self.correction = radsimp(cancel(self.correction_on_root.subs(x, self.policy)))
        return self

    def preference_one_residue(self):
        """``d_1 + 1/(8 x sqrt(x(1-x)))`` in the odds: 0 (cancel)."""
        return cancel(self.preference_one + 1 / (8 * self.x_of_w * self.std_of_w))

    def closed_form_residue(self):
        """``1/c - 1/c_displayed`` (:func:`binary_correction_display`) after radsimp and cancel: 0."""
        return radsimp(cancel(expand(1 / self.correction - 1 / binary_correction_display())))


@cache
def binary_correction():
    """The :class:`BinaryCorrection` derivation, once per process."""
    return BinaryCorrection().derive()


def binary_correction_display():
    """``c = -1/(4 sqrt(1 + 4 beta^2 p (1 - p)))`` as displayed; equal to the derived c."""
    return -1 / (4 * sqrt(1 + 4 * beta**2 * p * (1 - p)))


def richardson(hs, ys):
    """Polynomial extrapolation of ``ys`` at nodes ``hs`` to ``h = 0`` (Neville)."""
    P = list(ys)
    n = len(hs)
    for k in range(1, n):
        for i in range(n - k):
            P[i] = (hs[i] * P[i + 1] - hs[i + k] * P[i]) / (hs[i] - hs[i + k])
    return P[0]


#: Group sizes of the Richardson extrapolation of d_j (0/1 rewards).
D_GROUPS = tuple(range(1000, 10001, 500))


#: Success probabilities at which d_j is checked against the exact binomial sums.
D_LAWS = ("3/10", "4/5")


def extrapolated_correction(t_text, digits=40):
    """``lim G (Phi_j(G) - Phi_j(inf))`` for 0/1 rewards with ``P(r = 1) = t`` (exact sums,
    :data:`D_GROUPS`, Richardson), and the derived ``d_j`` at the same law, at *digits*."""
    from fractions import Fraction

    from sympy import lambdify

    from derive.numerics.group_preference import value_preference

    phi0, phi1 = bernoulli_preference(S.q)
    d_fns = [lambdify(S.q, e.coeff(h, 1), "mpmath") for e in (phi0, phi1)]
    lead_fns = [lambdify(S.q, e.coeff(h, 0), "mpmath") for e in (phi0, phi1)]
    tf = Fraction(t_text)
    vals = (Fraction(0), Fraction(1))
    with mpmath.workdps(3 * digits):
        t = mpf_exact(tf)
        rows = []
        for G in D_GROUPS:
            phi = value_preference(vals, (1 - tf, tf), G)
            rows.append([G * (phi[j] - lead_fns[j](t)) for j in (0, 1)])
        hs = [mpmath.mpf(1) / G for G in D_GROUPS]
        extrapolated = [richardson(hs, [r[j] for r in rows]) for j in (0, 1)]
        derived = [f(t) for f in d_fns]
    return extrapolated, derived


#: Group sizes of the Richardson extrapolation of exact finite-G stationary roots.
C_GROUPS = (400, 800, 1600, 3200, 6400, 12800)


#: Binary points (p, beta) at which the closed-form c is checked.
C_POINTS = (("3/10", "1/2"), ("1/10", "2"), ("7/10", "1"))


#: Cases for the numeric c: (ref, rewards or success, kind, beta, normalisation[, penalty]).
C_CASES = (
    (("1/5", "1/2", "3/10"), ("9/10", "1/2", "1/5"), "bernoulli", "1/3", "shift-scale"),
    (("1/4", "3/4"), ("7/10", "1/5"), "bernoulli", "1", "shift-scale"),
    (("1/2", "1/3", "1/6"), ("1", "0", "0"), "bernoulli", "1", "shift-scale"),
    (("1/5", "1/2", "3/10"), ("9/10", "1/2", "1/5"), "bernoulli", "1/3", "shift-only"),
    (("3/10", "7/10"), ("1", "0"), "bernoulli", "1/2", "shift-only"),
    (("1/5", "1/2", "3/10"), ("9/10", "1/2", "1/5"), "bernoulli", "2", "shift-scale", "k3-is"),
)


def expected_group_std(pi, rewards, G, power=1):
    """``E[sigma_hat_G^power]`` for a group of G i.i.d. draws from *pi* with deterministic
    *rewards*, by enumerating every group (population std)."""
    import itertools

    rew = [mpf_exact(r) if not isinstance(r, mpmath.mpf) else r for r in rewards]
    total = mpmath.mpf(0)
    for group in itertools.product(range(len(pi)), repeat=G):
        w = mpmath.fprod(pi[o] for o in group)
        rs = [rew[o] for o in group]
        mean = mpmath.fsum(rs) / G
        var = mpmath.fsum((r - mean) ** 2 for r in rs) / G
        total += w * (mpmath.sqrt(var) if power == 1 else var ** (mpmath.mpf(power) / 2))
    return total


class GroupStdIdentity:
    """``beta (E_pi r - E_ref r) = E[sigma_hat_G]`` at k3 stationary points, deterministic rewards.

    Steps: (11) with ``E_pi P_G = 0`` reads ``beta (pi(o) - pi_ref(o)) = pi(o) P_G(o|pi)``;
    summed against ``r`` it gives ``beta (E_pi r - E_ref r) = E[r_1 A_1]`` (deterministic
    rewards: ``r_1 = r(o_1)``); by exchangeability ``E[r_1 A_1] = E[(1/G) sum_i r_i A_i]``;
    and ``sum_i r_i A_i = G sigma_hat`` for every group (Eq. (2), population std).
    """

    @staticmethod
    def group_residue(G):
        """``sum_i r_i A_i - G sqrt(var)`` for symbolic rewards: 0 (cancel)."""
        adv = Advantage(G)
        total = sum(ri * adv.direct(i) for i, ri in enumerate(adv.r))
        return cancel(expand_radicand(total - G * sqrt(adv.variance)))

    @staticmethod
    def normalisation_residues(G):
        """``sum_i r_i A_i`` for the other normalisations, minus its closed form: 0 each.

        Shift-only (``A_i = r_i - mean``): ``G sigma_hat^2``.  Sample std
        (``A_i = (r_i - mean)/s``, ``s^2 = G sigma_hat^2/(G - 1)``):
        ``sqrt(G (G - 1)) sigma_hat``.
        """
        adv = Advantage(G)
        var = adv.variance
        shift_only = sum(ri * (ri - adv.mean) for ri in adv.r) - G * var
        s = sqrt(Rational(G, G - 1) * var)
        sample = sum(ri * (ri - adv.mean) / s for ri in adv.r) - sqrt(G * (G - 1)) * sqrt(var)
        return expand(shift_only), cancel(expand_radicand(sample))

    @staticmethod
    def summed_condition_residue():
        """``sum_o r(o) [beta (pi - ref) - pi (P - E_pi P)]`` minus the summed form: 0."""
        from derive.paper.stationarity import Stationarity

        st = Stationarity().derive()
        r = [Symbol(f"r_{o}", real=True) for o in st.outputs]
        E = st.mean_preference
        # the derived solution pi(o) = beta pi_ref(o)/(beta + lambda - P(o)), cleared
        cleared = [cancel(st.pi[i] * (sol.as_numer_denom()[1]) - sol.as_numer_denom()[0])
                   .subs(S.lam, E) for i, sol in enumerate(st.policy_solution)]
        summed = expand(sum(ro * c for ro, c in zip(r, cleared)))
        Er = sum(pp * ro for pp, ro in zip(st.pi, r))
        claim = (S.beta * (Er - sum(rf * ro for rf, ro in zip(st.ref, r)))
                 - sum(pp * ro * P for pp, ro, P in zip(st.pi, r, st.P)) + E * Er)
        return expand(summed - claim)

    @staticmethod
    def expected_std_binary(G, xx=x):
        """``E[sigma_hat_G]`` of a 0/1 group with success probability *xx*:
        ``sum_k C(G,k) x^k (1-x)^(G-k) sqrt(k (G-k))/G``."""
        return sum(binomial(G, k) * xx**k * (1 - xx) ** (G - k) * sqrt(Rational(k * (G - k)))
                   / G for k in range(G + 1))

    def binary_residue(self, G):
        """``x U_G(x) - E[sigma_hat_G]``: the condition of finite_groups is the identity (expand)."""
        from derive.paper.preference import binomial_sums

        U, _ = binomial_sums(G, x)
        return expand(x * U - self.expected_std_binary(G))

    @staticmethod
    def limit_of_expected_std():
        """Delta method on ``E sqrt(t (1 - t))``, ``t = k/G``: ``sqrt(x(1-x)) + f''/2 x(1-x)/G``."""
        t = Symbol("t", positive=True)
        f = sqrt(t * (1 - t))
        lead = f.subs(t, x)
        second = diff(f, t, 2).subs(t, x) * x * (1 - x) / 2
        return lead, cancel(second)
