r"""Every stationary policy of one GRPO problem, with certificates and stability.

A :class:`Problem` is one question: ``K`` outputs with a reference policy
``pi_ref``, a reward distribution per output on a finite set of values, the
group size ``G`` (``None`` for ``G -> infinity``), ``beta``, the penalty and the
advantage normalisation.  :func:`stationary_policies` returns every stationary
policy as a :class:`StationaryPolicy`.

The field and the stationarity condition
----------------------------------------
The field is the derivative of the GRPO objective in ``pi(o)`` at
``pi_old = pi``:

* ``"k3"`` (GRPO as published; its gradient at ``pi_old = pi`` is that of
  ``KL(pi_ref || pi)``, arXiv:2502.18548v3, Eq. (10)):
  ``g_o = P_G(o|pi) - beta (1 - pi_ref(o)/pi(o))``.  Interior stationary
  points satisfy arXiv:2502.18548v3, Eq. (11):
  ``pi(o) = pi_ref(o) / (1 - P_G(o|pi)/beta)`` (``E_pi P_G = 0``), which needs
  ``1 - P_G(o|pi)/beta > 0``.
* ``"k3-is"`` (importance-weighted k3, whose expectation is
  ``KL(pi || pi_ref)``, arXiv:2502.18548v3, Section 3):
  ``g_o = P_G(o|pi) - beta (log(pi(o)/pi_ref(o)) + 1)``; stationary points are
  ``pi(o) ∝ pi_ref(o) exp(P_G(o|pi)/beta)``.

A policy with full support is stationary when ``g_o`` is constant in ``o``.

Reduction
---------
``P_G(o|pi) = sum_j rho[o][j] Phi_j(q)`` depends on ``pi`` only through ``q``,
the distribution of one draw's reward (:mod:`derive.numerics.group_preference`).  For a given
``q`` the conditions above give ``pi(q)`` explicitly, and the unknown ``q`` is
fixed by consistency ``q_j = sum_o pi(q)(o) rho[o][j]`` on every value but the
lowest.  For k3 the normalisation ``sum pi = 1`` then follows, because
``(sum pi - 1)(1 - Phi_0/beta) = 0`` and ``Phi_0 <= 0 < beta``.  The system has
``m - 1`` unknowns for ``m`` reward values (one for 0/1 or Bernoulli rewards,
whatever ``K``); when ``K < m`` the ``K - 1`` coordinates of ``pi`` are used
instead (``pi(o)(1 - P_G(o|pi)/beta) = pi_ref(o)`` for k3, equal
``log(pi/pi_ref) - P_G/beta`` for k3-is).  Reward values that no output can
produce are dropped first.

Finding every root
------------------
* One unknown.  The admissible interval (``pi(a) in (0, 1)`` for two outputs,
  whose k3 condition ``pi (1 - P/beta) = pi_ref`` has no poles; otherwise the
  range of ``q`` for mixtures of the outputs) is parametrised by
  ``u in (0, 1)``, carrying ``u`` and ``1 - u`` separately so that both ends
  keep full relative accuracy, and scanned on a grid that is uniform in ``u``
  in the middle and uniform in ``z = log(u/(1-u))`` out to ``1e-20`` from each
  end, then geometric in ``z`` out to a proved bound on where roots can lie
  (:func:`_search_range_1d`; at most ``|z| = 1e5``, beyond which
  :func:`search_limits` refuses the problem).  The scan runs in mpmath with
  ``30 + |z|/2.3`` digits (``1 - P/beta`` can cancel to the size of the smaller
  coordinate), or in double precision where an evaluation is expensive (long
  binomial sums, many outputs) and the constants fit a float.  For two
  outputs the k3 condition of the smaller coordinate is used (the two are
  opposite: ``F_0 + F_1 = 0``), so nothing cancels near a vertex.  Points
  where the map is undefined (k3 with some ``1 - P/beta <= 0``) break the
  grid.  Every sign change brackets a root; every interior local minimum of
  ``|F|`` without a sign change is examined as a possible tangency (two close
  roots, or a double root).  Brackets are narrowed, then polished by
  Newton's method in mpmath at ``digits + 12`` (plus up to 1100 digits when a
  coordinate of the policy is tiny).  For two outputs with ``beta > 0`` a
  root provably exists (the condition changes sign between the faces), so
  an empty search is reported as a failure, never as "no stationary policy".
* Two or more unknowns (e.g. three outputs with three reward levels).  The
  unknowns are written as logits (of ``pi`` or of ``q``), the residual is
  evaluated in double precision on a product grid, and damped Newton starts
  from every grid local minimum of ``max |F|``, from the best grid points and
  from ``pi_ref``; roots are deduplicated and polished in mpmath.  With many
  reward levels and ``q`` the softmax of the logits (the unknowns are ``q``, or
  ``pi`` with one distinct deterministic reward per output) ``Phi`` is
  evaluated on the whole grid at once
  (:meth:`derive.numerics.group_preference.GroupPreference.phi_on_logit_grid`); a Newton run
  that reaches a root already found stops there.  When the
  float search finds nothing and an evaluation is cheap, it is repeated in
  mpmath with digits for the cancellation near the faces (roots at logits of
  ``log(1/beta)``).  This is a robust search, not a proof that no root was
  missed (:func:`search_description` says what was searched); each root found
  is certified separately.

Cost: :func:`estimate_cost` estimates the work before any table is built;
the command line refuses problems above its ``--max-cost``.

Many answers
------------
Where a system with a handful of unknowns exists whatever ``K`` is,
:func:`stationary_policies` uses it (:mod:`derive.solve.reduced`, for
``K >= REDUCED_MIN_K``): ``G = infinity`` with shift-scale normalisation
(``P_inf`` depends on ``pi`` through ``mu`` and ``sigma`` only: one scan
variable ``t = 1/(beta sigma)``), and ``G = 2`` with deterministic rewards and
k3 (an explicit recursion over the reward levels).  Otherwise outputs with the
same reward distribution are merged into one (they keep ``pi/pi_ref`` equal
at every interior stationary point) and the search below runs on the merged
problem.  The eigenvalues of the ``K x K`` logit Jacobian and the
finite-group correction are computed for ``K <= 12`` only; beyond, stability
is proved at ``G = 2`` for every interior point, by an ``O(K)`` sufficient
test at ``G = infinity``, and is otherwise ``"undecided"`` (the note says so).

Certificates (:mod:`derive.numerics.certify`): an interval Newton (one unknown) or
Krawczyk (several) test in Arb ball arithmetic (python-flint) proves that a tiny box holds exactly
one root of the reduced system; the policy's enclosure is the policy map
evaluated on that box in ball arithmetic.  Stability: eigenvalues of the
Jacobian of the expected-gradient iteration on the logits
(:mod:`derive.dynamics.iteration`).

Boundary points
---------------
With ``beta > 0`` the k3 penalty, and the k3-is penalty at finite ``G``, push
every face of the simplex inward with unbounded force (``pi_ref/pi`` and
``-log pi`` blow up, while ``P_G`` stays bounded), so no policy with a zero
coordinate is stationary.  Boundary stationary points exist in exactly two
cases, both handled in closed form:

1. ``G = infinity``, shift-scale normalisation, k3-is.  On the face ``T_v`` of
   all outputs whose reward is deterministic and equal to ``v`` the reward
   spread is ``sigma = 0``, so the advantage vanishes and the KL penalty alone
   puts ``pi ∝ pi_ref`` on ``T_v``.  For an output ``o`` outside ``T_v`` with
   small mass ``e``, ``sigma ~ sqrt(e)`` and the reward term
   ``(r(o) - v)/sigma`` (``r(o)`` the mean reward) dominates the log penalty:
   it pushes ``o`` out (towards the face) when ``r(o) < v`` and in when
   ``r(o) > v``; when ``r(o) = v`` (a noisy output with mean ``v``) the log
   penalty pushes it in.  The face point is reported as ``"boundary-attractor"`` when
   every outside output has ``r(o) < v`` (an attractor: it is where the iteration
   goes, reached in finite time because the push grows like ``1/sqrt(e)``), and
   as ``"boundary-saddle"`` when some outside outputs are pushed out and some
   in (it attracts the face spanned by ``T_v`` and the lower outputs).  When
   every outside output is pushed in, the face is repelling in every outside
   direction at unbounded speed, exactly like the faces excluded above, so it
   is not reported (there is no ``"boundary-repeller"`` in this case).  For binary
   questions this gives the boundary attractor ``x = 1`` and no point at ``x = 0``
   (arXiv:2502.18548v3, Appendix B.2).  With several outside outputs the
   one-sided limits of the field depend on the path; the classification above
   uses one output at a time.
2. ``beta = 0`` (no reference regularisation; degenerate).  ``g_o = P_G(o|pi)``
   is bounded, and the stationary set consists of faces of outputs with the
   same preference function: outputs with identical reward distributions (for
   shift-scale at finite ``G``), or with equal mean reward (``G = infinity`` or
   shift-only, where ``P_G`` depends on an output only through its mean).  On
   such a class ``C`` every policy is stationary -- ties within a class form a
   continuum -- and the point reported is ``pi ∝ pi_ref`` on ``C``, the limit
   ``beta -> 0+`` within the class.  It is classified by the sign of
   ``P_G(o|pi) - P_G(C)`` (with ``P_G(C) = 0``) for the outputs outside ``C``:
   all negative ``"boundary-attractor"``, all positive ``"boundary-repeller"``, mixed
   ``"boundary-saddle"``, a zero ``"undecided"``.  A class of all outputs is
   reported as ``kind="interior"``, ``"undecided"``.  Accidental interior
   coincidences ``P_G(o|pi) = P_G(o'|pi)`` between outputs with different
   reward distributions are not searched for at ``beta = 0``.

For these points the enclosure is the exact point (``pi_ref`` restricted and
renormalised, computed in interval arithmetic).  Case 1 is certified: the
face point is the unique maximiser of the strictly concave restricted
objective and its classification compares exact rationals.  Case 2 is
certified only for a single-output class with a definite sign pattern (a
vertex; the signs are decided in interval arithmetic); a larger class is a
continuum, so uniqueness fails and ``certified=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from mpmath import mp

from derive.model.estimators import PENALTY_NAMES
from derive.model.normalisations import NORMALISATION_NAMES
from derive.numerics import certify as _certify
from derive.numerics.context import ARB, FLOAT, MP, arb_ends, arb_precision, interval, mpf_exact
from derive.numerics.field import Evaluation, field, field_term_scale, penalty_curvature, penalty_term_sizes
from derive.numerics.group_preference import (
    NORMALISATIONS,
    PENALTIES,
    SAMPLE_TERMS,
    WINDOW_GROUP,
    bernoulli_rewards,
    deterministic_rewards,
    group_preference,
    solve_linear,
)
from derive.numerics.roots import grid_local_minima, illinois, sign_changes
from derive.solve.records import Cost, StationaryPolicy

__all__ = ["Cost", "Problem", "StationaryPolicy", "estimate_cost", "search_description", "search_limits",
           "stationary_policies", "stationarity_residual"]


# ---------------------------------------------------------------------------
# Problem and result records
# ---------------------------------------------------------------------------


def _exact(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise ValueError(f"{what} must be exact rationals (int or fractions.Fraction), got {value!r}")
    return Fraction(value)


@dataclass(frozen=True)
class Problem:
    """One question for GRPO (arXiv:2502.18548v3, Eq. (1)).

    ``ref``: the reference policy (positive, sums to 1); ``values``: the
    reward values, sorted and distinct; ``rho[o][j]``: the probability that
    output ``o`` receives ``values[j]``; ``beta >= 0``; ``group``: ``G >= 2`` or
    ``None`` for ``G -> infinity``; ``penalty``: ``"k3"`` or ``"k3-is"``;
    ``normalisation``: ``"shift-scale"`` or ``"shift-only"``.  All numbers are
    exact rationals.

    >>> from fractions import Fraction as F
    >>> Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2).rho
    ((Fraction(0, 1), Fraction(1, 1)), (Fraction(1, 1), Fraction(0, 1)))
    >>> Problem((F(1, 2), F(1, 3)), (0, 1), ((1, 0), (0, 1)), 1, 2)
    Traceback (most recent call last):
      ...
    ValueError: ref must be positive and sum to 1
    """

    ref: tuple
    values: tuple
    rho: tuple
    beta: Fraction
    group: int | None
    penalty: str = "k3"
    normalisation: str = "shift-scale"
    kl_in: str = "loss"
    std: str = "population"
    std_eps: Fraction = Fraction(0)

    def __post_init__(self):
        ref = tuple(_exact(r, "ref") for r in self.ref)
        values = tuple(_exact(v, "values") for v in self.values)
        rho = tuple(tuple(_exact(w, "rho") for w in row) for row in self.rho)
        beta = _exact(self.beta, "beta")
        object.__setattr__(self, "ref", ref)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "rho", rho)
        object.__setattr__(self, "beta", beta)
        if len(ref) < 2:
            raise ValueError("ref needs at least two outputs")
        if any(r <= 0 for r in ref) or sum(ref) != 1:
            raise ValueError("ref must be positive and sum to 1")
        if not values or any(a >= b for a, b in zip(values, values[1:])):
            raise ValueError("values must be sorted and distinct")
        if len(rho) != len(ref) or any(len(row) != len(values) for row in rho):
            raise ValueError("rho needs one row per output and one entry per value")
        if any(w < 0 for row in rho for w in row) or any(sum(row) != 1 for row in rho):
            raise ValueError("each row of rho must be non-negative and sum to 1")
        if beta < 0:
            raise ValueError("beta must be >= 0")
        g = self.group
        if g is not None and (isinstance(g, bool) or not isinstance(g, int) or g < 2):
            raise ValueError("group must be an integer >= 2 or None (infinity)")
        object.__setattr__(self, "std_eps", _exact(self.std_eps, "std_eps"))
        if self.penalty not in PENALTY_NAMES:
            raise ValueError(f"penalty must be one of {', '.join(PENALTY_NAMES)}")
        if self.normalisation not in NORMALISATION_NAMES:
            raise ValueError(f"normalisation must be one of {', '.join(NORMALISATION_NAMES)}")
        if self.kl_in not in ("loss", "reward"):
            raise ValueError("kl_in must be 'loss' or 'reward'")
        if self.std not in ("population", "sample"):
            raise ValueError("std must be 'population' or 'sample'")
        if self.std_eps < 0:
            raise ValueError("std_eps must be >= 0")
        if self.kl_in == "reward" and self.penalty.endswith("-is"):
            raise ValueError("the KL in the reward takes an estimator without importance weight "
                             "(k1, k2 or k3): no gradient flows through the reward")

    @classmethod
    def deterministic(cls, ref, rewards, beta, group, penalty="k3", normalisation="shift-scale",
                      **variant):
        """Output ``o`` always receives the reward ``rewards[o]``."""
        rewards = tuple(_exact(r, "rewards") for r in rewards)
        if len(rewards) != len(tuple(ref)):
            raise ValueError("rewards needs one value per output")
        values, rho = deterministic_rewards(rewards)
        return cls(tuple(ref), values, rho, beta, group, penalty, normalisation, **variant)

    @classmethod
    def bernoulli(cls, ref, success, beta, group, penalty="k3", normalisation="shift-scale",
                  **variant):
        """Output ``o`` receives reward 1 with probability ``success[o]``, else 0."""
        success = tuple(_exact(s, "success") for s in success)
        if len(success) != len(tuple(ref)):
            raise ValueError("success needs one probability per output")
        values, rho = bernoulli_rewards(success)
        return cls(tuple(ref), values, rho, beta, group, penalty, normalisation, **variant)

    @classmethod
    def finite(cls, ref, distributions, beta, group, penalty="k3", normalisation="shift-scale",
               **variant):
        """Output ``o`` receives ``v`` with probability ``p`` for each ``(v, p)`` of ``distributions[o]``.

        >>> from fractions import Fraction as F
        >>> pb = Problem.finite((F(1, 2), F(1, 2)), [[(0, F(1, 4)), (2, F(3, 4))], [(1, 1)]], 1, 2)
        >>> pb.values, pb.rho
        ((Fraction(0, 1), Fraction(1, 1), Fraction(2, 1)), ((Fraction(1, 4), Fraction(0, 1), Fraction(3, 4)), (Fraction(0, 1), Fraction(1, 1), Fraction(0, 1))))
        """
        dists = [[(_exact(v, "reward value"), _exact(w, "reward probability")) for v, w in d]
                 for d in distributions]
        if len(dists) != len(tuple(ref)):
            raise ValueError("distributions needs one reward distribution per output")
        values = tuple(sorted({v for d in dists for v, w in d if w > 0}))
        rho = tuple(tuple(sum((w for v, w in d if v == x), Fraction(0)) for x in values)
                    for d in dists)
        return cls(tuple(ref), values, rho, beta, group, penalty, normalisation, **variant)

    @property
    def solved_as(self):
        """``(problem, note)``: the paper-family problem that has the same stationary policies, or ``None``.

        k2 and k1-is have the expected gradient of k3-is up to a constant (the
        simplex absorbs it), so they are solved as k3-is; k1 in the loss has a
        constant expected gradient, so beta drops out and it is solved at
        ``beta = 0``.  The sample std is the population std where it does not
        matter (shift-only, ``G = infinity``).  Derived in :mod:`derive.model.variants`.
        """
        from dataclasses import replace

        if self.kl_in != "loss" or self.normalisation not in NORMALISATIONS or self.std_eps != 0:
            return None
        if self.std == "sample" and self.normalisation == "shift-scale" and self.group is not None:
            return None
        base = replace(self, std="population")
        if self.penalty in PENALTIES:
            return base, ""
        if self.penalty in ("k2", "k1-is"):
            return replace(base, penalty="k3-is"), (
                f"{self.penalty}: its expected gradient at pi_old = pi is that of k3-is up to a "
                "constant (both give KL(pi || pi_ref)), so the stationary policies and the flow "
                "are those of k3-is")
        return None     # k1 (beta drops out) and k2-is: the generic solver

    def system(self):
        """The stationarity system of this problem (:func:`system_of`; used by :mod:`derive.dynamics.iteration`)."""
        return system_of(self)

    @property
    def K(self) -> int:
        """Number of outputs."""
        return len(self.ref)

    @property
    def mean_rewards(self) -> tuple:
        """Exact mean reward ``r(o)`` of every output."""
        return tuple(sum(w * v for w, v in zip(row, self.values) if w) for row in self.rho)


# ---------------------------------------------------------------------------
# The reduced system
# ---------------------------------------------------------------------------


_FLOAT_LOW = Fraction(1, 10**250)
_FLOAT_HIGH = Fraction(10**250)


class _PreferenceTable:
    """``P_G(o|pi) = sum_j rho[o][j] Phi_j(q)`` of one problem, and its constants in each number type.

    ``q_j = sum_o pi(o) rho[o][j]`` is the reward distribution of one draw
    (arXiv:2502.18548v3, Eq. (6), conditioned on the first reward); ``Phi``
    comes from :func:`derive.numerics.group_preference.group_preference`.
    """

    def __init__(self, problem, values, rho, model):
        self.problem = problem
        self.rho = rho
        self.K = problem.K
        self.m = len(values)
        self.model = model
        self._consts: dict = {}
        #: ``Phi`` at the current point of a float grid (set by :func:`_search_nd`, see :func:`_grid_phi`)
        self.phi_given = None

    def consts(self, ctx):
        """``pi_ref``, ``rho``, ``beta`` and 0 in the number type *ctx* (cached per precision)."""
        key = ctx.key()
        c = self._consts.get(key)
        if c is None:
            num = ctx.num
            c = {
                "ref": [num(r) for r in self.problem.ref],
                "rho": [[num(w) for w in row] for row in self.rho],
                "beta": num(self.problem.beta),
                "zero": num(0),
            }
            self._consts[key] = c
        return c

    def distribution(self, pi, ctx):
        """``q_j = sum_o pi(o) rho[o][j]`` for every reward value."""
        c = self.consts(ctx)
        rho = c["rho"]
        return [sum((pi[o] * rho[o][j] for o in range(self.K) if self.rho[o][j]), c["zero"])
                for j in range(self.m)]

    @staticmethod
    def _outputs(phi, c):
        P = []
        for row in c["rho"]:
            acc = c["zero"]
            for w, f in zip(row, phi):
                acc = acc + w * f
            P.append(acc)
        return P

    def values(self, q, ctx):
        """``P_G(o|pi)`` for every output, from the reward distribution *q*."""
        if self.phi_given is not None and ctx is FLOAT:
            phi = self.phi_given         # computed with the rest of a grid (see _grid_phi)
        else:
            phi = self.model.phi_values(q, ctx)
        return self._outputs(phi, self.consts(ctx))

    def values_and_jacobian(self, q, ctx):
        """``(P, dP)``, ``dP[o][i] = dP_G(o)/dq_{i+1}`` in the reduced coordinates ``q_1..q_{m-1}``."""
        c = self.consts(ctx)
        P = self._outputs(self.model.phi_values(q, ctx), c)
        dphi = self.model.phi_jacobian(q, ctx)
        dP = []
        for row in c["rho"]:
            out = []
            for i in range(self.m - 1):
                acc = c["zero"]
                for j, w in enumerate(row):
                    acc = acc + w * dphi[j][i]
                out.append(acc)
            dP.append(out)
        return P, dP


class _PolicyMap:
    """The policy as an explicit function of the reward distribution ``q`` (arXiv:2502.18548v3, Eq. (11)).

    k3: ``pi(o) = pi_ref(o)/(1 - P_o/beta)`` (undefined where a denominator is
    not positive); k3-is (Section 3): ``pi(o) ∝ pi_ref(o) exp(P_o/beta)``.
    """

    def __init__(self, table, kl):
        self.table = table
        self.kl = kl

    @staticmethod
    def _shift(P, ctx):
        if ctx is ARB:
            return max((p.mid() for p in P), key=arb_ends)   # an exact point: the shift is free
        return max(P)

    def _policy(self, P, ctx):
        """``(pi, D)`` with ``D_o = 1 - P_o/beta`` (k3; ``None`` for k3-is), or ``(None, None)``."""
        c = self.table.consts(ctx)
        ref, beta = c["ref"], c["beta"]
        if self.kl:
            top = self._shift(P, ctx)
            w = [r * ctx.exp((p - top) / beta) for r, p in zip(ref, P)]
            Z = c["zero"]
            for x in w:
                Z = Z + x
            return [x / Z for x in w], None
        D = [1 - p / beta for p in P]
        if ctx is not ARB and any(d <= 0 for d in D):
            return None, None
        return [r / d for r, d in zip(ref, D)], D

    def value(self, q, ctx):
        """``pi(q)``, or ``None`` where k3's map is undefined."""
        return self._policy(self.table.values(q, ctx), ctx)[0]

    def value_and_derivative(self, q, ctx):
        """``(pi, dpi)`` with ``dpi[o][i] = dpi_o/dq_{i+1}``, or ``None`` where k3's map is undefined."""
        c = self.table.consts(ctx)
        ref, beta = c["ref"], c["beta"]
        P, dP = self.table.values_and_jacobian(q, ctx)
        pi, D = self._policy(P, ctx)
        if pi is None:
            return None
        n, K = self.table.m - 1, self.table.K
        if self.kl:
            mean = []
            for i in range(n):
                acc = c["zero"]
                for o in range(K):
                    acc = acc + pi[o] * dP[o][i]
                mean.append(acc)
            return pi, [[pi[o] * (dP[o][i] - mean[i]) / beta for i in range(n)] for o in range(K)]
        return pi, [[r / (d * d) * dP[o][i] / beta for i in range(n)] for o, (r, d) in enumerate(zip(ref, D))]


