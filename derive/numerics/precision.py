"""The working precision and the seed of every check, fixed once for the whole engine.

Recorded in every output (``results/verification.json``), so that a reader can repeat
any check.
"""

#: Working precision of every numeric check (significant decimal digits).
CHECK_DIGITS = 50
#: Seed of the random points of numeric checks.
CHECK_SEED = 20250313
