"""Tests of derive.numerics.enclosures and of every enclosure the pipeline prints.

Each data file with an ``enclosure_lo, enclosure_hi`` pair is produced by the
same stage function the pipeline calls, and each of its rows is recomputed
here at 80 digits with ``mpmath.mp`` by another path than the one that made
the enclosure: a bracketed root of the *unsquared* stationarity condition
written out below from the paper (never the closed form the enclosure was
started from), the exact enumeration of groups for the multi-output examples,
and a two-step minimisation for the critical ``beta``.  The value must lie in
the printed (outward-rounded) enclosure, and the enclosure must be narrow.

The last tests are the reason for Arb: ``mpmath.iv.exp`` can return an
interval that misses ``exp(x)`` (mpmath issue 1181).
"""

import doctest
import math
import re
from fractions import Fraction as F

import flint
import pytest
from conftest import computed_part
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import iv, mp

from derive.numerics import enclosures
from derive.numerics.certify import exact_value
from derive.numerics.context import ARB, arb_ends, arb_precision

#: Digits of the independent recomputation (30 more than the printed enclosures).
REF_DIGITS = 80
#: An enclosure printed at 55 digits around a 50-digit value: width at most ~1e-45.
MAX_WIDTH = F(1, 10**45)


# ---------------------------------------------------------------------------
# Parsing the data files the stage functions produce
# ---------------------------------------------------------------------------


def _csv(artefacts, name):
    (text,) = [a["text"] for a in artefacts if a["path"] == f"data/{name}"]
    lines = text.strip("\n").split("\n")
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def _inside(value, lo_text, hi_text):
    """``lo <= value <= hi`` exactly (``value`` an mpf or a decimal string, the ends decimal strings)."""
    return exact_value(lo_text) <= exact_value(value) <= exact_value(hi_text)


def _width(lo_text, hi_text):
    return exact_value(hi_text) - exact_value(lo_text)


def _mp(text):
    q = F(text)
    return mp.mpf(q.numerator) / q.denominator


@pytest.fixture(scope="module")
def tables_artefacts():
    """The binary, baselines and critical-beta data files, as the pipeline makes them."""
    return computed_part("tables")["artefacts"]


# ---------------------------------------------------------------------------
# Independent conditions (arXiv:2502.18548v3), bracketed roots at 80 digits
# ---------------------------------------------------------------------------


def _root(f, a, b):
    """The root of ``f`` in ``(a, b)`` (a sign change): bisection, then Illinois, or
    bisection to the working precision where Illinois does not converge."""
    fa, fb = f(a), f(b)
    assert fa * fb < 0, "no sign change: the bracket is wrong"

    def halve(a, fa, b, steps):
        for _ in range(steps):
            m = (a + b) / 2
            fm = f(m)
            if (fm < 0) == (fa < 0):
                a, fa = m, fm
            else:
                b = m
        return a, fa, b

    a, fa, b = halve(a, fa, b, 30)
    try:
        return mp.findroot(f, (a, b), solver="illinois")
    except ValueError:
        a, fa, b = halve(a, fa, b, mp.prec + 20)
        return (a + b) / 2


def _logit(x):
    return mp.log(x / (1 - x))


def _advantage_of_a(k, G):
    """``A`` of the answer with reward 1 in a group with ``k`` other 1s and ``G - 1 - k`` 0s,
    from the definition (population std, arXiv:2502.18548v3, Eq. (2))."""
    ones = k + 1
    mean = mp.mpf(ones) / G
    var = (ones * (1 - mean) ** 2 + (G - ones) * mean**2) / G
    return (1 - mean) / mp.sqrt(var) if var else mp.mpf(0)     # all rewards equal: A := 0