class _ResidualInQ:
    """The system in the reward distribution ``q`` (``m - 1`` unknowns), through :class:`_PolicyMap`.

    k3: ``F_j = q_j - sum_o pi_o rho[o][j]``; k3-is:
    ``F_j = sum_o pi_o (q_j - rho[o][j])`` (equal, as ``sum pi = 1``, and free of
    cancellation near the ends).  ``diffs[o] = q_1 - rho[o][1]`` may be given
    accurately for one unknown.  Both methods return an :class:`Evaluation`
    (``J = dF/dq``, ``dpi = dpi/dq``), or ``None`` where the policy map is undefined.
    """

    def __init__(self, table, policy_map):
        self.table = table
        self.policy_map = policy_map
        self.kl = policy_map.kl

    @staticmethod
    def _difference(q, o, j, diffs, rho):
        return diffs[o] if (diffs is not None and j == 1) else q[j] - rho[o][j]

    def _equations(self, q, pi, c, diffs):
        rho, K = c["rho"], self.table.K
        F = []
        for j in range(1, self.table.m):
            if self.kl:
                acc = c["zero"]
                for o in range(K):
                    acc = acc + pi[o] * self._difference(q, o, j, diffs, rho)
            else:
                acc = q[j]
                for o in range(K):
                    if self.table.rho[o][j]:
                        acc = acc - pi[o] * rho[o][j]
            F.append(acc)
        return F

    def value(self, q, ctx, diffs=None):
        pi = self.policy_map.value(q, ctx)
        if pi is None:
            return None
        return Evaluation(self._equations(q, pi, self.table.consts(ctx), diffs), None, pi, None)

    def value_and_jacobian(self, q, ctx, diffs=None):
        out = self.policy_map.value_and_derivative(q, ctx)
        if out is None:
            return None
        pi, dpi = out
        c = self.table.consts(ctx)
        rho, K, m = c["rho"], self.table.K, self.table.m
        F = self._equations(q, pi, c, diffs)
        J = []
        for j in range(1, m):
            row = []
            for i in range(m - 1):
                acc = ctx.num(1) if i == j - 1 else c["zero"]
                for o in range(K):
                    if self.kl:
                        acc = acc + dpi[o][i] * self._difference(q, o, j, diffs, rho)
                    elif self.table.rho[o][j]:
                        acc = acc - rho[o][j] * dpi[o][i]
                row.append(acc)
            J.append(row)
        return Evaluation(F, J, pi, dpi)


class _ResidualInPi:
    """The system in the policy itself (``K - 1`` unknowns ``pi_1..pi_{K-1}``, ``pi_0 = 1 - sum``).

    k3: ``F_o = pi_o (1 - P_o/beta)/pi_ref(o) - 1`` (arXiv:2502.18548v3,
    Eq. (11)) for every ``o`` but the one with the largest ``pi`` (see
    :meth:`_k3_rows`); k3-is: ``F_o = log(pi_o/pi_ref(o)) - P_o/beta -
    (log(pi_0/pi_ref(0)) - P_0/beta)``.

    For k3 with two outputs ``F_0 + F_1 = 0`` identically (``sum pi = 1``
    and ``E_pi P_G = 0``), and ``F_1 = -F_0`` is evaluated from the smaller
    coordinate: ``pi_1 (1 - P_1/beta) - pi_ref(1)`` cancels catastrophically
    when ``pi_0`` is tiny, ``pi_0 (1 - P_0/beta) - pi_ref(0)`` does not.  Both
    methods return an :class:`Evaluation` (``J = dF/dpi_k``, ``dpi`` the
    constant ``dpi/dpi_k``), or ``None`` off the open simplex.
    """

    def __init__(self, table, kl):
        self.table = table
        self.kl = kl

    @staticmethod
    def _k3_rows(pi, ctx):
        """The k3 equations used: every output but the one with the largest ``pi``.

        ``sum_o F_o = 0`` identically, so any ``K - 1`` of them are equivalent; the
        equation of a coordinate near 1 is insensitive to the tiny ones (it would
        leave them undetermined in floats), so it is the one left out.
        """
        if ctx is ARB:
            mids = [sum(arb_ends(p)) for p in pi]
        else:
            mids = list(pi)
        big = max(range(len(pi)), key=lambda o: mids[o])
        return [o for o in range(len(pi)) if o != big]

    @staticmethod
    def _first_smaller(pi, ctx):
        if ctx is ARB:
            return sum(arb_ends(pi[0])) < sum(arb_ends(pi[1]))
        return pi[0] < pi[1]

    def _distribution(self, pi, ctx):
        """``q``, or ``None`` off the open simplex (not decided for balls)."""
        if ctx is not ARB and any(p <= 0 for p in pi):
            return None
        q = self.table.distribution(pi, ctx)
        if ctx is not ARB and any(x <= 0 for x in q):
            return None
        return q

    def _equations(self, pi, P, ctx):
        c = self.table.consts(ctx)
        ref, beta = c["ref"], c["beta"]
        if self.kl:
            base = ctx.log(pi[0] / ref[0]) - P[0] / beta
            return [ctx.log(pi[o] / ref[o]) - P[o] / beta - base for o in range(1, self.table.K)]
        if self.table.K == 2 and self._first_smaller(pi, ctx):
            return [ref[0] - pi[0] * (1 - P[0] / beta)]
        # each equation relative to its pi_ref(o): a tiny pi_ref must not make its
        # equation look solved to the float search
        return [pi[o] * (1 - P[o] / beta) / ref[o] - 1 for o in self._k3_rows(pi, ctx)]

    def value(self, pi, ctx):
        q = self._distribution(pi, ctx)
        if q is None:
            return None
        return Evaluation(self._equations(pi, self.table.values(q, ctx), ctx), None, pi, None)

    def value_and_jacobian(self, pi, ctx):
        q = self._distribution(pi, ctx)
        if q is None:
            return None
        c = self.table.consts(ctx)
        ref, rho, beta = c["ref"], c["rho"], c["beta"]
        K, m = self.table.K, self.table.m
        P, dP = self.table.values_and_jacobian(q, ctx)
        F = self._equations(pi, P, ctx)
        # dP_o/dpi_k (k >= 1, pi_0 = 1 - sum): sum_i dP[o][i] (rho[k][i] - rho[0][i])
        dPk = [
            [sum((dP[o][i - 1] * (rho[k][i] - rho[0][i]) for i in range(1, m)), c["zero"]) for k in range(1, K)]
            for o in range(K)
        ]
        J = []
        if not self.kl and K == 2 and self._first_smaller(pi, ctx):
            # d/dpi_1 of pi_ref(0) - pi_0 (1 - P_0/beta), with pi_0 = 1 - pi_1
            J.append([(1 - P[0] / beta) + pi[0] / beta * dPk[0][0]])
        rows = [] if J else (range(1, K) if self.kl else self._k3_rows(pi, ctx))
        for o in rows:
            row = []
            for k in range(1, K):
                if self.kl:
                    val = 1 / pi[0] - (dPk[o][k - 1] - dPk[0][k - 1]) / beta
                    if k == o:
                        val = val + 1 / pi[o]
                else:
                    # d/dpi_k of pi_o (1 - P_o/beta), with pi_0 = 1 - pi_1 - ... - pi_{K-1}
                    val = -pi[o] / beta * dPk[o][k - 1]
                    if k == o:
                        val = val + (1 - P[o] / beta)
                    elif o == 0:
                        val = val - (1 - P[o] / beta)
                    val = val / ref[o]
                row.append(val)
            J.append(row)
        one, zero = ctx.num(1), c["zero"]
        dpi = [[-one] * (K - 1)] + [[one if k == o else zero for k in range(1, K)] for o in range(1, K)]
        return Evaluation(F, J, pi, dpi)


