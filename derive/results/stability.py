r"""Every stationary policy, its stability and the GRPO dynamics (beyond arXiv:2502.18548v3).

The paper characterises stationary policies by (11) but does not say which
ones training reaches.  This module takes a set of example problems -- finite
and infinite groups, two and three answers, deterministic and Bernoulli
rewards, both penalties -- and, for each, reports every stationary policy found
by :func:`derive.solve.solver.stationary_policies` with its interval enclosure,
whether its uniqueness is certified, the eigenvalues of the Jacobian of exact
expected-gradient ascent on the softmax logits and whether it is stable.

Every reported number is checked on a path that does not use the solver:

* stationarity: for ``G <= 4`` the gradient of the objective (1) itself, by
  enumerating every group and reward outcome
  (:func:`derive.verify.enumeration.objective_gradient`) -- at an interior
  stationary policy its components are all equal (the Lagrange condition on
  the simplex); for ``G -> infinity`` the limit form of (13) written out from
  ``(r(o) - E_pi r) / sigma(pi)`` with the reward noise in ``sigma``;
* stability: the eigenvalues come from an analytic Jacobian; the check
  compares them with a central finite difference of the logit flow, and
  simulates the flow from ``pi_ref`` (it must end at the stable policy) and
  from a small perturbation of every unstable one (it must leave it);
* the enclosures contain the reported values;
* a Monte Carlo GRPO run (sampled groups and rewards, group advantages, the
  clipped ratio, the k3 penalty) over 8 fixed seeds ends, averaged over the
  second half of each run, within four standard errors of the predicted
  policy.
"""

import statistics
from fractions import Fraction as F

import mpmath

from derive.numerics.certify import printed_enclosure
from derive.numerics.context import mpf_exact
from derive.numerics.format import decimal
from derive.numerics.precision import CHECK_DIGITS
from derive.paper.latex import TABLE_DIGITS, equation
from derive.verify.checks import INTERVAL, Section, inequality_check, numeric_check
from derive.verify.enumeration import objective_gradient

