"""Exact enumeration of small groups: the independent path of the checks.

Nothing here uses the engine's formulas.  A group of G outputs is drawn from a
policy; every tuple of outputs and every reward outcome is enumerated, the
advantage is computed from its definition (arXiv:2502.18548v3, Eq. (2)) with
mpmath, and expectations are weighted sums.  The cost is ``(K m)^G`` for K
outputs with m reward values each, so this is for G <= 5 only.
"""

import itertools

import mpmath


def group_advantages(rewards):
    """The advantages of one group, by definition: population std, 0/0 -> 0."""
    G = len(rewards)
    mean = mpmath.fsum(rewards) / G
    var = mpmath.fsum((r - mean) ** 2 for r in rewards) / G
    if var == 0:
        return [mpmath.mpf(0)] * G
    std = mpmath.sqrt(var)
    return [(r - mean) / std for r in rewards]


def exact(v):
    """An exact rational (int, Fraction or SymPy Rational) as an mpf at the current precision."""
    num = getattr(v, "numerator", None)
    if num is not None and not isinstance(v, mpmath.mpf):
        return mpmath.mpf(int(num)) / int(v.denominator)
    return mpmath.mpf(v)


def _outcomes(rho, values):
    """(value, probability) pairs of a reward distribution, zero masses dropped."""
    return [(exact(v), exact(w)) for v, w in zip(values, rho) if w != 0]


def preference(o, pi, rho, values, G):
    """``P_G(o | pi) = E[A_1 | o_1 = o]`` by enumerating all groups and rewards.

    *pi*: policy of the other G - 1 members; *rho[o]*: reward distribution of
    output *o* over *values*.
    """
    K = len(pi)
    total = mpmath.mpf(0)
    outs = [_outcomes(rho[j], values) for j in range(K)]
    for others in itertools.product(range(K), repeat=G - 1):
        w_out = mpmath.fprod(pi[j] for j in others)
        if w_out == 0:
            continue
        for rewards in itertools.product(*(outs[j] for j in (o,) + others)):
            w = w_out * mpmath.fprod(pr for _, pr in rewards)
            total += w * group_advantages([v for v, _ in rewards])[0]
    return total


def objective(pi, pi_old, pi_ref, rho, values, G, beta, penalty="k3"):
    """The GRPO objective J(pi; pi_old) of Eq. (1), without clipping, by enumeration.

    ``J = E_{o_1..o_G ~ pi_old}[(1/G) sum_i (pi(o_i)/pi_old(o_i)) A_i - beta D_i]``
    with the k3 penalty ``D_i = pi_ref/pi - log(pi_ref/pi) - 1`` at ``o_i``
    (``penalty="k3-is"`` multiplies it by ``pi(o_i)/pi_old(o_i)``).
    """
    K = len(pi)
    outs = [_outcomes(rho[j], values) for j in range(K)]
    total = mpmath.mpf(0)
    for group in itertools.product(range(K), repeat=G):
        w_out = mpmath.fprod(pi_old[j] for j in group)
        if w_out == 0:
            continue
        for rewards in itertools.product(*(outs[j] for j in group)):
            w = w_out * mpmath.fprod(pr for _, pr in rewards)
            adv = group_advantages([v for v, _ in rewards])
            s = mpmath.mpf(0)
            for i, o in enumerate(group):
                ratio = pi[o] / pi_old[o]
                d = pi_ref[o] / pi[o] - mpmath.log(pi_ref[o] / pi[o]) - 1
                if penalty == "k3-is":
                    d *= ratio
                s += ratio * adv[i] - beta * d
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