class _OneUnknown:
    """One unknown ``u`` in ``(0, 1)``, with ``v = 1 - u`` carried separately (so that both ends keep
    full relative precision): ``pi(a) = u`` (K = 2), or ``q_1 = s_min + delta u``.

    :meth:`value` (also the call), :meth:`value_and_jacobian` and :meth:`with_policy_derivative`
    return an :class:`Evaluation` with the scalar ``F``, ``J = dF/du`` and
    ``dpi = dpi/du``, or ``None`` where the system is undefined.
    """

    def __init__(self, system):
        self.space = system.space
        self.residual = system.residual_pi if system.space == "pi" else system.residual_q
        self._consts: dict = {}
        if self.space == "q" and system.dim == 1:
            self.rho = system.rho
            self.s_min, self.s_max = system.s_min, system.s_max

    def consts(self, ctx):
        """``delta = s_max - s_min``, ``s_min``, ``1 - s_max`` and, per output, the nearer end of ``s_o``."""
        key = ctx.key()
        c = self._consts.get(key)
        if c is None:
            num = ctx.num
            c = {
                "delta": num(self.s_max - self.s_min),
                "smin": num(self.s_min),
                "one_minus_smax": num(1 - self.s_max),
                # q_1 - s_o = (s_min - s_o) + delta u  or  (s_max - s_o) - delta v
                "near": [
                    (True, num(self.s_min - row[1])) if row[1] - self.s_min <= self.s_max - row[1]
                    else (False, num(self.s_max - row[1]))
                    for row in self.rho
                ],
            }
            self._consts[key] = c
        return c

    def point(self, u, v, ctx):
        """Full coordinates (``q`` or ``pi``) and accurate ``q_1 - rho[o][1]`` (``None`` for ``pi``)."""
        if self.space == "pi":
            return [v, u], None
        c = self.consts(ctx)
        delta = c["delta"]
        q1 = c["smin"] + delta * u
        q0 = c["one_minus_smax"] + delta * v
        diffs = [d + delta * u if low else d - delta * v for low, d in c["near"]]
        return [q0, q1], diffs

    def _evaluate(self, u, v, ctx, method):
        coords, diffs = self.point(u, v, ctx)
        if self.space == "pi":
            return getattr(self.residual, method)(coords, ctx)
        return getattr(self.residual, method)(coords, ctx, diffs)

    def value(self, u, v, ctx):
        out = self._evaluate(u, v, ctx, "value")
        if out is None:
            return None
        return Evaluation(out.F[0], None, out.pi, None)

    __call__ = value

    def value_and_jacobian(self, u, v, ctx):
        out = self._evaluate(u, v, ctx, "value_and_jacobian")
        if out is None:
            return None
        if self.space == "pi":
            return Evaluation(out.F[0], out.J[0][0], out.pi, None)
        return Evaluation(out.F[0], out.J[0][0] * self.consts(ctx)["delta"], out.pi, None)

    def with_policy_derivative(self, u, v, ctx):
        """:meth:`value_and_jacobian` and ``dpi/du`` (for centred interval forms)."""
        out = self._evaluate(u, v, ctx, "value_and_jacobian")
        if out is None:
            return None
        if self.space == "pi":
            return Evaluation(out.F[0], out.J[0][0], out.pi, [row[0] for row in out.dpi])
        delta = self.consts(ctx)["delta"]
        return Evaluation(out.F[0], out.J[0][0] * delta, out.pi, [row[0] * delta for row in out.dpi])


class _Logits:
    """Several unknowns: the logits ``x`` of the chosen coordinates (``softmax(0, x)``).

    :meth:`value` (also the call), :meth:`value_and_jacobian` and :meth:`with_policy_derivative`
    return an :class:`Evaluation` with ``J = dF/dx`` and ``dpi = dpi/dx``, or
    ``None`` where the system is undefined.
    """

    def __init__(self, system):
        self.residual = system.residual_pi if system.space == "pi" else system.residual_q
        self.table = system.table
        self.K = system.K

    @staticmethod
    def coordinates(x, ctx):
        """``softmax(0, x)``: the full coordinates of the chosen space."""
        if ctx is ARB:
            top = ARB.num(max([0.0] + [float(t.mid()) for t in x]))
        else:
            top = max([0] + list(x))
        w = [ctx.exp(-top)] + [ctx.exp(t - top) for t in x]
        Z = w[0]
        for t in w[1:]:
            Z = Z + t
        return [t / Z for t in w]

    def value(self, x, ctx):
        return self.residual.value(self.coordinates(x, ctx), ctx)

    __call__ = value

    def _chain(self, x, ctx):
        """The inner evaluation with its Jacobian, and ``S = d coords/dx`` (reduced coordinates)."""
        coords = self.coordinates(x, ctx)
        out = self.residual.value_and_jacobian(coords, ctx)
        if out is None:
            return None, None
        n = len(x)
        zero = self.table.consts(ctx)["zero"]
        # d coords_i / d x_l = c_i (delta_il - c_l), i, l >= 1 (reduced coordinates)
        # 1 - c_i is formed as the sum of the other coordinates: near a vertex
        # (c_i = 1 - 1e-300) the difference would cancel to zero
        rest = [sum((coords[j] for j in range(n + 1) if j != i + 1), zero) for i in range(n)]
        S = [[coords[i + 1] * (rest[i] if i == l else -coords[l + 1]) for l in range(n)] for i in range(n)]
        return out, S

    def value_and_jacobian(self, x, ctx):
        out, S = self._chain(x, ctx)
        if out is None:
            return None
        n, J = len(x), out.J
        zero = self.table.consts(ctx)["zero"]
        Jx = [[sum((J[r][i] * S[i][l] for i in range(n)), zero) for l in range(n)] for r in range(n)]
        return Evaluation(out.F, Jx, out.pi, None)

    def with_policy_derivative(self, x, ctx):
        """:meth:`value_and_jacobian` and ``dpi/dx`` (for centred interval forms)."""
        out, S = self._chain(x, ctx)
        if out is None:
            return None
        n, J, dpi = len(x), out.J, out.dpi
        zero = self.table.consts(ctx)["zero"]
        Jx = [[sum((J[r][i] * S[i][l] for i in range(n)), zero) for l in range(n)] for r in range(n)]
        dpix = [[sum((dpi[o][i] * S[i][l] for i in range(n)), zero) for l in range(n)] for o in range(self.K)]
        return Evaluation(out.F, Jx, out.pi, dpix)


class _PaperField:
    """The field ``g_o`` of k3 / k3-is at ``pi_old = pi`` (:func:`derive.numerics.field.field`) and its
    Jacobian in ``pi``, with ``P_G`` extended off the simplex through ``q_i = sum_k pi_k rho[k][i]``."""

    def __init__(self, table, penalty):
        self.table = table
        self.penalty = penalty

    def value(self, pi, ctx):
        c = self.table.consts(ctx)
        P = self.table.values(self.table.distribution(pi, ctx), ctx)
        return field(P, pi, c["ref"], c["beta"], self.penalty, ctx)

    def value_and_jacobian(self, pi, ctx):
        """``(g, dg)`` with ``dg[o][k] = dg_o/dpi_k``."""
        c = self.table.consts(ctx)
        ref, rho, beta = c["ref"], c["rho"], c["beta"]
        K, m = self.table.K, self.table.m
        P, dP = self.table.values_and_jacobian(self.table.distribution(pi, ctx), ctx)
        g = field(P, pi, ref, beta, self.penalty, ctx)
        dg = []
        for o in range(K):
            row = []
            for k in range(K):
                acc = c["zero"]
                for i in range(1, m):
                    if self.table.rho[k][i]:
                        acc = acc + dP[o][i - 1] * rho[k][i]
                if k == o:
                    acc = acc - penalty_curvature(pi[o], ref[o], beta, self.penalty)
                row.append(acc)
            dg.append(row)
        return g, dg


