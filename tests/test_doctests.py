"""Every docstring example of the package runs (a stale example fails here)."""

import doctest
import importlib
import pkgutil

import pytest

import derive

#: Every module of the package, in every layer (not ``__main__``, which runs the command line).
MODULES = sorted(m.name for m in pkgutil.walk_packages(derive.__path__, "derive.")
                 if not m.name.endswith("__main__"))


def test_every_layer_is_walked():
    assert {"derive.cli", "derive.paper.binary", "derive.solve.solver",
            "derive.output.render"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests_of(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
