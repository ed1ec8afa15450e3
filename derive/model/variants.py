"""Every GRPO variant from one objective: what it regularises towards, and where it rests.

arXiv:2502.18548v3 derives the stationary policies of one GRPO (Eq. (1):
the k3 penalty on samples of ``pi_old``, the advantage (2) with the population
std).  Here each variant of :class:`derive.model.Objective` is derived from its
definition, not typed:

* :class:`EffectiveDivergence` -- the expected penalty
  ``D(pi; pi_old) = E_{o ~ pi_old}[w k(o)]``, its gradient at ``pi_old = pi``
  (Eq. (8), (10)), and the divergence that gradient follows on the simplex,
  chosen among ``KL(pi || pi_ref)``, ``KL(pi_ref || pi)``, none (a constant
  gradient: ``beta`` drops out) and the on-policy penalty ``D(pi; pi)`` itself;
* :func:`binary_preference_gap` -- ``P_G(a|pi) - P_G(b|pi)`` of a binary
  question for every normalisation, from the advantages of every group;
* :class:`Stationarity` -- the KKT condition on the simplex (Appendix A) and,
  for binary questions at ``G = 2`` and ``G -> inf``, the closed form where
  SymPy's ``solve`` returns one, checked against bracketed roots of the
  unsquared condition;
* :func:`kl_in_reward_policy` -- the KL-in-reward variant.

The independent path (:func:`enumerated_objective`) enumerates every ordered
group and reward outcome of a small group with mpmath and differentiates the
objective numerically; it shares no formula with the derivations.
"""

from functools import cache

import mpmath
from sympy import (
    Integer,
    Rational,
    Symbol,
    binomial,
    cancel,
    diff,
    expand,
    expand_log,
    log,
    radsimp,
    solve,
    sqrt,
)

from derive.model.objective import NORMALISATIONS, PENALTIES, Objective
from derive.numerics.context import mpf_exact
from derive.numerics.format import decimal
from derive.numerics.roots import bisect, sign_changes
from derive.paper import symbols as S
from derive.paper.baselines import rlhf_policy_binary
from derive.paper.limit import preference_limit
from derive.paper.penalty import OUTPUTS, kl

x, p, beta = S.x, S.p, S.beta


#: epsilon added to the std, and the G -> infinity std sigma(pi).
eps = Symbol("epsilon", nonnegative=True)


#: Candidate divergences, in the order they are tried: name, LaTeX, builder(pi, ref, D_on).
CANDIDATES = (
    ("none", r"\text{none}", lambda pi, ref, on: Integer(0)),
    ("KL(pi||pi_ref)", r"\mathrm{KL}(\pi \,\|\, \pi_{\mathrm{ref}})", lambda pi, ref, on: kl(pi, ref)),
    ("KL(pi_ref||pi)", r"\mathrm{KL}(\pi_{\mathrm{ref}} \,\|\, \pi)", lambda pi, ref, on: kl(ref, pi)),
    ("D(pi;pi)", r"D(\pi; \pi)", lambda pi, ref, on: on),
)


def simplified(expr):
    return cancel(expand(expand_log(expr, force=True)))


class EffectiveDivergence:
    """The divergence whose gradient the expected penalty follows at ``pi_old = pi``.

    >>> e = EffectiveDivergence("k3").derive()
    >>> e.divergence, e.gradient[0], e.constant
    ('KL(pi_ref||pi)', (pi_a - pi_ref_a)/pi_a, 1)
    >>> EffectiveDivergence("k1").derive().divergence
    'none'
    """

    def __init__(self, penalty, importance_weighted=False, outputs=OUTPUTS):
        self.estimator = PENALTIES[penalty]
        self.importance_weighted = importance_weighted
        self.pi = S.policy_symbols("pi", outputs)
        self.ref = S.policy_symbols("pi_ref", outputs)
        self.old = S.policy_symbols("pi_old", outputs)

    def derive(self):
        est = self.estimator
        #: D(pi; pi_old), Eq. (7) for this estimator
        self.expected = est.expected(self.pi, self.ref, self.old, self.importance_weighted)
        on = dict(zip(self.old, self.pi))
        #: dD/dpi(o) at pi_old = pi (Eq. (10) for k3)
        self.gradient = [simplified(diff(self.expected, t).subs(on)) for t in self.pi]
        self.on_policy = self.expected.subs(on)
        self.divergence, self.tex, self.constant = None, None, None
        for name, tex, build in CANDIDATES:
            cand = build(self.pi, self.ref, self.on_policy)
            res = [simplified(g - diff(cand, t)) for g, t in zip(self.gradient, self.pi)]
            if all(r.is_number for r in res) and len(set(res)) == 1:
                self.divergence, self.tex, self.constant = name, tex, res[0]
                self.candidate = cand
                break
        return self

    @property
    def name(self):
        return self.estimator.name + ("-is" if self.importance_weighted else "")