class _System:
    """The stationarity system of one problem of the paper's objective, evaluable in FLOAT, MP and ARB.

    It decides the unknowns (none, ``pi`` or the reward distribution ``q``; one
    or several) and whether the scan may run in double precision, and holds
    the pieces, each with one job:

    * :attr:`table`: ``P_G(o|pi)`` and the constants (:class:`_PreferenceTable`);
    * :attr:`policy_map`: ``pi(q)`` (:class:`_PolicyMap`);
    * :attr:`residual_q`, :attr:`residual_pi`: the equations in ``q`` or in ``pi``;
    * :attr:`residual_1d`, :attr:`residual_nd`: the same in the search
      coordinates (one unknown ``u``; logits), each with ``value``,
      ``value_and_jacobian`` and ``with_policy_derivative``;
    * :meth:`field`, :meth:`field_jacobian`: ``g`` and ``dg/dpi``
      (:mod:`derive.dynamics.iteration`).
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        used = [j for j in range(len(problem.values)) if any(row[j] for row in problem.rho)]
        self.values = tuple(problem.values[j] for j in used)
        self.rho = tuple(tuple(row[j] for j in used) for row in problem.rho)
        self.K = problem.K
        self.m = len(self.values)
        self.kl = problem.penalty == "k3-is"
        self.model = group_preference(self.values, problem.group, problem.normalisation)
        if self.m == 1 or len(set(self.rho)) == 1:
            self.space, self.dim = "none", 0
        elif self.K == 2:
            # one unknown, pi(a): the k3 condition pi (1 - P/beta) = pi_ref has no
            # poles in pi, unlike the map q -> pi(q) (whose root can sit
            # within pi_ref of a pole when pi_ref is tiny)
            self.space, self.dim = "pi", 1
        elif self.m - 1 < self.K - 1 or (self.m == 2):
            self.space, self.dim = "q", self.m - 1
        else:
            self.space, self.dim = "pi", self.K - 1
        # the double-precision scan needs every constant well inside the float range
        consts = list(problem.ref) + [w for row in self.rho for w in row if w]
        consts += [1 - w for row in self.rho for w in row if 0 < w < 1]
        consts += [b - a for a, b in zip(self.values, self.values[1:])]
        consts.append(self.values[-1] - self.values[0])
        if problem.beta:
            consts.append(problem.beta)
        self.float_ok = all(_FLOAT_LOW <= abs(c) <= _FLOAT_HIGH for c in consts)
        # the one-unknown scan runs in mpmath (exact signs near the faces) unless an
        # evaluation is expensive (binomial sums of many terms, many outputs)
        cheap = self.model.kind in ("constant", "infinite", "shift-only") or (
            self.model.kind == "binomial" and problem.group <= 8)
        self.scan_in_floats = self.float_ok and not (cheap and self.K <= 200)
        self._scan_extra = None
        if self.space == "q" and self.dim == 1:
            s = [row[1] for row in self.rho]
            self.s_min, self.s_max = min(s), max(s)
        #: results computed once per system (e.g. the search range of one unknown)
        self.cache: dict = {}
        self.table = _PreferenceTable(problem, self.values, self.rho, self.model)
        self.policy_map = _PolicyMap(self.table, self.kl)
        self.residual_q = _ResidualInQ(self.table, self.policy_map)
        self.residual_pi = _ResidualInPi(self.table, self.kl)
        self.residual_1d = _OneUnknown(self)
        self.residual_nd = _Logits(self)
        self._field = _PaperField(self.table, problem.penalty)

    def consts(self, ctx):
        """The constants of :attr:`table` in the number type *ctx*."""
        return self.table.consts(ctx)

    @property
    def scan_extra(self) -> int:
        """Digits for the cancellation inside ``P_G(o|pi) = sum_j rho[o][j] Phi_j`` (noisy rewards).

        Rounding ``P_G`` to ``10^-dps`` of ``|P_G| <= Pb`` moves ``P_G/beta`` by
        ``10^-dps Pb/beta``; with noisy rewards the terms can cancel (two answers
        with nearly equal success probabilities), so ``log10(Pb/beta)`` digits are
        added to the scan and the polish.  Deterministic rewards have one term.
        """
        if self._scan_extra is None:
            extra = 0
            noisy = any(sum(1 for w in row if w) > 1 for row in self.rho)
            if noisy and self.problem.beta > 0:
                bound = _preference_bound(self)
                if bound is not None:
                    with mp.workdps(20):
                        ratio = bound / mpf_exact(self.problem.beta)
                        extra = min(1100, max(0, int(mp.ceil(mp.log10(ratio))))) if ratio > 1 else 0
            self._scan_extra = extra
        return self._scan_extra

    # -- the field g (arXiv:2502.18548v3, Eqs. (10), (11); Section 3) ------
    def field(self, pi, ctx=MP):
        """``g_o`` at ``pi_old = pi`` (arXiv:2502.18548v3, Eqs. (10), (11); Section 3)."""
        return self._field.value(pi, ctx)

    def field_jacobian(self, pi, ctx=MP):
        """``(g, dg_o/dpi_k)`` with ``P_G`` extended off the simplex through ``q_i = sum_k pi_k rho[k][i]``, ``i >= 1``."""
        return self._field.value_and_jacobian(pi, ctx)


@lru_cache(maxsize=256)
def system_of(problem: Problem):
    """The stationarity system of a problem (used by :mod:`derive.dynamics.iteration`).

    The reduced :class:`_System` for the paper's objective (and the variants
    solved as it, :attr:`Problem.solved_as`), otherwise the generic
    :class:`derive.solve.variant_solver.VariantSystem`.
    """
    routed = problem.solved_as
    if routed is None:
        from derive.solve.variant_solver import VariantSystem

        return VariantSystem(problem)
    return _System(routed[0])


def stationarity_residual(problem: Problem, policy, support=None, relative=False):
    """``max_o |g_o - sum_o' pi(o') g_o'|`` over the support, from ``pi`` directly.

    This is the unsquared stationarity condition (arXiv:2502.18548v3, Eq. (11)
    for k3, Section 3 for k3-is), evaluated at the current ``mp`` precision.
    With ``relative=True`` it is divided by the size of the largest term that
    makes up a ``g_o`` (``|P_G(o|pi)|``, ``beta`` and ``beta pi_ref(o)/pi(o)`` for
    k3; ``|P_G(o|pi)|``, ``beta`` and ``beta |log(pi(o)/pi_ref(o))|`` for k3-is), so
    that it measures the cancellation left at the working precision whatever
    the scale of ``beta``: about ``10^-dps`` at a root.
    """
    system = system_of(problem)
    pi = [mp.mpf(p) for p in policy]
    g = system.field(pi, MP)
    idx = range(len(pi)) if support is None else support
    gbar = mp.fsum(pi[o] * g[o] for o in idx)
    residual = max(abs(g[o] - gbar) for o in idx)
    if not relative:
        return residual
    return residual / _field_scale(system, pi, idx)


def _preference_term_size(system, pi, idx):
    """The largest ``sum_j rho[o][j] |Phi_j|`` over ``o`` in ``idx``: ``P_G(o|pi) = sum_j rho[o][j] Phi_j``
    counts with the size of its terms (outputs with nearly equal reward laws cancel there)."""
    rho = system.consts(MP)["rho"]
    q = [mp.fsum(pi[o] * rho[o][j] for o in range(system.K) if system.rho[o][j]) for j in range(system.m)]
    phi = system.model.phi_values(q, MP)
    return max(mp.fsum(w * abs(f) for w, f in zip(rho[o], phi)) for o in idx)


def _field_scale(system, pi, idx):
    """The largest term of ``g_o`` over ``o`` in ``idx`` (see :func:`stationarity_residual`):
    :func:`derive.numerics.field.field_term_scale` with the preference terms of
    :func:`_preference_term_size`."""
    c = system.consts(MP)
    preference = _preference_term_size(system, pi, idx)
    return field_term_scale([preference], pi, c["ref"], c["beta"], system.problem.penalty, idx)


def _amplification_digits(system, pi):
    """Digits lost when the preference terms dwarf the penalty terms they balance (at most 1100).

    ``g_o = P_G(o|pi) - beta(...)``: a rounding of ``P_G`` relative to the size of
    its terms moves the root by that size over the penalty's, e.g. two answers
    whose success probabilities differ by ``1e-37`` with ``beta = 1e-30``.
    """
    with mp.workdps(20):
        pi = [mp.mpf(p) for p in pi]
        c = system.consts(MP)
        idx = range(system.K)
        preference = _preference_term_size(system, pi, idx)
        penalty = max(penalty_term_sizes(pi, c["ref"], c["beta"], system.problem.penalty, idx))
        if preference <= 0 or penalty <= 0:
            return 0
        return min(1100, max(0, int(mp.ceil(mp.log10(preference / penalty)))))


# ---------------------------------------------------------------------------
# One unknown: scan, brackets, tangencies, polish
# ---------------------------------------------------------------------------

_Z_MAX = 46.0  # exp(-46) ~ 1e-20 from either end


def _uv_float(z):
    if z >= 0:
        e = math.exp(-z)
        return 1.0 / (1.0 + e), e / (1.0 + e)
    e = math.exp(z)
    return e / (1.0 + e), 1.0 / (1.0 + e)


def _scan_grid():
    zs = set()
    h = 0.35
    k = 0
    while k * h <= _Z_MAX:
        zs.add(round(k * h, 12))
        zs.add(round(-k * h, 12))
        k += 1
    n = 64
    for i in range(1, n):
        u = i / n
        zs.add(math.log(u / (1 - u)))
    return sorted(zs)


_GRID = _scan_grid()


#: Farthest logit searched for one unknown: roots closer than ``exp(-_Z_CAP)``
#: to a face are refused up front (:func:`search_limits`).
_Z_CAP = 1e5


def _preference_bound(system):
    """A bound ``|P_G(o|pi)| <= Pb`` valid on the whole simplex, or ``None`` (unbounded).

    Shift-scale at finite ``G``: ``sqrt(G - 1)``, the largest advantage of one
    member of a group of ``G`` (arXiv:2502.18548v3, Eq. (2)).  Shift-only:
    ``(1 - 1/G)(v_max - v_min)``.  ``G = infinity``, shift-scale, two reward
    values: ``|Phi_j| = sqrt(q_{1-j}/q_j) <= 1/sqrt(q_j)`` and ``q_j >= min_o rho[o][j]``.
    """
    pb = system.problem
    spread = system.values[-1] - system.values[0]
    if pb.normalisation == "shift-only":
        return mpf_exact(spread if pb.group is None else spread * (1 - Fraction(1, pb.group)))
    if pb.group is not None:
        return mp.sqrt(pb.group - 1)
    if system.m == 2:
        floor = min(min(row[j] for row in system.rho) for j in range(2))
        if floor > 0:
            return 1 / mp.sqrt(mpf_exact(floor))
    return None


def _search_range_1d(system):
    """``(Z, rigorous)``: every interior root of the one-unknown system has ``|z| <= Z``.

    ``z = log(u/v)``, and ``|z| <= log(1/w)`` with ``w = min(u, v)``.  For k3,
    ``pi(o) = pi_ref(o)/(1 - P_o/beta) >= pi_ref(o)/(1 + Pb/beta)``
    (arXiv:2502.18548v3, Eq. (11)), so ``w >= R/(1 + Pb/beta)`` with ``R`` the
    smallest ``pi_ref`` (``pi`` unknown) or the smallest reachable
    ``(q_1 - s_min)/delta`` (``q`` unknown).  At ``G = infinity`` with a reward
    value that some output reaches surely, ``|P| <= 1/sqrt(c w)`` gives
    ``w >= (R beta sqrt(c)/(1 + beta sqrt(c)))^2``.  For k3-is,
    ``pi(o) ∝ pi_ref(o) exp(P_o/beta)`` gives ``w >= R exp(-2 Pb/beta)``.  When
    ``P_G`` is unbounded and the penalty is k3-is no bound is known, and a
    nominal range is searched (``rigorous=False``).
    """
    cached = system.cache.get("search-range")
    if cached is not None:
        return cached
    pb = system.problem
    with mp.workdps(30):
        beta = mpf_exact(pb.beta)
        if system.space == "pi":
            R = min(mpf_exact(r) for r in pb.ref)
            s = [row[1] for row in system.rho] if system.m == 2 else None
            c = mpf_exact(min(max(s), max(1 - x for x in s))) if s else None
        else:
            lo, hi, delta = system.s_min, system.s_max, system.s_max - system.s_min
            R = mpf_exact(min(max(r * (row[1] - lo) for r, row in zip(pb.ref, system.rho)),
                         max(r * (hi - row[1]) for r, row in zip(pb.ref, system.rho))) / delta)
            c = mpf_exact(delta)
        bound = _preference_bound(system)
        base = -mp.log(R)
        rigorous = True
        if bound is not None:
            L = base + (2 * bound / beta if system.kl else mp.log(1 + bound / beta))
        elif not system.kl and c is not None:
            t = beta * mp.sqrt(c)
            L = 2 * (base + mp.log((1 + t) / t))
        else:
            # k3-is at G = infinity: near a vertex of a noisy output sigma stays above
            # its noise, |P_o - P_o'| <= dv sqrt(2/var) and |z| <= |logit| + that/beta;
            # near a vertex of a sure output roots sit at |z| ~ 2 log(1/beta) (nominal)
            L = base + 2 * abs(mp.log(beta)) + (2 * -mp.log(c) if c else 0) + 60
            noise = [row[1] * (1 - row[1]) for row in system.rho if 0 < row[1] < 1] if system.m == 2 else []
            if noise:
                L += mp.sqrt(2 / mpf_exact(min(noise))) / beta
            rigorous = False
        out = (float(L + 1) if L < 1e300 else math.inf, rigorous)
    system.cache["search-range"] = out
    return out


def _paper_search_limits(problem: Problem) -> str:
    """Why ``problem`` cannot be solved within the precision limits, or ``""``.

    With one unknown, roots are searched out to ``exp(-1e5)`` from the faces
    (:func:`_search_range_1d` bounds where they can be).  k3-is with a tiny
    ``beta`` puts the stationary policy within ``exp(-2 Pb/beta)`` of a
    vertex, beyond that.

    >>> from fractions import Fraction as F
    >>> search_limits(Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 10**20), 2, "k3-is"))[:58]
    'refused: with k3-is and beta = 1.0e-20 a stationary policy'
    """
    if problem.beta == 0:
        return ""
    system = system_of(problem)
    if system.dim >= 2 and system.kl:
        bound = _logit_bound(system)
        if bound <= _Z_CAP:
            return ""
        with mp.workdps(15):
            beta = mp.nstr(mpf_exact(problem.beta), 3)
        return (f"refused: with {problem.penalty} and beta = {beta} a stationary policy can have "
                f"logits up to {bound:.3g}, beyond the searched {_Z_CAP:.0e}; use a larger --beta")
    if system.dim != 1:
        return ""
    Z, _ = _search_range_1d(system)
    if Z <= _Z_CAP:
        return ""
    with mp.workdps(15):
        beta = mp.nstr(mpf_exact(problem.beta), 3)
        need = ""
        bound = _preference_bound(system)
        if system.kl and bound is not None:
            need = f"; accepted for this problem: beta >= {mp.nstr(2 * bound / (_Z_CAP / 2), 3)}"
    far = f"exp(-{Z:.3g})" if Z < math.inf else "exp(-1e300) or less"
    return (f"refused: with {problem.penalty} and beta = {beta} a stationary policy can lie within "
            f"{far} of a vertex, beyond the searched exp(-{_Z_CAP:.0e}){need}")


def _paper_search_description(problem: Problem) -> tuple:
    """``(text, exists)``: what the interior search covers, and whether a root provably exists.

    ``exists`` is ``True`` for two answers with ``beta > 0`` and k3 (or k3-is
    with a bounded preference): the penalty's derivative ``beta pi_ref/pi``
    (``beta log pi``) is unbounded at both faces while ``P_G`` is bounded, so
    the stationarity condition changes sign between the faces
    (arXiv:2502.18548v3, Eq. (11)) and has a root by continuity.  Otherwise
    ``None`` (not decided).
    """
    if problem.beta == 0:
        return "beta = 0: the closed-form faces of the module docstring; no interior search", None
    system = system_of(problem)
    if system.dim == 0:
        return "every output has the same preference: pi = pi_ref exactly", True
    if system.dim == 1:
        Z, rigorous = _search_range_1d(system)
        Z = min(Z, _Z_CAP)
        unknown = "pi(a)" if system.space == "pi" else "the reward distribution q_1"
        where = ("every root lies there (a bound from Eq. (11))" if rigorous
                 else "a nominal range: no bound on where roots lie is known for this case")
        text = (f"one unknown ({unknown}): sign changes and tangencies on a grid in "
                f"z = log(u/(1-u)) with |z| <= {Z:.4g}; {where}")
        exists = None
        if system.K == 2 and (not system.kl or _preference_bound(system) is not None):
            exists = True
            text += "; a root exists (the condition changes sign between the faces)"
        return text, exists
    return (f"{system.dim} unknowns: damped Newton from every local minimum of a grid of logits "
            f"within +-{_logit_bound(system):.3g} of pi_ref; a robust search, not a proof that no "
            "root was missed"), None


def _f1_float(system, z):
    """``F(z)`` for the scan: double precision where it is safe, else mpmath at 30 digits."""
    if not (system.scan_in_floats and abs(z) <= _Z_MAX):
        return _f1_mp(system, z)
    u, v = _uv_float(z)
    try:
        out = system.residual_1d(u, v, FLOAT)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if out is None:
        return None
    F = out[0]
    if F != F or abs(F) == math.inf:
        return None
    return F


def _f1_mp(system, z):
    """``F(z)`` in mpmath (an mpf, or ``None`` where undefined).

    At 30 digits plus ``|z|/log(10)``: ``1 - P/beta`` can cancel down to the size
    of the smaller of ``u`` and ``v = 1 - u`` (e.g. ``beta = gamma`` at G = 2, where
    ``1 - P_a/beta = pi(a)``), so the digits lost to that are added back.
    """
    with mp.workdps(30 + min(int(abs(z) / 2.3), 1100) + system.scan_extra):
        u, v = _mp_uv_from_z(z)
        try:
            out = system.residual_1d(u, v, MP)
        except (ValueError, ZeroDivisionError):
            return None
        if out is None or not mp.isfinite(out[0]):
            return None
        return +out[0]


def _tail_grid(Z):
    """Scan points beyond ``|z| = _Z_MAX`` out to ``Z``, spaced by 4 % of ``|z|``."""
    out = []
    z = _Z_MAX
    while z < Z:
        z = min(Z, z + max(0.35, 0.04 * z))
        out += [z, -z]
    return out


def _bracket_float(system, za, fa, zb, fb):
    """Narrow a sign change of ``F(z)`` in double precision: ``(za, zb, fa, fb)``.

    :func:`derive.numerics.roots.illinois` with a bisection every 4th step, the
    midpoint tried where ``F`` is undefined, to a relative width of 1e-14.
    """
    br = illinois(lambda z: _f1_float(system, z), za, zb, fa, fb,
                  lambda a, b: abs(b - a) <= 1e-14 * max(1.0, abs(a), abs(b)), 200,
                  bisect_every=4, retry_midpoint=True)
    return br.a, br.b, br.fa, br.fb


def _golden_min_abs(system, za, zb):
    """Minimise ``|F(z)|`` on ``[za, zb]`` in double precision (golden section)."""
    g = (math.sqrt(5) - 1) / 2
    a, b = za, zb
    c = b - g * (b - a)
    d = a + g * (b - a)
    fc = _f1_float(system, c)
    fd = _f1_float(system, d)
    if fc is None or fd is None:
        return None
    for _ in range(80):
        if abs(fc) < abs(fd):
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = _f1_float(system, c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = _f1_float(system, d)
        if fc is None or fd is None:
            return None
        if abs(b - a) < 1e-13 * max(1.0, abs(a)):
            break
    return (c, fc) if abs(fc) < abs(fd) else (d, fd)


class _Root1:
    """A root of the one-unknown system: ``(u, v)`` in mpf and how it was found."""

    def __init__(self, u, v, double=False):
        self.u, self.v, self.double = u, v, double


def _mp_uv_from_z(z):
    z = mp.mpf(z)
    if z >= 0:
        e = mp.exp(-z)
        return 1 / (1 + e), e / (1 + e)
    e = mp.exp(z)
    return e / (1 + e), 1 / (1 + e)


def _newton_1d(system, u, v, lo_w, hi_w, flip, tol):
    """Safeguarded Newton on ``w`` (``u``, or ``v`` when ``flip``) inside ``[lo_w, hi_w]``."""
    w = v if flip else u
    previous = None
    for _ in range(60):
        uu, vv = (1 - w, w) if flip else (w, 1 - w)
        out = system.residual_1d.value_and_jacobian(uu, vv, MP)
        if out is None:
            return None
        F, dF = out.F, out.J
        if flip:
            dF = -dF
        if F == 0:
            return uu, vv
        if dF == 0:
            return None
        new = w - F / dF
        if not lo_w < new < hi_w:
            new = (w + (lo_w if new <= lo_w else hi_w)) / 2
        size = abs(new - w)
        if size <= tol * abs(w) or (previous is not None and size > previous / 4 and previous <= 1000 * tol * abs(w)):
            w = new
            uu, vv = (1 - w, w) if flip else (w, 1 - w)
            return uu, vv
        previous = size
        w = new
    return None


def _illinois(f, a, b, fa, fb, tol, maxit=400):
    """A sign change of ``f`` on ``[a, b]`` refined in mpmath by
    :func:`derive.numerics.roots.illinois` to ``|b - a| <= tol max(1, |a|)``: the midpoint,
    the exact zero met, or ``None`` where ``f`` is undefined."""
    br = illinois(f, a, b, fa, fb, lambda a, b: abs(b - a) <= tol * max(1, abs(a)), maxit)
    return (br.a + br.b) / 2 if br.defined else None


def _bisect_newton_1d(system, za, zb, flip, tol):
    """Fallback: a sign change of ``F`` on ``[za, zb]`` (``z = logit u``) refined in mpmath."""
    def f(z):
        u, v = _mp_uv_from_z(z)
        out = system.residual_1d(u, v, MP)
        return None if out is None else out[0]

    a, b = mp.mpf(za), mp.mpf(zb)
    fa, fb = f(a), f(b)
    if fa is None or fb is None or (fa > 0) == (fb > 0):
        return None
    z = _illinois(f, a, b, fa, fb, mp.mpf(2) ** (-mp.prec + 10))
    return None if z is None else _mp_uv_from_z(z)


def _polish_bracket(system, za, fa, zb, fb, tol_rel):
    za, zb, fa, fb = _bracket_float(system, za, fa, zb, fb)
    zf = 0.5 * (za + zb)
    flip = zf > 0
    u, v = _mp_uv_from_z(zf)
    # a safe bracket in w, a little wider than the float one
    zlo, zhi = min(za, zb), max(za, zb)
    pad = 1e-9 * max(1.0, abs(zf))
    ulo, vlo = _mp_uv_from_z(zlo - pad)
    uhi, vhi = _mp_uv_from_z(zhi + pad)
    lo_w, hi_w = (vhi, vlo) if flip else (ulo, uhi)
    root = _newton_1d(system, u, v, lo_w, hi_w, flip, tol_rel)
    if root is None:
        root = _bisect_newton_1d(system, zlo - pad, zhi + pad, flip, tol_rel)
    return root


def _polish_point(system, z, zlo, zhi, tol_rel):
    """Newton from a grid point where ``F`` is exactly zero in floats."""
    flip = z > 0
    u, v = _mp_uv_from_z(z)
    ulo, vlo = _mp_uv_from_z(zlo)
    uhi, vhi = _mp_uv_from_z(zhi)
    lo_w, hi_w = (vhi, vlo) if flip else (ulo, uhi)
    return _newton_1d(system, u, v, lo_w, hi_w, flip, tol_rel)


def _tangency(system, z_left, z_mid, z_right, f_left, f_right, tol_rel, digits):
    """Examine a local minimum of ``|F|`` without sign change: two close roots or a double root.

    ``|F|`` is minimised in floats; a clear sign change gives two brackets.  If
    the float minimum is ambiguous (tiny or exactly zero), the extremum of
    ``F`` is located in mpmath from the sign change of ``F'`` and the sign of
    ``F`` there decides: two roots, a double root (``|F|`` at rounding level),
    or none.
    """
    found = _golden_min_abs(system, z_left, z_right)
    if found is None:
        return []
    zm, fm = found
    scale = max(abs(f_left), abs(f_right))
    if fm != 0 and (fm > 0) != (f_left > 0) and abs(fm) > 1e-12 * scale:
        out = []
        for a, fa, b, fb in ((z_left, f_left, zm, fm), (zm, fm, z_right, f_right)):
            r = _polish_bracket(system, a, fa, b, fb, tol_rel)
            if r is not None:
                out.append(_Root1(*r))
        return out
    if abs(fm) > 1e-8 * scale:
        return []

    def dF(z):
        u, v = _mp_uv_from_z(z)
        out = system.residual_1d.value_and_jacobian(u, v, MP)
        return None if out is None else out.J

    def F(z):
        u, v = _mp_uv_from_z(z)
        out = system.residual_1d(u, v, MP)
        return None if out is None else out[0]

    a, b = mp.mpf(z_left), mp.mpf(z_right)
    da, db = dF(a), dF(b)
    if da is None or db is None or da == 0 or db == 0 or (da > 0) == (db > 0):
        return []
    zc = _illinois(dF, a, b, da, db, mp.mpf(2) ** (-mp.prec + 10))
    if zc is None:
        return []
    Fc = F(zc)
    if Fc is None:
        return []
    if Fc != 0 and (Fc > 0) != (f_left > 0):
        out = []
        for lo, hi in ((a, zc), (zc, b)):
            r = _bisect_newton_1d(system, lo, hi, zc > 0, tol_rel)
            if r is not None:
                out.append(_Root1(*r))
        return out
    if abs(Fc) < mp.mpf(10) ** (-(mp.dps - 8)):
        u, v = _mp_uv_from_z(zc)
        return [_Root1(u, v, double=True)]
    return []


_POLE_STEPS = (1e-13, 1e-10, 1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.07, 0.15, 0.25, 0.4, 0.6, 0.8)


def _refine_poles(system, values):
    """Add scan points next to every edge of the admissible set.

    Where k3's map is undefined (some ``1 - P/beta <= 0``) the grid has gaps;
    next to such an edge ``F -> -infinity`` and a root can sit in a sliver
    narrower than the grid.  Each edge is located by bisection in floats and
    points are added at geometric distances from it.
    """
    extra = []
    for (za, fa), (zb, fb) in zip(values, values[1:]):
        if (fa is None) == (fb is None):
            continue
        bad, good = (za, zb) if fa is None else (zb, za)
        for _ in range(60):
            mid = 0.5 * (bad + good)
            if _f1_float(system, mid) is None:
                bad = mid
            else:
                good = mid
            if abs(good - bad) < 1e-15 * max(1.0, abs(good)):
                break
        far = zb if fa is None else za
        for t in _POLE_STEPS:
            z = good + (far - good) * t
            extra.append((z, _f1_float(system, z)))
        extra.append((good, _f1_float(system, good)))
    if not extra:
        return values
    return sorted(values + extra)


def _suspicious_dip(zl, zm, zr, fl, fm, fr):
    """Whether a local minimum of ``|F|`` on the grid may hide two roots or a double root.

    The dip must be real (both neighbours larger by more than float noise), and
    either ``|F|`` is already tiny there or the parabola through the three
    points reaches zero or at least halves ``|F|``.
    """
    al, am, ar = abs(fl), abs(fm), abs(fr)
    if not (al - am > 1e-10 * al and ar - am > 1e-10 * ar):
        return False
    if am < 1e-6 * max(al, ar):
        return True
    # vertex of the parabola through the three points
    d1 = (fm - fl) / (zm - zl)
    d2 = (fr - fm) / (zr - zm)
    curvature = (d2 - d1) / (zr - zl)
    if curvature == 0:
        return False
    slope_m = d1 + curvature * (zm - zl)
    z_star = zm - slope_m / (2 * curvature)
    f_star = fm + slope_m * (z_star - zm) + curvature * (z_star - zm) ** 2
    return (f_star > 0) != (fm > 0) or abs(f_star) < 0.5 * am


def _roots_1d(system, digits):
    """Every root of the one-unknown system, as ``_Root1`` at the current mp precision."""
    Z, _ = _search_range_1d(system)
    grid = sorted(_GRID + _tail_grid(min(Z, _Z_CAP)))
    values = _refine_poles(system, [(z, _f1_float(system, z)) for z in grid])
    tol_rel = mp.mpf(10) ** (-(digits + 6))
    roots = []
    n = len(values)
    for i, j in sign_changes([f for _, f in values]):
        za, fa = values[i]
        if i == j:                       # an exact zero on the grid: polish it between its neighbours
            lo = values[i - 1][0] if i > 0 else za - 1.0
            hi = values[i + 1][0] if i + 1 < n else za + 1.0
            with _near_face(za, hi, system):
                r = _polish_point(system, za, lo, hi, tol_rel)
        else:
            zb, fb = values[j]
            with _near_face(za, zb, system):
                r = _polish_bracket(system, za, fa, zb, fb, tol_rel)
        if r is not None:
            roots.append(_Root1(*r))
    for i in range(1, n - 1):
        (zl, fl), (zm, fm), (zr, fr) = values[i - 1], values[i], values[i + 1]
        if fl is None or fm is None or fr is None or fm == 0:
            continue
        if (fl > 0) == (fm > 0) == (fr > 0) and _suspicious_dip(zl, zm, zr, fl, fm, fr):
            with _near_face(zl, zr, system):
                roots.extend(_tangency(system, zl, zm, zr, fl, fr, tol_rel, digits))
    return roots


def _near_face(za, zb, system):
    """More digits for polishing at ``|z|``: ``1 - P/beta`` may cancel to ``exp(-|z|)`` (as in :func:`_f1_mp`)."""
    extra = min(int(max(abs(float(za)), abs(float(zb))) / 2.3), 1100)
    return mp.workdps(mp.dps + extra + system.scan_extra)


# ---------------------------------------------------------------------------
# Several unknowns: grid of logits, damped Newton, polish
# ---------------------------------------------------------------------------

_LOGIT_STEPS = (0.0, 0.3, 0.7, 1.2, 1.8, 2.6, 3.6, 5.0, 7.0, 10.0, 14.0, 20.0, 28.0)


def _nd_eval(system, x, derivatives=False, dps=None):
    """The residual (an :class:`Evaluation`, with ``J`` when *derivatives*) in floats, or in mpmath at
    ``dps`` digits (``x`` then floats or mpf)."""
    evaluate = system.residual_nd.value_and_jacobian if derivatives else system.residual_nd.value
    try:
        if dps is None:
            out = evaluate(x, FLOAT)
        else:
            with mp.workdps(dps):
                out = evaluate([mp.mpf(t) for t in x], MP)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if out is None:
        return None
    F = out[0]
    if dps is None:
        if any(f != f or abs(f) == math.inf for f in F):
            return None
    elif not all(mp.isfinite(f) for f in F):
        return None
    return out


def _newton_float_nd(system, x, maxit=60, limit=60.0, dps=None, found=()):
    """Damped Newton on the logits, in floats (or in mpmath at ``dps`` digits for the signs near faces).

    ``None`` when it fails, or when an iterate comes within ``1e-7`` of a root
    in ``found`` with a residual below ``1e-6`` (Newton then converges to that
    root, which the caller would discard as a duplicate: the remaining
    evaluations are saved).
    """
    out = _nd_eval(system, x, True, dps)
    if out is None:
        return None
    F, J = out.F, out.J
    norm = max(abs(f) for f in F)
    for _ in range(maxit):
        if norm < 1e-13:
            return x
        step = solve_linear(J, F)
        if step is None:
            return None
        t = 1.0
        while True:
            new = [a - t * s for a, s in zip(x, step)]
            if max(abs(a) for a in new) > limit:
                out = None
            else:
                out = _nd_eval(system, new, False, dps)   # the Jacobian only at the accepted step
            if out is not None:
                newnorm = max(abs(f) for f in out[0])
                if newnorm < (1 - 1e-4 * t) * norm:
                    out = _nd_eval(system, new, True, dps)
                    if out is not None:
                        break
            t *= 0.5
            if t < 1e-8:
                return x if norm < 1e-9 else None
        x = new
        F, J = out.F, out.J
        norm = newnorm
        if norm < 1e-6 and any(max(abs(a - b) for a, b in zip(x, r)) < 1e-7 for r in found):
            return None
    return x if norm < 1e-9 else None


def _newton_mp_nd(system, x, tol):
    """Newton in mpmath; converged when a step is below ``tol`` or stops shrinking below ``1e3 tol``."""
    x = [mp.mpf(a) for a in x]
    previous = None
    for _ in range(40):
        out = system.residual_nd.value_and_jacobian(x, MP)
        if out is None:
            return None
        F, J = out.F, out.J
        step = solve_linear(J, F)
        if step is None:
            return None
        size = max(abs(s) for s in step)
        if previous is not None and size > previous / 4 and previous <= 1000 * tol:
            return x  # stagnation at the rounding level of an ill-conditioned system
        x = [a - s for a, s in zip(x, step)]
        if max(abs(a) for a in x) > 2 * _Z_CAP:
            return None  # diverging: logits beyond any root (and beyond exp's range)
        if size <= tol:
            return x
        previous = size
    return None


def _reference_logits(system):
    pb = system.problem
    if system.space == "pi":
        coords = [float(r) for r in pb.ref]
    else:
        coords = [float(sum(r * row[j] for r, row in zip(pb.ref, system.rho))) for j in range(system.m)]
    return [math.log(c / coords[0]) for c in coords[1:]]


def _logit_bound(system):
    """A rough bound on the logits of a stationary policy (sets the search range).

    For k3-is, ``log(pi_o/pi_0) = log(pi_ref(o)/pi_ref(0)) + (P_o - P_0)/beta`` and
    ``|P_G| <= sqrt(G - 1)`` (shift-scale), ``<= v_max - v_min`` (shift-only); at
    ``G = infinity`` a nominal ``sqrt(1000)`` is used.  For k3,
    ``pi_o >= pi_ref(o) / (1 + |P_o|/beta)`` keeps the logits moderate; at
    ``G = infinity`` ``|P_o| <= 1/sqrt(pi_o)`` gives ``pi_o >= (pi_ref(o) beta/(1+beta))^2``.
    """
    pb = system.problem
    with mp.workdps(20):  # mpmath: beta and pi_ref may lie outside the float range
        if pb.normalisation == "shift-only":
            spread = mpf_exact(system.values[-1] - system.values[0])
        elif pb.group is None:
            spread = mp.sqrt(1000)
        else:
            spread = mp.sqrt(pb.group - 1)
        logs = [mp.log(mpf_exact(r)) for r in pb.ref]
        base = max(logs) - min(logs)
        beta = mpf_exact(pb.beta)
        if beta == 0:
            return math.inf
        if system.kl:
            bound = base + 2 * spread / beta
        elif pb.group is None and pb.normalisation == "shift-scale":
            # P_o = (r(o) - mu)/sigma with sigma^2 >= pi_o (r(o) - mu)^2 (total variance),
            # so |P_o| <= 1/sqrt(pi_o) and pi_o >= (pi_ref(o) beta/(1 + beta))^2
            bound = 2 * (-min(logs) + mp.log((1 + beta) / beta)) + 1
        else:
            bound = base + mp.log(1 + spread / beta) + 1
        return float(bound) if bound < 1e300 else math.inf


def _roots_nd(system, digits):
    """Every root found of the several-unknown system, at the current mp precision.

    The search runs in double precision; when it finds nothing and an
    evaluation is cheap, it is repeated in mpmath with digits for the
    cancellation of ``1 - P/beta`` near the faces (roots at logits of
    ``log(1/beta)`` when ``beta`` is tiny).
    """
    bound = _logit_bound(system)
    found = _search_nd(system, bound, None)
    extra = 0
    if not found and _mp_fallback_nd(system, bound):
        extra = int(bound / 2.3)  # the polish below needs the same extra digits
        found = _search_nd(system, bound, 30 + extra)
    tol = mp.mpf(10) ** (-(digits + 4))
    roots = []
    with mp.workdps(mp.dps + extra):
        for x in found:
            r = _newton_mp_nd(system, x, tol)
            if r is not None and not any(max(abs(a - b) for a, b in zip(r, s)) < mp.mpf(10) ** (-(digits // 2)) for s in roots):
                roots.append(r)
    return roots


def _mp_fallback_nd(system, bound):
    """Whether the several-unknown search is repeated in mpmath when floats find nothing."""
    pb = system.problem
    cheap = system.model.kind in ("constant", "infinite", "shift-only", "binomial") or (
        system.model.kind == "multinomial" and pb.group <= 8)
    return pb.beta > 0 and system.dim <= 3 and cheap and bound <= 5000


def _grid_order(system):
    """``perm`` with ``q_j = coords[perm[j]]`` (the softmax of the logits), or ``None``.

    Exists when the unknowns are ``q`` itself, or ``pi`` with one distinct
    deterministic reward per output.
    """
    m = system.m
    if system.dim != m - 1:
        return None
    if system.space == "q":
        return list(range(m))
    perm = [None] * m
    for o, row in enumerate(system.rho):
        hot = [j for j, w in enumerate(row) if w]
        if len(hot) != 1 or row[hot[0]] != 1 or perm[hot[0]] is not None:
            return None
        perm[hot[0]] = o
    return None if None in perm else perm


def _grid_applies(system):
    """Whether :func:`_grid_phi` evaluates the search grid at once."""
    return (system.model.kind == "multinomial" and system.problem.group - 1 <= 1000
            and _grid_order(system) is not None)


def _grid_phi(system, axes):
    """``Phi`` (floats) on the whole product grid of logits at once, or ``None`` (see
    :meth:`derive.numerics.group_preference.GroupPreference.phi_on_logit_grid`).

    Applies when the reward law ``q`` is the softmax of the logits up to the
    order of its coordinates (:func:`_grid_order`).
    """
    perm = _grid_order(system)
    if perm is None:
        return None
    return system.model.phi_on_logit_grid(axes, perm)


def _search_nd(system, bound, dps):
    """Damped Newton from the grid's local minima of ``max |F|`` (floats, or mpmath at ``dps``)."""
    n = system.dim
    center = _reference_logits(system)
    far = [t * bound / 20 for t in _LOGIT_STEPS if t >= 5.0] if bound > 28 else []
    steps = sorted({s for t in list(_LOGIT_STEPS) + far for s in (t, -t)})
    if n > 2:
        steps = [s for s in steps if abs(s) in (0.0, 0.7, 1.8, 3.6, 7.0, 14.0, 28.0) or abs(s) in far]
    # a pi_ref far from uniform puts the grid's centre far from the policies that
    # reward-driven roots take; the axes then also run around the uniform policy
    axes = [sorted({c + s for s in steps} | ({s for s in steps} if abs(c) > 10 else set()))
            for c in center]
    # product grid, stored by index tuple
    import itertools

    phis = _grid_phi(system, axes) if dps is None else None
    merit = {}
    try:
        for idx in itertools.product(*(range(len(a)) for a in axes)):
            x = [axes[d][i] for d, i in enumerate(idx)]
            if phis is not None:
                system.table.phi_given = phis[idx]
            out = _nd_eval(system, x, False, dps)
            merit[idx] = math.inf if out is None else float(max(abs(f) for f in out[0]))
    finally:
        system.table.phi_given = None
    starts = sorted(grid_local_minima(merit))
    ranked = sorted((v, i) for i, v in merit.items() if v < math.inf)[:6]
    seeds = [[axes[d][i] for d, i in enumerate(idx)] for _, idx in starts + ranked]
    seeds.append(list(center))
    found = []
    tried = set()
    for x0 in seeds:
        if tuple(x0) in tried:
            continue            # the same seed twice (a local minimum also ranked): same outcome
        tried.add(tuple(x0))
        if any(max(abs(a - b) for a, b in zip(x0, r)) < 1e-9 for r in found):
            continue
        x = _newton_float_nd(system, x0, limit=3 * bound + 60, dps=dps, found=found)
        if x is None:
            continue
        if not any(max(abs(a - b) for a, b in zip(x, r)) < 1e-6 for r in found):
            found.append(x)
    return found


