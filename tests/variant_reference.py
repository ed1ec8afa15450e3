"""An independent reference for the interior stationary policies of every GRPO variant.

Written apart from the project (issue 8, "What will be checked"): it imports nothing from
``derive`` and shares none of its code.  It takes the objective of arXiv:2502.18548v3,
Eq. (1), at sequence level for one question with K answers, and computes its gradient the
slow, obvious way:

* the surrogate term ``E[(1/G) sum_i pi'(o_i)/pi_old(o_i) A_i]`` is linear in the trial
  policy ``pi'``; its exact derivative in ``pi'(o)`` at ``pi' = pi_old = pi`` is
  ``sum over ordered groups (o_1..o_G) and reward outcomes of
  prob * (1/G) sum_i [o_i = o] A_i / pi(o)``, and that sum is enumerated here over every
  ordered group of *atoms* (an atom is an answer together with one of its reward values);
* the penalty ``beta E_{o ~ pi_old}[w(o) k(pi_ref(o)/pi'(o))]`` is differentiated by hand
  (:func:`penalty_gradient`; the tests check it against ``mpmath.diff`` of the expectation);
* for the KL in the reward, ``beta k(rho)`` (rho with the current policy, no gradient through
  it) is subtracted from every sampled reward before the advantages, and there is no penalty.

A policy is an interior stationary (KKT) point when the gradient ``g_o`` is the same for every
answer.  The roots are found on the logits z (pi = softmax(z, 0)): K = 2 by a scan of
|z| <= 60 in double precision, each sign change confirmed and refined in mpmath (bisection,
then mpmath's Anderson solver inside the bracket, bisection to the end if it leaves it), and
Newton from each sharp local minimum of |f| (a tangency); K = 3 by a 2-D scan of |z| <= 40,
Newton from every cell where both components change sign, polished with mpmath.  Every root
is accepted only when its residual at ``DPS`` digits is below ``10**-(DPS - 20)`` of the size of
the terms that make up the field.

With shift-and-scale advantages and no epsilon, the KL-in-reward field jumps wherever the
modified rewards of two atoms of different answers coincide (a group made only of them has
all advantages 0/0 -> 0).  A sign change across a jump is not a root (its residual is large);
the coincidence points themselves are solved for and accepted when the field *at* them, with
the coinciding rewards equal, is zero.  For K = 3 only points where two coincidences hold are
examined: a point on a single coincidence curve with a zero field is not generic.
"""

import itertools
import math
from collections import Counter
from fractions import Fraction

import mpmath

#: Working precision of the reference, in decimal digits.
DPS = 70
#: A root is accepted when max |g_o - g_K| <= ROOT_TOL * (size of the terms of g).
ROOT_TOL = mpmath.mpf(10) ** -(DPS - 20)

PENALTIES = ("k1", "k2", "k3")
NORMALISATIONS = ("shift-scale", "shift-only", "none")


# -- penalty estimators ---------------------------------------------------------------

def kl_estimate(name, rho, log):
    """The per-sample estimate k(rho) of KL, rho = pi_ref(o)/pi(o) (k1, k2 or k3)."""
    if name == "k1":
        return -log(rho)
    if name == "k2":
        return log(rho) ** 2 / 2
    if name == "k3":
        return rho - 1 - log(rho)
    raise ValueError(name)


def penalty_gradient(name, importance, pi_o, ref_o, log):
    """d/d pi'(o) of E_{o ~ pi_old}[w(o) k(pi_ref(o)/pi'(o))] at pi' = pi_old = pi.

    By hand: with rho = pi_ref/pi', d rho / d pi' = -rho/pi'.  Without the weight the term is
    pi_old(o) k(rho), whose derivative at pi' = pi_old is -rho k'(rho); with w = pi'/pi_old the
    term is pi'(o) k(rho), whose derivative is k(rho) - rho k'(rho).  Written out per
    estimator (L = log(pi(o)/pi_ref(o)) = -log rho), so that no large terms cancel:

    ==== ============== ===================
         as is          importance-weighted
    ==== ============== ===================
    k1   1              L + 1
    k2   L              L^2/2 + L
    k3   1 - rho        L
    ==== ============== ===================
    """
    L = log(pi_o / ref_o)
    if name == "k1":
        return L + 1 if importance else 1 + 0 * L
    if name == "k2":
        return L * L / 2 + L if importance else L
    if name == "k3":
        return L if importance else 1 - ref_o / pi_o
    raise ValueError(name)