@cache
def effective_divergences():
    """:class:`EffectiveDivergence` of every penalty and importance weight."""
    return {(k, iw): EffectiveDivergence(k, iw).derive()
            for k in PENALTIES for iw in (False, True)}


def binary_preference(norm, std, eps_, G, own, rewards=(1, 0)):
    """``P_G(own | pi)`` of a binary question with deterministic *rewards* (of ``a``, ``b``),
    ``x = pi(a)``: a binomial sum over the number of ``a`` among the other ``G - 1``
    members, each term the first advantage of that group (Eq. (6))."""
    ra, rb = rewards
    total = Integer(0)
    for k in range(G):
        group = [rewards[own]] + [ra] * k + [rb] * (G - 1 - k)
        total += binomial(G - 1, k) * x**k * (1 - x) ** (G - 1 - k) \
            * NORMALISATIONS[norm].advantage(group, 0, std, eps_)
    return total


@cache
def binary_preference_gap(norm, std, eps_, G, rewards=(1, 0)):
    """``P_G(a|pi) - P_G(b|pi)`` (``G`` an integer, or ``None`` for ``G -> inf``).

    The limit replaces the group mean by ``E_pi r`` and the group std by
    ``sigma(pi) = |r_a - r_b| sqrt(x (1 - x))`` (law of large numbers, Eq. (13)).
    """
    if G is not None:
        return radsimp(cancel(expand(binary_preference(norm, std, eps_, G, 0, rewards)
                                     - binary_preference(norm, std, eps_, G, 1, rewards))))
    n = NORMALISATIONS[norm]
    ra, rb = rewards
    mean = ra * x + rb * (1 - x)
    sigma = abs(ra - rb) * sqrt(x) * sqrt(1 - x)
    scale = n.scale_limit(sigma, std, eps_)
    # the derived limit (13), (r - mean)/scale, with the normalisation's centre and scale
    pa, pb = (preference_limit(r, mean if n.centred else 0, scale) for r in (ra, rb))
    return cancel(pa - pb)


class KKT:
    """The KKT condition of ``J(pi'; pi_old)`` on the simplex at ``pi_old = pi`` (Appendix A).

    ``J = sum_o pi'(o) P_o - beta D(pi'; pi_old)`` with ``P_o = P_G(o|pi_old)``;
    the Lagrangian ``J - lambda (sum pi' - 1)`` is differentiated, ``pi_old = pi``
    set, and ``lambda`` found by summing ``pi(o)`` times the condition.

    >>> from sympy import expand
    >>> kkt = KKT("k3").derive()
    >>> e = kkt.eff
    >>> mean_P = sum(t * P for t, P in zip(e.pi, kkt.P))
    >>> expand((kkt.multiplier - mean_P + beta * (1 - sum(e.ref))).subs(e.pi[-1], 1 - e.pi[0] - e.pi[1]))
    0
    """

    def __init__(self, penalty, importance_weighted=False, outputs=OUTPUTS):
        self.eff = EffectiveDivergence(penalty, importance_weighted, outputs)
        self.P = S.preference_symbols(outputs)

    def derive(self):
        e = self.eff.derive()
        trial = [Symbol(f"y_{i}", positive=True) for i in range(len(e.pi))]
        D = e.expected.subs(dict(zip(e.pi, trial)))
        J = sum(t * P for t, P in zip(trial, self.P)) - beta * D
        L = J - S.lam * (sum(trial) - 1)
        on = dict(zip(trial, e.pi)) | dict(zip(e.old, e.pi))
        dL = [diff(L, t).subs(on) for t in trial]
        #: the multiplier from sum_o pi(o) dL/dpi'(o) = 0, with sum pi = 1
        lam = solve(sum(pi * d for pi, d in zip(e.pi, dL)), S.lam)[0]
        lam = expand(lam.subs(e.pi[-1], 1 - sum(e.pi[:-1]))).subs(1 - sum(e.pi[:-1]), e.pi[-1])
        self.multiplier = lam
        #: dL/dpi'(o) at the multiplier: P_o - E_pi P - beta (g_o - E_pi g), on sum pi = 1
        self.residual = [simplified(expand(d.subs(S.lam, lam)).subs(
            e.pi[-1], 1 - sum(e.pi[:-1]))).subs(1 - sum(e.pi[:-1]), e.pi[-1]) for d in dL]
        return self


