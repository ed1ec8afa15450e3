r"""Stability and dynamics of the GRPO iteration (beyond arXiv:2502.18548v3).

The expected-gradient GRPO iteration on softmax logits ``theta``
(``pi = softmax(theta)``, ``pi_old = pi`` at every step, no clipping) is

    d theta_j / dt = F_j(theta) = pi_j (g_j - sum_o pi_o g_o),

with ``g`` the field of :mod:`derive.solve.solver` (arXiv:2502.18548v3, Eq. (11) for
k3, Section 3 for k3-is): ``F_j`` is the derivative of the objective
``J(pi; pi_old)`` in ``theta_j`` at ``pi_old = pi``.  Interior stationary
policies are its rest points.

Stability (:func:`logit_jacobian_eigenvalues`).  The flow does not move along
the all-ones direction of ``theta``, so it is written in the differences
``phi_j = theta_j - theta_{K-1}``; the ``(K-1) x (K-1)`` Jacobian
``M_jl = dF_j/dtheta_l - dF_{K-1}/dtheta_l`` has exactly the non-trivial
eigenvalues of ``dF/dtheta``.  It is computed analytically:
``dF_j/dtheta_l = sum_k dF_j/dpi_k pi_k (delta_kl - pi_l)`` with
``dF_j/dpi_k = delta_jk (g_j - gbar) + pi_j (dg_j/dpi_k - g_k - sum_o pi_o dg_o/dpi_k)``,
where ``dg_o/dpi_k`` includes the dependence of ``P_G(o|pi_old)`` on
``pi_old = pi``.  For ``K = 2`` the single eigenvalue is
``2 x^2 (1 - x)^2 dg/dx`` with ``g = g_a - g_b``, so its sign is that of
``dg/dx``.

:func:`simulate_expected_gradient` takes Euler steps of the flow from
``pi_ref`` with the exact ``P_G`` at finite ``G``; :func:`monte_carlo_grpo`
runs GRPO itself with sampled groups, sampled rewards, group advantages, the
clipped ratio and the k3 penalty, in Python floats with ``random.Random(seed)``.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

from mpmath import mp

from derive.model.estimators import PENALTIES
from derive.model.normalisations import NORMALISATIONS
from derive.numerics.context import MP, mpf_exact

__all__ = [
    "MonteCarloRun",
    "logit_flow",
    "logit_jacobian",
    "logit_jacobian_eigenvalues",
    "monte_carlo_grpo",
    "simulate_expected_gradient",
    "stability",
    "trajectory_dataset",
]


def _system(problem):
    """The problem's stationarity system (``problem.system()``: no import of the solvers)."""
    return problem.system()


def logit_flow(problem, policy) -> list:
    """``F_j = pi_j (g_j - sum_o pi_o g_o)`` at ``policy`` (current mp precision)."""
    system = _system(problem)
    pi = [mp.mpf(p) for p in policy]
    g = system.field(pi, MP)
    gbar = mp.fsum(p * x for p, x in zip(pi, g))
    return [p * (x - gbar) for p, x in zip(pi, g)]


def logit_jacobian(problem, policy):
    """The reduced ``(K-1) x (K-1)`` Jacobian ``M`` of the logit flow at ``policy``."""
    return logit_jacobian_of_field(_system(problem), policy)


def _field_and_derivative(system, policy):
    """``(pi, g, E_pi g, dg)`` at *policy* from ``system.field_jacobian(pi, MP) -> (g, dg)``."""
    pi = [mp.mpf(p) for p in policy]
    g, dg = system.field_jacobian(pi, MP)
    gbar = mp.fsum(p * x for p, x in zip(pi, g))
    return pi, g, gbar, dg


def logit_jacobian_of_field(system, policy):
    """:func:`logit_jacobian` of any *system* with ``field_jacobian(pi, MP) -> (g, dg)``."""
    pi, g, gbar, dg = _field_and_derivative(system, policy)
    K = len(pi)
    wdg = [mp.fsum(pi[o] * dg[o][k] for o in range(K)) for k in range(K)]
    dF_dpi = [
        [(g[j] - gbar if j == k else 0) + pi[j] * (dg[j][k] - g[k] - wdg[k]) for k in range(K)]
        for j in range(K)
    ]
    dF = [
        [mp.fsum(dF_dpi[j][k] * pi[k] * ((1 if k == l else 0) - pi[l]) for k in range(K)) for l in range(K)]
        for j in range(K)
    ]
    return [[dF[j][l] - dF[K - 1][l] for l in range(K - 1)] for j in range(K - 1)]


