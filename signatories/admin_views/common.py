"""What every staff view of the sign-on shares: the permission it needs, the one way a refusal
by the services is shown, and the page that says what an action will do before it is done."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import update_wrapper
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse

from signatories import selectors
from signatories.errors import SignOnError
from signatories.models import SignOn

View = Callable[..., HttpResponseBase]


class PermissionRequired:
    """A view that answers 403 to anyone without the permission.

    The permission is an attribute, which the test of every door reads: who must be let in,
    and who refused.
    """

    def __init__(self, view: View, permission: str) -> None:
        update_wrapper(self, view)
        self.view = view
        self.required_permission = permission

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.has_perm(self.required_permission):
            raise PermissionDenied
        return self.view(request, *args, **kwargs)


def require_perm(codename: str) -> Callable[[View], View]:
    """The view needs this permission: a codename of this app, or "app.codename" of another."""
    permission = codename if "." in codename else f"signatories.{codename}"

    def decorator(view: View) -> View:
        return PermissionRequired(view, permission)

    return decorator


# The services name the revision a sign-on circulates; staff choose it by its approval.
FORM_FIELD_OF = {"revision": "approval"}


class Refusal:
    """What the services refused in a `showing_refusal` block: true if they refused, and then
    `on_form` if it was shown on the form rather than as a message."""

    def __init__(self, request: HttpRequest, *, form: forms.Form | None, prefix: str) -> None:
        self.request = request
        self.form = form
        self.prefix = prefix
        self.error: SignOnError | None = None
        self.on_form = False

    def __bool__(self) -> bool:
        return self.error is not None

    def __enter__(self) -> "Refusal":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if not isinstance(error, SignOnError):
            return False
        self.error = error
        field = FORM_FIELD_OF.get(error.field or "", error.field)
        if self.form is not None and field in self.form.fields:
            self.form.add_error(field, error.message)
            self.on_form = True
        else:
            messages.error(self.request, f"{self.prefix}{error.message}")
        return True


def showing_refusal(
    request: HttpRequest, *, form: forms.Form | None = None, prefix: str = ""
) -> Refusal:
    """A block of service calls whose `SignOnError` ends it and is shown to whoever acted: as the
    form's error on the field it names, where a form is given that has that field, or else as an
    error message, after `prefix`. What follows the calls in the block runs only if they succeed:

        with showing_refusal(request):
            services.close_sign_on(sign_on=sign_on, actor=actor)
            messages.success(request, "The sign-on is closed; …")
        return redirect("signatories_admin:tracker", pk)
    """
    return Refusal(request, form=form, prefix=prefix)


def confirmation_page(
    request: HttpRequest, sign_on: SignOn, *, title: str, template: str, **context: object
) -> TemplateResponse:
    """The page that says what an irreversible action will do, before it is done."""
    return TemplateResponse(
        request,
        f"signatories/admin/{template}",
        {
            "page_title": title,
            "header_icon": "doc-full-inverse",
            "sign_on": sign_on,
            "deadline_words": selectors.deadline_words(sign_on),
            **context,
        },
    )


# Rows on a page of a staff listing: enough to read down, few enough to answer at once however
# large the sign-on.
PER_PAGE = 100


@dataclass(frozen=True)
class Pager:
    """A page of a listing, with plain links to the pages around it that keep the listing's
    other query parameters (its filter)."""

    page: Page[Any]
    query: dict[str, str]

    def _link(self, number: int) -> str:
        return "?" + urlencode({**self.query, "page": str(number)})

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, address) of the first, previous, next and last pages there are."""
        page, last = self.page, self.page.paginator.num_pages
        found = []
        if page.number > 1:
            found += [("First", self._link(1)), ("Previous", self._link(page.number - 1))]
        if page.number < last:
            found += [("Next", self._link(page.number + 1)), ("Last", self._link(last))]
        return found


def paged(
    request: HttpRequest,
    items: Sequence[Any] | QuerySet[Any],
    *,
    query: dict[str, str],
    per_page: int | None = None,
) -> Pager:
    """The page of `items` the request asks for (?page=N; the last one past the end, the first
    for anything else), its links carrying `query`; PER_PAGE rows unless `per_page` says."""
    paginator = Paginator(items, per_page or PER_PAGE)
    number = request.GET.get("page", "1")
    return Pager(paginator.get_page(number), query)
