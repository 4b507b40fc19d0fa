"""The sign-on app keeps its shape: the admin views read through selectors and show a service's
refusal one way, and no module grows past what a reader takes in at once."""

import ast
from pathlib import Path

import signatories

APP = Path(signatories.__file__).resolve().parent
ROOT = APP.parent
LONGEST = 600

# Still to be split, each past LONGEST lines; listed so that the list only shrinks.
STILL_TOO_LONG: set[str] = set()

# What a queryset or a manager does, read or write. Names a dict, a QueryDict or a form shares
# with them (`get`, `values`, `update`, `save`) are left out; `get` is caught by its lookups.
ORM_METHODS = {
    "aggregate",
    "all",
    "annotate",
    "bulk_create",
    "count",
    "create",
    "defer",
    "delete",
    "distinct",
    "exclude",
    "exists",
    "filter",
    "first",
    "get_latest_revision",
    "get_or_create",
    "in_bulk",
    "last",
    "only",
    "order_by",
    "prefetch_related",
    "refresh_from_db",
    "select_for_update",
    "select_related",
    "update_or_create",
    "values_list",
}


def admin_view_modules() -> list[Path]:
    return sorted([*APP.glob("admin_views.py"), *APP.glob("admin_views/**/*.py")])


def view_modules() -> list[Path]:
    """Every module that answers a request or renders a panel: the staff's views, the signers'
    and the members', the dashboard, and the hooks that refuse Wagtail's doors."""
    return sorted(
        {
            *admin_view_modules(),
            *APP.glob("views/**/*.py"),
            *APP.glob("public_views.py"),
            *APP.glob("portal/views.py"),
            APP / "dashboard.py",
            APP / "wagtail_hooks.py",
        }
    )


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)[:80]}"


def queries(tree: ast.AST) -> list[ast.AST]:
    """The ORM calls in a module: a manager, a queryset's methods, a lookup by keywords, and
    `get_object_or_404` given a model rather than a selector's queryset."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager"):
            found.append(node)
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and (
            function.attr in ORM_METHODS or (function.attr == "get" and node.keywords)
        ):
            found.append(node)
        if (
            isinstance(function, ast.Name)
            and function.id in ("get_object_or_404", "get_list_or_404")
            and not (node.args and isinstance(node.args[0], ast.Call))
        ):
            found.append(node)
    return found


def test_the_checks_see_a_query_written_in_a_view() -> None:
    written = """
sign_ons = SignOn.objects.select_related("letter")
waiting = sign_on.signatures.filter(status="pending_review").count()
signature = Signature.objects.get(pk=pk)
letter = get_object_or_404(LetterPage, pk=pk)
shown = request.POST.get("fingerprint"), cleaned.get("note", "")
sign_on = get_object_or_404(selectors.sign_ons_with_letter(), pk=pk)
"""
    flagged = {getattr(node, "lineno", 0) for node in queries(ast.parse(written))}
    assert flagged == {2, 3, 4, 5}  # not a QueryDict's or a dict's get, nor a selector's queryset


def test_no_view_makes_a_query_of_its_own() -> None:
    """Every read is a selector's, named for what it selects (signatories/selectors/)."""
    assert len(view_modules()) > len(admin_view_modules())
    found = [
        where(path, node)
        for path in view_modules()
        for node in queries(ast.parse(path.read_text(), str(path)))
    ]
    assert not found, "ask a selector instead:\n" + "\n".join(found)


def test_no_admin_view_catches_a_refusal_itself() -> None:
    """A service's SignOnError reaches staff one way: `showing_refusal`, in admin_views/common."""
    found = [
        where(path, node)
        for path in admin_view_modules()
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ExceptHandler)
        and node.type is not None
        and "SignOnError" in ast.unparse(node.type)
    ]
    assert not found, "use `with showing_refusal(request, …)`:\n" + "\n".join(found)


def test_no_module_is_longer_than_600_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in sorted(APP.rglob("*.py"))
    }
    too_long = {name: lines for name, lines in lengths.items() if lines > LONGEST}
    assert too_long.keys() - STILL_TOO_LONG == set(), f"split these into packages: {too_long}"
    split = {name: lengths.get(name, 0) for name in STILL_TOO_LONG - too_long.keys()}
    assert not split, f"take these off STILL_TOO_LONG: {split}"