#: The example problems: (key, description, constructor arguments).
EXAMPLES = (
    ("binary-g2", "2 answers, rewards $1, 0$, $G = 2$, k3",
     ("deterministic", (F(1, 5), F(4, 5)), (1, 0), F(1, 2), 2, "k3")),
    ("bernoulli-g3", "2 answers, success $0.9, 0.4$, $G = 3$, k3",
     ("bernoulli", (F(3, 10), F(7, 10)), (F(9, 10), F(2, 5)), F(1, 4), 3, "k3")),
    ("three-g4", "3 answers, rewards $1, \\frac12, 0$, $G = 4$, k3",
     ("deterministic", (F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(1, 2), 4, "k3")),
    ("three-bern-g3", "3 answers, success $0.9, 0.5, 0.2$, $G = 3$, k3",
     ("bernoulli", (F(1, 5), F(1, 2), F(3, 10)), (F(9, 10), F(1, 2), F(1, 5)), F(1, 2), 3, "k3")),
    ("noisy-inf", "2 answers, success $0.7, 0.2$, $G \\to \\infty$, k3",
     ("bernoulli", (F(3, 10), F(7, 10)), (F(7, 10), F(1, 5)), F(2, 5), None, "k3")),
    ("direct-kl-inf", "2 answers, rewards $1, 0$, $G \\to \\infty$, k3-is",
     ("deterministic", (F(1, 5), F(4, 5)), (1, 0), F(3), None, "k3-is")),
    ("three-kl-inf", "3 answers, rewards $1, \\frac12, 0$, $G \\to \\infty$, k3-is",
     ("deterministic", (F(1, 2), F(3, 10), F(1, 5)), (1, F(1, 2), 0), F(3), None, "k3-is")),
)

def _number_tex(v):
    """An exact number as an author writes it: ``0.2``, ``3``, ``\\frac13``."""
    v = F(v)
    for digits in range(1, 7):
        if v * 10**digits == int(v * 10**digits):
            return format(float(v), f".{digits}f") if v.denominator > 1 else str(v.numerator)
    return rf"\tfrac{{{v.numerator}}}{{{v.denominator}}}"


def _parameters(spec):
    """``$\\pi_{ref} = (0.2, 0.8)$, $\\beta = 0.5$`` of an example."""
    _, ref, _, beta, _, _ = spec
    return (r"$\pi_{\mathrm{ref}} = (" + ", ".join(_number_tex(r) for r in ref)
            + r")$, $\beta = " + _number_tex(beta) + "$")


def _heading(description, spec):
    """The example's description with its reference policy and beta, so the table
    states every parameter of each problem."""
    return description + ", " + _parameters(spec)


#: The Monte Carlo problem (the ``three-g4`` example) and its run settings.
MC_EXAMPLE = "three-g4"
MC_SEEDS = tuple(range(1, 9))
MC_SETTINGS = dict(iterations=600, groups_per_iteration=32, inner_steps=4, clip_eps=0.2, lr=0.1)
#: Expected-gradient steps: ``inner_steps * lr`` per iteration, as the Monte Carlo run.
FLOW_LR, FLOW_STEPS = 0.4, 200
#: The trajectory figure shows the first ``TRAJECTORY_SPAN`` iterations, every ``TRAJECTORY_EVERY``-th.
TRAJECTORY_SPAN, TRAJECTORY_EVERY = 200, 2


def problem_of(spec):
    from derive.solve.solver import Problem

    kind, *args = spec
    return (Problem.deterministic if kind == "deterministic" else Problem.bernoulli)(*args)


def independent_gap(problem, policy):
    """How far an interior policy is from stationary, without the solver.

    Finite ``G``: the spread ``max - min`` of the gradient of the enumerated
    objective (1) in ``pi(o)`` at ``pi_old = pi`` (equal components is the
    Lagrange condition).  ``G -> infinity``: the largest residual of the limit
    form of (13), ``(1 - z(o)/beta) pi(o) - pi_ref(o)`` for k3 and the spread
    of ``log(pi(o)/pi_ref(o)) - z(o)/beta`` for k3-is, with
    ``z(o) = (r(o) - E_pi r)/sigma(pi)`` and the reward noise in ``sigma``.
    """
    pi = [mpmath.mpf(v) for v in policy]
    ref = [mpf_exact(r) for r in problem.ref]
    beta = mpf_exact(problem.beta)
    if problem.group is not None:
        rho = [[mpf_exact(w) for w in row] for row in problem.rho]
        values = [mpf_exact(v) for v in problem.values]
        grads = objective_gradient(pi, ref, rho, values, problem.group, beta, problem.penalty)
        return max(grads) - min(grads)
    values = [mpf_exact(v) for v in problem.values]
    means = [mpmath.fsum(mpf_exact(w) * v for w, v in zip(row, values)) for row in problem.rho]
    second = [mpmath.fsum(mpf_exact(w) * v * v for w, v in zip(row, values)) for row in problem.rho]
    mu = mpmath.fsum(p * m for p, m in zip(pi, means))
    sigma = mpmath.sqrt(mpmath.fsum(p * s for p, s in zip(pi, second)) - mu * mu)
    z = [(m - mu) / sigma for m in means]
    if problem.penalty == "k3":
        return max(abs((1 - zo / beta) * x - r) for zo, x, r in zip(z, pi, ref))
    logs = [mpmath.log(x / r) - zo / beta for zo, x, r in zip(z, pi, ref)]
    return max(logs) - min(logs)


def _fd_eigenvalues(problem, policy, h):
    """Eigenvalues of the logit-flow Jacobian by central differences of the flow itself."""
    from derive.dynamics.iteration import logit_flow

    K = len(policy)
    theta = [mpmath.log(p) for p in policy]

    def flow(th):
        top = max(th)
        w = [mpmath.exp(t - top) for t in th]
        Z = mpmath.fsum(w)
        F_ = logit_flow(problem, [v / Z for v in w])
        return [F_[j] - F_[K - 1] for j in range(K - 1)]

    cols = []
    for l in range(K - 1):
        up, dn = list(theta), list(theta)
        up[l] += h
        dn[l] -= h
        fu, fd = flow(up), flow(dn)
        cols.append([(a - b) / (2 * h) for a, b in zip(fu, fd)])
    M = mpmath.matrix([[cols[l][j] for l in range(K - 1)] for j in range(K - 1)])
    if K - 1 == 1:
        return [M[0, 0]]
    ev = mpmath.eig(M, left=False, right=False)
    return sorted(ev, key=lambda e: (mpmath.re(e), mpmath.im(e)))


def _fmt(v, d):
    """A number of the stability tables: 0 and 1 (a vertex) as the integers they are."""
    return decimal(v, d, zero="0", one="1")


def _eig_tex(e):
    e = mpmath.mpc(e)
    if e.imag == 0:
        return _fmt(e.real, 4)
    sign = "+" if e.imag > 0 else "-"
    return f"{_fmt(e.real, 4)} {sign} {_fmt(abs(e.imag), 4)}i"


def example_rows(digits=CHECK_DIGITS):
    """Every stationary policy of every example, with its independent checks."""
    from derive.solve.solver import stationary_policies

    rows = []
    for key, description, spec in EXAMPLES:
        problem = problem_of(spec)
        sols = stationary_policies(problem, digits=digits)
        points = []
        with mpmath.workdps(digits + 10):
            for s in sols:
                gap = fd = None
                if s.kind == "interior":
                    gap = independent_gap(problem, s.policy)
                    fd = _fd_eigenvalues(problem, s.policy, mpmath.mpf(10) ** -((digits + 10) // 3))
                points.append({"solution": s, "gap": gap, "fd": fd})
        rows.append({"key": key, "description": _heading(description, spec), "problem": problem,
                     "points": points})
    return rows


def flow_checks(rows):
    """Simulate the expected-gradient flow: from ``pi_ref`` to the stable point; away from unstable ones.

    Returns ``(errors_to_stable, departures)``: the distance of the end of the
    flow from ``pi_ref`` to the stable interior policy, per example with one,
    and, for each unstable point perturbed by a relative ``+-10^-6`` in its
    first coordinate, the distance it travels in 2000 steps divided by the
    size of the perturbation (must be large).
    """
    from derive.dynamics.iteration import simulate_expected_gradient

    to_stable, departures = [], []
    for row in rows:
        problem = row["problem"]
        stable = [pt["solution"] for pt in row["points"]
                  if pt["solution"].kind == "interior" and pt["solution"].stable]
        unstable = [pt["solution"] for pt in row["points"]
                    if pt["solution"].kind == "interior" and not pt["solution"].stable]
        if stable:
            path = simulate_expected_gradient(problem, 4000, 1.0, digits=30)
            with mpmath.workdps(30):
                end = path[-1]
                to_stable.append(min(max(abs(a - b) for a, b in zip(end, s.policy)) for s in stable))
        for s in unstable:
            for sign in (1, -1):
                with mpmath.workdps(30):
                    eps = sign * mpmath.mpf(10) ** -6
                    moved = [v * (1 + eps) if i == 0 else v for i, v in enumerate(s.policy)]
                    total = mpmath.fsum(moved)
                    start = [F(mpmath.nstr(v / total, 25)) for v in moved]
                    start[-1] = 1 - sum(start[:-1])
                    d0 = max(abs(mpf_exact(a) - b) for a, b in zip(start, s.policy))
                    path = simulate_expected_gradient(problem, 2000, 1.0, digits=30, start=start)
                    departures.append(max(abs(a - b) for a, b in zip(path[-1], s.policy)) / d0)
    return to_stable, departures


def monte_carlo():
    """Monte Carlo GRPO on the ``MC_EXAMPLE`` problem: runs, predicted policy, flow path."""
    from derive.dynamics.iteration import monte_carlo_grpo, simulate_expected_gradient
    from derive.solve.solver import stationary_policies

    spec = dict((k, s) for k, _, s in EXAMPLES)[MC_EXAMPLE]
    problem = problem_of(spec)
    (predicted,) = [s for s in stationary_policies(problem, digits=30) if s.stable]
    runs = [monte_carlo_grpo(problem, seed=seed, **MC_SETTINGS) for seed in MC_SEEDS]
    flow = simulate_expected_gradient(problem, FLOW_STEPS, FLOW_LR, digits=20)
    return problem, predicted, runs, flow


def monte_carlo_errors(predicted, runs):
    """Per output: ``(mean over seeds - predicted, standard error over seeds)``."""
    out = []
    for j, p in enumerate(predicted.policy):
        vals = [r.averaged[j] for r in runs]
        mean = statistics.fmean(vals)
        se = statistics.stdev(vals) / len(vals) ** 0.5
        out.append((mean - float(p), se))
    return out


#: Grid of (pi_ref(a), beta) on which the solver is compared with the derived closed forms.
AGREEMENT_GRID = tuple((F(p), F(b)) for p in ("0.01", "0.1", "0.3", "0.5", "0.9")
                       for b in ("0.01", "0.1", "0.5", "1", "2", "10"))
AGREEMENT_GROUPS = (8, 64, 1024)


def solver_agreement(digits=CHECK_DIGITS):
    """The general solver against the symbolic derivations, binary 0/1 rewards.

    Returns ``(errors_two, errors_limit, errors_finite)``: the solver's stable
    ``pi(a)`` minus the closed form SymPy derived for ``G = 2`` (14) and for
    ``G -> infinity`` (15), and minus the bisected root of the finite-``G``
    condition ``beta (x - p) = x U_G(x)`` (:mod:`derive.paper.finite_groups`, a
    separate code path) for ``G`` in ``AGREEMENT_GROUPS``.
    """
    from sympy import lambdify

    from derive.paper import symbols as S
    from derive.paper.binary import BinaryLimit, BinaryTwo
    from derive.paper.finite_groups import stationary_x
    from derive.solve.solver import Problem, stationary_policies

    two = lambdify((S.p, S.beta, S.gamma), BinaryTwo().derive().policy, "mpmath")
    limit = lambdify((S.p, S.beta), BinaryLimit().derive().policy, "mpmath")
    errs_two, errs_limit, errs_finite = [], [], []
    for p, b in AGREEMENT_GRID:
        for group, sink in ((2, errs_two), (None, errs_limit)):
            (s,) = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), b, group),
                                       digits=digits)
            with mpmath.workdps(digits + 15):
                want = two(mpf_exact(p), mpf_exact(b), 1) if group == 2 else limit(mpf_exact(p), mpf_exact(b))
                sink.append(s.policy[0] - want)
    for group in AGREEMENT_GROUPS:
        for p, b in AGREEMENT_GRID[::4]:
            (s,) = stationary_policies(Problem.deterministic((p, 1 - p), (1, 0), b, group),
                                       digits=digits)
            with mpmath.workdps(digits + 15):
                errs_finite.append(s.policy[0] - stationary_x(group, mpf_exact(p), mpf_exact(b)))
    return errs_two, errs_limit, errs_finite


