import os
import shutil
from pathlib import Path

import flint
import mpmath
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Seeded, reproducible property tests everywhere.
settings.register_profile("seeded", derandomize=True, deadline=None, max_examples=40)
settings.load_profile("seeded")


@pytest.fixture(autouse=True)
def reset_mp_dps():
    """Every test starts and ends at mpmath's and Arb's default precisions."""
    mpmath.mp.dps = 15
    flint.ctx.prec = 53
    yield
    mpmath.mp.dps = 15
    flint.ctx.prec = 53


def require_tex():
    """Skip without pdflatex, except under CI where a missing TeX is a failure."""
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("pdflatex is missing under CI; .ci/run must install TeX Live")
        pytest.skip("pdflatex not installed")