def expected_penalty(name, importance, pi_trial, pi_old, ref, log):
    """E_{o ~ pi_old}[w(o) k(pi_ref(o)/pi'(o))], w = pi'(o)/pi_old(o) or 1 (for checks)."""
    total = 0
    for pt, po, r in zip(pi_trial, pi_old, ref):
        w = pt / po if importance else 1
        total += po * w * kl_estimate(name, r / pt, log)
    return total


# -- advantages -----------------------------------------------------------------------

def advantages(values, normalisation, std, eps, sqrt):
    """A_i of one group of rewards: (r - mean)/(std + eps), r - mean, or r; 0/0 -> 0."""
    G = len(values)
    if normalisation == "none":
        return list(values)
    if all(v == values[0] for v in values):
        return [0 * v for v in values]
    mean = sum(values) / G
    centred = [v - mean for v in values]
    if normalisation == "shift-only":
        return centred
    square_sum = sum(c * c for c in centred)
    scale = sqrt(square_sum / (G if std == "population" else G - 1)) + eps
    return [c / scale for c in centred]


def _mp(x):
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


# -- the problem ----------------------------------------------------------------------

class Variant:
    """One question: reference policy, reward distributions, beta, G and the GRPO variant.

    ``rewards`` is a list (one per answer) of lists of (value, probability) pairs, exact
    Fractions.  ``cli_args`` writes the same problem for ``python -m derive stationary``,
    giving only the options that differ from the defaults.
    """

    def __init__(self, ref, rewards, beta, G, penalty="k3", importance=False, kl_in="loss",
                 normalisation="shift-scale", std="population", eps=0, reward_kind="finite"):
        self.ref = [Fraction(p) for p in ref]
        self.rewards = [[(Fraction(v), Fraction(q)) for v, q in dist] for dist in rewards]
        self.beta = Fraction(beta)
        self.G = G
        self.penalty = penalty
        self.importance = importance
        self.kl_in = kl_in
        self.normalisation = normalisation
        self.std = std
        self.eps = Fraction(eps)
        self.reward_kind = reward_kind
        self.K = len(self.ref)
        assert sum(self.ref) == 1 and all(sum(q for _, q in d) == 1 for d in self.rewards)
        assert not (importance and kl_in == "reward")

    @classmethod
    def deterministic(cls, ref, values, beta, G, **kw):
        return cls(ref, [[(v, 1)] for v in values], beta, G, reward_kind="deterministic", **kw)

    @classmethod
    def bernoulli(cls, ref, success, beta, G, **kw):
        dists = [[(v, q) for v, q in ((0, 1 - Fraction(s)), (1, Fraction(s))) if q]
                 for s in success]
        return cls(ref, dists, beta, G, reward_kind="bernoulli", **kw)

    def penalty_name(self):
        return self.penalty + ("-is" if self.importance else "")

    def cli_args(self, digits=40):
        frac = str
        args = ["stationary", "--ref", ",".join(frac(p) for p in self.ref)]
        if self.reward_kind == "deterministic":
            args += ["--rewards=" + ",".join(frac(d[0][0]) for d in self.rewards)]
        elif self.reward_kind == "bernoulli":
            success = [sum((q for v, q in d if v == 1), Fraction(0)) for d in self.rewards]
            args += ["--success", ",".join(frac(s) for s in success)]
        else:
            for d in self.rewards:
                args += ["--reward-dist=" + ",".join(f"{frac(v)}:{frac(q)}" for v, q in d)]
        args += ["--beta", frac(self.beta), "--group", str(self.G)]
        if self.penalty_name() != "k3" or self.kl_in == "reward":
            args += ["--penalty", self.penalty_name()]
        if self.kl_in != "loss":
            args += ["--kl-in", self.kl_in]
        if self.normalisation != "shift-scale":
            args += ["--normalisation", self.normalisation]
        if self.std != "population":
            args += ["--std", self.std]
        if self.eps:
            args += ["--std-eps", frac(self.eps)]
        return args + ["--json", "--digits", str(digits)]

    def __repr__(self):
        return " ".join(self.cli_args()[1:-3])


# -- the field g_o by enumeration of ordered groups -------------------------------------

def ordered_group_counts(n_atoms, G):
    """How many ordered groups (a_1..a_G) of atoms have each multiset: every one enumerated."""
    counts = Counter()
    for group in itertools.product(range(n_atoms), repeat=G):
        counts[tuple(sorted(group))] += 1
    return counts