# ---------------------------------------------------------------------------
# Boundary points
# ---------------------------------------------------------------------------


def _face_point(problem, members):
    mass = sum(problem.ref[o] for o in members)
    return [problem.ref[o] / mass if o in members else Fraction(0) for o in range(problem.K)]


def _boundary_points(problem, system, digits):
    """Closed-form boundary points (see the module docstring): ``[(pi, kind, cls, certified, note)]``."""
    K = problem.K
    means = problem.mean_rewards
    out = []
    if problem.beta == 0:
        by_mean = problem.group is None or problem.normalisation == "shift-only"
        classes: dict = {}
        for o in range(K):
            key = means[o] if by_mean else system.rho[o]
            classes.setdefault(key, []).append(o)
        for key in sorted(classes, key=lambda k: (classes[k][0],)):
            members = classes[key]
            pi = _face_point(problem, members)
            if len(members) == K:
                out.append((pi, "interior", "undecided", False,
                            "beta = 0 and all outputs have the same preference: every policy is "
                            "stationary (a continuum); reported pi = pi_ref, the limit beta -> 0+"))
                continue
            from derive.dynamics.iteration import face_classification

            cls = face_classification(beta0_signs(problem, system, members, pi, by_mean, means))
            single = len(members) == 1
            note = ("beta = 0: no reference regularisation, the stationary set is degenerate; "
                    "pi_ref restricted to outputs with the same preference (the limit beta -> 0+)")
            if not single:
                note += "; uniqueness not certified: ties within the class form a continuum"
            out.append((pi, "boundary", cls, single and cls != "undecided", note))
        return out
    if problem.group is None and problem.penalty == "k3-is" and problem.normalisation == "shift-scale":
        faces: dict = {}
        for o, row in enumerate(system.rho):
            if sum(1 for w in row if w) == 1:
                faces.setdefault(system.values[row.index(1)], []).append(o)
        for v in sorted(faces, reverse=True):
            members = faces[v]
            if len(members) == K:
                continue
            outside = [o for o in range(K) if o not in members]
            pushes_out = [means[o] < v for o in outside]
            if all(pushes_out):
                cls = "boundary-attractor"
            elif any(pushes_out):
                cls = "boundary-saddle"
            else:
                continue
            out.append((_face_point(problem, members), "boundary", cls, True,
                        "G -> infinity with k3-is: sigma = 0 on this face of equal deterministic "
                        "rewards, and the standardised reward (r(o) - r)/sigma dominates the log "
                        "penalty for the outputs outside it"))
    return out


