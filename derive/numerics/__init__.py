"""Numbers: the number types (float, mpmath, Arb) and the one exact converter, the
group preference tables, the field of the paper's penalties, bracketing root finders,
interval certificates, decimal formatting, and the precision and seed of the checks.
The bottom layer: it imports no other layer.
"""