class Field:
    """g_o(pi) = d J(pi'; pi_old = pi) / d pi'(o) at pi' = pi, for one Variant.

    Rewards and atoms: atom a is (answer o_a, value v_a, probability R_a).  Every ordered group
    of G atoms is enumerated once (:func:`ordered_group_counts`); a group's advantages depend
    on its rewards only through the symmetric mean and std, so the groups with the same atoms
    in another order share them, permuted.

    Loss: the rewards are fixed, so g_o is a polynomial in pi, whose coefficients are built
    exactly (rationals, and the std in mpmath) once.  Reward: the modified rewards depend on pi,
    and the advantages of each multiset are recomputed at every evaluation.
    """

    def __init__(self, variant):
        self.v = variant
        K, G = variant.K, variant.G
        self.atoms = [(o, val, q) for o, dist in enumerate(variant.rewards) for val, q in dist if q]
        counts = ordered_group_counts(len(self.atoms), G)
        with mpmath.workdps(DPS + 10):
            if variant.kl_in == "loss":
                self._build_polynomial(counts)
            else:
                self._build_multisets(counts)
            self.ref_mp = [_mp(p) for p in variant.ref]
            self.beta_mp = _mp(variant.beta)
            self.eps_mp = _mp(variant.eps)
        self.ref_f = [float(p) for p in variant.ref]
        self.beta_f = float(variant.beta)
        self.eps_f = float(variant.eps)
        self.K = K

    def _answer_key(self, multiset):
        key = [0] * self.v.K
        for a in multiset:
            key[self.atoms[a][0]] += 1
        return tuple(key)

    def _build_polynomial(self, counts):
        v, G, K = self.v, self.v.G, self.v.K
        coef = [{} for _ in range(K)]
        for multiset, n_orders in sorted(counts.items()):
            values = [self.atoms[a][1] for a in multiset]
            if v.normalisation == "shift-scale":
                A = advantages([_mp(x) for x in values], "shift-scale", v.std, _mp(v.eps),
                               mpmath.sqrt)
            else:
                A = advantages(values, v.normalisation, v.std, 0, None)  # exact rationals
            prob = Fraction(n_orders)
            for a in multiset:
                prob *= self.atoms[a][2]
            key = self._answer_key(multiset)
            for o in range(K):
                total = sum((A[i] for i, a in enumerate(multiset) if self.atoms[a][0] == o), 0)
                if total == 0:
                    continue
                # divide by pi(o): lower the exponent of pi(o) by one (key[o] >= 1 here)
                reduced = key[:o] + (key[o] - 1,) + key[o + 1:]
                coef[o][reduced] = coef[o].get(reduced, 0) + _mp(prob / G) * _mp(total)
        self.coef_mp = [sorted(c.items()) for c in coef]
        self.coef_f = [[(k, float(c)) for k, c in cs] for cs in self.coef_mp]

    def _build_multisets(self, counts):
        self.multisets = []
        for multiset, n_orders in sorted(counts.items()):
            prob = Fraction(n_orders)
            for a in multiset:
                prob *= self.atoms[a][2]
            self.multisets.append((multiset, self._answer_key(multiset), _mp(prob), float(prob)))

    # -- evaluation ---------------------------------------------------------------------

    def _surrogate_polynomial(self, pi, coefs):
        G = self.v.G
        powers = [[p ** e for e in range(G + 1)] for p in pi]
        S, size = [], []
        for o in range(self.K):
            s = t = 0
            for key, c in coefs[o]:
                term = c
                for o2, e in enumerate(key):
                    if e:
                        term *= powers[o2][e]
                s += term
                t += abs(term)
            S.append(s)
            size.append(t)
        return S, size

    def modified_values(self, pi, mp_mode):
        """v_a - beta k(rho_{o_a}) for every atom (KL in the reward)."""
        log = mpmath.log if mp_mode else math.log
        ref = self.ref_mp if mp_mode else self.ref_f
        beta = self.beta_mp if mp_mode else self.beta_f
        conv = _mp if mp_mode else float
        ks = [kl_estimate(self.v.penalty, ref[o] / pi[o], log) for o in range(self.K)]
        return [conv(val) - beta * ks[o] for o, val, _ in self.atoms]

    def _surrogate_reward(self, pi, mp_mode, values=None):
        v, G = self.v, self.v.G
        if values is None:
            values = self.modified_values(pi, mp_mode)
        if mp_mode:
            sqrt, eps = mpmath.sqrt, self.eps_mp
        else:
            sqrt, eps = math.sqrt, self.eps_f
        powers = [[p ** e for e in range(G + 1)] for p in pi]
        S = [0] * self.K
        size = [0] * self.K
        for multiset, key, prob_mp, prob_f in self.multisets:
            A = advantages([values[a] for a in multiset], v.normalisation, v.std, eps, sqrt)
            for o in range(self.K):
                total = 0
                for i, a in enumerate(multiset):
                    if self.atoms[a][0] == o:
                        total += A[i]
                if total == 0:
                    continue
                term = (prob_mp if mp_mode else prob_f) / G * total
                for o2, e in enumerate(key):
                    e2 = e - 1 if o2 == o else e
                    if e2:
                        term *= powers[o2][e2]
                S[o] += term
                size[o] += abs(term)
        return S, size

    def gradient(self, pi, mp_mode=True, values=None):
        """(g_o for every o, the size of the terms of g): surrogate minus beta * penalty."""
        if self.v.kl_in == "reward":
            return self._surrogate_reward(pi, mp_mode, values)
        S, size = self._surrogate_polynomial(pi, self.coef_mp if mp_mode else self.coef_f)
        log = mpmath.log if mp_mode else math.log
        ref = self.ref_mp if mp_mode else self.ref_f
        beta = self.beta_mp if mp_mode else self.beta_f
        g = []
        for o in range(self.K):
            pen = beta * penalty_gradient(self.v.penalty, self.v.importance, pi[o], ref[o], log)
            g.append(S[o] - pen)
            size[o] += abs(pen)
        return g, size

    # -- on the logits ------------------------------------------------------------------

    @staticmethod
    def policy(z, mp_mode):
        """pi = softmax(z_1, .., z_{K-1}, 0)."""
        zz = list(z) + [0]
        top = max(zz)
        exp = mpmath.exp if mp_mode else math.exp
        w = [exp(t - top) for t in zz]
        total = sum(w)
        return [t / total for t in w]

    def residual(self, z, mp_mode=True, values=None):
        """(g_o - g_K for o < K, the size of the terms of g)."""
        pi = self.policy(z, mp_mode)
        g, size = self.gradient(pi, mp_mode, values)
        return [g[o] - g[-1] for o in range(self.K - 1)], max(size)


