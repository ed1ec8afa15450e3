"""The closed forms the engine derived, computed once: the one source for tables and figures.

Every expression here comes out of a derivation class working on the encoded
objective (:mod:`derive.paper.binary`, :mod:`derive.paper.extensions`,
:mod:`derive.paper.baselines`), never from :mod:`derive.paper.claims`; the checks of those
modules compare the two.  Each derivation runs once per process, cached in the module
that derives it; this module only reads them (it imports downward, nothing below imports it).
"""



__all__ = ["direct_kl_h", "direct_kl_minimiser", "direct_kl_policy_two", "policy_correction_limit",
           "policy_limit", "policy_two", "quadratic_two", "rlhf_policy_binary", "unsquared_limit"]


def _two():
    from derive.paper.binary import binary_two

    return binary_two()


def _limit():
    from derive.paper.binary import binary_limit

    return binary_limit()


def _direct_kl_limit():
    from derive.paper.extensions import direct_kl_limit

    return direct_kl_limit()


def policy_two():
    """``pi(a)`` at G = 2 in ``(p, beta, gamma)``, arXiv:2502.18548v3, Eq. (14), as derived."""
    return _two().policy


def quadratic_two():
    """The stationarity condition at G = 2 as a polynomial in ``x``, Eq. (17), as derived."""
    return _two().condition


def policy_limit():
    """``pi(a)`` at G -> infinity in ``(p, beta)``, Eq. (15), as derived."""
    return _limit().policy


def unsquared_limit():
    """The unsquared condition at G -> infinity, ``lhs - rhs`` of Eq. (19), as derived."""
    return _limit().unsquared


def direct_kl_policy_two():
    """``pi(a)`` at G = 2 with the direct KL penalty, in ``(p, beta, gamma)`` (Section 3)."""
    from derive.paper.extensions import direct_kl_policy_two as derived

    return derived()


def binary_correction():
    """The derivation of the first finite-group correction (:mod:`derive.paper.large_group`)."""
    from derive.paper.large_group import binary_correction as derived

    return derived()


def policy_correction_limit():
    """``c(p, beta)`` of ``pi_G(a) = pi_inf(a) + c/G + O(1/G^2)`` around Eq. (15), as derived."""
    return binary_correction().correction


def direct_kl_h():
    """``h(x)``: the direct-KL field over ``beta`` at G -> infinity (Appendix B.2), as derived."""
    return _direct_kl_limit().h


def direct_kl_minimiser():
    """``x*(beta)``, the minimiser of ``h`` (Appendix B.2), as derived."""
    return _direct_kl_limit().minimiser


def rlhf_policy_binary():
    """RLHF's ``pi(a)`` (Eq. (4)) for ``r(a) = 1``, ``r(b) = 0``, ``pi_ref(a) = p``, as derived."""
    from derive.paper.baselines import rlhf_policy_binary as derived

    return derived()
