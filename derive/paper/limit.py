"""The derived large-group preference ``P_inf`` and its ``1/G`` term (arXiv:2502.18548v3, Eq. (13)).

:class:`LargeGroup` derives, from the encoded advantage (Eq. (2)) alone, the limit of
``Phi_j(q; G) = E[A_1 | r_1 = v_j]`` (Eq. (6)) as ``G -> infinity`` and its first
correction by the delta method (see :mod:`derive.paper.large_group`, which checks them and
derives what follows from them).  It sits below the paper modules that use ``P_inf``
(:mod:`derive.paper.preference`, :mod:`derive.paper.stationarity`, :mod:`derive.paper.binary`,
:mod:`derive.paper.extensions`), so that none of them imports :mod:`derive.paper.large_group`.
"""

from functools import cache

from sympy import (
    Rational,
    Symbol,
    cancel,
    diff,
    expand,
    factor,
    series,
    simplify,
    sqrt,
    symbols,
)

from derive.paper import symbols as S
from derive.paper.advantage import Advantage, expand_radicand

#: A reward value, the mean, standard deviation and third and fourth central moments of q.
v = Symbol("v", real=True)
mu, sigma = S.mu, S.sigma
mu3 = Symbol("mu_3", real=True)
mu4 = Symbol("mu_4", positive=True)
#: ``h = 1/G``; the group mean and second moment.
h = Symbol("h", positive=True)
m, M = symbols("m M", real=True)
#: Standardised value, skewness and kurtosis.
z = Symbol("z", real=True)
skew = Symbol("skew", real=True)
kurt = Symbol("kurt", positive=True)



class LargeGroup:
    """``E[A_1 | r_1 = v]`` expanded in ``h = 1/G`` (delta method).

    >>> lg = LargeGroup().derive()
    >>> lg.limit
    (-mu + v)/sigma
    >>> lg.correction_standardised
    3*kurt*z/8 + skew/2 - z**3/2 - 3*z/8
    """

    #: ``A_1`` as a function of the group mean and second moment (Eq. (2)).
    advantage_of_moments = (v - m) / sqrt(M - m**2)

    def advantage_residue(self, G):
        """Encoded ``A_1`` (Advantage) minus ``f(mean, second moment)`` for one G: 0."""
        adv = Advantage(G)
        r = adv.r
        f = self.advantage_of_moments.subs({v: r[0], m: adv.mean,
                                            M: Rational(1, G) * sum(ri**2 for ri in r)})
        return cancel(expand_radicand(f) - expand_radicand(adv.direct(0)))

    def derive(self):
        f = self.advantage_of_moments
        n = 1 / h - 1                                     # G - 1 other rewards
        m2 = mu**2 + sigma**2                             # E r^2
        mean_m, mean_M = h * (v + n * mu), h * (v**2 + n * m2)
        # covariance of (r, r^2) under q, from the central moments (r = mu + e)
        e = Symbol("e", real=True)
        moments = {1: 0, 2: sigma**2, 3: mu3, 4: mu4}

        def E(expr):
            poly = expand(expr)
            return sum(poly.coeff(e, k) * moments[k] for k in range(1, 5)) + poly.coeff(e, 0)

        r = mu + e
        cov = {(0, 0): E(r * r) - E(r) ** 2, (0, 1): E(r * r**2) - E(r) * E(r**2),
               (1, 1): E(r**2 * r**2) - E(r**2) ** 2}
        cov[(1, 0)] = cov[(0, 1)]
        self.covariance = {k: expand(c) for k, c in cov.items()}
        at = {m: mean_m, M: mean_M}
        hessian = sum(diff(f, a, b).subs(at) * n * h**2 * cov[(i, j)]
                      for i, a in enumerate((m, M)) for j, b in enumerate((m, M)))
        self.expansion = series(f.subs(at) + hessian / 2, h, 0, 2).removeO()
        self.limit = factor(simplify(self.expansion.coeff(h, 0)))
        self.correction = self.expansion.coeff(h, 1)
        self.correction_standardised = expand(simplify(
            self.correction.subs(v, mu + z * sigma).subs(
                {mu3: skew * sigma**3, mu4: kurt * sigma**4})))
        return self

    def higher_order_residue(self):
        """The third- and fourth-order Taylor terms of ``E f(m, M)`` to ``O(h)``: 0.

        ``m - E m`` and ``M - E M`` are ``h`` times a centred sum of ``G - 1`` i.i.d.
        copies of ``Y = (r - mu, r^2 - E r^2)``.  Its third moments are ``(G - 1) k_abc``
        and its fourth ``(G - 1) k_abcd + (G - 1)(G - 2)(C_ab C_cd + C_ac C_bd + C_ad C_bc)``
        with generic joint moments ``k`` of ``Y`` and its covariance ``C``; the terms
        enter at ``O(h^2)`` whatever ``k`` is.
        """
        import itertools

        f = self.advantage_of_moments
        n = 1 / h - 1
        at = {m: h * (v + n * mu), M: h * (v**2 + n * (mu**2 + sigma**2))}
        C = self.covariance
        names = (m, M)

        def generic(t):
            return Symbol("kappa_" + "".join(map(str, sorted(t))), real=True)

        extra = 0
        for t in itertools.product((0, 1), repeat=3):
            extra += diff(f, *[names[i] for i in t]).subs(at) * n * h**3 * generic(t) / 6
        for a, b, c, d in itertools.product((0, 1), repeat=4):
            moment = (n * generic((a, b, c, d))
                      + n * (n - 1) * (C[(a, b)] * C[(c, d)] + C[(a, c)] * C[(b, d)]
                                       + C[(a, d)] * C[(b, c)]))
            extra += diff(f, *[names[i] for i in (a, b, c, d)]).subs(at) * h**4 * moment / 24
        return simplify(series(extra, h, 0, 2).removeO())

    def mean_zero_residue(self):
        """``sum_j q_j d_j`` with ``E z = 0``, ``E z^2 = 1``, ``E z^3 = skew``: 0."""
        d = expand(self.correction_standardised)
        Ez = {0: 1, 1: 0, 2: 1, 3: skew}
        return expand(sum(d.coeff(z, k) * Ez[k] for k in range(4)))


@cache
def derived_large_group():
    return LargeGroup().derive()



def preference_limit(r, mean, std):
    """``P_inf``: the derived limit of ``E[A_1 | r_1 = r]`` at mean *mean* and std *std*."""
    return derived_large_group().limit.subs({v: r, mu: mean, sigma: std}, simultaneous=True)


def preference_correction(r, mean, std, third, fourth):
    """``d``: the derived ``1/G`` term of ``E[A_1 | r_1 = r]`` (central moments *third*, *fourth*)."""
    return derived_large_group().correction.subs({v: r, mu: mean, sigma: std, mu3: third, mu4: fourth},
                                      simultaneous=True)
