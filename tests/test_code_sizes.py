"""No module or function of the project grows past what a reader takes in at once: a module past
600 lines becomes a package that re-exports its names, a function past 80 lines is split into
named steps. Migrations are written by Django and left out."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("coalition", "letters", "signatories")
LONGEST_MODULE = 600
LONGEST_FUNCTION = 80


def sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def too_long_functions(tree: ast.AST) -> list[tuple[str, int, int]]:
    """(name, line, length) of each function, method or nested function past the limit,
    counted from its `def` to its last line."""
    return [
        (node.name, node.lineno, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > LONGEST_FUNCTION
    ]


def test_the_checks_see_every_package() -> None:
    found = {path.relative_to(ROOT).parts[0] for path in sources()}
    assert found == set(PACKAGES)


def test_the_function_check_sees_a_long_method() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(LONGEST_FUNCTION))
    written = f"class Page:\n    def render(self):\n{body}\n"
    assert too_long_functions(ast.parse(written)) == [("render", 2, LONGEST_FUNCTION + 1)]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_longer_than_600_lines(package: str) -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sources()
        if path.relative_to(ROOT).parts[0] == package
        and (lines := len(path.read_text().splitlines())) > LONGEST_MODULE
    }
    assert not too_long, f"split these into packages that re-export their names: {too_long}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_longer_than_80_lines(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name} ({length} lines)"
        for path in sources()
        if path.relative_to(ROOT).parts[0] == package
        for name, line, length in too_long_functions(ast.parse(path.read_text(), str(path)))
    ]
    assert not found, "split these into named steps:\n" + "\n".join(found)
