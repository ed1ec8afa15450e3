"""Exact enumeration of small groups: the independent path of the checks.

Nothing here uses the engine's formulas.  A group of G outputs is drawn from a
policy; every tuple of outputs and every reward outcome is enumerated, the
advantage is computed from its definition (arXiv:2502.18548v3, Eq. (2)) with
mpmath, and expectations are weighted sums.  The cost is ``(K m)^G`` for K
outputs with m reward values each, so this is for G <= 5 only.
"""

import itertools

import mpmath

from derive.numerics.context import mpf_exact


def group_advantages(rewards, normalisation="shift-scale", std="population", eps=0):
    """The advantages of one group, by definition (Eq. (2), and the variants' normalisations).

    ``shift-scale``: ``(r - mean)/(std + eps)`` with the population (divide by G) or
    sample (divide by G - 1) std; ``shift-only``: ``r - mean``; ``none``: ``r``.  A group
    of equal rewards has every advantage 0 (``0/0 -> 0``), decided exactly: a rounded
    mean of equal values would leave a residue of the size of the rounding.
    """
    G = len(rewards)
    if normalisation == "none":
        return list(rewards)
    if all(r == rewards[0] for r in rewards):
        return [mpmath.mpf(0)] * G
    mean = mpmath.fsum(rewards) / G
    centred = [r - mean for r in rewards]
    if normalisation == "shift-only":
        return centred
    ss = mpmath.fsum(c * c for c in centred)
    den = mpmath.sqrt(ss / (G if std == "population" else G - 1)) + mpf_exact(eps)
    return [mpmath.mpf(0)] * G if den == 0 else [c / den for c in centred]


def estimate(name, rho):
    """The per-sample KL estimator ``k(rho)``, ``rho = pi_ref/pi``, at a number: ``k1 = -log rho``,
    ``k2 = (log rho)^2/2``, ``k3 = rho - 1 - log rho`` (Eq. (1) for k3)."""
    lr = mpmath.log(rho)
    return {"k1": -lr, "k2": lr**2 / 2, "k3": rho - 1 - lr}[name]


def _outcomes(rho, values):
    """(value, probability) pairs of a reward distribution, zero masses dropped."""
    return [(mpf_exact(v), mpf_exact(w)) for v, w in zip(values, rho) if w != 0]


def preference(o, pi, rho, values, G, normalisation="shift-scale", std="population", eps=0):
    """``P_G(o | pi) = E[A_1 | o_1 = o]`` by enumerating all groups and rewards.

    *pi*: policy of the other G - 1 members; *rho[o]*: reward distribution of
    output *o* over *values*.
    """
    outs = [_outcomes(rho[j], values) for j in range(len(pi))]
    return preference_of(o, pi, outs, G, normalisation, std, eps)


def preference_of(o, pi, outcomes, G, normalisation="shift-scale", std="population", eps=0):
    """:func:`preference` with ``outcomes[j]`` the ``(value, probability)`` pairs of output *j*."""
    K = len(pi)
    total = mpmath.mpf(0)
    for others in itertools.product(range(K), repeat=G - 1):
        w_out = mpmath.fprod(pi[j] for j in others)
        if w_out == 0:
            continue
        for draw in itertools.product(*(outcomes[j] for j in (o,) + others)):
            w = w_out * mpmath.fprod(pr for _, pr in draw)
            total += w * group_advantages([v for v, _ in draw], normalisation, std, eps)[0]
    return total


def objective(pi, pi_old, pi_ref, rho, values, G, beta, penalty="k3"):
    """The GRPO objective J(pi; pi_old) of Eq. (1), without clipping, by enumeration.

    ``J = E_{o_1..o_G ~ pi_old}[(1/G) sum_i (pi(o_i)/pi_old(o_i)) A_i - beta D_i]``
    with the k3 penalty ``D_i = pi_ref/pi - log(pi_ref/pi) - 1`` at ``o_i``
    (``penalty="k3-is"`` multiplies it by ``pi(o_i)/pi_old(o_i)``).
    """
    outs = [_outcomes(rho[j], values) for j in range(len(pi))]
    return objective_of(pi, pi_old, pi_ref, outs, G, beta, penalty)


def objective_of(trial, old, ref, outcomes, G, beta, penalty="k3", normalisation="shift-scale",
                 std="population", eps=0, kl_in="loss"):
    """``J(trial; old)`` of Eq. (1) for any variant, without clipping, by enumeration.

    *penalty*: ``k1``, ``k2``, ``k3``, each with ``-is`` for the importance weight
    ``trial/old``; *outcomes[o]*: ``(value, probability)`` pairs of the reward of output
    *o*.  With ``kl_in = "reward"`` each sampled reward is lowered by ``beta k`` at
    ``old`` (detached: no gradient), and there is no penalty term.
    """
    base, weighted = penalty.removesuffix("-is"), penalty.endswith("-is")
    K = len(old)
    total = mpmath.mpf(0)
    for group in itertools.product(range(K), repeat=G):
        w_out = mpmath.fprod(old[o] for o in group)
        if w_out == 0:
            continue
        for draw in itertools.product(*(outcomes[o] for o in group)):
            w = w_out * mpmath.fprod(pr for _, pr in draw)
            rewards = [v for v, _ in draw]
            if kl_in == "reward":
                rewards = [r - beta * estimate(base, ref[o] / old[o]) for r, o in zip(rewards, group)]
            adv = group_advantages(rewards, normalisation, std, eps)
            s = mpmath.mpf(0)
            for i, o in enumerate(group):
                ratio = trial[o] / old[o]
                s += ratio * adv[i]
                if kl_in == "loss":
                    s -= beta * (ratio if weighted else 1) * estimate(base, ref[o] / trial[o])
            total += w * s / G
    return total


def objective_gradient(pi, pi_ref, rho, values, G, beta, penalty="k3"):
    """``dJ(pi'; pi)/dpi'(o)`` at ``pi' = pi``, by numerical differentiation of
    the enumerated objective (mpmath ``diff``), one entry per output."""
    grads = []
    for o in range(len(pi)):
        def f(t, o=o):
            moved = list(pi)
            moved[o] = pi[o] + t
            return objective(moved, pi, pi_ref, rho, values, G, beta, penalty)
        grads.append(mpmath.diff(f, 0))
    return grads
