"""The GRPO iteration as a dynamical system: the logit Jacobian, its eigenvalues, the
expected-gradient flow and Monte Carlo GRPO.
"""