def _condition(kind, p, beta, G=None, s=None):
    """The unsquared stationarity condition in ``x = pi(a)``, ``r(a) = 1 > r(b) = 0``."""
    if kind == "g2":                    # Eq. (17), gamma = 1: beta (x - p) = x (1 - x)
        return lambda x: beta * (x - p) - x * (1 - x)
    if kind == "ginf":                  # Eq. (19): beta (x - p) = sqrt(x (1 - x))
        return lambda x: beta * (x - p) - mp.sqrt(x * (1 - x))
    if kind == "logit":                 # pi ∝ pi_ref exp(P/beta), P(a) - P(b) = 1 (Section 3, (3)-(4))
        return lambda x: beta * (_logit(x) - _logit(p)) - 1
    if kind == "nlhf":                  # Eq. (5), P(a > b) = 1, P(o > o) = 1/2: P(a) - P(b) = 1/2
        return lambda x: beta * (_logit(x) - _logit(p)) - mp.mpf(1) / 2
    if kind == "finite":                # Eq. (11): beta (x - p) = x E[A | a], G - 1 others from pi
        N = G - 1
        coef = [math.comb(N, k) * _advantage_of_a(k, G) for k in range(N + 1)]

        def f(x):
            ones = [mp.mpf(1)]
            for _ in range(N):
                ones.append(ones[-1] * (1 - x))
            terms, power = [], mp.mpf(1)
            for k in range(N + 1):
                terms.append(coef[k] * power * ones[N - k])
                power *= x
            return beta * (x - p) - x * mp.fsum(terms)
        return f
    if kind == "noisy":                 # Eq. (13), Bernoulli: sigma^2 = q (1 - q), q = E_pi r
        s_a, s_b = s

        def f(x):
            q = x * s_a + (1 - x) * s_b
            return beta * (x - p) - (s_a - s_b) * x * (1 - x) / mp.sqrt(q * (1 - q))
        return f
    raise ValueError(kind)


def _independent_binary(kind, p_text, beta_text, G=None, s=None):
    p, beta = _mp(p_text), _mp(beta_text)
    f = _condition(kind, p, beta, G, s)
    return _root(f, p, 1 - mp.mpf(10) ** -(REF_DIGITS - 10))


def _check_rows(rows, recompute, value="pi_a", lo="enclosure_lo", hi="enclosure_hi"):
    checked = 0
    with mp.workdps(REF_DIGITS):
        for row in rows:
            if row.get("certified", "true") != "true":
                # no claim: the printed interval is the value itself
                assert row[lo] == row[hi] or _inside(row[value], row[lo], row[hi])
                continue
            x = recompute(row)
            assert _inside(x, row[lo], row[hi]), row
            assert _inside(row[value], row[lo], row[hi]), row
            assert 0 <= _width(row[lo], row[hi]) < MAX_WIDTH, row
            checked += 1
    return checked


# ---------------------------------------------------------------------------
# Every printed enclosure
# ---------------------------------------------------------------------------


def test_binary_table_enclosures_hold_the_bracketed_roots(tables_artefacts):
    kinds = {"g2": "g2", "ginf": "ginf", "dkl2": "logit"}
    rows = _csv(tables_artefacts, "binary_table.csv")
    assert {r["panel"] for r in rows} == set(kinds)
    n = _check_rows(rows, lambda r: _independent_binary(kinds[r["panel"]], r["pi_ref_a"], r["beta"]))
    assert n == sum(r["certified"] == "true" for r in rows) > 0
    for r in rows:
        if r["certified"] != "true":            # beta = 0: the exact limit x = 1
            assert r["beta"] == "0" and exact_value(r["enclosure_lo"]) == exact_value(r["enclosure_hi"]) == 1


def test_baselines_enclosures_hold_the_bracketed_roots(tables_artefacts):
    kinds = {"grpo-g2": "g2", "grpo-ginf": "ginf", "grpo-direct-kl-g2": "logit", "rlhf": "logit",
             "nlhf": "nlhf"}
    rows = _csv(tables_artefacts, "baselines.csv")
    assert {r["method"] for r in rows} == set(kinds)
    n = _check_rows(rows, lambda r: _independent_binary(kinds[r["method"]], r["pi_ref_a"], r["beta"]))
    assert n == len(rows)


def _h(x, p, beta):
    """Direct KL, G -> inf (arXiv:2502.18548v3, App. B.2): the derivative of the objective / beta."""
    return 1 / (beta * mp.sqrt(x * (1 - x))) - _logit(x) + _logit(p)


def _h_slope(x, beta):
    """``h'(x)``, differentiated by hand: ``-(1 - 2x) / (2 beta (x(1-x))^(3/2)) - 1/(x(1-x))``."""
    return -(1 - 2 * x) / (2 * beta * (x * (1 - x)) ** mp.mpf(1.5)) - 1 / (x * (1 - x))


