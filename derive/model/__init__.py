"""A GRPO variant as data: the objective specification (:mod:`derive.model.objective`),
the registries of penalty estimators (:mod:`derive.model.estimators`) and of advantage
normalisations (:mod:`derive.model.normalisations`), the trainer presets
(:mod:`derive.model.presets`), and what each variant regularises towards
(:mod:`derive.model.variants`)."""
