"""The paper's formulas as printed: the claims that the engine checks.

Everything in this module is *transcribed* from arXiv:2502.18548v3, never
derived.  The derivation modules (:mod:`derive.paper.advantage`,
:mod:`derive.paper.preference`, :mod:`derive.paper.penalty`, :mod:`derive.paper.stationarity`,
...) derive the same quantities from the encoded objective, and the checks
compare the two.  Keeping the claims here, apart, is what makes a check
meaningful: a derivation is never compared with itself.
"""

from sympy import Rational, log, sign, sqrt

from derive.paper import symbols as S

# -- Eq. (2): the advantage ---------------------------------------------------

def advantage_pairwise(r, i):
    """Pairwise form of Eq. (2): ``((1/G) sum_j (r_i - r_j)) / sqrt((1/(2G^2)) sum_j sum_k (r_j - r_k)^2)``."""
    G = len(r)
    num = Rational(1, G) * sum(r[i] - rj for rj in r)
    den = sqrt(Rational(1, 2 * G**2) * sum((rj - rk) ** 2 for rj in r for rk in r))
    return num / den


def advantage_two(r1, r2):
    """Section 2.1: for G = 2, ``A_1 = sign(r_1 - r_2)``."""
    return sign(r1 - r2)


# -- Eq. (5)-(6) and Section 2.1: the reward preference model -----------------

def preference_expectation():
    """Section 2.1: ``E_{o ~ pi} P_G(o | pi) = 0``."""
    return 0


def preference_two(win, lose):
    """Eq. (5)/(12): for G = 2, ``P_2(o | pi) = E_{o'~pi}[P(o > o') - P(o' > o)]``.

    *win* and *lose* are ``E_{o'~pi} P(o > o')`` and ``E_{o'~pi} P(o' > o)``.
    """
    return win - lose


def preference_limit(r, mu, sigma):
    """Eq. (13): ``P_inf(o | pi) = (r(o) - E_pi r) / sigma(pi)``."""
    return (r - mu) / sigma


# -- Eq. (7)-(10): the penalty ------------------------------------------------

def penalty_gradient(pi_o, ref_o, old_o):
    """Eq. (8): ``d D / d pi(o) = -pi_old(o) pi_ref(o)/pi(o)^2 + pi_old(o)/pi(o)``."""
    return -old_o * ref_o / pi_o**2 + old_o / pi_o


def kl_gradient(pi_o, ref_o):
    """Eq. (9): ``d KL(pi || pi_ref) / d pi(o) = log(pi(o)/pi_ref(o)) + 1``."""
    return log(pi_o / ref_o) + 1


def penalty_gradient_on_policy(pi_o, ref_o):
    """Eq. (10): at ``pi = pi_old`` the gradient is ``1 - pi_ref(o)/pi(o)``."""
    return 1 - ref_o / pi_o


# -- Eq. (11)-(13): stationarity ----------------------------------------------

def stationarity(pi_o, ref_o, pref_o, mean_pref, beta=S.beta):
    """Eq. (11) as ``lhs - rhs``: ``(1 - (P_G(o|pi) - E_pi P_G)/beta) pi(o) - pi_ref(o)``."""
    return (1 - (pref_o - mean_pref) / beta) * pi_o - ref_o


def stationarity_two(pi_o, ref_o, win, lose, beta=S.beta):
    """Eq. (12) as ``lhs - rhs``: ``(1 - (P(o > o') - P(o' > o))/beta) pi(o) - pi_ref(o)``."""
    return (1 - (win - lose) / beta) * pi_o - ref_o


def stationarity_limit(pi_o, ref_o, r_o, mu, sigma, beta=S.beta):
    """Eq. (13) as ``lhs - rhs``: ``(1 - (r(o) - E_pi r)/(beta sigma(pi))) pi(o) - pi_ref(o)``."""
    return (1 - (r_o - mu) / (beta * sigma)) * pi_o - ref_o


# -- Section 2.3.1 and Appendix B.1: binary questions --------------------------

def binary_quadratic_two(x=S.x, p=S.p, beta=S.beta, gamma=S.gamma):
    """Eq. (17) as ``lhs - rhs``: ``beta (x - p) - gamma x (1 - x)``."""
    return beta * (x - p) - gamma * x * (1 - x)


def binary_policy_two(p=S.p, beta=S.beta, gamma=S.gamma):
    """Eq. (14): ``x = ((1 - beta/gamma) + sqrt((1 - beta/gamma)^2 + 4 (beta/gamma) p)) / 2``."""
    t = beta / gamma
    return ((1 - t) + sqrt((1 - t) ** 2 + 4 * t * p)) / 2


def binary_condition_limit(x=S.x, p=S.p, beta=S.beta):
    """Eq. (19), unsquared, as ``lhs - rhs``: ``beta (x - p) - sqrt(x (1 - x))``.

    The square root is not visible in the extracted text of the paper; the
    quadratic and Eq. (15) are consistent only with it (see MATH.md).
    """
    return beta * (x - p) - sqrt(x * (1 - x))


