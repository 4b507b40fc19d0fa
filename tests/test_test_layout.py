"""The tests' own layout: helpers live in the `tests.support` package, which tests import;
`conftest.py` files hold only fixtures (wrapping those helpers) and pytest's hooks."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(TESTS.rglob("*.py"))]


def imports_a_conftest(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        if node.module and node.module.split(".")[-1] == "conftest":
            return True
        return any(alias.name == "conftest" for alias in node.names)
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[-1] == "conftest" for alias in node.names)
    return False


def is_fixture_or_hook(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # the module's docstring
    if isinstance(node, ast.FunctionDef):
        decorators = [ast.unparse(decorator) for decorator in node.decorator_list]
        return node.name.startswith("pytest_") or any("fixture" in d for d in decorators)
    return False


def test_no_module_imports_from_a_conftest() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{node.lineno}: {ast.unparse(node)}"
        for path, tree in modules()
        for node in ast.walk(tree)
        if imports_a_conftest(node)
    ]
    assert not found, "import helpers from tests.support instead:\n" + "\n".join(found)


def test_a_conftest_holds_only_fixtures_and_hooks() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{node.lineno}: {ast.unparse(node).splitlines()[0]}"
        for path, tree in modules()
        if path.name == "conftest.py"
        for node in tree.body
        if not is_fixture_or_hook(node)
    ]
    assert not found, "move these into a tests.support module:\n" + "\n".join(found)
