"""Every symbol of the engine, declared once, with its assumptions.

Notation follows arXiv:2502.18548v3.  Policies on a finite set of outputs are
written with one symbol per output: ``pi_o`` for :math:`\\pi(o)`,
``pi_ref_o`` for :math:`\\pi_{\\mathrm{ref}}(o)` and ``pi_old_o`` for
:math:`\\pi_{\\mathrm{old}}(o)`.  Use :func:`policy_symbols` to get them.

Binary questions (Section 2.3.1) use ``x`` for :math:`\\pi(a)` and ``p`` for
:math:`\\pi_{\\mathrm{ref}}(a)`, as the paper does.
"""

from sympy import Symbol, symbols

#: Regularisation constant of the penalty, arXiv:2502.18548v3, Eq. (1).
beta = Symbol("beta", positive=True)
#: Confidence margin P(a > b) - P(b > a) of a binary question, Eq. (14).
gamma = Symbol("gamma", positive=True)
#: Group size, Eq. (1).
G = Symbol("G", integer=True, positive=True)
#: pi(a) of a binary question, Section 2.3.1.
x = Symbol("x", positive=True)
#: pi_ref(a) of a binary question, Section 2.3.1.
p = Symbol("p", positive=True)
#: Lagrange multiplier of the constraint sum_o pi(o) = 1 (Appendix A).
lam = Symbol("lambda", real=True)
#: Positive scale and real shift of rewards, r -> a r + b (invariance of Eq. (2)).
scale = Symbol("a", positive=True)
shift = Symbol("b", real=True)
#: One-draw success probability of 0/1 rewards (Section 2.1).
q = Symbol("q", positive=True)
#: Index of a binomial sum.
k = Symbol("k", integer=True, nonnegative=True)
#: A generic output's reward, and the mean and standard deviation of the reward
#: of one draw from a policy (the G -> infinity limit, Eq. (13)).
r = Symbol("r", real=True)
mu = Symbol("mu", real=True)
sigma = Symbol("sigma", positive=True)


def rewards(G):
    """The rewards ``r_1, ..., r_G`` of one group (real), Eq. (2)."""
    return symbols(f"r_1:{G + 1}", real=True)


def policy_symbols(name, outputs):
    """Symbols ``name_o`` for each output label in *outputs* (positive).

    >>> policy_symbols("pi", "ab")
    (pi_a, pi_b)
    """
    return tuple(Symbol(f"{name}_{o}", positive=True) for o in outputs)


def preference_symbols(outputs):
    """Symbols ``P_o`` for the preference P_G(o | pi) of each output, Eq. (6)."""
    return tuple(Symbol(f"P_{o}", real=True) for o in outputs)
