"""The package's structure: no two modules import each other (at module level or in a
function), so each can be read, tested and moved on its own."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "boilercut"


def imports_of(path: Path) -> set[str]:
    """The boilercut modules a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("boilercut."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("boilercut."))
    return found


def test_no_module_of_the_package_is_part_of_an_import_cycle():
    graph = {p.stem: imports_of(p) - {p.stem} for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    cycles = []

    def visit(module, path):
        for nxt in sorted(graph.get(module, ())):
            if nxt == path[0]:
                cycles.append(" -> ".join([*path, nxt]))
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest module
                visit(nxt, [*path, nxt])

    for module in sorted(graph):
        visit(module, [module])
    assert not cycles, f"import cycles: {cycles}"


def test_model_file_errors_come_from_one_module():
    from boilercut import model_errors, persist, safe_format

    assert persist.ModelFileError is safe_format.ModelFileError is model_errors.ModelFileError
    assert "persist" not in imports_of(PACKAGE / "safe_format.py")
