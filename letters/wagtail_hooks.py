from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.viewsets.pages import PageListingViewSet
from wagtail.admin.widgets import Button
from wagtail.log_actions import LogActionRegistry
from wagtail.models import Page

from . import publishing, urls
from .models import LetterIndexPage, LetterPage
from .services import assign_review_workflow


@hooks.register("register_admin_urls")
def register_letters_admin_urls() -> list[URLPattern | URLResolver]:
    return [path("letters/", include(urls, namespace="letters_admin"))]


class LetterListingViewSet(PageListingViewSet):
    """Every letter in one flat list, wherever it sits in the page tree, with "New letter"."""

    model = LetterPage
    icon = "doc-full"
    menu_label = "All letters"
    add_to_admin_menu = False  # in the Letters menu below


letter_listing = LetterListingViewSet("letter_listing", url_prefix="letters/all")


@hooks.register("register_admin_viewset")
def register_letter_listing() -> PageListingViewSet:
    return letter_listing


@hooks.register("register_admin_menu_item")
def register_letters_menu() -> SubmenuMenuItem:
    """Letters at the top of the sidebar, beside Sign-ons: not three levels down under Pages."""
    menu = Menu(
        items=[
            MenuItem(
                "All letters",
                reverse("letter_listing:index"),
                icon_name="list-ul",
                order=100,
            ),
            MenuItem(
                "New letter",
                reverse("letter_listing:choose_parent"),
                icon_name="plus",
                order=200,
            ),
            MenuItem(
                "Import from Word",
                reverse("letters_admin:import_word"),
                icon_name="doc-full-inverse",
                order=300,
            ),
        ]
    )
    return SubmenuMenuItem("Letters", menu, icon_name="doc-full", order=110)


@hooks.register("register_page_header_buttons")
def letter_header_buttons(
    page: Page, user: AbstractBaseUser, view_name: str, next_url: str | None = None
) -> Iterator[Button]:
    if isinstance(page.specific_deferred, LetterPage) and page.pk:
        yield Button(
            "Download PDF/A (archive)",
            reverse("letters_admin:archive_pdf", args=[page.pk]),
            icon_name="download",
            priority=80,
        )
        refused = publishing.refusal(page.specific_deferred)
        if refused is not None and refused.url:
            yield Button(refused.label, refused.url, icon_name="doc-full-inverse", priority=70)


@hooks.register("before_edit_page")
def say_where_a_letter_is_published(request: HttpRequest, page: Page) -> None:
    """The editor offers no Publish for a letter out for sign-on: say why, and where instead."""
    if request.method == "GET" and isinstance(page.specific_deferred, LetterPage):
        refused = publishing.refusal(page.specific_deferred)
        if refused is not None:
            messages.info(request, refused.message)


@hooks.register("after_create_page")
def review_letters_under_new_archive(request: HttpRequest, page: Page) -> None:
    if isinstance(page.specific_deferred, LetterIndexPage):
        assign_review_workflow(index=page.specific)


@hooks.register("register_log_actions")
def register_letter_log_actions(actions: LogActionRegistry) -> None:
    actions.register_action(
        "letters.approve_for_circulation", "Approve for circulation", "Approved for circulation"
    )