def beta0_signs(problem, system, members, pi, by_mean, means):
    """Signs of ``P_G(o|pi)`` (``P_G`` of the class is 0) for the outputs outside the class."""
    K = problem.K
    outside = [o for o in range(K) if o not in members]
    q = [sum(pi[o] * system.rho[o][j] for o in range(K)) for j in range(system.m)]
    if problem.normalisation == "shift-scale" and problem.group is None:
        variance = sum(qj * v * v for qj, v in zip(q, system.values)) - sum(qj * v for qj, v in zip(q, system.values)) ** 2
        if variance == 0:
            # sigma = 0 on the class: P_G(o) = +-infinity with the sign of r(o) - v
            v = sum(qj * vj for qj, vj in zip(q, system.values))
            return {(means[o] > v) - (means[o] < v) for o in outside}
    if by_mean:
        mu = sum(qj * v for qj, v in zip(q, system.values))
        return {(means[o] > mu) - (means[o] < mu) for o in outside}
    signs = set()
    with arb_precision(mp.prec + 20):
        qi = [ARB.num(x) for x in q]
        phi = system.model.phi_values(qi, ARB)
        for o in outside:
            P = ARB.num(0)
            for w, f in zip(system.rho[o], phi):
                if w:
                    P = P + ARB.num(w) * f
            lo, hi = arb_ends(P)
            signs.add(1 if lo > 0 else -1 if hi < 0 else 0)
    return signs


def _restricted_residual(problem, system, policy, support):
    """``max |g_o - E_pi g|`` over the support of a boundary point, relative to the largest term.

    On a face where the reward spread is ``sigma = 0`` (``G = infinity``,
    shift-scale) every advantage is 0 by the ``0/0`` convention of
    arXiv:2502.18548v3, Eq. (2), so ``P_G = 0`` on the support.
    """
    c = system.consts(MP)
    K, m = problem.K, system.m
    q = [mp.fsum(policy[o] * c["rho"][o][j] for o in range(K)) for j in range(m)]
    if problem.group is None and problem.normalisation == "shift-scale" and system.m > 1:
        mu = mp.fsum(qj * MP.num(v) for qj, v in zip(q, system.values))
        spread = mp.fsum(qj * (MP.num(v) - mu) ** 2 for qj, v in zip(q, system.values))
        degenerate = spread <= mp.mpf(2) ** (-mp.prec + 8)
    else:
        degenerate = False
    P = [mp.mpf(0)] * K if degenerate else system.table.values(q, MP)
    beta = c["beta"]
    pen = problem.penalty
    g = dict(zip(support, field([P[o] for o in support], [policy[o] for o in support],
                                [c["ref"][o] for o in support], beta, pen, MP)))
    gbar = mp.fsum(policy[o] * g[o] for o in support)
    scale = field_term_scale([abs(P[o]) for o in support], policy, c["ref"], beta, pen, support)
    return max(abs(g[o] - gbar) for o in support) / scale


# ---------------------------------------------------------------------------
# Cost estimate
# ---------------------------------------------------------------------------

#: Operations per term of the windowed binomial sums at 256 bits (measured).
WINDOW_TERM_OPS = 5.5
#: Default ``max_cost`` of the command line: about 20 s at the assumed speed.
DEFAULT_MAX_COST = 6e7
#: The fixed part of the cost of one problem (set-up, stability, formatting).
FIXED_COST = 2e5
#: Memory above which a problem is refused whatever ``max_cost`` says (bytes).
MAX_MEMORY = 3 * 2**29  # 1.5 GiB


