"""The objective specification of a GRPO variant (:mod:`derive.model.objective`), its
registries of penalty estimators and normalisations, the trainer presets
(:mod:`derive.model.presets`), and what each variant regularises towards
(:mod:`derive.model.variants`)."""
