from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver, include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.site_summary import SummaryItem
from wagtail.admin.ui.components import Component
from wagtail.admin.widgets import Button
from wagtail.models import Page

from coalition.core import mfa
from letters.models import LetterPage

from . import admin_urls, selectors
from .dashboard import LettersInReviewPanel, SignOnsPanel


class PermissionMenuItem(MenuItem):
    def __init__(self, *args: Any, permission: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.permission)


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[URLPattern | URLResolver]:
    return [path("sign-ons/", include(admin_urls, namespace="signatories_admin"))]


@hooks.register("register_admin_menu_item")
def register_sign_on_menu() -> SubmenuMenuItem:
    menu = Menu(
        items=[
            PermissionMenuItem(
                "All sign-ons",
                reverse("signatories_admin:index"),
                icon_name="list-ul",
                permission="signatories.view_signon",
                order=100,
            ),
            PermissionMenuItem(
                "Open a sign-on",
                reverse("signatories_admin:open"),
                icon_name="plus",
                permission="signatories.add_signon",
                order=200,
            ),
            PermissionMenuItem(
                "Review queue",
                reverse("signatories_admin:review"),
                icon_name="tasks",
                permission="signatories.change_signon",
                order=300,
            ),
            PermissionMenuItem(
                "Who listens",
                reverse("signatories_admin:recipient_report"),
                icon_name="mail",
                permission="letters.publish_letter",
                order=400,
            ),
        ]
    )
    return SubmenuMenuItem("Sign-ons", menu, icon_name="doc-full-inverse", order=120)


@hooks.register("register_page_header_buttons")
def drafting_header_button(
    page: Page, user: Any, view_name: str, next_url: str | None = None
) -> Iterator[Button]:
    """A letter's page leads to its members' comments on the draft."""
    letter = isinstance(page.specific_deferred, LetterPage) and page.pk
    if letter and user.has_perm("signatories.change_signon"):
        yield Button(
            "Members' comments on the draft",
            reverse("signatories_admin:drafting", args=[page.pk]),
            icon_name="comment",
            priority=75,
        )


# Wagtail's own panel of "your pages in a workflow": the letters in review panel lists them all.
STOCK_PANELS_REPLACED = {"user_objects_in_workflow_moderation"}


@hooks.register("construct_homepage_panels")
def put_the_secretariats_desk_on_the_dashboard(
    request: HttpRequest, panels: list[Component]
) -> None:
    panels[:] = [panel for panel in panels if panel.name not in STOCK_PANELS_REPLACED]
    panels.extend([SignOnsPanel(request), LettersInReviewPanel(request)])


# Last, after Wagtail's own apps have added their counts.
@hooks.register("construct_homepage_summary_items", order=1000)
def leave_out_the_site_summary(request: HttpRequest, items: list[SummaryItem]) -> None:
    """Counts of pages, images and documents say nothing about the work at hand; the first links
    to the site's root page rather than to the letters."""
    items.clear()


# The admin's account page leads to allauth's two-factor pages (coalition/core/mfa.py).
hooks.register("register_account_settings_panel", mfa.TwoFactorSettingsPanel)
hooks.register("register_account_menu_item", mfa.account_menu_item)


def _refuse_deleting(request: HttpRequest, letter: LetterPage) -> HttpResponse:
    messages.error(
        request,
        f"“{letter.title}” cannot be deleted: it went out for sign-on or was published, and "
        "its signatures, record and published versions stay with it. Unpublish it, or withdraw "
        "what it should no longer say through a correction.",
    )
    return redirect("wagtailadmin_pages:edit", letter.pk)


@hooks.register("before_delete_page")
def keep_letters_with_a_record(request: HttpRequest, page: Any) -> HttpResponse | None:
    letter = selectors.kept_letter([page])
    return _refuse_deleting(request, letter) if letter is not None else None


@hooks.register("before_bulk_action")
def keep_letters_with_a_record_in_bulk(
    request: HttpRequest, action_type: str, objects: list[Any], action_class_instance: Any
) -> HttpResponse | None:
    if action_type != "delete":
        return None
    pages = [obj for obj in objects if isinstance(obj, Page)]
    letter = selectors.kept_letter(pages) if pages else None
    return _refuse_deleting(request, letter) if letter is not None else None