def binary_quadratic_limit(x=S.x, p=S.p, beta=S.beta):
    """Appendix B.1: ``(1 + beta^2) x^2 - (2 beta^2 p + 1) x + beta^2 p^2``."""
    return (1 + beta**2) * x**2 - (2 * beta**2 * p + 1) * x + beta**2 * p**2


def binary_policy_limit(p=S.p, beta=S.beta):
    """Eq. (15): ``x = (2 beta^2 p + 1 + sqrt(1 + 4 beta^2 p (1 - p))) / (2 (1 + beta^2))``."""
    return (2 * beta**2 * p + 1 + sqrt(1 + 4 * beta**2 * p * (1 - p))) / (2 * (1 + beta**2))


def binary_lower_bound_limit(beta=S.beta):
    """Section 2.3.1: for G -> infinity, ``x >= 1/(1 + beta^2)``."""
    return 1 / (1 + beta**2)


# -- Section 3 and Appendix B.2: extensions ------------------------------------

def direct_kl_policy_two(p=S.p, beta=S.beta, gamma=S.gamma):
    """Section 3, G = 2 with the direct KL penalty:
    ``x = e^{gamma/(2 beta)} p / (e^{gamma/(2 beta)} p + e^{-gamma/(2 beta)} (1 - p))``."""
    from sympy import exp

    e = exp(gamma / (2 * beta))
    return e * p / (e * p + (1 - p) / e)


def direct_kl_h(x=S.x, p=S.p, beta=S.beta):
    """Appendix B.2: ``h(x) = (1/beta)/sqrt(x(1-x)) - log(x/(1-x)) + log(p/(1-p))``."""
    return (1 / beta) / sqrt(x * (1 - x)) - log(x / (1 - x)) + log(p / (1 - p))


def direct_kl_h_minimiser(beta=S.beta):
    """Appendix B.2: ``x* = (1 + sqrt(1 - 1/(1 + beta^2)))/2``."""
    return (1 + sqrt(1 - 1 / (1 + beta**2))) / 2


def shift_only_mean_preference(G, mean_pi, mean_old):
    """Section 3: ``E_{o~pi} P_G(o|pi_old) = (1 - 1/G)(E_pi r - E_old r)`` without scaling."""
    return (1 - 1 / G) * (mean_pi - mean_old)


# -- Eqs. (3)-(5): baselines ---------------------------------------------------

def rlhf_policy(ref_o, r_o, normaliser, beta=S.beta):
    """Eq. (4): ``pi(o) = pi_ref(o) exp(r(o)/beta) / Z``."""
    from sympy import exp

    return ref_o * exp(r_o / beta) / normaliser


def nlhf_policy(ref_o, expected_win_o, normaliser, beta=S.beta):
    """Section 1.1, after Eq. (5): the NLHF equilibrium satisfies
    ``pi(o) = pi_ref(o) exp(E_{o'~pi} P(o > o')/beta) / Z``.

    *expected_win_o* is ``E_{o'~pi} P(o > o')``.  The paper takes the pairwise
    preference antisymmetric, ``P(o' > o) = 1 - P(o > o')`` (Section 1.1), so
    ``P(o > o) = 1/2``.
    """
    from sympy import exp

    return ref_o * exp(expected_win_o / beta) / normaliser


# -- Section 2.1: R_2 and the antisymmetric pairwise preference -----------------

def reward_preference_two(win, lose):
    """Section 2.1: ``R_2 = E_{o~pi, o'~pi_old}[P(o > o') - P(o' > o)]``.

    *win* and *lose* are ``E[P(o > o')]`` and ``E[P(o' > o)]`` over the pair.
    """
    return win - lose


def reward_preference_two_antisymmetric(win):
    """Section 2.1: with antisymmetric preferences, ``R_2 = 2 E[P(o > o')] - 1``."""
    return 2 * win - 1


# -- Appendix B.1: Eqs. (16) and (18) ------------------------------------------

def binary_reward_preference_two(x, x_old, gamma=S.gamma):
    """Eq. (16): ``E_{o~pi} P_2(o | pi_old) = gamma_{a,b} (pi(a) - pi_old(a))``."""
    return gamma * (x - x_old)


def binary_reward_preference_limit(x, x_old, s):
    """Eq. (18): ``(E_pi r - E_old r)/sigma(pi_old)
    = (pi(a) - pi_old(a)) sign(r(a) - r(b)) / sqrt(pi_old(a)(1 - pi_old(a)))``.

    *s* is ``sign(r(a) - r(b))``.  The square root is not visible in the
    extracted text of the paper (as in (19)); the derivation needs it.
    """
    return (x - x_old) * s / sqrt(x_old * (1 - x_old))


def binary_tie_policy(p=S.p):
    """Section 2.3.1 (both G = 2 and G -> infinity): a tie leaves ``pi = pi_ref``."""
    return p