def logit_jacobian_scale(system, policy):
    """The largest sum of absolute values of the terms that make up an entry of
    :func:`logit_jacobian_of_field`: the scale against which an entry (or an eigenvalue)
    is "zero within rounding"."""
    pi, g, gbar, dg = _field_and_derivative(system, policy)
    K = len(pi)
    size = [
        [(abs(g[j] - gbar) if j == k else 0)
         + pi[j] * (abs(dg[j][k]) + abs(g[k]) + mp.fsum(pi[o] * abs(dg[o][k]) for o in range(K)))
         for k in range(K)]
        for j in range(K)
    ]
    return max(
        mp.fsum(size[j][k] * pi[k] * abs((1 if k == l else 0) - pi[l]) for k in range(K))
        for j in range(K) for l in range(K)
    )


def face_classification(signs):
    """A face point from the signs of ``P(o) - P(face)`` of the answers outside it.

    All negative (every outside answer pushed out): ``boundary-attractor``; all
    positive: ``boundary-repeller``; mixed: ``boundary-saddle``; a zero: ``undecided``.

    >>> face_classification({-1}), face_classification({-1, 1}), face_classification({0, 1})
    ('boundary-attractor', 'boundary-saddle', 'undecided')
    """
    if 0 in signs:
        return "undecided"
    if signs == {-1}:
        return "boundary-attractor"
    if signs == {1}:
        return "boundary-repeller"
    return "boundary-saddle"


def stability(problem, policy, digits=50):
    """``(eigenvalues, classification)`` of an interior stationary policy as a rest point of the flow.

    ``"attractor"`` if every eigenvalue of the logit Jacobian has negative real
    part (stable), ``"repeller"`` if every one is positive, ``"saddle"`` if the
    signs are mixed, ``"undecided"`` if a real part is zero within
    ``10^-(digits//2)`` of the scale of the terms of the Jacobian.  These words
    are about the iteration, not about ``J``: whether the point maximises
    ``J(.; pi_old = pi)`` is decided by :mod:`derive.solve.maximiser`.
    """
    return eigenvalues_and_class(_system(problem), policy, digits)