def _h_minimum(p, beta):
    """``(x, h(x))`` at the minimum of ``h``: the bracketed zero of ``h'`` (``-inf`` at 0, ``+inf`` at 1)."""
    tiny = mp.mpf(10) ** -30
    x = _root(lambda t: _h_slope(t, beta), tiny, 1 - tiny)
    return x, _h(x, p, beta)


def test_critical_beta_enclosures_hold_an_independent_minimisation(tables_artefacts):
    rows = _csv(tables_artefacts, "critical_beta.csv")
    assert rows

    def recompute(row):
        p = _mp(row["p"])
        what = row["quantity"]
        if what in ("beta_c", "x_star"):
            # beta_c: the beta at which min_x h(x) = 0 (the two zeros of h merge)
            beta_c = _root(lambda b: _h_minimum(p, b)[1], mp.mpf(1) / 100, mp.mpf(100))
            return beta_c if what == "beta_c" else _h_minimum(p, beta_c)[0]
        beta = _mp(re.search(r"beta=(\S+)", what).group(1))
        x_min, _ = _h_minimum(p, beta)
        zeros = [_root(lambda t: _h(t, p, beta), mp.mpf(10) ** -30, x_min),
                 _root(lambda t: _h(t, p, beta), x_min, 1 - mp.mpf(10) ** -30)]
        (z,) = [z for z in zeros if _inside(z, row["enclosure_lo"], row["enclosure_hi"])]
        return z

    with mp.workdps(REF_DIGITS):
        assert _check_rows(rows, recompute, value="value") == len(rows)


def test_noisy_enclosures_hold_the_bracketed_roots():
    rows = _csv(computed_part("noisy")["artefacts"], "noisy.csv")
    assert rows
    n = _check_rows(rows, lambda r: _independent_binary("noisy", r["pi_ref_a"], r["beta"],
                                                        s=(_mp(r["s_a"]), _mp(r["s_b"]))))
    assert n == len(rows)
    # the deterministic formula (15) beside it has no certified column of its own:
    # every one of its enclosures must hold the bracketed root of (19)
    for r in rows:
        r["certified"] = "true"
    n = _check_rows(rows, lambda r: _independent_binary("ginf", r["pi_ref_a"], r["beta"]),
                    value="formula_15", lo="formula_15_lo", hi="formula_15_hi")
    assert n == len(rows)


def test_finite_group_enclosures_hold_the_bracketed_roots():
    rows = _csv(computed_part("finite_groups")["artefacts"], "finite_groups.csv")
    assert {r["G"] for r in rows} >= {"2", "1024", "inf"}

    def recompute(r):
        if r["G"] == "inf":
            return _independent_binary("ginf", r["pi_ref_a"], r["beta"])
        return _independent_binary("finite", r["pi_ref_a"], r["beta"], G=int(r["G"]))

    assert _check_rows(rows, recompute) == len(rows)


def _enumerated_preferences(problem, pi):
    """``P_G(o | pi)`` for every output: exact enumeration (finite G), or the limit (13)."""
    from derive.verify.enumeration import preference

    values = [_mp(str(v)) for v in problem.values]
    rho = [[_mp(str(w)) for w in row] for row in problem.rho]
    if problem.group is not None:
        return [preference(o, pi, problem.rho, problem.values, problem.group) for o in range(len(pi))]
    means = [mp.fsum(w * v for w, v in zip(row, values)) for row in rho]
    mean = mp.fsum(x * m for x, m in zip(pi, means))
    second = mp.fsum(x * w * v * v for x, row in zip(pi, rho) for w, v in zip(row, values))
    sigma = mp.sqrt(second - mean**2)       # the reward noise is in sigma
    return [(m - mean) / sigma for m in means]


