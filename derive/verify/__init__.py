"""The independent paths and the records of the checks: exact enumeration of every
group, check records, and displays proven equal to their derivations.
"""