def eigenvalues_and_class(system, policy, digits=50):
    """:func:`stability` of any *system* with a ``field_jacobian`` (e.g. a GRPO variant's)."""
    eigenvalues = _eigenvalues(system, policy, digits)
    with mp.workdps(int(digits) + 10):
        scale = logit_jacobian_scale(system, policy)
        tol = mp.mpf(10) ** (-(int(digits) // 2)) * scale
        re = [mp.re(e) for e in eigenvalues]
        if not re:
            cls = "attractor"
        elif any(abs(r) <= tol for r in re):
            cls = "undecided"
        elif all(r < 0 for r in re):
            cls = "attractor"
        elif all(r > 0 for r in re):
            cls = "repeller"
        else:
            cls = "saddle"
    return eigenvalues, cls


def logit_jacobian_eigenvalues(problem, policy, digits=50) -> tuple:
    """Eigenvalues of the logit-flow Jacobian at an interior stationary policy.

    Real eigenvalues are returned as mpf, complex ones as mpc, sorted by real
    then imaginary part.  Computed at ``digits + 10`` digits.

    >>> from fractions import Fraction as F
    >>> from derive.solve.solver import Problem
    >>> from mpmath import mp, mpf, sqrt
    >>> mp.dps = 30
    >>> pb = Problem.deterministic((F(1, 2), F(1, 2)), (1, 0), F(1), 2)
    >>> x = (1 + sqrt(mpf(2))) / 2 - mpf(1) / 2        # Eq. (14) with beta = gamma = 1: sqrt(p)
    >>> (lam,) = logit_jacobian_eigenvalues(pb, (x, 1 - x), 25)
    >>> lam < 0                                          # an attractor: stable
    True
    """
    return _eigenvalues(_system(problem), policy, digits)


def _eigenvalues(system, policy, digits):
    with mp.workdps(int(digits) + 10):
        M = logit_jacobian_of_field(system, policy)
        n = len(M)
        if n == 0:
            return ()
        if n == 1:
            return (M[0][0],)
        if n == 2:
            a, b, c, d = M[0][0], M[0][1], M[1][0], M[1][1]
            tr, det = a + d, a * d - b * c
            disc = tr * tr - 4 * det
            if disc >= 0:
                r = mp.sqrt(disc)
                ev = [(tr - r) / 2, (tr + r) / 2]
            else:
                r = mp.sqrt(-disc)
                ev = [mp.mpc(tr / 2, -r / 2), mp.mpc(tr / 2, r / 2)]
        else:
            try:
                ev = list(mp.eig(mp.matrix(M), left=False, right=False))
            except RuntimeError:
                # mpmath's QR iteration gives up at a (nearly) defective multiple eigenvalue
                ev = _characteristic_roots(M)
        tol = mp.mpf(10) ** (-(int(digits) + 5))
        out = []
        for e in ev:
            e = mp.mpc(e)
            out.append(mp.mpf(e.real) if abs(e.imag) <= tol * max(1, abs(e)) else e)
        out.sort(key=lambda e: (mp.re(e), mp.im(e)))
        return tuple(out)


def _characteristic_roots(M):
    """Eigenvalues of the square matrix ``M`` as the roots of its characteristic polynomial.

    The coefficients by the Faddeev-LeVerrier recurrence, the roots by
    ``mp.polyroots`` at twice the working precision: a multiple eigenvalue is
    then found to about half the working digits, enough for the signs of the
    real parts that :func:`stability` reads (its tolerance is ``10^-(digits/2)``
    of the scale).  Used where the QR iteration of ``mp.eig`` does not converge.

    >>> from mpmath import mp
    >>> mp.dps = 30
    >>> [mp.nstr(x, 10) for x in sorted(_characteristic_roots([[2, 1, 0], [0, 2, 0], [1, 1, 3]]), key=mp.re)]
    ['2.0', '2.0', '3.0']
    """
    n = len(M)
    A = mp.matrix(M)
    with mp.extraprec(mp.prec):
        coeffs = [mp.mpf(1)]
        Mk = mp.zeros(n, n)
        for k in range(1, n + 1):
            Mk = A * Mk + coeffs[-1] * mp.eye(n)
            coeffs.append(-sum(((A * Mk)[i, i] for i in range(n)), mp.mpf(0)) / k)
        roots = mp.polyroots(coeffs, maxsteps=400, extraprec=mp.prec)
    return [+r for r in roots]


def simulate_expected_gradient(problem, steps, lr, digits=30, start=None) -> list:
    """Euler steps ``theta += lr F(theta)`` of the exact expected-gradient flow.

    Starts from ``theta = log pi_ref`` (or from ``start``) and returns
    ``steps + 1`` policies (tuples of mpf at ``digits``), the first being the
    start.  Deterministic.
    """
    with mp.workdps(int(digits)):
        pi = [mpf_exact(r) for r in (start or problem.ref)]
        theta = [mp.log(p) for p in pi]
        out = [tuple(pi)]
        for _ in range(int(steps)):
            F = logit_flow(problem, pi)
            theta = [t + lr * f for t, f in zip(theta, F)]
            top = max(theta)
            w = [mp.exp(t - top) for t in theta]
            Z = mp.fsum(w)
            pi = [x / Z for x in w]
            out.append(tuple(pi))
        return out


@dataclass(frozen=True)
class MonteCarloRun:
    """A Monte Carlo GRPO run: ``policies[t]`` after iteration ``t`` (``policies[0] = pi_ref``),
    ``averaged`` the Polyak average of the iterates over the second half, and the seed."""

    policies: tuple
    averaged: tuple
    seed: int


def monte_carlo_grpo(problem, iterations, groups_per_iteration, inner_steps, clip_eps=0.2, lr=0.1,
                     seed=0, infinite_group=16) -> MonteCarloRun:
    """GRPO with sampled groups (arXiv:2502.18548v3, Eq. (1)), in floats, for every variant.

    Each iteration draws ``groups_per_iteration`` groups of ``G`` outputs from
    ``pi_old``, samples their rewards (lowered by ``beta k(rho)`` at ``pi_old``
    when the KL is in the reward), computes the group advantages of the
    problem's normalisation (``A = 0`` when all rewards are equal), and
    takes ``inner_steps`` gradient steps of size ``lr`` on the logits of the
    per-sample average of ``min(ratio A, clip(ratio, 1-eps, 1+eps) A) - beta D``
    with ``pi_old`` fixed, where ``D = k(rho)`` (k1, k2, k3 with
    ``rho = pi_ref/pi``) or ``ratio * k(rho)`` (``-is``); no ``D`` when the KL
    is in the reward.  Gradients are analytic: the samples are aggregated
    per output and per sign of ``A``, so an inner step costs ``O(K^2)``.  When
    ``G`` is infinite, ``infinite_group`` is used.  Deterministic given
    ``seed`` (``random.Random``).
    """
    rng = random.Random(seed)
    K = problem.K
    G = problem.group or infinite_group
    ref = [float(r) for r in problem.ref]
    beta = float(problem.beta)
    weighted = problem.penalty.endswith("-is")
    estimator = PENALTIES[problem.penalty.removesuffix("-is")]

    def k_of(rho):          # the per-sample estimate k(rho), rho = pi_ref/pi
        return estimator.estimate(rho, math.log)

    def dk_of(rho):         # its derivative in log pi, -rho k'(rho)
        return estimator.derivative_in_log_pi(rho, math.log)

    in_reward = problem.kl_in == "reward"
    normaliser = NORMALISATIONS[problem.normalisation]
    std, eps = problem.std, float(problem.std_eps)
    values = [float(v) for v in problem.values]
    laws = []
    for row in problem.rho:
        support = [(float(w), values[j]) for j, w in enumerate(row) if w]
        if len(support) == 1:
            laws.append((None, support[0][1]))
        else:
            cum, acc = [], 0.0
            for w, _ in support:
                acc += w
                cum.append(acc)
            cum[-1] = 1.0
            laws.append((cum, [v for _, v in support]))
    theta = [math.log(r) for r in ref]

    def softmax(th):
        top = max(th)
        w = [math.exp(t - top) for t in th]
        s = sum(w)
        return [x / s for x in w]

    policies = [tuple(ref)]
    acc_avg = [0.0] * K
    n_avg = 0
    half = iterations // 2
    for it in range(iterations):
        old = softmax(theta)
        cdf, c = [], 0.0
        for p in old:
            c += p
            cdf.append(c)
        cdf[-1] = 1.0
        count = [0] * K
        pos = [0.0] * K
        neg = [0.0] * K
        for _ in range(groups_per_iteration):
            outs = [bisect.bisect_left(cdf, rng.random()) for _ in range(G)]
            rewards = []
            for o in outs:
                cum, vals = laws[o]
                if cum is None:
                    rewards.append(vals)
                else:
                    rewards.append(vals[bisect.bisect_left(cum, rng.random())])
            if in_reward:
                rewards = [r - beta * k_of(ref[o] / old[o]) for r, o in zip(rewards, outs)]
            for o, a in zip(outs, normaliser.float_advantages(rewards, std, eps)):
                count[o] += 1
                if a > 0:
                    pos[o] += a
                elif a < 0:
                    neg[o] += a
        total = groups_per_iteration * G
        for _ in range(inner_steps):
            pi = softmax(theta)
            coef = [0.0] * K
            for o in range(K):
                if not count[o]:
                    continue
                ratio = pi[o] / old[o]
                # d/dtheta of min(ratio A, clip(ratio) A): ratio A unless the clip binds
                c = 0.0
                if ratio <= 1 + clip_eps:
                    c += pos[o] * ratio
                if ratio >= 1 - clip_eps:
                    c += neg[o] * ratio
                # dD/dlog pi = -rho k'(rho); with the weight d(ratio k)/dlog pi = ratio (k - rho k')
                if not in_reward:
                    rho = ref[o] / pi[o]
                    dD = dk_of(rho)
                    if weighted:
                        dD = ratio * (k_of(rho) + dD)
                    c -= beta * count[o] * dD
                coef[o] = c / total
            s = sum(coef)
            theta = [t + lr * (coef[l] - pi[l] * s) for l, t in enumerate(theta)]
        pi = softmax(theta)
        policies.append(tuple(pi))
        if it >= half:
            acc_avg = [a + p for a, p in zip(acc_avg, pi)]
            n_avg += 1
    averaged = tuple(a / n_avg for a in acc_avg) if n_avg else tuple(policies[-1])
    return MonteCarloRun(tuple(policies), averaged, seed)


def trajectory_dataset(problem, steps=400, lr=0.5, every=10, digits=20, monte_carlo=None) -> dict:
    """A compact, deterministic dataset for a trajectory figure.

    ``{"expected": [(t, pi), ...], "monte_carlo": [(t, pi), ...] or [],
    "averaged": pi or None}`` with every ``every``-th iterate, ``pi`` as tuples
    of Python floats.  ``monte_carlo`` is a dict of keyword arguments for
    :func:`monte_carlo_grpo` (``None`` to skip it).
    """
    expected = simulate_expected_gradient(problem, steps, lr, digits)
    data = {
        "expected": [(t, tuple(float(p) for p in pi)) for t, pi in enumerate(expected) if t % every == 0],
        "monte_carlo": [],
        "averaged": None,
    }
    if monte_carlo is not None:
        run = monte_carlo_grpo(problem, **monte_carlo)
        data["monte_carlo"] = [(t, pi) for t, pi in enumerate(run.policies) if t % every == 0]
        data["averaged"] = run.averaged
    return data