# -- root finding -----------------------------------------------------------------------

def _accept(field, z, values=None):
    with mpmath.workdps(DPS):
        F, size = field.residual(z, True, values)
        return max(abs(f) for f in F) <= ROOT_TOL * (1 + size)


def _refine_bracket(f, lo, hi):
    """A zero or a jump of f in [lo, hi] (f(lo), f(hi) of opposite signs), to DPS digits."""
    flo = f(lo)
    if flo == 0:
        return lo
    if f(hi) == 0:
        return hi

    def halve(lo, flo, hi, done):
        """Bisect until *done*; ``(lo, flo, hi, zero)`` with the exact zero met, if any."""
        while not done(lo, hi):
            mid = (lo + hi) / 2
            fm = f(mid)
            if fm == 0:
                return lo, flo, hi, mid
            if (fm > 0) == (flo > 0):
                lo, flo = mid, fm
            else:
                hi = mid
        return lo, flo, hi, None

    steps = iter(range(40))
    lo, flo, hi, zero = halve(lo, flo, hi, lambda a, b: next(steps, None) is None)
    if zero is not None:
        return zero
    try:
        z = mpmath.findroot(f, (lo, hi), solver="anderson")
        if lo <= z <= hi:
            return z
    except (ValueError, ZeroDivisionError):
        pass
    width = mpmath.mpf(10) ** -(DPS - 5)
    lo, flo, hi, zero = halve(lo, flo, hi, lambda a, b: b - a <= width * (1 + abs(a)))
    return zero if zero is not None else (lo + hi) / 2


def _roots_in_brackets(f, brackets, accept):
    """The accepted zeros (or coincidence points) of f refined from each bracket, at DPS."""
    roots = []
    for lo, hi in brackets:
        lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
        if f(lo) * f(hi) > 0:
            # the doubles saw a sign change that DPS digits do not: a root within rounding
            # of a node (for example exactly at z = 0); start from each end
            for z0 in (lo, hi):
                try:
                    z = mpmath.findroot(f, z0, tol=mpmath.mpf(10) ** -(2 * DPS))
                except (ValueError, ZeroDivisionError):
                    continue
                if abs(z - z0) < hi - lo and accept(z):
                    roots.append(z)
            continue
        z = _refine_bracket(f, lo, hi)
        if accept(z):
            roots.append(z)
    return roots