def _stationary_residual(problem, beta, ref):
    """The K - 1 conditions (11) (k3) or their Section 3 analogue (k3-is) in ``pi_1..pi_{K-1}``."""
    K = len(ref)

    def F_(*tail):
        pi = [1 - mp.fsum(tail)] + list(tail)
        P = _enumerated_preferences(problem, pi)
        EP = mp.fsum(x * q for x, q in zip(pi, P))
        if problem.penalty == "k3":
            return [(1 - (P[o] - EP) / beta) * pi[o] - ref[o] for o in range(1, K)]
        base = mp.log(pi[0] / ref[0]) - P[0] / beta
        return [mp.log(pi[o] / ref[o]) - P[o] / beta - base for o in range(1, K)]
    return F_


def test_stability_enclosures_hold_the_enumerated_stationary_policies():
    from derive.results import stability

    rows = _csv(computed_part("stability")["artefacts"], "stability.csv")
    specs = {key: spec for key, _, spec in stability.EXAMPLES}
    points = {}
    for r in rows:
        points.setdefault((r["example"], r["point"]), []).append(r)
    assert len(points) >= len(specs)
    with mp.workdps(REF_DIGITS):
        for (key, _), coords in sorted(points.items()):
            problem = stability.problem_of(specs[key])
            assert all(c["certified"] == "true" for c in coords)
            if coords[0]["kind"] == "boundary":
                # a vertex: exact 0s and a 1, enclosed exactly
                for c in coords:
                    v = exact_value(c["pi"])
                    assert v in (0, 1) and exact_value(c["enclosure_lo"]) == v == exact_value(c["enclosure_hi"])
                continue
            ref = [_mp(str(r)) for r in problem.ref]
            start = [_mp(c["pi"]) for c in coords[1:]]
            tail = mp.findroot(_stationary_residual(problem, _mp(str(problem.beta)), ref), start)
            tail = [tail[i] for i in range(len(start))]
            pi = [1 - mp.fsum(tail)] + tail
            for c, x in zip(coords, pi):
                assert _inside(x, c["enclosure_lo"], c["enclosure_hi"]), (key, c)
                assert _width(c["enclosure_lo"], c["enclosure_hi"]) < MAX_WIDTH


def test_a_command_line_enclosure_holds_the_bracketed_root():
    from derive.numerics.certify import printed_enclosure
    from derive.solve.solver import Problem, stationary_policies

    for G, kind in ((2, "g2"), (None, "ginf"), (64, "finite")):
        (s,) = stationary_policies(Problem.deterministic((F(1, 5), F(4, 5)), (1, 0), F(1, 3), G), digits=40)
        shown = [mp.nstr(v, 40) for v in s.policy]
        (lo, hi), _ = printed_enclosure(s.enclosure, shown, 45)
        with mp.workdps(REF_DIGITS):
            x = _independent_binary(kind, "1/5", "1/3", G=G)
            assert _inside(x, lo, hi) and _width(lo, hi) < F(1, 10**35)


# ---------------------------------------------------------------------------
# derive.numerics.enclosures itself
# ---------------------------------------------------------------------------


def test_certified_root_encloses_the_root_of_19_and_rejects_a_wrong_centre():
    from sympy import sqrt, symbols

    x, p, beta = symbols("x p beta", positive=True)
    cond = beta * (x - p) - sqrt(x * (1 - x))
    lo, hi, cert = enclosures.certified_root(cond, mp.mpf("0.9"), x, (p, beta), (F(1, 10), F(1, 2)), dps=40)
    assert not cert                               # 0.9 is not within 1e-28 of the root
    with mp.workdps(REF_DIGITS):
        root = _independent_binary("ginf", "1/10", "1/2")
    with mp.workdps(45):
        centre = +root
    lo, hi, cert = enclosures.certified_root(cond, centre, x, (p, beta), (F(1, 10), F(1, 2)), dps=40)
    assert cert and lo <= root <= hi and hi - lo < mp.mpf(10) ** -30


def test_arb_function_rejects_what_it_cannot_evaluate_rigorously():
    from sympy import Float, sin, symbols

    x = symbols("x")
    with pytest.raises(TypeError):
        enclosures.arb_function(sin(x), (x,))
    with pytest.raises(TypeError):
        enclosures.arb_function(Float("0.1") * x, (x,))


