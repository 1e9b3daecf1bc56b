"""The shape of the house (ARCHITECTURE.md): layers that point one way, no import cycles, propfee
imports at the top of files, short functions below the command layer, and SQL text only in the
store layer. Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "propfee"

# Lower rank first: a module may import modules of a lower rank, or of its own package.
# Packages of one rank (files, store and the settings) know nothing of each other.
RANKS = {
    "core": 0,
    "files": 1,
    "store": 1,
    "config": 1,
    "roster": 2,
    "billing": 3,
    "payments": 4,
    "service": 5,
    "collection": 6,
    "insight": 7,
    "demo": 8,
    "cli": 9,
    "__main__": 10,
}
# a statement starts with its keyword in capitals (the house style), or a lower-case
# select/insert/update/delete followed by what such a statement holds; prose that begins
# "Replace …" or "with …" is not SQL
SQL_START = re.compile(
    r"^\s*(?:(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|REPLACE|DROP|ALTER)\s"
    r"|(?:select|insert|update|delete)\s+(?:\S+\s+)?(?:from|into|set|\*|distinct)\b)"
)
MAX_LINES = 80


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def layer(module: str) -> str:
    """``propfee.billing.bills`` -> ``billing``; the package root itself is ``propfee``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "propfee"


def imported(module: str, node: ast.AST) -> list[str]:
    """The propfee modules an import statement names (a name imported from a package counts
    as its submodule when there is one)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            here = module.split(".")
            is_package = MODULES[module].name == "__init__.py"
            keep = len(here) - node.level + (1 if is_package else 0)
            base = ".".join(here[:keep] + ([base] if base else []))
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    else:
        return []
    found = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("propfee"):
            found.append(name)
    return found


def edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, tree in TREES.items():
        targets = set()
        for node in ast.walk(tree):
            targets.update(imported(module, node))
        graph[module] = targets - {module}
    return graph


def functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_every_module_belongs_to_a_ranked_layer():
    unranked = {layer(m) for m in MODULES} - set(RANKS) - {"propfee"}
    assert not unranked, f"packages missing from the layer order: {sorted(unranked)}"


def test_dependencies_point_down_the_layers():
    wrong = []
    for module, targets in edges().items():
        mine = layer(module)
        for target in targets:
            theirs = layer(target)
            if theirs in (mine, "propfee"):  # its own package; the version in __init__
                continue
            if RANKS.get(theirs, 99) >= RANKS.get(mine, -1):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles_between_modules():
    graph = edges()
    seen: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for target in sorted(graph.get(node, ())):
            if seen.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in seen:
                visit(target, [*path, target])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_domain_imports_the_command_layer():
    offenders = [
        f"{module} imports {target}"
        for module, targets in edges().items()
        if layer(module) not in ("cli", "__main__")
        for target in targets
        if layer(target) == "cli"
    ]
    assert not offenders, offenders


def test_propfee_modules_are_imported_at_the_top_of_files():
    inside = []
    for module, tree in TREES.items():
        for function in functions(tree):
            for node in ast.walk(function):
                if imported(module, node):
                    inside.append(f"{module}.{function.name} line {node.lineno}")
    assert not inside, "propfee imports inside functions:\n" + "\n".join(inside)


@pytest.mark.parametrize("module", [m for m in MODULES if layer(m) != "cli"])
def test_functions_below_the_command_layer_are_short(module):
    long = [
        f"{function.name}: {function.end_lineno - function.lineno + 1} lines"
        for function in functions(TREES[module])
        if function.end_lineno - function.lineno + 1 > MAX_LINES
    ]
    assert not long, f"{module}: functions over {MAX_LINES} lines: {long}"


def in_store_layer(module: str) -> bool:
    return layer(module) == "store" or module.rsplit(".", 1)[-1].endswith("store")


def test_sql_text_lives_only_in_the_store_layer():
    found = []
    for module, tree in TREES.items():
        if in_store_layer(module):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL_START.match(node.value)
            ):
                found.append(f"{module} line {node.lineno}: {node.value[:40]!r}")
    assert not found, "SQL outside store/ and the store.py files:\n" + "\n".join(found)


def test_the_sql_scan_would_notice_a_statement():
    tree = ast.parse('def f(conn):\n    return conn.execute("select 1 from bill")\n')
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert any(SQL_START.match(value) for value in constants)


def test_architecture_md_names_every_package():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    missing = [name for name in packages if f"{name}/" not in text]
    assert not missing, f"ARCHITECTURE.md does not describe: {missing}"
    named = set(re.findall(r"^\s{2}([a-z_]+)/", text, flags=re.M))
    data = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not (p / "__init__.py").exists()}
    ghosts = named - set(packages) - data - {"templates", "sample_data", "tests", "bench", "tools"}
    assert not ghosts, f"ARCHITECTURE.md names packages that do not exist: {sorted(ghosts)}"


def test_every_module_says_what_it_owns():
    silent = [m for m, tree in TREES.items() if not ast.get_docstring(tree)]
    assert not silent, f"modules without a first line saying what they own: {silent}"