def _paper_cost(problem: Problem, digits: int = 50, certify: bool = True) -> Cost:
    """The a-priori :class:`Cost` of :func:`stationary_policies` for ``problem``.

    Counted before any table is built: the terms of one evaluation of the
    preference sums, the number of evaluations of the root search (a grid of
    ``~25^n`` points for ``n <= 2`` unknowns, ``13^n`` for more; about 700 for
    one unknown), the mpmath polishing and certificates (about 300
    evaluations at ``digits + 12`` digits), the exact coefficient tables, and
    the ``(K-1) x (K-1)`` logit Jacobian of every root (``K^3``).  Calibrated to
    within a factor of about 3 of measured times.

    >>> from fractions import Fraction as F
    >>> c = estimate_cost(Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 2), 10**6))
    >>> c.terms < 30000, c.memory < 2**24, c.seconds < 10       # a window of ~sqrt(G) terms
    (True, True, True)
    >>> huge = Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 2), 10**12)
    >>> estimate_cost(huge).memory > MAX_MEMORY, estimate_cost(huge, certify=False).seconds < 10
    (True, True)
    """
    K = problem.K
    if problem.beta > 0 and _uses_reduced(problem):
        return _reduced_cost(problem, digits)
    classes = _classes_of(problem) if problem.beta > 0 else None
    if classes is not None:
        # the interior is solved on the aggregated problem, then spread over the K outputs
        sub = estimate_cost(classes[1], digits, certify)
        spread = 40.0 * K * len(problem.values) * ((digits + 12) / 19.0 + 1)
        stability = 130.0 * K ** 3 * ((digits + 12) / 19.0 + 1) / 4 if K <= _small_k() else 0.0
        parts = {sub.dominant + f" (on {classes[1].K} classes of equal rewards)": sub.operations,
                 f"spreading the classes over {K} outputs and their residuals": spread,
                 f"the {K - 1} x {K - 1} stability Jacobian": stability}
        return Cost(sum(parts.values()), sub.memory, sub.terms, sub.unknowns, sub.evaluations,
                    max(parts, key=parts.get))
    if (problem.beta > 0 and K >= REDUCED_MIN_K and problem.group in (None, 2)
            and not Fraction(1, 10**8) <= problem.beta <= 10**8 and system_of(problem).dim >= 3):
        # the reduced systems step aside at an extreme beta; the general search in K - 1
        # unknowns near the faces then runs in mpmath for minutes (measured: > 10 min, K = 5)
        return Cost(1e13, 0.0, 0, system_of(problem).dim, math.inf,
                    f"the general search in {system_of(problem).dim} unknowns at an extreme beta "
                    "(the reduced systems for K >= 5 answers need 1e-8 <= beta <= 1e8)")
    used = [j for j in range(len(problem.values)) if any(row[j] for row in problem.rho)]
    m = len(used)
    G = problem.group
    kind = group_preference(tuple(problem.values[j] for j in used), G, problem.normalisation).kind
    dim = system_of(problem).dim  # 0 when every output has the same reward law
    precision_words = (digits + 12) / 19.0 + 1
    memory = 0.0
    table = 0.0
    levels = 0.0
    newton_float = 0.0
    if kind == "binomial" and G > WINDOW_GROUP:
        # a window of k around the mode (derive.numerics.group_preference._window_sums): about
        # 2 sqrt(2 E G/4) terms, E = (bits + 50) log 2 + 3 log G, each a few
        # operations on fixed-point integers of P bits; the scan samples ~80 terms
        bits = 3.33 * (digits + 12) + 10
        P = bits + 2 * math.log2(G) + 60
        E = (bits + 50) * math.log(2) + 3 * math.log(G)
        terms = int(min(G, 2 * math.sqrt(E * G / 2) + E))
        float_terms = 12 * 80
        # Arb keeps three lists of the window (P-bit integers); mpmath samples long windows
        memory = 3.0 * terms * (P / 8 + 40) if (certify or terms <= SAMPLE_TERMS) else 0.0
        if terms <= SAMPLE_TERMS:
            mp_eval = WINDOW_TERM_OPS * terms * (P / 256)
        else:
            # mpmath samples a long window every h = s/ratio terms (Poisson summation,
            # derive.numerics.group_preference._sampled_sums): 2 sqrt(2E) ratio samples, each a product of
            # h integers or, for long steps, two log-gammas (measured: 150 us at 300 bits,
            # 3 ms at 3400 bits)
            ratio = math.sqrt((bits + 40) * math.log(2) / (2 * math.pi ** 2)) + 0.5
            samples = 2 * math.sqrt(2 * E) * ratio + 2
            step = math.sqrt(G) / 2 / ratio
            per_sample = (300 * bits / 300 if step * math.log2(G) <= 32 * bits
                          else 450 * (bits / 300) ** 1.24)
            mp_eval = samples * per_sample
        # the certificates sum every term twice (lower and upper bounds) in Arb
        window_arb = 2 * WINDOW_TERM_OPS * terms * (P / 256)
    elif kind == "binomial":
        terms = G
        float_terms = min(G, 80 * math.isqrt(G) + 10)
        # exact integer tables of G entries of about G + prec bits, and a
        # fixed-point Horner sum of G steps on numbers of that size per mpmath
        # evaluation: measured to grow like G^2.6
        bits = G + 3.33 * (digits + 60)
        memory = 8.0 * G * bits / 8
        mp_eval = 0.0
        table = 8.8e-5 * float(G) ** 2.6 * (1 + digits / 200)
    elif kind == "multinomial":
        # log10 first: C(G + m - 2, m - 1) can be astronomically large
        log_terms = (math.lgamma(G + m - 1) - math.lgamma(m) - math.lgamma(G)) / math.log(10)
        terms = math.comb(G + m - 2, m - 1) if log_terms < 300 else math.inf
        memory = 400.0 * terms * m * m   # measured: about 370 bytes (exact, float and Arb tables)
        # measured (derive.numerics.group_preference, 3 to 5 levels, G up to 256): one float evaluation of
        # Phi and its Jacobian ~0.6 operations per term and level (0.2 for Phi alone); the
        # exact tables ~15 per term; mpmath (nested Horner in Arb) and the certificates
        # (power sums in Arb) ~(15 + 25 words/4) per term and level over the whole polish
        per_axis_nd = (2 * len(_LOGIT_STEPS) - 1) if dim <= 2 else 13
        if dim >= 2 and dim < 300 and _grid_applies(system_of(problem)):
            # the grid: the sum over every composition once per value of the first logit,
            # then shorter sums level by level, ~(G m) per point (GroupPreference.phi_on_logit_grid)
            float_terms = 0.35 * G * m
            levels = 0.35 * m * sum(per_axis_nd ** lev * math.comb(G - 1 + m - lev, m - lev)
                                    for lev in range(1, dim))
        else:
            float_terms = 0.2 * terms * m
            levels = 0.0
        # damped Newton from every local minimum of the grid (many on its edges, each
        # one Jacobian at least) and the iterations at the roots
        seeds = 1.5 * per_axis_nd ** max(dim - 1, 0) + 20 if dim >= 2 else 50
        newton_float = seeds * 0.6 * terms * m
        float_terms += 2 * 3 ** dim if dim < 40 else math.inf   # the neighbours of each grid point
        table = 15.0 * terms
        mp_eval = terms * m * (15 + 25 * precision_words / 4) / 300
    else:
        terms = max(m, 1)
        float_terms = terms
        mp_eval = 3.0 * m * precision_words / 4
    per_eval = float_terms + K * m + K + 50
    per_axis = (2 * len(_LOGIT_STEPS) - 1) if dim <= 2 else 13
    if dim >= 2:
        logs = [math.log10(r.numerator) - math.log10(r.denominator) for r in problem.ref]
        if max(logs) - min(logs) > 10 / math.log(10):
            per_axis *= 2  # the grid also runs around the uniform policy (see _search_nd)
    n_eval = 700.0 if dim <= 1 else (per_axis ** dim + 300.0 if dim * math.log10(per_axis) < 300 else math.inf)
    scan = n_eval * per_eval + levels
    if dim == 1 and problem.beta > 0:
        system = system_of(problem)
        if not system.scan_in_floats:   # the whole grid in mpmath (cheap models)
            words = (30 + system.scan_extra) / 19 + 1
            scan = n_eval * 10 * (float_terms + K * m) * words
    polish = 150.0 * (mp_eval + 3.0 * K * m * precision_words / 4) * (2 if certify else 1)
    certificates = 0.0
    if kind == "binomial" and G > WINDOW_GROUP:
        # measured: under 10 evaluations in mpmath and 2 in Arb per root (x 2 and 1.5 for safety)
        polish = 20 * mp_eval + 150.0 * 3.0 * K * m * precision_words / 4 * (2 if certify else 1)
        certificates = 3 * window_arb if certify else 0.0
    jacobian = 200.0 * K ** 3 * precision_words / 4
    tails = 0.0
    if dim == 1 and problem.beta > 0 and kind in ("binomial", "infinite", "shift-only"):
        # the scan beyond |z| = 46 runs in mpmath at 30 + |z|/2.3 digits (see _f1_mp)
        Z = min(_search_range_1d(system_of(problem))[0], _Z_CAP)
        points = len(_tail_grid(Z))
        scan_extra = system_of(problem).scan_extra
        words = (30 + min(Z / 2.3, 1100) + scan_extra) / 19 + 1
        if kind == "binomial" and G > WINDOW_GROUP:
            # near the faces the window is short; a root there is refined and
            # certified again at more digits
            if points:
                # q_1 = exp(-|z|) there: Chernoff's window keeps a few terms (about
                # E / (|z| - log G)), and one evaluation costs about its precision
                # (30 + |z|/2.3 digits) and the 1.44 |z| bits of t = q_1/q_0 in
                # fixed point (measured within a factor of 4, G up to 10^9)
                def face(z):
                    digits_bits = 3.33 * (30 + min(z / 2.3, 1100) + scan_extra)
                    terms_z = min(terms, 0.7 * (digits_bits + 1.44 * z) / max(1.0, z - math.log(G))
                                  + 10 + 40 * math.sqrt(G * math.exp(-min(z, 700))))
                    return (2400 + 9000 * (digits_bits / 1000) ** 1.5 + 600 * (1.44 * z / 1000) ** 1.3
                            + WINDOW_TERM_OPS * terms_z * digits_bits / 256)

                grid = _tail_grid(Z)
                tails = sum(face(abs(z)) for z in grid) + (20 + (6 if certify else 0)) * face(Z)
        elif kind == "binomial":
            # fixed-point words of the Horner sum; t = q_1/q_0 reaches exp(-|z|) only
            # when some output has a sure reward (deterministic or s in {0, 1})
            sure = any(w == 0 for row in problem.rho for w in row)
            fixed = (G + 3.33 * 19 * words + (1.44 * Z if sure else 0)) / 64
            tails = points * 0.3 * G * fixed ** 1.3
        else:
            tails = points * 3.0 * K * m * words
        # the root is then refined at up to 1100 more digits, and certified there
        if not (kind == "binomial" and G > WINDOW_GROUP):
            tails += 150.0 * (mp_eval + 3.0 * K * m * words) * (words / precision_words)
    fallback = 0.0
    if dim >= 2 and problem.beta > 0 and n_eval < math.inf:
        system = system_of(problem)
        bound = _logit_bound(system)
        # charged where floats are likely to fail: constants outside the float range, or
        # roots beyond the ordinary grid (logits past 28, i.e. an extreme beta)
        if _mp_fallback_nd(system, bound) and (bound > 28 or not system.float_ok):
            words = (30 + bound / 2.3) / 19 + 1
            fallback = n_eval * per_eval * 10 * words
    parts = {
        "the fixed work of one problem (set-up, stability, formatting)": FIXED_COST,
        "the search repeated in mpmath near the faces": fallback,
        f"the scan near the faces in mpmath, out to |logit| = {Z if tails else 0:.3g}": tails,
        f"a search over {dim} unknown{'s' if dim != 1 else ''} ({n_eval:.3g} evaluations of {per_eval:.3g} operations)": scan,
        f"the exact preference tables and their evaluation in mpmath ({float(terms):.3g} terms)": table,
        f"damped Newton in floats from the search's starting points ({float(terms):.3g} terms per evaluation)":
            newton_float,
        f"the high-precision polishing and certificates ({float(terms):.3g} terms per evaluation)": polish,
        f"the interval certificates in ball arithmetic ({float(terms):.3g} terms per evaluation)": certificates,
        f"the {K - 1} x {K - 1} stability Jacobian": jacobian,
    }
    dominant = max(parts, key=parts.get)
    return Cost(sum(parts.values()), memory, terms, dim, n_eval, dominant)


def _small_k():
    from derive.solve.reduced import SMALL_K

    return SMALL_K


def _reduced_cost(problem, digits):
    """The :class:`Cost` of :mod:`derive.solve.reduced`: a scan in one unknown over the reward classes.

    ``G = infinity``: :data:`derive.solve.reduced.SCAN_POINTS` evaluations of ``h(t)``, each an
    inner Newton solve of about 12 steps over the ``n`` classes, then about 40 mpmath
    evaluations (Newton, Krawczyk) at ``digits + 12`` digits; ``G = 2``: one recursion
    over the levels.  Plus the residual (``K m`` terms) and, for ``K <= SMALL_K``, the
    ``K^3`` stability Jacobian.
    """
    from derive.solve.reduced import SCAN_POINTS, SMALL_K, applies

    K = problem.K
    n = len(set(problem.rho))
    m = len(problem.values)
    words = (digits + 12) / 19.0 + 1
    infinite = applies(problem) == "infinite"
    scan = SCAN_POINTS * 12.0 * 4 * n if infinite else 0.0
    polish = (40.0 if infinite else 2.0) * 30 * n * words
    nonzero = sum(1 for row in problem.rho for w in row if w)
    residual = 40.0 * nonzero * words + 2.0 * K * m
    # k3-is at G = infinity: one closed-form face per deterministic reward value, each
    # with a residual over its support in mpmath (K m terms)
    faces = 0.0
    if infinite and problem.penalty == "k3-is":
        faces = len({row for row in problem.rho if sum(1 for w in row if w) == 1}) * 0.6 * K * m * words
    stability = 130.0 * K ** 3 * words / 4 if K <= SMALL_K else 0.0
    parts = {
        "the closed-form boundary points and their residuals": faces,
        "the fixed work of one problem (set-up, stability, formatting)": 1e5,
        f"a sign scan in one unknown over {n} reward classes": scan,
        "the high-precision polishing and certificates of the reduced system": polish,
        f"the residuals over {K} outputs": residual,
        f"the {K - 1} x {K - 1} stability Jacobian": stability,
    }
    unknowns = 1 if (not infinite or problem.penalty == "k3-is") else 2
    return Cost(sum(parts.values()), 64.0 * K * m, max(m, 1), unknowns,
                float(SCAN_POINTS if infinite else 1), max(parts, key=parts.get))


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _guard_digits(values):
    """Extra digits for a tiny coordinate (``1 - P/beta`` can cancel to its size).

    Capped at 1100 (roots within ``1e-1000`` of a face, the smallest ``beta``).
    """
    smallest = min(abs(mp.mpf(v)) for v in values)
    if smallest <= 0:
        return 0
    # the base precision already carries 12 guard digits
    return min(1100, max(0, int(mp.ceil(-mp.log10(smallest))) - 3))


