r"""The first finite-group correction of a G -> infinity stationary policy (mpmath only).

Beyond arXiv:2502.18548v3, which stops at ``G = 2`` and ``G -> infinity``.
:mod:`derive.paper.large_group` derives, from the encoded advantage (Eq. (2)), the
expansion of the preference of a reward value ``v_j`` in ``h = 1/G``:

    Phi_j(q; G) = (v_j - mu)/sigma + d_j(q)/G + O(1/G^2),
    d_j(q) = skew/2 + (3/8)(kurt - 1) z_j - z_j^3/2,   z_j = (v_j - mu)/sigma,

with ``mu``, ``sigma``, ``skew = mu_3/sigma^3`` and ``kurt = mu_4/sigma^4`` the
mean, standard deviation, skewness and kurtosis of ``q``, the law of one draw's
reward (reward noise included).  The leading term is Eq. (13).  With the
shift-only normalisation ``Phi_j = (1 - 1/G)(v_j - mu)`` exactly, so
``d_j = -(v_j - mu)`` and there is no ``O(1/G^2)`` term.

The stationary policy moves with ``G`` as ``pi_G = pi_inf + c/G + O(1/G^2)``.
Writing the stationarity system of an interior policy as ``H(pi; h) = 0``
(``g_o - g_0 = 0`` for ``o = 1..K-1``, ``g`` the field of :mod:`derive.solve.solver`,
in the reduced coordinates ``pi_1..pi_{K-1}``, ``pi_0 = 1 - sum``), the implicit
function theorem gives

    c = -J^{-1} dH/dh,   dH_o/dh = D_o - D_0,   D_o = sum_j rho[o][j] d_j(q),

with ``J`` the Jacobian of the ``G = infinity`` system at ``pi_inf``.  The d_j
here are checked against the SymPy derivation and against Richardson
extrapolation of exact finite-G sums; c is checked against a SymPy closed form
(binary, deterministic rewards) and against extrapolation of exact finite-G
roots (:mod:`derive.paper.large_group`).

This module imports only mpmath and :mod:`derive.numerics`, so the command
line stays fast.
"""

from __future__ import annotations

from mpmath import mp

from derive.numerics.context import mpf_exact
from derive.numerics.group_preference import SHIFT_ONLY, solve_linear, value_preference_jacobian

__all__ = ["central_moments", "finite_group_correction", "preference_correction"]


def central_moments(values, q):
    """``(mu, sigma^2, mu_3, mu_4)`` of the law ``q`` on ``values`` (mpf).

    >>> from fractions import Fraction as F
    >>> mp.dps = 15
    >>> [mp.nstr(m, 6) for m in central_moments((F(0), F(1)), (F(3, 4), F(1, 4)))]
    ['0.25', '0.1875', '0.09375', '0.0820313']
    """
    v = [mpf_exact(x) for x in values]
    w = [mpf_exact(x) for x in q]
    mu = mp.fsum(a * b for a, b in zip(w, v))
    c = [x - mu for x in v]
    return (mu,) + tuple(mp.fsum(a * d**k for a, d in zip(w, c)) for k in (2, 3, 4))


def preference_correction(values, q, normalisation="shift-scale"):
    """``[d_0(q), ..., d_{m-1}(q)]``: the ``1/G`` term of ``Phi_j(q; G)``.

    Shift-scale: ``d_j = skew/2 + (3/8)(kurt - 1) z_j - z_j^3/2``; shift-only:
    ``d_j = -(v_j - mu)``.  ``sum_j q_j d_j = 0`` (the preference has mean zero
    at every G).  For 0/1 rewards with ``q = (1 - x, x)``,
    ``d_1 = -1/(8 x sqrt(x (1 - x)))``:

    >>> from fractions import Fraction as F
    >>> mp.dps = 20
    >>> d = preference_correction((F(0), F(1)), (F(7, 10), F(3, 10)))
    >>> print(mp.nstr(d[1], 15), mp.nstr(-1 / (8 * mp.mpf(3) / 10 * mp.sqrt(mp.mpf(21) / 100)), 15))
    -0.909241209316635 -0.909241209316635
    """
    mu, var, mu3, mu4 = central_moments(values, q)
    if normalisation == SHIFT_ONLY:
        return [-(mpf_exact(v) - mu) for v in values]
    if var == 0:
        return [mp.zero for _ in values]
    sigma = mp.sqrt(var)
    skew, kurt = mu3 / (sigma * var), mu4 / (var * var)
    out = []
    for v in values:
        z = (mpf_exact(v) - mu) / sigma
        out.append(skew / 2 + 3 * (kurt - 1) * z / 8 - z**3 / 2)
    return out


