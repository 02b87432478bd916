"""The layout the README's architecture section promises: Dagster wiring in `dagster_project/defs/`,
logic in plain libraries that never reach back into the wiring, no import cycles, short modules.

Read from the source with `ast`, so a newcomer's first misplaced import fails here, by name.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("dagster_project", "ml", "data_quality", "feature_repo")
# Wiring and applications: they may import anything. Everything else first-party is a library.
WIRING = ("dagster_project.defs", "dagster_project.cli", "dagster_project.definitions")
DAGSTER_PACKAGES = ("dagster", "dagster_dbt", "dagster_duckdb")
MAX_LINES = 250


def _modules() -> dict[str, Path]:
    modules = {}
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


MODULES = _modules()


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules a file imports; with `top_level_only`, only those run when it is imported (not the
    ones inside functions, nor under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if top_level_only:
        nodes = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        nodes += [inner for node in tree.body if isinstance(node, (ast.Try, ast.With))
                  for inner in ast.walk(node) if isinstance(inner, (ast.Import, ast.ImportFrom))]
    else:
        nodes = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif node.module and node.level == 0:
            # `from package import module` imports the module; the package only for other names.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(node.module)
    return found


def _is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def test_every_module_under_defs_is_dagster_wiring():
    plain = [name for name, path in MODULES.items()
             if name.startswith("dagster_project.defs.") and path.name != "__init__.py"
             and not any(_is_under(imported, DAGSTER_PACKAGES) for imported in _imports(path, top_level_only=False))]
    assert plain == [], f"modules under defs/ without a Dagster import (their logic belongs in a library folder): {plain}"


def test_no_library_module_imports_the_wiring():
    reaching_back = {
        name: sorted(imported for imported in _imports(path, top_level_only=False) if _is_under(imported, WIRING))
        for name, path in MODULES.items() if not _is_under(name, WIRING)
    }
    assert {name: found for name, found in reaching_back.items() if found} == {}


def test_first_party_modules_import_each_other_without_cycles():
    graph = {name: {imported for imported in _imports(path, top_level_only=False) if imported in MODULES and imported != name}
             for name, path in MODULES.items()}
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target] if target in stack else [node, target])
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("package", [*FIRST_PARTY, "dbt"])
def test_modules_stay_short(package):
    long = {str(path.relative_to(ROOT)): lines for path in sorted((ROOT / package).rglob("*.py"))
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines: split them by concept"
