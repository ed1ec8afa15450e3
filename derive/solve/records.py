"""The records the stationary-policy solvers return: :class:`StationaryPolicy` and :class:`Cost`.

Kept apart from :mod:`derive.solve.solver` so that the solvers (:mod:`derive.solve.solver`,
:mod:`derive.solve.reduced`, :mod:`derive.solve.variant_solver`) and :mod:`derive.dynamics.iteration` share them
without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPERATIONS_PER_SECOND", "Cost", "StationaryPolicy"]

#: Operations per second that the cost model assumes (one "operation" is about
#: one multiply-add of the double-precision scan; calibrated on a 2-core machine).
OPERATIONS_PER_SECOND = 3e6


@dataclass(frozen=True)
class StationaryPolicy:
    """One stationary policy.

    ``policy``: ``pi`` in the order of ``ref`` (mpf); ``kind``: ``"interior"``
    or ``"boundary"``; ``classification``: the point as a rest point of the
    GRPO iteration (the flow of :mod:`derive.dynamics.iteration`, not the objective ``J``):
    ``"attractor"`` (every Jacobian eigenvalue has a negative real part),
    ``"repeller"`` (every one positive), ``"saddle"``, ``"undecided"`` (a zero
    eigenvalue within the precision, or a continuum at ``beta = 0``),
    ``"boundary-attractor"``, ``"boundary-repeller"`` or ``"boundary-saddle"``
    (whether ``pi`` maximises ``J(.; pi_old = pi)`` is :mod:`derive.solve.maximiser`);
    ``residual``: ``max_o |g_o - E_pi g|`` (over the support for boundary
    points) divided by the largest term that makes up ``g_o``
    (:func:`stationarity_residual` with ``relative=True``); ``enclosure``: one
    ``(lo, hi)`` pair per coordinate; ``certified``: the enclosure provably
    holds exactly one solution; ``stable``: the GRPO iteration converges to it
    from nearby (``True``/``False``), or ``None`` when undecided;
    ``eigenvalues``: of the logit Jacobian (interior points); ``note``;
    ``finite_group_correction``: at ``G = infinity``, for interior points, the
    ``c`` of ``pi_G = pi_inf + c/G + O(1/G^2)`` (:mod:`derive.solve.correction`;
    ``None`` elsewhere, or where the ``G = infinity`` Jacobian is singular or
    ill-conditioned, which the note then says).
    """

    policy: tuple
    kind: str
    classification: str
    residual: object
    enclosure: tuple
    certified: bool
    stable: bool | None
    eigenvalues: tuple = ()
    note: str = ""
    finite_group_correction: tuple | None = None


@dataclass(frozen=True)
class Cost:
    """An a-priori estimate of the work :func:`stationary_policies` does for one problem.

    ``operations``: about one double-precision multiply-add each
    (:data:`OPERATIONS_PER_SECOND` of them a second); ``memory``: bytes of the
    preference tables; ``terms``: terms of one evaluation of the preference sums
    (``C(G + m - 2, m - 1)`` multinomial coefficients for ``m`` reward levels,
    ``G`` binomial ones for two levels, ``m`` at ``G = infinity``);
    ``unknowns``: of the reduced system; ``evaluations``: of the system in the
    root search; ``dominant``: what costs most, in words.
    """

    operations: float
    memory: float
    terms: int
    unknowns: int
    evaluations: float
    dominant: str

    @property
    def seconds(self) -> float:
        """The estimate in seconds at :data:`OPERATIONS_PER_SECOND`."""
        return self.operations / OPERATIONS_PER_SECOND
