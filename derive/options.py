"""The options of one stationary problem: from the command line's options to a
:class:`derive.solve.solver.Problem`, and from its stationary policies to the JSON record.

Shared by ``grpo-derive stationary`` (:mod:`derive.cli`) and the studies
(:mod:`derive.study`), which build their problems exactly as the command line does.
"""


from derive.model.presets import PRESET_SETTINGS

PRESET_NAMES = tuple(PRESET_SETTINGS)

#: Largest accepted size K x m of the reward table (answers times distinct rewards).
MAX_TABLE = 10**6
#: Largest accepted |reward| is 10**MAX_REWARD_EXPONENT (the scan runs in double precision).
MAX_REWARD_EXPONENT = 100


class UsageError(Exception):
    """Bad command-line input: reported as one ``error:`` line, exit status 2."""


def check_numbers(ref, rewards, success, dists, betas, name):
    """The checks of one problem's numbers, as ``stationary`` and the studies make them.

    Exactly one of *rewards*, *success* and *dists* is not ``None``; *betas* is a
    sequence.  *name* turns an option's key into the words of the message
    (``--ref`` on the command line, ``'ref'`` in a study file).  A value that does
    not fit raises ``ValueError`` with one line saying what is accepted.
    """
    import itertools
    from fractions import Fraction

    K = len(ref)
    if K < 2:
        raise ValueError(f"{name('ref')} needs at least 2 answers (K >= 2 probabilities)")
    if any(r <= 0 or r > 1 for r in ref):
        raise ValueError(f"{name('ref')} must be positive probabilities (from 1e-1000 to 1) that sum "
                         "exactly to 1")
    total = sum(ref)
    if total != 1:
        import mpmath

        from derive.numerics.context import mpf_exact

        diff = total - 1
        with mpmath.workdps(20):
            shown = mpmath.nstr(mpf_exact(diff), 3)
        raise ValueError(f"{name('ref')} must be positive probabilities that sum exactly to 1 "
                         f"(the sum minus 1 is {shown})")
    if dists is not None:
        if len(dists) != K:
            raise ValueError(f"{name('reward-dist')} given {len(dists)} times but {name('ref')} has {K} answers; "
                             "give one distribution per answer, in order")
        for d in dists:
            if any(abs(v) > Fraction(10) ** MAX_REWARD_EXPONENT for v, _ in d):
                raise ValueError(f"{name('reward-dist')}: values must lie within +-1e{MAX_REWARD_EXPONENT}")
    given = rewards if rewards is not None else success if success is not None else dists
    which = name("rewards") if rewards is not None else name("success")
    if dists is None and len(given) != K:
        raise ValueError(f"{which} has {len(given)} values but {name('ref')} has {K}; give one per answer")
    if success is not None and any(not 0 <= x <= 1 for x in success):
        raise ValueError(f"{name('success')} values must be probabilities in [0, 1]")
    if rewards is not None and any(abs(r) > Fraction(10) ** MAX_REWARD_EXPONENT for r in rewards):
        raise ValueError(f"{name('rewards')}: values must lie within +-1e{MAX_REWARD_EXPONENT} "
                         "(rewards are shift and scale invariant under shift-scale normalisation: "
                         "rescale them)")
    if rewards is not None:
        levels = sorted(set(rewards))
        if len(levels) > 2:
            gap = min(b - a for a, b in itertools.pairwise(levels))
            if (levels[-1] - levels[0]) / gap > Fraction(10) ** MAX_REWARD_EXPONENT:
                raise ValueError(f"{name('rewards')}: the smallest gap between distinct rewards must be at "
                                 f"least 1e-{MAX_REWARD_EXPONENT} of their range")
    if any(b < 0 for b in betas):
        raise ValueError(f"{name('beta')} must be >= 0 (0, or from 1e-1000 to 1e1000)")
    levels = (len(set(rewards)) if rewards is not None else 2 if success is not None
              else len({v for d in dists for v, w in d if w}))
    if K * levels > MAX_TABLE:   # the reward table rho has K x m entries
        raise ValueError(f"refused: {K} answers with {levels} distinct rewards need a table of "
                         f"{K * levels:.3g} entries, above {MAX_TABLE:.0e}; use fewer answers or "
                         "fewer distinct rewards")



def build_problem(ref, rewards, success, dists, beta, group, variant):
    """The :class:`derive.solve.solver.Problem` of checked numbers: deterministic *rewards*,
    Bernoulli *success* probabilities or finite reward distributions *dists* (exactly one
    given), with the variant's keywords.  Raises ``ValueError`` as ``Problem`` does."""
    from derive.solve.solver import Problem

    if rewards is not None:
        return Problem.deterministic(ref, rewards, beta, group, **variant)
    if success is not None:
        return Problem.bernoulli(ref, success, beta, group, **variant)
    return Problem.finite(ref, dists, beta, group, **variant)