def results():
    rows = example_rows()
    out = []
    errs_two, errs_limit, errs_finite = solver_agreement()
    out.append(numeric_check(
        "solver-closed-form-14", "(14)",
        f"the general solver (float scan, mpmath Newton) equals the closed form SymPy derived "
        f"for G = 2 at {len(errs_two)} points (p, beta), 50 digits", errs_two, CHECK_DIGITS))
    out.append(numeric_check(
        "solver-closed-form-15", "(15)",
        f"the general solver equals the closed form SymPy derived for G -> inf at "
        f"{len(errs_limit)} points (p, beta), 50 digits", errs_limit, CHECK_DIGITS))
    out.append(numeric_check(
        "solver-finite-groups", "(11)",
        f"the general solver equals the bisected root of beta (x - p) = x U_G(x) for "
        f"G = {', '.join(map(str, AGREEMENT_GROUPS))}, {len(errs_finite)} points, 50 digits",
        errs_finite, CHECK_DIGITS))
    from derive.results.maximiser_table import brute_force_agrees, simplex_search_agrees
    from derive.solve.maximiser import maximiser

    gaps, fd_err, encl, cert_margin, table, csv_lines = [], [], [], [], [], []
    agree, agree3 = [], []
    for row in rows:
        for i, pt in enumerate(row["points"]):
            s = pt["solution"]
            verdict = maximiser(row["problem"], s, CHECK_DIGITS).verdict
            if row["problem"].K == 2 and s.kind == "interior":
                agree.append(brute_force_agrees(row["problem"], s.policy[0], verdict))
            elif (row["problem"].K == 3 and s.kind == "interior" and row["problem"].penalty == "k3"
                  and verdict in ("global", "local")):
                agree3.append(simplex_search_agrees(row["problem"], s.policy, verdict))
            for (lo, hi), v in zip(s.enclosure, s.policy):
                encl.append(0 if lo <= v <= hi else 1)
            cert_margin.append(1 if s.certified else -1)
            if pt["gap"] is not None:
                gaps.append(pt["gap"])
                fd_err.extend(abs(a - b) / max(1, abs(b)) for a, b in zip(pt["fd"], s.eigenvalues))
            table.append({
                "example": row["description"] if i == 0 else None,
                "policy": "(" + ", ".join(_fmt(v, TABLE_DIGITS) for v in s.policy) + ")",
                "kind": s.kind, "classification": s.classification,
                "eigenvalues": ", ".join(_eig_tex(e) for e in s.eigenvalues) or "\\text{--}",
                "stable": "yes" if s.stable else "no",
                "maximiser": verdict,
                "certified": "yes" if s.certified else "no",
            })
            shown = [_fmt(v, CHECK_DIGITS) for v in s.policy]
            bounds = printed_enclosure(s.enclosure, shown, CHECK_DIGITS + 5)
            for j, (text, (lo, hi)) in enumerate(zip(shown, bounds)):
                csv_lines.append(
                    f"{row['key']},{i + 1},{j + 1},{text},{lo},{hi},"
                    f"{'true' if s.certified else 'false'},{s.kind},{s.classification},"
                    f"{'true' if s.stable else 'false'},{verdict}\n")
    n_points = len(table)
    out.append(inequality_check(
        "stability-maximiser-brute-force", "Sec. 2.3, (1)",
        f"the maximiser verdict of each of the {len(agree)} interior points of the two-answer "
        "examples agrees with a search of J(x, 1 - x; pi) from P_G(o|pi) and the penalty (grid, "
        "golden-section refinement, J'' by mpmath.diff), 50 digits", agree, CHECK_DIGITS))
    out.append(inequality_check(
        "stability-maximiser-simplex-search", "Sec. 2.3, (1)",
        f"the maximiser verdict (global / local) of each of the {len(agree3)} interior k3 points "
        "of the three-answer examples agrees with a search of J(.; pi) from P_G(o|pi) and the "
        "penalty on a grid of the simplex uniform in logits (floats: 1e-12 slack for global, "
        "1e-9 margin for local)", agree3, 15))
    out.append(numeric_check(
        "stability-stationary-independent", "(1), (11), (13)",
        f"every interior stationary policy of the {len(rows)} examples "
        f"({len(gaps)} points) is stationary for the objective (1) itself: enumerated "
        "gradient components equal (G <= 4) or the limit form of (13) with the noise in sigma "
        "(G -> inf); solver not used", gaps, CHECK_DIGITS))
    out.append(numeric_check(
        "stability-enclosures", "(11)",
        f"every coordinate of the {n_points} stationary policies lies in its Arb ball-arithmetic enclosure",
        encl, CHECK_DIGITS, tolerance=0, method=INTERVAL))
    out.append(inequality_check(
        "stability-certified", "(11)",
        f"each of the {n_points} enclosures is certified (interval Newton or Krawczyk) to hold "
        "exactly one stationary policy", cert_margin, CHECK_DIGITS, method=INTERVAL))
    out.append(numeric_check(
        "stability-eigenvalues-fd", "(11)",
        "the analytic eigenvalues of the logit-flow Jacobian agree with central differences of "
        "the flow (step 1e-20, error O(h^2)), relative", fd_err, CHECK_DIGITS,
        tolerance=mpmath.mpf(10) ** -25))
    to_stable, departures = flow_checks(rows)
    out.append(numeric_check(
        "stability-flow-ends-at-stable", "(11)",
        f"expected-gradient ascent on the logits from pi_ref (4000 steps, rate 1, 30 digits) ends "
        f"at the stable stationary policy, {len(to_stable)} examples (tolerance 1e-15: linear "
        "convergence)", to_stable, 30, tolerance=mpmath.mpf(10) ** -15))
    out.append(inequality_check(
        "stability-flow-leaves-unstable", "(11)",
        f"started a relative 1e-6 away (both signs) from each of the {len(departures) // 2} "
        "unstable stationary policies, the flow ends more than 100 times the perturbation "
        "away from it",
        [d - 100 for d in departures], 30))

    problem, predicted, runs, flow = monte_carlo()
    errs = monte_carlo_errors(predicted, runs)
    out.append(inequality_check(
        "stability-monte-carlo", "(1)",
        f"Monte Carlo GRPO (sampled groups of G = {problem.group}, {MC_SETTINGS['groups_per_iteration']} "
        f"groups per iteration, clipped ratio eps = {MC_SETTINGS['clip_eps']}, k3 penalty), "
        f"{len(runs)} seeds x {MC_SETTINGS['iterations']} iterations: the second-half average "
        "lies within 4 standard errors (over seeds) of the predicted stable policy",
        [4 * se - abs(d) for d, se in errs], 3))
    # The figure: expected-gradient path, Monte Carlo path of the first seed, prediction.
    colours = ("blue", "red", "green!50!black")
    span = range(0, TRAJECTORY_SPAN + 1, TRAJECTORY_EVERY)
    curves = []
    for j, col in enumerate(colours[:problem.K]):
        curves.append({
            "colour": col, "legend": f"$\\pi(o_{j + 1})$",
            "flow": [f"({t},{_fmt(flow[t][j], 6)})" for t in span],
            "mc": [f"({t},{runs[0].policies[t][j]:.4f})" for t in span],
            "predicted": _fmt(predicted.policy[j], 6),
        })
    mc_rows = [{"output": f"$o_{j + 1}$", "predicted": _fmt(predicted.policy[j], 8),
                "mc": f"{d + float(predicted.policy[j]):.5f}", "se": f"{se:.1e}"}
               for j, (d, se) in enumerate(errs)]
    header = ("example,point,output,pi,enclosure_lo,enclosure_hi,certified,kind,classification,"
              "stable,maximiser\n")
    traj = "t,output,expected_gradient,monte_carlo_seed1\n" + "".join(
        f"{t},{j + 1},{_fmt(flow[t][j], 12)},{runs[0].policies[t][j]:.6f}\n"
        for t in span for j in range(problem.K))
    return {"sections": [section(problem)], "checks": out,
            "artefacts": [{"path": "tables/stability.tex", "template": "stability_table.tex.jinja",
                           "context": {"rows": table}},
                          {"path": "data/stability.csv", "text": header + "".join(csv_lines)},
                          {"path": "tables/monte_carlo.tex", "template": "monte_carlo_table.tex.jinja",
                           "context": {"rows": mc_rows, "seeds": len(runs),
                                       "settings": MC_SETTINGS, "G": problem.group}},
                          {"path": "data/trajectories.csv", "text": traj},
                          {"path": "figures/trajectories.tex",
                           "template": "trajectories_figure.tex.jinja",
                           "context": {"curves": curves, "iterations": TRAJECTORY_SPAN,
                                       "G": problem.group,
                                       "parameters": _parameters(
                                           dict((k, s) for k, _, s in EXAMPLES)[MC_EXAMPLE])}}]}


