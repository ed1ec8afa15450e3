r"""A GRPO variant as data: the objective specification and its registries.

arXiv:2502.18548v3, Eq. (1), fixes one GRPO: the k3 penalty on samples of
``pi_old`` without importance weight, in the loss, and the advantage (2) with
the population standard deviation.  Trainers differ in three places, and an
:class:`Objective` names each:

* ``penalty``: a key of :data:`PENALTIES`, the per-sample estimator ``k(rho)``
  of ``KL`` with ``rho = pi_ref(o_i)/pi(o_i)``; ``importance_weighted``
  multiplies it by ``pi(o_i)/pi_old(o_i)``;
* ``kl_in``: ``"loss"`` (the penalty is subtracted in the objective, gradient
  through ``pi``) or ``"reward"`` (``beta`` times the estimate is subtracted from
  each sampled reward before the group normalisation, with no gradient);
* ``normalisation``: a key of :data:`NORMALISATIONS`; with ``shift-scale`` the
  standard deviation is the ``population`` one (the paper) or the ``sample``
  (Bessel) one, and ``std_eps`` is added to it.

The registries follow ``sympy.stats``: a class defines a few methods
(:meth:`Estimator.k` and its numeric forms for a penalty, in
:mod:`derive.model.estimators`; ``centred`` and :meth:`Normalisation.scale`
for a normalisation) and everything else is generic.  Adding an estimator is
one class here plus its tests.

>>> from sympy import Symbol
>>> rho = Symbol("rho", positive=True)
>>> PENALTIES["k3"].k(rho)
rho - log(rho) - 1
>>> [str(a) for a in advantages(Objective(normalisation="shift-only"), [1, 0, 0, 1])]
['1/2', '-1/2', '-1/2', '1/2']
"""

from dataclasses import dataclass

from sympy import Rational, sympify

from derive.model.estimators import K1, K2, K3, PENALTIES, Estimator
from derive.model.normalisations import NORMALISATIONS, NoNormalisation, Normalisation, ShiftOnly, ShiftScale
from derive.model.presets import PRESET_SETTINGS

__all__ = ["Estimator", "K1", "K2", "K3", "KL_PLACES", "NORMALISATIONS", "NoNormalisation", "Normalisation",
           "Objective", "PENALTIES", "PRESETS", "Preset", "STD_KINDS", "ShiftOnly", "ShiftScale", "advantages"]

# -- penalty estimators ------------------------------------------------------
# The registry lives in derive.model.estimators (importable without SymPy, so that
# the solvers and the Monte Carlo read the same classes); re-exported here.

# -- advantage normalisations -------------------------------------------------


# The registry lives in derive.model.normalisations (importable without SymPy, so that
# the command line, the variant solver and the Monte Carlo read the same classes).

STD_KINDS = ("population", "sample")
KL_PLACES = ("loss", "reward")