def variant_options(args):
    """``(variant keywords, beta)`` from the variant options, the preset and the defaults.

    Explicit options override the preset; a combination that makes no sense is a
    :class:`UsageError`.  ``beta`` is the --beta text, or the preset's as a 1-tuple.
    """
    from fractions import Fraction

    from derive.parsing import ParseError, parse_number

    preset = PRESET_SETTINGS.get(args.preset, {}) if args.preset else {}
    kl_in = args.kl_in or preset.get("kl_in", "loss")
    default_penalty = "k1" if (args.kl_in == "reward" and not args.preset) else "k3"
    penalty = args.penalty or preset.get("penalty", default_penalty)
    normalisation = args.normalisation or preset.get("normalisation", "shift-scale")
    if normalisation != "shift-scale":
        for opt, val in (("--std", args.std), ("--std-eps", args.std_eps)):
            if val is not None:
                raise UsageError(f"{opt} applies to --normalisation shift-scale only (got "
                                 f"--normalisation {normalisation}); drop {opt}")
    std = args.std or (preset.get("std", "population") if normalisation == "shift-scale"
                       else "population")
    if args.std_eps is not None:
        try:
            eps = parse_number(args.std_eps, "--std-eps")
        except ParseError as exc:
            raise UsageError(str(exc)) from None
        if eps < 0:
            raise UsageError(f"--std-eps: {args.std_eps!r} is negative; accepted: 0 or a positive "
                             "number added to the std")
    else:
        eps = preset.get("std_eps", Fraction(0)) if normalisation == "shift-scale" else Fraction(0)
    if kl_in == "reward" and penalty.endswith("-is"):
        raise UsageError(f"--kl-in reward takes an estimator without importance weight (k1, k2 or "
                         f"k3): no gradient flows through the reward; got --penalty {penalty}")
    if args.beta is None:
        if not preset:
            raise UsageError("--beta is required (or --preset, which gives one): 0 or from "
                             "1e-1000 to 1e1000, or a comma list")
        beta = (preset["beta"],)
    else:
        beta = args.beta
    return dict(penalty=penalty, normalisation=normalisation, kl_in=kl_in, std=std,
                std_eps=eps), beta


def _fmt(x, digits):
    """A coordinate of the JSON ``policy``: *digits* significant digits, zero as ``0.000...``."""
    from derive.numerics.format import decimal

    return decimal(x, digits, min_fixed=-6, max_fixed=digits + 2, zero="0." + "0" * (digits - 1))


#: Above this many outputs the maximiser verdict of an interior point is not computed: the
#: branch and bound of derive.solve.maximiser took 15 s at K = 12 and over 60 s at K = 60 (G = 2).
MAXIMISER_MAX_K = 12


def problem_fields(prob, preset=None):
    """The ``problem`` record of ``stationary --json``: the problem as parsed (exact rationals
    as text) and every variant option, the preset included."""
    return {
        "ref": [str(r) for r in prob.ref],
        "values": [str(v) for v in prob.values],
        "reward_distributions": [[str(w) for w in row] for row in prob.rho],
        "beta": str(prob.beta),
        "group": "inf" if prob.group is None else prob.group,
        "penalty": prob.penalty,
        "kl_in": prob.kl_in,
        "normalisation": prob.normalisation,
        "std": prob.std,
        "std_eps": str(prob.std_eps),
        "preset": preset,
    }


def problem_record(prob, sols, digits, preset=None):
    import mpmath

    from derive.numerics.certify import printed_enclosure
    from derive.solve.solver import search_description

    search, exists = search_description(prob)

    rec = {
        "problem": problem_fields(prob, preset),
        "digits": digits,
        "search": search,
        "stationary": [],
    }
    from derive.solve.maximiser import MaximiserVerdict, maximiser

    if not sols:
        rec["none_found"] = ("a stationary policy exists but the search did not locate it"
                             if exists else "no stationary policy found by the search")
    for s in sols:
        policy = [_fmt(x, digits) for x in s.policy]
        routed = prob.solved_as
        if routed is None or routed[0].penalty != prob.penalty or routed[0].beta != prob.beta:
            verdict = MaximiserVerdict("unknown", "decided for the paper's J (k3 or k3-is in the "
                                       "loss, population std, no epsilon) only; not for "
                                       f"{prob.penalty}, KL in the {prob.kl_in}, "
                                       f"{prob.normalisation}")
        elif prob.K > MAXIMISER_MAX_K and s.kind == "interior":
            verdict = MaximiserVerdict("unknown", f"not decided for K > {MAXIMISER_MAX_K} outputs (cost)")
        else:
            verdict = maximiser(prob, s, digits)
        rec["stationary"].append({
            "policy": policy,
            "kind": s.kind,
            "classification": s.classification,
            "residual": mpmath.nstr(s.residual, 5),
            "enclosure": printed_enclosure(s.enclosure, policy, digits + 5),
            "certified": bool(s.certified),
            "stable": None if s.stable is None else bool(s.stable),
            "maximiser": verdict.verdict,
            "maximiser_note": verdict.note,
            "note": s.note,
        })
        if prob.group is None:
            c = s.finite_group_correction
            rec["stationary"][-1]["finite_group_correction"] = (
                None if c is None else [_fmt(v, digits) for v in c])
    return rec