def _used(problem):
    """Values some output can produce, and rho restricted to them (as the solver does)."""
    used = [j for j in range(len(problem.values)) if any(row[j] for row in problem.rho)]
    return (tuple(problem.values[j] for j in used),
            tuple(tuple(row[j] for j in used) for row in problem.rho))


#: Largest condition number of the G = infinity Jacobian for which c is reported: the
#: solver carries 12 guard digits, and c may lose up to log10(condition) of them.
MAX_CONDITION = 10**10


def condition_number(J):
    """Skeel's condition number ``|| |J^-1| |J| ||_inf`` of a small square matrix (``inf``
    when singular).  Unlike ``||J|| ||J^-1||`` it does not grow when a row is rescaled, as
    the rows of the penalty curvature are near a face of the simplex.

    >>> mp.dps = 15
    >>> condition_number([[2, 0], [0, 10**20]]), condition_number([[1, 1], [1, 1]])
    (mpf('1.0'), mpf('+inf'))
    """
    n = len(J)
    cols = [solve_linear(J, [mp.mpf(1) if i == k else mp.zero for i in range(n)]) for k in range(n)]
    if any(c is None for c in cols):
        return mp.inf
    inv = [[cols[k][i] for k in range(n)] for i in range(n)]          # inv[i][k] = (J^-1)_ik
    return max(mp.fsum(abs(inv[i][k]) * abs(J[k][j]) for k in range(n) for j in range(n))
               for i in range(n))


def finite_group_correction(problem, policy):
    """``c`` with ``pi_G = pi_inf + c/G + O(1/G^2)`` at an interior G = infinity policy.

    *problem* is a :class:`derive.solve.solver.Problem` (its ``group`` is ignored:
    the expansion is around ``G = infinity``); *policy* is the interior
    stationary policy at ``G = infinity`` (mpf, full support).  Returns a tuple
    of ``K`` mpf summing to 0, at the current precision, or ``None`` when the
    Jacobian of the ``G = infinity`` system is singular (a double root: the
    expansion in ``1/G`` does not exist there) or its condition number exceeds
    :data:`MAX_CONDITION`.

    >>> from fractions import Fraction as F
    >>> from derive.solve.solver import Problem, stationary_policies
    >>> mp.dps = 30
    >>> prob = Problem.deterministic((F(3, 10), F(7, 10)), (1, 0), F(1, 2), None)
    >>> (s,) = [s for s in stationary_policies(prob, 30, certify=False) if s.kind == "interior"]
    >>> c = finite_group_correction(prob, s.policy)
    >>> print(mp.nstr(c[0], 20))     # -1/(4 sqrt(1 + 4 beta^2 p (1 - p))) = -1/4.4
    -0.22727272727272727273
    """
    values, rho = _used(problem)
    K, m = problem.K, len(values)
    pi = [mpf_exact(p) for p in policy]
    zero = [mp.zero] * K
    if m == 1 or len(set(rho)) == 1:
        return tuple(zero)               # P_G = 0 for every G: pi_G = pi_ref
    q = [mp.fsum(pi[o] * mpf_exact(rho[o][j]) for o in range(K)) for j in range(m)]
    norm = problem.normalisation
    d = preference_correction(values, q, norm)
    dphi = value_preference_jacobian(values, q, None, norm)   # dPhi_j/dq_i, i = 1..m-1
    D = [mp.fsum(mpf_exact(w) * dj for w, dj in zip(row, d)) for row in rho]
    # dP_o/dpi_k in reduced coordinates: sum_j rho[o][j] sum_i dPhi_j/dq_i (rho[k][i] - rho[0][i])
    dq = [[mpf_exact(rho[k][i]) - mpf_exact(rho[0][i]) for i in range(1, m)] for k in range(K)]
    dP = [[mp.fsum(mpf_exact(rho[o][j]) * dphi[j][i - 1] * dq[k][i - 1]
                   for j in range(m) for i in range(1, m)) for k in range(K)] for o in range(K)]
    beta = mpf_exact(problem.beta)
    ref = [mpf_exact(r) for r in problem.ref]
    # derivative of the penalty part -beta * k'(pi_o) of g_o in pi_o
    curv = [beta * r / (p * p) if problem.penalty == "k3" else beta / p for r, p in zip(ref, pi)]

    def dg(o, k):                     # d g_o / d pi_k, k >= 1, pi_0 = 1 - sum
        own = (curv[o] if o == k else 0) - (curv[o] if o == 0 else 0)
        return dP[o][k] - own

    J = [[dg(o, k) - dg(0, k) for k in range(1, K)] for o in range(1, K)]
    rhs = [-(D[o] - D[0]) for o in range(1, K)]
    sol = solve_linear(J, rhs)
    if sol is None or condition_number(J) > MAX_CONDITION:
        return None
    return tuple([-mp.fsum(sol)] + list(sol))

