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
:mod:`derive.paper.preference`, Eqs. (12) and (13).
"""

from functools import cached_property

from sympy import Rational, Symbol, cancel, diff, expand, solve

from derive.paper import claims
from derive.paper import symbols as S
from derive.paper.penalty import Penalty


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

    ``P_2`` comes from the composition sum of :mod:`derive.paper.preference`; the
    claim uses the pairwise win and loss probabilities.  Returns the expanded
    differences of the two conditions, one per output (0 proves it).
    """
    from derive.paper.preference import PreferenceModel

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
    in :mod:`derive.paper.large_group`.

    With deterministic rewards ``r_a, r_b, r_c`` and ``mu = E_pi r``, the mean
    preference ``E_pi P_inf`` expands to 0, so (11) becomes (13).
    """
    st = Stationarity()
    r = [Symbol(f"r_{o}", real=True) for o in st.outputs]
    pi = st.pi[:-1] + (1 - sum(st.pi[:-1]),)
    mu = sum(p * ro for p, ro in zip(pi, r))
    from derive.paper.limit import preference_limit

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