def logit_grid(zmax, dt, c=2.0):
    """Nodes z = c sinh(t), t uniform with step dt: a step of c dt near 0, about z dt far out."""
    tmax = math.asinh(zmax / c)
    n = math.ceil(tmax / dt)
    return [c * math.sinh(i * tmax / n) for i in range(-n, n + 1)]


def _scan_1d(f_float, grid):
    """Brackets [a, b] where f changes sign or vanishes on a grid, and local minima of |f|."""
    n = len(grid) - 1
    vals = []
    for z in grid:
        try:
            vals.append(f_float(z))
        except (ValueError, ZeroDivisionError, OverflowError):
            vals.append(math.nan)
    brackets, minima = [], []
    for i in range(n):
        a, b = vals[i], vals[i + 1]
        if math.isnan(a) or math.isnan(b):
            continue
        if a == 0 or (a > 0) != (b > 0) or b == 0:
            brackets.append((grid[max(i - 1, 0)] if a == 0 else grid[i],
                             grid[min(i + 2, n)] if b == 0 else grid[i + 1]))
    for i in range(1, n):
        a, b, c = (abs(vals[j]) for j in (i - 1, i, i + 1))
        if b < 0.5 * min(a, c) and (vals[i - 1] > 0) == (vals[i + 1] > 0):
            minima.append(grid[i])
    return brackets, minima


def _newton(F, z, tol, iters, h):
    """Newton on R^2 with a forward-difference Jacobian; None when it does not settle."""
    for _ in range(iters):
        f = F(z)
        J = []
        for j in range(2):
            zz = list(z)
            zz[j] += h
            fj = F(zz)
            J.append([(fj[i] - f[i]) / h for i in range(2)])
        # J[j][i] = dF_i/dz_j
        a, b, c, d = J[0][0], J[1][0], J[0][1], J[1][1]  # dF0/dz0, dF0/dz1, dF1/dz0, dF1/dz1
        det = a * d - b * c
        if det == 0:
            return None
        dz0 = (d * f[0] - b * f[1]) / det
        dz1 = (-c * f[0] + a * f[1]) / det
        step = max(abs(dz0), abs(dz1))
        if step > 5:  # damp long steps
            dz0, dz1 = dz0 * 5 / step, dz1 * 5 / step
        z = [z[0] - dz0, z[1] - dz1]
        if step < tol:
            return z
    return None


def _scan_2d(F_float, grid):
    """Centres of grid cells where both components of F change sign among the corners."""
    n = len(grid) - 1
    vals = {}
    for i, z0 in enumerate(grid):
        for j, z1 in enumerate(grid):
            try:
                vals[i, j] = F_float([z0, z1])
            except (ValueError, ZeroDivisionError, OverflowError):
                vals[i, j] = None
    cells = []
    for i in range(n):
        for j in range(n):
            corners = [vals[i, j], vals[i + 1, j], vals[i, j + 1], vals[i + 1, j + 1]]
            if any(c is None for c in corners):
                continue
            if all(min(c[k] for c in corners) <= 0 <= max(c[k] for c in corners) for k in range(2)):
                cells.append([(grid[i] + grid[i + 1]) / 2, (grid[j] + grid[j + 1]) / 2])
    return cells


