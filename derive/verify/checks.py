"""Verification records: every claim of the paper checked against a derivation.

A :class:`Check` is one line of ``results/verification.json``.  Its ``method``
says how the comparison was made:

``symbolic``
    the difference between the derived and the printed expression reduces to 0
    under a stated targeted simplification;
``numeric``
    the two are evaluated with mpmath at ``digits`` significant digits at seeded
    random points (or solved for with ``mp.findroot``) and compared;
``enumeration``
    an independent path: all groups and reward outcomes of a small group are
    enumerated exactly and compared with the formula;
``interval``
    an enclosure computed with interval arithmetic contains the value.

A derivation also produces a :class:`Section`: the sentences and equations that
the LaTeX appendix prints.
"""

from dataclasses import asdict, dataclass, field

import mpmath

from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS, CHECK_SEED

SYMBOLIC, NUMERIC, ENUMERATION, INTERVAL = "symbolic", "numeric", "enumeration", "interval"
METHODS = (SYMBOLIC, NUMERIC, ENUMERATION, INTERVAL)



@dataclass(frozen=True)
class Check:
    """One verification record."""

    id: str
    paper_ref: str
    statement: str
    method: str
    max_abs_error: float
    digits: int | None
    status: str
    tolerance: float | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown check method {self.method!r}")
        if self.status not in ("pass", "fail"):
            raise ValueError(f"unknown check status {self.status!r}")

    @property
    def passed(self):
        return self.status == "pass"

    def as_record(self):
        return asdict(self)


def _rounded(value):
    """A float with 3 significant digits: deterministic in JSON on any machine."""
    return float(decimal(mpmath.mpf(value), 3, strip=True, min_fixed=-1, max_fixed=-1))


def symbolic_check(id, paper_ref, statement, difference):
    """Pass when *difference*, already reduced by the caller, is exactly zero.

    The caller states the targeted simplification (``cancel``, ``expand``,
    ``radsimp``, ...) in the check's *statement*; a nonzero residue fails.
    """
    ok = difference == 0
    return Check(id, paper_ref, statement, SYMBOLIC, 0.0 if ok else float("nan"),
                 None, "pass" if ok else "fail")


def tolerance_for(digits, guard=5):
    """The tolerance tied to a working precision: ``10**-(digits - guard)``."""
    return mpmath.mpf(10) ** (-(digits - guard))


def numeric_check(id, paper_ref, statement, errors, digits=CHECK_DIGITS,
                  tolerance=None, method=NUMERIC):
    """Pass when every absolute error in *errors* is at most *tolerance*.

    *tolerance* defaults to :func:`tolerance_for` at *digits*; a wider one must
    be justified in the statement.
    """
    tol = tolerance_for(digits) if tolerance is None else mpmath.mpf(tolerance)
    worst = max((abs(mpmath.mpf(e)) for e in errors), default=mpmath.mpf(0))
    ok = bool(errors) and worst <= tol
    return Check(id, paper_ref, statement, method, _rounded(worst), digits,
                 "pass" if ok else "fail", _rounded(tol))


def random_points(n, names, seed=CHECK_SEED, low=0.05, high=0.95):
    """*n* seeded pseudo-random points, one exact decimal per name.

    Points are :class:`fractions.Fraction` with 6 decimals, so that the same
    point can be used exactly by SymPy and at any precision by mpmath.
    """
    import random
    from fractions import Fraction

    rng = random.Random(seed)
    pts = []
    for _ in range(n):
        pts.append({name: Fraction(round(rng.uniform(low, high) * 10**6), 10**6)
                    for name in names})
    return pts


@dataclass
class Step:
    """One step of a derivation: a sentence, and equations for ``align``."""

    text: str
    math: str = ""
    label: str = ""


@dataclass
class Section:
    """One appendix section: the derivation of one result of the paper."""

    key: str
    title: str
    paper_ref: str
    summary: str
    steps: list = field(default_factory=list)
    remarks: list = field(default_factory=list)
    #: Records proving each displayed author's form equal to its derivation
    #: (:mod:`derive.verify.display`); the pipeline moves them to the checks.
    display_checks: list = field(default_factory=list)

    def step(self, text, math="", label=""):
        self.steps.append(Step(text, math, label))
        return self


def numeric_difference(a, b, points, digits=CHECK_DIGITS):
    """``|a - b|`` of two SymPy expressions at each point, evaluated at *digits*.

    A point maps symbol names to exact numbers.  Both expressions are turned
    into mpmath functions (``lambdify``) and evaluated independently at
    *digits* plus 15 guard digits.
    """
    fa, fb = evaluator(a), evaluator(b)
    errors = []
    with mpmath.workdps(digits + 15):
        for pt in points:
            errors.append(abs(fa(pt) - fb(pt)))
    return errors


def evaluator(expr):
    """A function of a point (name -> exact number) evaluating *expr* with mpmath."""
    from sympy import lambdify, sympify

    from derive.numerics.context import mpf_exact

    expr = sympify(expr, strict=True)   # engine expressions and numbers only, never a string
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    f = lambdify(syms, expr, modules="mpmath")

    def evaluate(pt):
        args = []
        for s in syms:
            v = pt[s.name]
            args.append(mpf_exact(v) if hasattr(v, "numerator") else mpmath.mpmathify(v))
        return mpmath.mpmathify(f(*args))

    return evaluate


def inequality_check(id, paper_ref, statement, margins, digits=CHECK_DIGITS, method=NUMERIC):
    """Pass when every margin (a quantity that must be positive) is > 0.

    The record's ``max_abs_error`` is the largest violation ``max(0, -margin)``,
    so a passing inequality records 0; the smallest margin goes in the statement
    of the caller where it is informative.
    """
    worst = min((mpmath.mpf(m) for m in margins), default=mpmath.mpf(-1))
    violation = max(mpmath.mpf(0), -worst)
    ok = bool(margins) and worst > 0
    return Check(id, paper_ref, statement, method, _rounded(violation), digits,
                 "pass" if ok else "fail", 0.0)
