"""Numbers, knowing nothing of SymPy: the number types (float, mpmath, Arb), exact
converters, the group preference tables, bracketing root finders and interval
certificates.  The bottom layer: it imports no other layer.
"""