def _find_2d(F_float, F_mp, grid, accept):
    """Roots of F: R^2 -> R^2 from every sign-change cell: Newton in doubles, then mpmath."""
    roots = []
    for start in _scan_2d(F_float, grid):
        try:
            z = _newton(F_float, start, 1e-11, 60, 1e-7)
        except (ValueError, ZeroDivisionError, OverflowError):
            z = None
        with mpmath.workdps(DPS):
            z_mp = [mpmath.mpf(t) for t in (z if z is not None else start)]
            try:
                z_mp = _newton(F_mp, z_mp, mpmath.mpf(10) ** -(DPS - 8), 12 if z else 40,
                               mpmath.mpf(10) ** -(DPS // 2))
            except (ValueError, ZeroDivisionError):
                z_mp = None
            if z_mp is not None and accept(z_mp):
                roots.append(z_mp)
    return roots


class Reference:
    """Every interior stationary policy of one Variant that the searches find.

    ``policies`` is a list of mpmath vectors (tuples of mpf at DPS digits), sorted.
    """

    #: Logits searched (relative to the last answer): |z| <= 60 (K = 2) or 40 (K = 3), with a
    #: step of 2 dt near 0 growing to about |z| dt (:func:`logit_grid`).
    GRID_1D = logit_grid(60.0, 0.01)
    GRID_2D = logit_grid(40.0, 0.1)

    def __init__(self, variant):
        self.variant = variant
        self.field = Field(variant)
        self.jumps = (variant.kl_in == "reward" and variant.normalisation == "shift-scale"
                      and variant.eps == 0)
        self.logits = []
        if variant.K == 2:
            self._solve_binary()
        elif variant.K == 3:
            self._solve_three()
        else:
            raise ValueError("the reference handles K = 2 and 3")
        self.logits = _dedupe(self.logits)
        with mpmath.workdps(DPS):
            self.policies = sorted(tuple(Field.policy(z, True)) for z in self.logits)

    def _solve_binary(self):
        field = self.field

        def f_float(z):
            return field.residual([z], False)[0][0]

        def f_mp(z):
            return field.residual([z], True)[0][0]

        brackets, minima = _scan_1d(f_float, self.GRID_1D)
        with mpmath.workdps(DPS):
            self.logits += [[z] for z in _roots_in_brackets(f_mp, brackets,
                                                           lambda z: _accept(field, [z]))]
            for z0 in minima:  # a tangency (double root) does not change sign
                try:
                    z = mpmath.findroot(f_mp, mpmath.mpf(z0), tol=mpmath.mpf(10) ** -(2 * DPS))
                except (ValueError, ZeroDivisionError):
                    continue
                if _accept(field, [z]):
                    self.logits.append([z])
        if self.jumps:
            self._ties_binary()

    def _tie_pairs(self):
        atoms = self.field.atoms
        return [(i, j) for i in range(len(atoms)) for j in range(i + 1, len(atoms))
                if atoms[i][0] != atoms[j][0]]

    def _tie_function(self, i, j, mp_mode):
        field = self.field

        def tie(z):
            pi = Field.policy(z, mp_mode)
            u = field.modified_values(pi, mp_mode)
            return u[i] - u[j]
        return tie

    def _snapped_accept(self, z):
        """The field at a coincidence point, with the coinciding rewards equal, is zero."""
        with mpmath.workdps(DPS):
            pi = Field.policy(z, True)
            u = self.field.modified_values(pi, True)
            tol = mpmath.mpf(10) ** -(DPS - 15)
            snapped = list(u)
            for a in range(len(u)):
                for b in range(a):
                    if abs(u[a] - snapped[b]) <= tol * (1 + abs(u[a])):
                        snapped[a] = snapped[b]
                        break
            return _accept(self.field, z, snapped)

    def _ties_binary(self):
        for i, j in self._tie_pairs():
            t_float = self._tie_function(i, j, False)
            t_mp = self._tie_function(i, j, True)
            brackets, _ = _scan_1d(lambda z, t=t_float: t([z]), self.GRID_1D)
            with mpmath.workdps(DPS):
                roots = _roots_in_brackets(lambda x, t=t_mp: t([x]), brackets,
                                           lambda z: self._snapped_accept([z]))
                self.logits += [[z] for z in roots]

    def _solve_three(self):
        field = self.field

        def F_float(z):
            return field.residual(z, False)[0]

        def F_mp(z):
            return field.residual(z, True)[0]

        self.logits += _find_2d(F_float, F_mp, self.GRID_2D,
                                lambda z: _accept(field, z))
        if self.jumps:
            pairs = self._tie_pairs()
            for (i, j), (k, m) in itertools.combinations(pairs, 2):
                tf = (self._tie_function(i, j, False), self._tie_function(k, m, False))
                tm = (self._tie_function(i, j, True), self._tie_function(k, m, True))
                self.logits += _find_2d(lambda z, t=tf: [t[0](z), t[1](z)],
                                        lambda z, t=tm: [t[0](z), t[1](z)],
                                        self.GRID_2D, self._snapped_accept)


def _dedupe(logits):
    out = []
    with mpmath.workdps(DPS):
        for z in logits:
            if all(max(abs(a - b) for a, b in zip(z, w)) > mpmath.mpf(10) ** -30 for w in out):
                out.append(z)
    return out


def stationary_policies(variant):
    """The interior stationary policies of ``variant`` (tuples of mpf at DPS digits)."""
    return Reference(variant).policies
