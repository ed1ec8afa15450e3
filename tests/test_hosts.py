"""Host-manuscript tests: every fragment of results/ pasted into real document classes.

Each host loads ``results/preamble.tex`` at the *end* of its own preamble, as an
author would, then pastes every section, table and figure.  The compiled
document must show no error, no undefined reference and no overfull box wider
than 1 pt.  Each section is also pasted alone into a plain article: a
reference to a fragment that is not there must print words, never ``??``.

The classes come from Debian's texlive-publishers, -latex-extra and -luatex
(``.ci/run`` installs them); the fragments themselves need only
texlive-latex-base, -recommended and -pictures.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parent.parent / "results"

#: name: (engine, preamble before ours, text before the fragments)
HOSTS = {
    "article-hyperref-cleveref": ("pdflatex", r"""
\documentclass[11pt]{article}
\usepackage[margin=1in]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{hyperref}
\usepackage{cleveref}
""", ""),
    "ieeetran-two-column": ("pdflatex", r"""
\documentclass[conference]{IEEEtran}
\usepackage{amsmath}
""", ""),
    "revtex-two-column": ("pdflatex", r"""
\documentclass[aps,prl,twocolumn,nofootinbib]{revtex4-2}
\usepackage{amsmath}
""", ""),
    "acmart-sigconf": ("pdflatex", r"""
\documentclass[sigconf,nonacm]{acmart}
""", ""),
    "elsarticle": ("pdflatex", r"""
\documentclass[review]{elsarticle}
\usepackage{amsmath}
""", ""),
    "article-two-column-times": ("pdflatex", r"""
\documentclass[twocolumn]{article}
\usepackage{amsmath}
\usepackage{mathptmx}
""", ""),
    "koma-two-column-11pt": ("pdflatex", r"""
\documentclass[a4paper,twocolumn]{scrartcl}
\usepackage{amsmath,amsthm}
""", ""),
    "lualatex-two-column": ("lualatex", r"""
\documentclass[twocolumn]{article}
\usepackage{unicode-math}
\usepackage{hyperref}
""", ""),
    "lualatex-unicode-math": ("lualatex", r"""
\documentclass{article}
\usepackage{amsmath}
\usepackage{unicode-math}
\usepackage{hyperref}
""", ""),
}

_OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


def _fragments():
    main = (RESULTS / "main.tex").read_text(encoding="utf-8")
    return re.findall(r"\\input\{((?:sections|tables|figures)/[^}]+)\}", main)


def _compile(tmp_path, engine, preamble, body):
    (tmp_path / "doc.tex").write_text(
        preamble + "\\input{preamble}\n"
        + ("\\title{Host}\\author{A. Author}\n" if "acmart" in preamble else "")
        + "\\begin{document}\n" + body + "\n\\end{document}\n", encoding="utf-8")
    log = ""
    for _ in range(2):
        run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=600)
        log = (tmp_path / "doc.log").read_text(encoding="latin-1")
        if run.returncode != 0:
            break
    return run.returncode, log


def _problems(returncode, log):
    out = []
    if returncode != 0:
        out += [line for line in log.splitlines() if line.startswith("!")][:3] or ["failed"]
    out += [m.group(0) for m in _OVERFULL.finditer(log) if float(m.group(1)) > 1.0]
    out += re.findall(r"LaTeX Warning: (?:Reference|Citation) `[^']*' .*undefined", log)
    if "There were undefined references" in log:
        out.append("undefined references")
    return out


def _host_ready(engine, cls):
    return shutil.which(engine) and subprocess.run(
        ["kpsewhich", cls], capture_output=True, text=True).stdout.strip()


@pytest.fixture
def workdir(tmp_path):
    shutil.copytree(RESULTS, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_every_fragment_in_a_host_manuscript(host, workdir):
    engine, preamble, lead = HOSTS[host]
    cls = re.search(r"\\documentclass(?:\[[^]]*\])?\{([^}]+)\}", preamble).group(1) + ".cls"
    if not _host_ready(engine, cls):
        pytest.skip(f"{engine} or {cls} not installed (.ci/run installs them)")
    body = lead + "\n".join(f"\\input{{{f}}}" for f in _fragments())
    code, log = _compile(workdir, engine, preamble, body)
    assert not _problems(code, log), (host, _problems(code, log))


@pytest.mark.parametrize("fragment", [f for f in _fragments() if f.startswith("sections/")])
def test_a_section_pasted_alone_leaves_no_question_marks(fragment, workdir):
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed")
    engine, preamble, _ = HOSTS["article-hyperref-cleveref"]
    code, log = _compile(workdir, engine, preamble, f"\\input{{{fragment}}}")
    assert not _problems(code, log), (fragment, _problems(code, log))


@pytest.mark.parametrize("document", ["main", "verification-full"])
def test_standalone_documents_compile_cleanly(document, workdir):
    """``results/main.tex`` and the full list of records compile on their own."""
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed")
    log = ""
    for _ in range(2):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                              f"{document}.tex"], cwd=workdir, capture_output=True, text=True,
                             timeout=600)
        log = (workdir / f"{document}.log").read_text(encoding="latin-1")
    assert not _problems(run.returncode, log), _problems(run.returncode, log)