@cache
def binary_gradient_gap(penalty, importance_weighted):
    """``g_a - g_b`` at ``pi = (x, 1 - x)``, ``pi_ref = (p, 1 - p)`` (the derived gradient)."""
    e = EffectiveDivergence(penalty, importance_weighted, "ab").derive()
    sub = {e.pi[0]: x, e.pi[1]: 1 - x, e.ref[0]: p, e.ref[1]: 1 - p}
    return simplified((e.gradient[0] - e.gradient[1]).subs(sub))


def binary_condition(obj, G):
    """``F(x) = P_G(a|pi) - P_G(b|pi) - beta (g_a - g_b)``: the binary KKT condition,
    the difference of the conditions of ``a`` and ``b`` (the multiplier cancels).
    Rewards 1 and 0; ``eps`` stays symbolic."""
    eps_ = eps if obj.std_eps else 0
    gap = binary_preference_gap(obj.normalisation, obj.std, eps_, G)
    return gap - beta * binary_gradient_gap(obj.penalty, obj.importance_weighted)


#: The stated point of the variant matrix: beta, pi_ref(a), and the epsilon of the eps column.
BETA, P_REF, EPS = Rational(1, 2), Rational(1, 5), Rational(1, 10)


#: The columns of the matrix: (key, short TeX, normalisation, std, eps > 0).
COLUMNS = (
    ("pop", r"$\sigma$", "shift-scale", "population", False),
    ("sample", r"$s$", "shift-scale", "sample", False),
    ("eps", r"$\sigma{+}\epsilon$", "shift-scale", "population", True),
    ("shift", r"$\text{sh}$", "shift-only", "population", False),
    ("none", r"$r$", "none", "population", False),
)


def column_objective(col, penalty="k3", importance_weighted=False, kl_in="loss"):
    _, _, norm, std, has_eps = next(c for c in COLUMNS if c[0] == col)
    return Objective(penalty, importance_weighted, kl_in, norm, std, EPS if has_eps else 0)


class BinaryVariant:
    """Binary question, rewards ``r(a) = 1 > r(b) = 0``: the stationary ``pi(a)`` of
    the variant *obj* at ``G`` (``None`` for ``G -> inf``).

    ``closed_form`` is SymPy's root of :func:`binary_condition` that satisfies the
    unsquared condition on ``(0, 1)`` at every sample point, or ``None`` where
    ``solve`` returns none (or is not attempted: a ``G -> inf`` condition mixing
    ``log`` and ``sqrt`` terms, or with an epsilon, which SymPy does not solve);
    ``reason`` says which.
    """

    def __init__(self, obj, G):
        self.obj, self.G = obj, G

    def derive(self):
        self.condition = binary_condition(self.obj, self.G)
        F = self.condition
        self.constant = x not in F.free_symbols
        self.closed_form, self.reason = None, ""
        if self.constant:
            self.reason = "the condition does not depend on x: no interior stationary point"
            return self
        gap = binary_preference_gap(self.obj.normalisation, self.obj.std,
                                    eps if self.obj.std_eps else 0, self.G)
        if x not in gap.free_symbols:
            # F = c - beta (g_a - g_b) with a gap c free of x: one solve per penalty
            roots = [r.subs(C_GAP, gap) for r in
                     solve_condition(C_GAP - beta * binary_gradient_gap(
                         self.obj.penalty, self.obj.importance_weighted))]
        elif F.has(log) or F.has(eps):
            self.reason = "transcendental (log and sqrt) or quartic (epsilon): not solved"
            return self
        else:
            roots = solve_condition(F)
        keep = [r for r in roots if self._admissible(r)]
        if len(keep) == 1:
            self.closed_form = keep[0]
        else:
            self.reason = "SymPy's solve returns no admissible root"
        return self

    def _admissible(self, root):
        for pv, bv, ev in ((Rational(1, 5), Rational(1, 2), Rational(1, 10)),
                           (Rational(7, 10), Rational(3, 1), Rational(1, 100)),
                           (Rational(1, 20), Rational(1, 10), Rational(1, 3))):
            sub = {p: pv, beta: bv, eps: ev}
            v = root.evalf(40, subs=sub)
            if not v.is_real or not 0 < v < 1:
                return False
            if abs(self.condition.evalf(40, subs=sub | {x: v})) > 1e-30:
                return False
        return True


