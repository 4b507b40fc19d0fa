import html
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, include, path, reverse
from django.utils.html import strip_tags
from django.utils.translation import gettext
from wagtail import hooks
from wagtail.admin.action_menu import ActionMenuItem, WorkflowMenuItem
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.viewsets.pages import PageListingViewSet
from wagtail.admin.widgets import Button
from wagtail.log_actions import LogActionRegistry
from wagtail.models import Page, WorkflowState

from . import publishing, translations, urls
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
        source = page.specific_deferred.translation_source
        if source is not None:
            outdated = bool(translations.changes_since(page.specific_deferred, source))
            yield Button(
                "The letter has changed: review" if outdated else "Translation: up to date",
                reverse("letters_admin:translation", args=[page.pk]),
                icon_name="warning" if outdated else "globe",
                priority=60,
            )


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


# Wagtail labels a workflow's final approval "Approve and Publish" (PageActionMenu appends " and
# Publish" to the task's "approve" actions). The final approval of a letter publishes nothing
# (letters.workflows.finish_workflow): the buttons say what it does.
APPROVE_FOR_CIRCULATION = "Approve for circulation"
APPROVE_FOR_CIRCULATION_WITH_COMMENT = "Approve for circulation, with a comment"


@hooks.register("construct_page_action_menu")
def say_what_approving_a_letter_does(
    menu_items: list[ActionMenuItem], request: HttpRequest, context: dict[str, Any]
) -> None:
    page = context.get("page")
    if page is None or page.pk is None or not isinstance(page.specific_deferred, LetterPage):
        return
    state = page.current_workflow_state
    if state is None or not state.is_at_final_task:
        return
    for item in menu_items:
        if isinstance(item, WorkflowMenuItem) and item.name == "approve":
            item.label = (
                APPROVE_FOR_CIRCULATION_WITH_COMMENT
                if item.launch_modal
                else APPROVE_FOR_CIRCULATION
            )


@hooks.register("after_edit_page")
def say_what_approving_a_letter_did(request: HttpRequest, page: Page) -> None:
    """After a letter's review step is approved in the editor, say what became of it: Wagtail's
    own message says only that the page was updated."""
    if request.method != "POST" or request.POST.get("workflow-action-name") != "approve":
        return
    if not request.POST.get("action-workflow-action"):
        return
    letter = page.specific_deferred
    if not isinstance(letter, LetterPage):
        return
    title = letter.get_admin_display_title()
    state = letter.workflow_states.order_by("-created_at", "-pk").first()
    if state is not None and state.status == WorkflowState.STATUS_APPROVED:
        said = (
            f"“{title}”: the reviewed revision is approved for circulation, and can go out for "
            "signature from Sign-ons → Open a sign-on. Nothing was published."
        )
    else:
        step = state.current_task_state.task.name if state and state.current_task_state else ""
        said = (
            f"“{title}”: this review step is approved"
            + (f"; it goes on to “{step}”" if step else "")
            + ". Nothing was published."
        )
    _replace_message(
        request, gettext("Page '%(page_title)s' has been updated.") % {"page_title": title}, said
    )


def _replace_message(request: HttpRequest, old: str, new: str) -> None:
    """Say `new` instead of the message `old` this request queued, keeping every other one."""
    # Wagtail's admin renders its messages as HTML (with buttons): compare the words only.
    kept = [
        message
        for message in messages.get_messages(request)
        if " ".join(html.unescape(strip_tags(str(message.message))).split()) != old
    ]
    for message in kept:
        messages.add_message(request, message.level, message.message, message.extra_tags)
    messages.success(request, new)
