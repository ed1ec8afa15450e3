"""Every stationary policy of one problem: the solvers, their records, the finite-group
correction and the maximiser verdict.
"""