def section(problem=None):
    sec = Section("stability", "Every stationary policy and its stability (beyond the paper)",
                  "(1), (11), (13)",
                  "Which stationary policies the GRPO iteration reaches: the eigenvalues of "
                  "expected-gradient ascent on the softmax logits, the flow itself, and Monte "
                  "Carlo GRPO with sampled groups.")
    sec.step("With $\\pi = \\mathrm{softmax}(\\theta)$ and $\\pi_{\\mathrm{old}} = \\pi$ at every "
             "step, exact expected-gradient ascent on the logits is the flow",
             equation("\\dot\\theta_o", "\\pi(o) \\Bigl(g_o(\\pi) - \\sum_{o'} \\pi(o') "
                      "g_{o'}(\\pi)\\Bigr),") + " \\\\ "
             + equation("g_o(\\pi)", "P_G(o \\mid \\pi) - \\beta \\Bigl(1 - "
                        "\\frac{\\pi_{\\mathrm{ref}}(o)}{\\pi(o)}\\Bigr)"),
             "stability-flow")
    sec.step("for the k3 penalty (the gradient (10)); for k3-is the penalty term is "
             "$\\beta \\log(\\pi(o)/\\pi_{\\mathrm{ref}}(o))$, the gradient (9) up to a "
             "constant that the flow ignores.  Its interior rest "
             "points are exactly the interior solutions of (11).  A rest point is stable when "
             "every eigenvalue of the Jacobian in the $K - 1$ logit differences has a negative "
             "real part.  Table [[tab:stability]] lists every stationary policy of seven "
             "problems, found by the solver (a sign-change scan for one unknown, Newton from a "
             "grid of starts for several, and the faces of the simplex for boundary points), each "
             "with an enclosure certified by interval Newton or Krawczyk.  Every interior point was checked against the "
             "objective (1) itself by enumerating all groups, the eigenvalues against finite "
             "differences of the flow, and stability by running the flow.")
    sec.step("With the reverse-KL penalty of GRPO (k3) every example has exactly one interior "
             "stationary policy and it is stable.  With the direct KL (k3-is) at $G \\to \\infty$ "
             "and a large $\\beta$ a second, unstable interior point appears (a repeller for "
             "two answers, a saddle for three), between the stable interior policy and the "
             "boundary attractor $\\pi(a) = 1$; the flow from $\\pi_{\\mathrm{ref}}$ ends at the "
             "interior one.  Being a rest point of the iteration, stable or not, is not the "
             "paper's definition of stationary (a maximiser of $J(\\cdot\\,; "
             "\\pi_{\\mathrm{old}})$ with $\\pi_{\\mathrm{old}} = \\pi$); the table's "
             "maximiser column decides that separately, and Table [[tab:maximiser]] shows where "
             "the two part.")
    if problem is not None:
        sec.step("Monte Carlo GRPO -- groups of $G = %d$ sampled from $\\pi_{\\mathrm{old}}$, "
                 "advantages (2), the clipped ratio and the k3 penalty, a few gradient steps per "
                 "iteration -- ends, within sampling error, at the predicted stable policy "
                 "(Table [[tab:monte-carlo]], Figure [[fig:trajectories]])." % problem.group)
    return sec