def _paper_policies(problem: Problem, digits: int = 50, certify: bool = True) -> list:
    """:func:`stationary_policies` of the paper's objective (k3 or k3-is, population std).

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2), digits=20)
    >>> [(mp.nstr(s.policy[0], 15), s.classification, s.certified) for s in sols]   # Eq. (14)
    [('0.653112887414927', 'attractor', True)]
    """
    from derive.dynamics import iteration as dynamics

    digits = int(digits)
    system = system_of(problem)
    results = []
    base = digits + 12
    for pi, kind, cls, certified, note in _boundary_points(problem, system, digits):
        with mp.workdps(base):
            policy = tuple(mpf_exact(p) for p in pi)
            support = [o for o in range(problem.K) if pi[o] > 0]
            residual = _restricted_residual(problem, system, policy, support)
            enclosure = _certify.exact_enclosure(pi, mp.prec)
        stable = None if cls == "undecided" else cls in ("attractor", "boundary-attractor")
        results.append(StationaryPolicy(policy, kind, cls, residual, enclosure, bool(certified),
                                        stable, (), note))
    fast = _uses_reduced(problem)
    if problem.beta > 0:
        if fast:
            from derive.solve.reduced import reduced_policies

            results.extend(reduced_policies(problem, digits, certify))
        elif _classes_of(problem) is not None:
            results.extend(_interior_by_classes(problem, digits, certify, dynamics))
        else:
            results.extend(_interior(problem, system, digits, certify, dynamics))
    if problem.group is None:
        results = [_with_correction(problem, s, digits) for s in results]
    rank = {"interior": 0, "boundary": 1}
    results.sort(key=lambda s: (-s.policy[0], rank[s.kind], tuple(-p for p in s.policy[1:])))
    return results


def _classes_of(problem):
    """Outputs grouped by reward distribution, or ``None`` when every output has its own (or all share one).

    Returns ``(classes, aggregated)``: ``classes[c]`` the outputs of class ``c``
    (in order of first appearance) and ``aggregated`` the :class:`Problem` with
    one output per class and reference mass ``R_c = sum pi_ref`` over the class.
    """
    groups: dict = {}
    for o, row in enumerate(problem.rho):
        groups.setdefault(row, []).append(o)
    if len(groups) in (1, problem.K):
        return None
    classes = list(groups.values())
    aggregated = Problem(tuple(sum(problem.ref[o] for o in c) for c in classes), problem.values,
                         tuple(problem.rho[c[0]] for c in classes), problem.beta, problem.group,
                         problem.penalty, problem.normalisation)
    return classes, aggregated


def _interior_by_classes(problem, digits, certify, dynamics):
    """Interior stationary policies through the problem with one output per reward distribution.

    Outputs with the same reward distribution have the same ``P_G``, so by
    arXiv:2502.18548v3, Eq. (11) (and its k3-is analogue) an interior
    stationary policy keeps their ``pi/pi_ref`` equal: ``pi(o) = pi_ref(o) pi_c/R_c``
    with ``pi_c`` an interior stationary policy of the aggregated problem, and
    conversely.  A certificate of ``pi_c`` (existence and uniqueness in its
    box) is one of ``pi`` (the map is linear and one-to-one on such policies).
    The enclosure is the class enclosure times ``pi_ref(o)/R_c`` in Arb.
    Stability is decided on the full problem: its eigenvalues for
    ``K <= SMALL_K``; at ``G = 2`` by the argument of :mod:`derive.solve.reduced`;
    otherwise ``"undecided"``.
    """
    from dataclasses import replace

    from derive.solve.reduced import SMALL_K, g2_stability_note, infinite_stability_note

    classes, aggregated = _classes_of(problem)
    out = []
    for s in _interior(aggregated, system_of(aggregated), digits, certify, dynamics):
        with mp.workdps(digits + 12):
            policy = [None] * problem.K
            enclosure = [None] * problem.K
            with arb_precision(mp.prec + 10):
                for c, members in enumerate(classes):
                    R = ARB.num(aggregated.ref[c])
                    lo_c, hi_c = s.enclosure[c]
                    box = interval(lo_c, hi_c)
                    for o in members:
                        ratio = ARB.num(problem.ref[o]) / R
                        policy[o] = s.policy[c] * mpf_exact(problem.ref[o]) / mpf_exact(aggregated.ref[c])
                        enclosure[o] = arb_ends(box * ratio) if s.certified else (policy[o], policy[o])
            enclosure = [(min(lo, p), max(hi, p)) for (lo, hi), p in zip(enclosure, policy)]
            residual = stationarity_residual(problem, policy, relative=True)
            note = s.note
            why = "solved with one output per reward distribution (outputs with equal rewards keep pi/pi_ref equal)"
            note = f"{note}; {why}" if note else why
            if problem.K <= SMALL_K:
                eig, cls = dynamics.stability(problem, policy, digits)
                stable = None if cls == "undecided" else cls == "attractor"
            elif problem.group == 2:
                eig, cls, stable = (), "attractor", True
                note += "; " + g2_stability_note()
            elif problem.group is None and problem.normalisation == "shift-scale":
                eig = ()
                cls, stable, why = infinite_stability_note(problem, policy, digits)
                note += "; " + why
            else:
                eig, cls, stable = (), "undecided", None
                note += f"; stability undecided: eigenvalues not computed for K > {SMALL_K}"
        out.append(replace(s, policy=tuple(policy), enclosure=tuple(enclosure), residual=residual,
                           classification=cls, stable=stable, eigenvalues=tuple(eig), note=note))
    return out


def _uses_reduced(problem) -> bool:
    """Whether :func:`stationary_policies` solves the interior through :mod:`derive.solve.reduced`.

    For ``K >= REDUCED_MIN_K`` outputs when a reduced system applies (``G = infinity`` shift-scale, or ``G = 2``
    shift-scale k3 with deterministic rewards): a handful of unknowns whatever ``K``.
    """
    from derive.solve.reduced import applies

    return problem.K >= REDUCED_MIN_K and applies(problem) is not None


#: From this many outputs on, :func:`stationary_policies` uses :mod:`derive.solve.reduced` where it applies.
REDUCED_MIN_K = 5


def _with_correction(problem, s, digits):
    """*s* with its first finite-group correction (interior points at G = infinity)."""
    if s.kind != "interior":
        return s
    from dataclasses import replace

    from derive.solve.reduced import SMALL_K

    if problem.K > SMALL_K:
        why = f"finite-group correction not computed for K > {SMALL_K} (a K x K linear system in mpmath)"
        return replace(s, note=f"{s.note}; {why}" if s.note else why)

    from derive.solve.correction import finite_group_correction

    with mp.workdps(digits + 12):
        c = finite_group_correction(problem, s.policy)
    if c is None:
        why = ("finite-group correction not reported: the G = infinity Jacobian is singular or "
               "too ill-conditioned (a near-double root)")
        return replace(s, note=f"{s.note}; {why}" if s.note else why)
    return replace(s, finite_group_correction=c)


def _interior(problem, system, digits, certify, dynamics):
    out = []
    base = digits + 12
    if system.dim == 0:
        with mp.workdps(base):
            policy = tuple(mpf_exact(r) for r in problem.ref)
        candidates = [("exact", policy, None)]
    elif system.dim == 1:
        with mp.workdps(base):
            roots = _roots_1d(system, digits)
        candidates = []
        for r in roots:
            with mp.workdps(30):
                at = system.residual_1d(mp.mpf(r.u), mp.mpf(r.v), MP)
            pi0 = at[2] if at is not None else []
            extra = _guard_digits([r.u, r.v] + list(pi0))
            if pi0:
                extra += _amplification_digits(system, pi0)
            if extra:
                with mp.workdps(base + extra):
                    tol = mp.mpf(10) ** (-(digits + 6))
                    r = _refine_1d(system, r, tol) or r
            candidates.append(("1d", r, extra))
    else:
        with mp.workdps(base):
            roots = _roots_nd(system, digits)
        candidates = []
        for x in roots:
            with mp.workdps(30):
                at = system.residual_nd([mp.mpf(t) for t in x], MP)
            extra = _guard_digits(list(at[2])) + _amplification_digits(system, at[2]) if at is not None else 0
            if extra:
                with mp.workdps(base + extra):
                    x = _newton_mp_nd(system, x, mp.mpf(10) ** (-(digits + 6))) or x
            candidates.append(("nd", x, extra))
    seen = []
    for kind, root, extra in candidates:
        dps = base + (extra or 0)
        with mp.workdps(dps):
            if kind == "exact":
                policy = root
            elif kind == "1d":
                res = system.residual_1d(root.u, root.v, MP)
                if res is None:
                    continue
                policy = tuple(res[2])
            else:
                res = system.residual_nd(root, MP)
                if res is None:
                    continue
                policy = tuple(res[2])
            if any(p <= 0 for p in policy):
                continue
            s = mp.fsum(policy)
            policy = tuple(p / s for p in policy)
            if any(max(abs(a - b) for a, b in zip(policy, other)) < mp.mpf(10) ** (-(digits // 2)) for other in seen):
                continue
            residual = stationarity_residual(problem, policy, relative=True)
            if residual > mp.mpf(10) ** (-(digits - 5)):
                continue
            seen.append(policy)
            eig, cls = dynamics.stability(problem, policy, digits)
            note = ""
            if kind == "exact":
                enclosure = _certify.exact_enclosure(problem.ref, mp.prec)
                certified = True
                note = ("every output has the same preference, so P_G = 0 and the stationary "
                        "policy is pi_ref")
            elif not certify:
                enclosure = tuple((p, p) for p in policy)
                certified = False
                note = "certificate not requested"
            elif kind == "1d":
                if root.double:
                    enclosure = tuple((p, p) for p in policy)
                    certified = False
                    note = "uniqueness not certified: a double root (tangency) of the reduced system"
                else:
                    enclosure, certified, why = _certify.certify_root_1d(system, root.u, root.v, digits, policy)
                    note = "" if certified else "uniqueness not certified: " + why
            else:
                enclosure, certified, why = _certify.certify_root_nd(system, root, digits, policy)
                note = "" if certified else "uniqueness not certified: " + why
            stable = cls == "attractor"
            if cls == "undecided":
                # an eigenvalue within rounding of zero: neither stable nor unstable is proved
                stable = None
                extra_note = "an eigenvalue of the logit Jacobian is zero within the precision: stability undecided"
                note = f"{note}; {extra_note}" if note else extra_note
        out.append(StationaryPolicy(policy, "interior", cls, residual, tuple(enclosure), bool(certified),
                                    stable, tuple(eig), note))
    return out


def _refine_1d(system, root, tol):
    """Newton at a raised precision from a root already accurate to ``digits + 12``."""
    flip = root.v < root.u
    w = mp.mpf(root.v if flip else root.u)
    for _ in range(30):
        uu, vv = (1 - w, w) if flip else (w, 1 - w)
        out = system.residual_1d.value_and_jacobian(uu, vv, MP)
        if out is None or out.J == 0:
            return None
        F, dF = out.F, out.J
        step = F / (-dF if flip else dF)
        w = w - step
        if w <= 0 or w >= 1:
            return None
        if abs(step) <= tol * abs(w):
            uu, vv = (1 - w, w) if flip else (w, 1 - w)
            return _Root1(uu, vv, root.double)
    return None


# ---------------------------------------------------------------------------
# Every variant: route to the paper's solver or to the generic one
# ---------------------------------------------------------------------------


def stationary_policies(problem: Problem, digits: int = 50, certify: bool = True) -> list:
    """Every stationary policy of ``problem``, sorted by ``pi[0]`` descending, then kind.

    Interior points solve arXiv:2502.18548v3, Eq. (11) (k3) or its Section 3
    analogue (k3-is); boundary points are the closed-form cases of the module
    docstring.  Values are accurate to ``digits`` significant digits (computed
    at ``digits + 12`` or more); residuals are below ``10^-(digits - 5)``.
    With ``certify=False`` no interval certificate is attempted (the
    enclosure is then the point itself and ``certified`` is False).  Other
    variants (:attr:`Problem.solved_as` is ``None``) are solved by
    :func:`derive.solve.variant_solver.variant_policies`.

    >>> from fractions import Fraction as F
    >>> from mpmath import mp
    >>> sols = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2), digits=20)
    >>> [(mp.nstr(s.policy[0], 15), s.classification, s.certified) for s in sols]   # Eq. (14)
    [('0.653112887414927', 'attractor', True)]
    """
    routed = problem.solved_as
    if routed is None:
        from derive.solve.variant_solver import variant_policies

        return variant_policies(problem, digits, certify)
    inner, note = routed
    sols = _paper_policies(inner, digits, certify)
    if note:
        from dataclasses import replace

        sols = [replace(s, note="; ".join(n for n in (note, s.note) if n)) for s in sols]
    return sols


def estimate_cost(problem: Problem, digits: int = 50, certify: bool = True) -> Cost:
    """The a-priori :class:`Cost` of :func:`stationary_policies` (see :func:`_paper_cost`).

    >>> from fractions import Fraction as F
    >>> c = estimate_cost(Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 2), 10**6))
    >>> c.terms < 30000, c.memory < 2**24, c.seconds < 10       # a window of ~sqrt(G) terms
    (True, True, True)
    """
    routed = problem.solved_as
    if routed is None:
        from derive.solve.variant_solver import variant_cost

        return variant_cost(problem, digits, certify)
    return _paper_cost(routed[0], digits, certify)


def search_limits(problem: Problem) -> str:
    """Why ``problem`` cannot be solved within the precision limits, or ``""``.

    >>> from fractions import Fraction as F
    >>> search_limits(Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1, 10**20), 2, "k3-is"))[:58]
    'refused: with k3-is and beta = 1.0e-20 a stationary policy'
    """
    routed = problem.solved_as
    if routed is None:
        from derive.solve.variant_solver import variant_search_limits

        return variant_search_limits(problem)
    return _paper_search_limits(routed[0])


def search_description(problem: Problem) -> tuple:
    """``(text, exists)``: what the interior search covers, and whether a root provably exists."""
    routed = problem.solved_as
    if routed is None:
        from derive.solve.variant_solver import variant_search_description

        return variant_search_description(problem)
    return _paper_search_description(routed[0])
