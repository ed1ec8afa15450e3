"""The symbolic derivations, one module per section of arXiv:2502.18548v3 (and the
engine's extensions of them), the symbols, the paper's notation as a SymPy printer,
and the paper's printed formulas as claims.  Imports only :mod:`derive.numerics`.
"""
