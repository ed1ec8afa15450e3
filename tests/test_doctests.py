"""Every docstring example of the package runs (a stale example fails here)."""

import doctest
import importlib
import pkgutil

import pytest

import derive

MODULES = sorted(m.name for m in pkgutil.iter_modules(derive.__path__) if m.name != "__main__")


@pytest.mark.parametrize("name", MODULES)
def test_doctests_of(name):
    module = importlib.import_module(f"derive.{name}")
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
