"""Symbolic derivation engine for the alignment objective of GRPO.

The engine encodes the GRPO objective of arXiv:2502.18548v3 (Vojnovic & Yun,
"What is the Alignment Objective of GRPO?") in SymPy, derives its stationarity
conditions and closed forms, checks every printed formula of the paper against
the derivation, evaluates the results with mpmath, and renders LaTeX.

This top-level module imports nothing heavy, so that the numeric command line
path (``grpo-derive stationary``) starts quickly.  Import the submodules you
need, for example ``from derive.solve.solver import Problem, stationary_policies``.
"""

__version__ = "0.1.0"
