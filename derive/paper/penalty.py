"""The penalty of GRPO, arXiv:2502.18548v3, Section 2.2, Eqs. (7)-(10).

GRPO penalises each sampled output with the "k3" estimator
``D_i = pi_ref(o_i)/pi(o_i) - log(pi_ref(o_i)/pi(o_i)) - 1``, evaluated on
samples of ``pi_old`` without an importance weight.  Its expectation is

    D(pi; pi_old) = sum_o pi_old(o) [pi_ref(o)/pi(o) - log(pi_ref(o)/pi(o)) - 1]   (7)

which equals ``KL(pi || pi_ref)`` only at ``pi = pi_old``.  What matters for
stationarity is its gradient at ``pi = pi_old``: ``1 - pi_ref(o)/pi(o)``
(Eq. (10)), the gradient of ``KL(pi_ref || pi)`` plus the constant 1.  The
paper calls ``KL(pi_ref || pi)`` the *reverse* KL; we always write the
arguments out.
"""

from sympy import diff, expand, log

from derive.paper import symbols as S

#: Outputs of the symbolic policies used for the penalty derivations.
OUTPUTS = "abc"


class Penalty:
    """The expected k3 penalty on the outputs *outputs* (Eq. (7)).

    >>> pen = Penalty("ab")
    >>> pen.gradient(0)
    pi_old_a/pi_a - pi_old_a*pi_ref_a/pi_a**2
    """

    def __init__(self, outputs=OUTPUTS, importance_weighted=False):
        self.outputs = outputs
        self.pi = S.policy_symbols("pi", outputs)
        self.ref = S.policy_symbols("pi_ref", outputs)
        self.old = S.policy_symbols("pi_old", outputs)
        self.importance_weighted = importance_weighted

    def k3(self, o):
        """The k3 estimator at output *o*: ``pi_ref/pi - log(pi_ref/pi) - 1``."""
        return self.ref[o] / self.pi[o] - log(self.ref[o] / self.pi[o]) - 1

    @property
    def expected(self):
        """``D(pi; pi_old)`` of Eq. (7); with importance weights ``pi/pi_old`` if asked."""
        w = [(self.pi[o] / self.old[o]) if self.importance_weighted else 1
             for o in range(len(self.outputs))]
        return sum(self.old[o] * w[o] * self.k3(o) for o in range(len(self.outputs)))

    def gradient(self, o):
        """``dD/dpi(o)``, Eq. (8) (Eq. (9)'s analogue when importance-weighted)."""
        return expand(diff(self.expected, self.pi[o]))

    def on_policy(self, expr):
        """Substitute ``pi_old = pi``."""
        return expr.subs(dict(zip(self.old, self.pi)))

    def normalise(self, expr):
        """Substitute the last coordinates of ``pi`` and ``pi_ref`` so both sum to 1."""
        return expr.subs({self.pi[-1]: 1 - sum(self.pi[:-1]),
                          self.ref[-1]: 1 - sum(self.ref[:-1])})


def kl(first, second):
    """``KL(first || second) = sum_o first(o) log(first(o)/second(o))``."""
    return sum(f * log(f / s) for f, s in zip(first, second))