#: The preference gap of a binary question where it does not depend on x (G finite).
C_GAP = Symbol("c", positive=True)


@cache
def solve_condition(F):
    """SymPy's roots of ``F = 0`` in x (none where ``solve`` gives up)."""
    try:
        return tuple(solve(F, x))
    except (NotImplementedError, TypeError):
        return ()


def condition_function(F, pv, bv, ev):
    """``x -> F(x)`` at numbers (mpmath), for root finding."""
    from sympy import lambdify

    f = lambdify((x, p, beta, eps), F, "mpmath")
    return lambda xv: f(xv, mpf_exact(pv), mpf_exact(bv), mpf_exact(ev))


def bracketed_roots(f, n=400):
    """Every sign change of *f* on a grid uniform in ``logit x`` on ``[-30, 30]``
    (:func:`derive.numerics.roots.sign_changes`, a zero at a grid point included),
    refined by bisection (:func:`derive.numerics.roots.bisect`) at the working precision."""
    with mpmath.workdps(20):        # the scan only locates sign changes
        grid = [1 / (1 + mpmath.exp(-(-30 + 60 * mpmath.mpf(i) / n))) for i in range(n + 1)]
        vals = [f(t) for t in grid]
    return [grid[i] if i == j else bisect(f, grid[i], grid[j]) for i, j in sign_changes(vals)]


#: Bernoulli success probabilities of the KL-in-reward example (a, b).
SUCCESS = (Rational(7, 10), Rational(3, 10))


class KLInReward:
    """KL in the reward, binary question (arXiv:2502.18548v3, Eq. (1) with
    ``r_i <- r_i - beta k1(o_i)`` and no penalty term).

    With ``pi_old = pi`` the objective is linear in the trial policy, so its KKT
    condition on the interior is ``P'_G(a|pi) = P'_G(b|pi)``, ``P'`` the preference
    of the modified reward.  With deterministic rewards ``r(a) = 1``, ``r(b) = 0``
    the modified rewards differ by
    ``Delta = 1 - beta (log(x/p) - log((1 - x)/(1 - p)))``, and the preference gap
    has the sign of ``Delta`` for every normalisation (derived with ``Delta = d > 0``
    and ``Delta = -d``): the only interior stationary point is ``Delta = 0``,
    RLHF's logarithmic pooling ``pi(a) propto pi_ref(a) e^{r(a)/beta}`` (Eqs. (3)-(4)).
    """

    def derive(self):
        d, u = Symbol("d", positive=True), Symbol("u", real=True)
        self.gaps = {}
        for col, _, norm, std, has_eps in COLUMNS:
            e_ = eps if has_eps else 0
            for G in (2, 3, None):
                up = binary_preference_gap(norm, std, e_, G, (u + d, u))
                down = binary_preference_gap(norm, std, e_, G, (u - d, u))
                self.gaps[(col, G)] = (up, down)
        # r'(a) - r'(b) with r' = r - beta k1 and k1 = log(pi/pi_ref) at pi_old = pi
        k1 = PENALTIES["k1"]
        self.delta = 1 - beta * simplified(k1.sample(x, p) - k1.sample(1 - x, 1 - p))
        (self.policy,) = solve(self.delta, x)
        #: RLHF's pi(a) for r(a) - r(b) = 1, derived from (3) in derive.paper.baselines
        self.rlhf = rlhf_policy_binary()
        pa, pb = SUCCESS
        # shift-only and none are linear in the rewards: only the mean rewards enter
        self.bernoulli_linear = solve(pa - pb - beta * simplified(k1.sample(x, p) - k1.sample(1 - x, 1 - p)),
                                      x)[0]
        return self

    def signs_ok(self):
        """Whether each gap is positive for ``Delta = d > 0`` and negative for ``-d``
        (at sample points of ``x``, ``u``, ``d``, ``epsilon``)."""
        d, u = Symbol("d", positive=True), Symbol("u", real=True)
        for up, down in self.gaps.values():
            for xv, uv, dv, ev in ((Rational(1, 5), 0, Rational(1, 3), Rational(1, 10)),
                                   (Rational(4, 5), 2, Rational(5, 2), Rational(1, 2))):
                sub = {x: xv, u: uv, d: dv, eps: ev}
                if not (up.evalf(30, subs=sub) > 0 and down.evalf(30, subs=sub) < 0):
                    return False
        return True