@given(a=st.integers(1, 10**6), b=st.integers(1, 10**6), n=st.integers(-3, 3))
def test_arb_function_encloses_the_80_digit_value(a, b, n):
    from sympy import Rational, exp, log, sqrt, symbols

    x, y = symbols("x y", positive=True)
    expr = sqrt(x) * exp(y / 7) - log(x + y) * x**n + Rational(1, 3) * y ** Rational(3, 2)
    X, Y = F(a, 1000), F(b, 1000)
    with arb_precision(120):
        lo, hi = arb_ends(enclosures.arb_function(expr, (x, y))(ARB.num(X), ARB.num(Y)))
    with mp.workdps(REF_DIGITS):
        xv, yv = _mp(str(X)), _mp(str(Y))
        v = mp.sqrt(xv) * mp.exp(yv / 7) - mp.log(xv + yv) * xv**n + yv ** mp.mpf(1.5) / 3
        assert lo <= v <= hi
        assert hi - lo <= mp.mpf(2) ** -100 * max(1, abs(v))


# ---------------------------------------------------------------------------
# Why Arb and not mpmath.iv (mpmath issue 1181)
# ---------------------------------------------------------------------------

#: Exact dyadic arguments at which ``mpmath.iv.exp`` (mpmath 1.3.0) returns an
#: interval whose upper end lies below ``exp(x)`` (mpmath issue 1181).
IV_EXP_MISSES = ((3893924827815215, 50, 53), (1381846513289487, 46, 113))


@pytest.mark.parametrize("man, shift, prec", IV_EXP_MISSES)
def test_mpmath_iv_exp_misses_exp_issue_1181_and_arb_does_not(man, shift, prec):
    x = mp.mpf(man) / 2**shift                      # exact at the default 53 bits
    with mp.workdps(200):
        truth = mp.exp(x)
    old = iv.prec
    iv.prec = prec
    try:
        lo, hi = iv.exp(iv.mpf(x))._mpi_
    finally:
        iv.prec = old
    lo, hi = mp.make_mpf(lo), mp.make_mpf(hi)
    # This is the bug the engine avoids (pinned mpmath 1.3.0; if this assertion
    # fails after an upgrade, mpmath has fixed issue 1181).
    assert not (lo <= truth <= hi)
    with arb_precision(prec):
        a_lo, a_hi = arb_ends(ARB.exp(ARB.num(x)))
    assert a_lo <= truth <= a_hi


@settings(derandomize=True, deadline=None, max_examples=200)
@given(man=st.integers(-(2**60), 2**60), shift=st.integers(40, 80), prec=st.sampled_from([53, 64, 113, 200]))
def test_arb_exp_log_sqrt_balls_contain_the_200_digit_values(man, shift, prec):
    x = mp.mpf(man) / 2**shift
    with arb_precision(prec):
        X = ARB.num(x)
        balls = {"exp": X.exp(), "sqrt": abs(X).sqrt(), "log": abs(X).log() if man else None}
    with mp.workdps(200):
        truth = {"exp": mp.exp(x), "sqrt": mp.sqrt(abs(x)), "log": mp.log(abs(x)) if man else None}
    for name, ball in balls.items():
        if ball is None:
            continue
        lo, hi = arb_ends(ball)
        assert lo <= truth[name] <= hi, name
        assert hi - lo <= mp.mpf(2) ** (-prec + 4) * max(1, abs(truth[name])), name


def test_no_engine_module_uses_mpmath_iv():
    """Every enclosure is Arb's: ``mpmath.iv`` is neither imported nor reached as ``mpmath.iv``."""
    import ast
    from pathlib import Path

    import derive

    offenders = []
    for path in sorted(Path(derive.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            imports_iv = (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mpmath")
                          and (any(a.name in ("iv", "mpi") for a in node.names)
                               or node.module.startswith("mpmath.ctx_iv")))
            reaches_iv = (isinstance(node, ast.Attribute) and node.attr in ("iv", "mpi")
                          and isinstance(node.value, ast.Name) and node.value.id == "mpmath")
            if imports_iv or reaches_iv:
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_precision_is_reset_between_tests():
    assert flint.ctx.prec == 53


@pytest.mark.parametrize("module", ["derive.numerics.enclosures", "derive.paper.finite_groups"])
def test_docstring_examples(module):
    import importlib

    failures, _ = doctest.testmod(importlib.import_module(module))
    assert failures == 0