@dataclass(frozen=True)
class Objective:
    """One GRPO variant (arXiv:2502.18548v3, Eq. (1), with its choices named).

    >>> Objective().label
    'k3, loss, shift-scale (population std)'
    >>> Objective("k2", importance_weighted=True, std="sample", std_eps=Rational(1, 10**4)).label
    'k2-is, loss, shift-scale (sample std + 1/10000)'
    """

    penalty: str = "k3"
    importance_weighted: bool = False
    kl_in: str = "loss"
    normalisation: str = "shift-scale"
    std: str = "population"
    std_eps: object = 0

    def __post_init__(self):
        if self.penalty not in PENALTIES:
            raise ValueError(f"unknown penalty {self.penalty!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"unknown normalisation {self.normalisation!r}")
        if self.std not in STD_KINDS:
            raise ValueError(f"unknown std {self.std!r}")
        if self.kl_in not in KL_PLACES:
            raise ValueError(f"unknown kl_in {self.kl_in!r}")
        eps = sympify(self.std_eps, strict=True)
        if not (eps.is_Rational and eps >= 0):
            raise ValueError("std_eps must be an exact rational >= 0")
        if self.kl_in == "reward" and self.importance_weighted:
            raise ValueError("kl_in='reward' takes no importance weight (no gradient flows "
                             "through the reward)")
        object.__setattr__(self, "std_eps", eps)

    @property
    def estimator(self):
        return PENALTIES[self.penalty]

    @property
    def normaliser(self):
        return NORMALISATIONS[self.normalisation]

    @property
    def penalty_name(self):
        return self.penalty + ("-is" if self.importance_weighted else "")

    @property
    def label(self):
        norm = self.normalisation
        if norm == "shift-scale":
            norm += f" ({self.std} std" + (f" + {self.std_eps}" if self.std_eps else "") + ")"
        return f"{self.penalty_name}, {self.kl_in}, {norm}"


def advantages(objective, rewards):
    """The advantages of one group under *objective* (exact with SymPy numbers).

    ``0/0 -> 0``: when the scale vanishes every numerator vanishes too and the
    advantages are 0, as in Eq. (2).
    """
    return objective.normaliser.advantages(rewards, objective.std, objective.std_eps)


#: What each preset describes, and what the sequence-level model leaves out.
_LEFT_OUT = ("The sequence-level model leaves out the per-token KL (the trainer sums or "
             "averages the estimator over the tokens of o_i; the sum of per-token k1 is the "
             "sequence k1, not so for k2 and k3) and the length normalisation of the loss "
             "(1/|o_i| or 1/sum |o_i|), as well as clipping.")

@dataclass(frozen=True)
class Preset:
    """What a trainer runs by default: the variant, its ``beta``, and what is described."""

    objective: Objective
    beta: object
    doc: str


def _preset(name, doc):
    """A :class:`Preset` from the plain table :data:`derive.model.presets.PRESET_SETTINGS`."""
    s = PRESET_SETTINGS[name]
    penalty, iw = s["penalty"].removesuffix("-is"), s["penalty"].endswith("-is")
    objective = Objective(penalty, iw, s["kl_in"], s["normalisation"], s["std"],
                          Rational(s["std_eps"].numerator, s["std_eps"].denominator))
    return Preset(objective, Rational(s["beta"].numerator, s["beta"].denominator), doc)


#: Trainer defaults, each with the version it describes.  Values not confirmed
#: in the trainer's own documentation are said to be unconfirmed.
PRESETS = {
    "paper": _preset("paper", (
        "arXiv:2502.18548v3, Eqs. (1)-(2): k3 without importance weight in the loss, "
        "population std, no epsilon; beta = 0.04 as in its discussion.")),
    "trl": _preset("trl", (
        "Hugging Face TRL GRPOTrainer as of v0.14-v0.16 (early 2025): per-token k3 in the "
        "loss, advantages (r - mean)/(std + 1e-4) with torch's default (sample, Bessel) std, "
        "beta = 0.04.  Later releases changed the default beta to 0 and added scale_rewards "
        "and loss_type options; those later defaults are not confirmed here. " + _LEFT_OUT)),
    "verl": _preset("verl", (
        "verl, GRPO recipe (algorithm.adv_estimator=grpo, actor.use_kl_loss=True, "
        "kl_loss_type=low_var_kl, i.e. k3 clamped, kl_loss_coef=0.001; "
        "algorithm.norm_adv_by_std_in_grpo=True and use_kl_in_reward=False are the config "
        "defaults): advantage (r - mean)/(std + 1e-6) with torch.std, the sample std.  Read "
        "from copies of compute_grpo_outcome_advantage; the release is not confirmed here.  "
        "The clamp of low_var_kl is left out; with use_kl_in_reward=True verl subtracts the KL from the "
        "token rewards before the advantage, which kl_in='reward' models. " + _LEFT_OUT)),
    "openrlhf": _preset("openrlhf", (
        "OpenRLHF with --advantage_estimator group_norm and the GRPO example's --use_kl_loss "
        "--kl_estimator k3 --init_kl_coef 1e-3: advantage (r - mean)/(std + 1e-9) with "
        "torch's .std, the sample std (read from copies of its experience maker; the release is "
        "not confirmed here).  Without --use_kl_loss OpenRLHF subtracts the KL (k1 by default) per "
        "token after the group normalisation; that placement is not modelled here "
        "(kl_in='reward' subtracts it before). " + _LEFT_OUT)),
    "dr-grpo": _preset("dr-grpo", (
        "Dr. GRPO (Liu et al., 2025, 'Understanding R1-Zero-like training', arXiv:2503.20783): "
        "advantage "
        "r - mean, no std; its reference setting has beta = 0 (no penalty, the stationary set "
        "is degenerate), so the penalty's form matters only with beta > 0. " + _LEFT_OUT)),
}
