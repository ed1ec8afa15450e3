"""Numbers: the number types (float, mpmath, Arb) and the one exact converter, the
group preference tables, bracketing root finders, interval certificates, and the
precision and seed of the checks.  The bottom layer: it imports no other layer.
"""