ROWS = tuple((k, iw) for k in PENALTIES for iw in (False, True))


#: Short symbols of the effective divergences in the table (legend in the caption).
DIVERGENCE_TEX = {"none": r"$\times$", "KL(pi||pi_ref)": r"$\mathrm{K}_{+}$",
                  "KL(pi_ref||pi)": r"$\mathrm{K}_{-}$", "D(pi;pi)": r"$M_2$"}


#: The aggregation rule each divergence gives through the KKT condition, in words.
AGGREGATION = {"none": "none: beta drops out and there is no interior stationary point",
               "KL(pi||pi_ref)": "logarithmic pooling: pi propto pi_ref exp(P/beta) with a "
                                 "policy-dependent P",
               "KL(pi_ref||pi)": "pi = pi_ref / (1 - (P - E_pi P)/beta): the paper's g(x) = 1/(1-x)",
               "D(pi;pi)": "L^2/2 + L = (P - E_pi P)/beta + const with L = log(pi/pi_ref): "
                           "neither pooling"}


assert not any("," in w for w in AGGREGATION.values())     # they go into a CSV field


def cell_number(v, digits=4):
    """A root of the variant matrix: mpmath's own fixed/exponent switch, zeros kept."""
    return decimal(v, digits, min_fixed=None, max_fixed=None)


def deterministic_outcomes():
    return [[(mpmath.mpf(1), mpmath.mpf(1))], [(mpmath.mpf(0), mpmath.mpf(1))]]


def matrix_cells(digits=50):
    """Every cell of the matrix: ``{(penalty, iw, col, G): record}`` with the derived
    closed form (or the reason there is none) and the bracketed roots of the unsquared
    condition at the stated ``(beta, p, eps)``, at *digits*."""
    cells = {}
    with mpmath.workdps(digits + 10):
        for pen, iw in ROWS:
            for col, *_ in COLUMNS:
                obj = column_objective(col, pen, iw)
                for G in (2, 3, None):
                    b = BinaryVariant(obj, G).derive() if G != 3 else None
                    F = binary_condition(obj, G)
                    f = condition_function(F, P_REF, BETA, EPS)
                    roots = [] if x not in F.free_symbols else bracketed_roots(f)
                    closed = None
                    if b is not None and b.closed_form is not None:
                        closed = mpmath.mpf(b.closed_form.evalf(digits + 10, subs={
                            p: P_REF, beta: BETA, eps: EPS}))
                    cells[(pen, iw, col, G)] = {"obj": obj, "condition": F, "roots": roots,
                                                "closed": closed, "variant": b}
    return cells


def table_rows(cells, kr, G):
    """Rows of the matrix at group size *G* (2, or ``None`` for ``G -> inf``)."""
    rows = []
    eff = effective_divergences()
    for pen, iw in ROWS:
        e = eff[(pen, iw)]
        texts = []
        for col, *_ in COLUMNS:
            c = cells[(pen, iw, col, G)]
            if beta not in c["condition"].free_symbols:
                texts.append(r"$\times$")
            elif not c["roots"]:
                texts.append("--")
            else:
                n = len(c["roots"])
                sup = (f"({n})" if n > 1 else "") + ("" if c["closed"] is not None else "*")
                texts.append(cell_number(c["roots"][-1], 3) + (f"$^{{{sup}}}$" if sup else ""))
        rows.append({"penalty": pen, "is": r"\checkmark" if iw else "", "kl_in": "L",
                     "divergence": DIVERGENCE_TEX[e.divergence], "cells": texts})
    xs = cell_number(mpmath.mpf(kr.policy.evalf(30, subs={p: P_REF, beta: BETA})), 3)
    rows.append({"penalty": "k1", "is": "", "kl_in": "R", "divergence": "RLHF",
                 "cells": [xs] * len(COLUMNS)})
    return rows
