"""The house's layout: layers as subpackages, imports flowing one way, and no circle.

The layers of ``derive``, lowest first, are :data:`LAYERS`; a module may import a
module of its own layer or of a lower one, never of a higher one.  The modules at
the top of the package (``cli``, ``parsing``, ``options``, ``study``) are above every
layer.  Within a layer no module imports one that imports it back.

Every ``import`` of a ``derive`` module counts, at any depth of the file (a lazy import
inside a function is still a dependency).  A cycle is a strongly connected component of
more than one module (Tarjan's algorithm).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "derive"


def _modules():
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def import_graph():
    """``{module: {modules of derive it imports}}``."""
    mods = _modules()
    edges = {name: set() for name in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.append(node.module)
                targets += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names]
            edges[name] |= {t for t in targets if t in mods and t != name}
    return edges


def cycles(edges):
    """The strongly connected components of more than one node."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_derive_imports_one_that_imports_it_back():
    graph = import_graph()
    assert "derive.dynamics.iteration" in graph["derive.solve.variant_solver"]
    assert cycles(graph) == []


#: The layers, lowest first (the README's "Layout" section says what each holds).
LAYERS = ("numerics", "paper", "model", "dynamics", "solve", "verify", "results", "output")
TOP = len(LAYERS)


def layer_of(module):
    """The rank of *module*'s layer in :data:`LAYERS` (``TOP`` for the package's top)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else TOP


def upward_imports(graph):
    """``[(module, imported)]`` where a module imports one of a higher layer."""
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if layer_of(b) > layer_of(a))


def test_the_layer_check_finds_an_upward_import():
    assert upward_imports({"derive.paper.binary": {"derive.solve.solver"},
                           "derive.solve.solver": {"derive.paper.binary"}}) == [
        ("derive.paper.binary", "derive.solve.solver")]
    assert layer_of("derive.cli") == TOP and layer_of("derive.numerics.context") == 0


def test_every_module_is_in_a_layer_or_at_the_top():
    top = {"derive", "derive.__main__", "derive.cli", "derive.options", "derive.parsing",
           "derive.study"}
    assert {m for m in import_graph() if layer_of(m) == TOP} == top
    assert {m.split(".")[1] for m in import_graph() if layer_of(m) < TOP} == set(LAYERS)


def test_imports_flow_one_way_through_the_layers():
    assert upward_imports(import_graph()) == []


def private_imports():
    """``[(module, imported module, name)]`` where a module of ``derive`` imports a private
    name (``_x``) of another: what is used across modules is public."""
    out = []
    for name, path in sorted(_modules().items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("derive"):
                out += [(name, node.module, a.name) for a in node.names if a.name.startswith("_")]
    return out


def test_no_module_imports_a_private_name_of_another():
    assert private_imports() == []
