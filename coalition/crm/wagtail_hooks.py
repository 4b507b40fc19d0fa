from django.http import HttpRequest
from django.urls import URLResolver, include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.log_actions import LogActionRegistry

from coalition.crm.portal import admin_urls as portal_admin_urls
from coalition.crm.portal.admin_views import PERMISSION as PROPOSAL_PERMISSION
from coalition.crm.portal.services import APPROVE_ACTION, PROPOSE_ACTION, REJECT_ACTION
from coalition.crm.services import INTERACTION_ACTION, MERGE_ACTION
from coalition.crm.viewsets import (
    CoalitionViewSetGroup,
    contact_chooser_viewset,
    organization_chooser_viewset,
)


@hooks.register("register_admin_viewset")
def register_coalition_admin() -> list[ViewSet | ViewSetGroup]:
    return [CoalitionViewSetGroup(), organization_chooser_viewset, contact_chooser_viewset]


@hooks.register("register_log_actions")
def register_coalition_log_actions(actions: LogActionRegistry) -> None:
    actions.register_action(MERGE_ACTION, "Merge", "Merged another organization into this one")
    actions.register_action(INTERACTION_ACTION, "Log interaction", "Logged an interaction")
    actions.register_action(
        PROPOSE_ACTION, "Propose profile change", "A contact proposed a profile change"
    )
    actions.register_action(
        APPROVE_ACTION, "Approve profile change", "Approved a contact's profile change"
    )
    actions.register_action(
        REJECT_ACTION, "Reject profile change", "Rejected a contact's profile change"
    )


class ProposalsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PROPOSAL_PERMISSION)


@hooks.register("register_admin_urls")
def register_portal_admin_urls() -> list[URLResolver]:
    return [path("profile-changes/", include(portal_admin_urls, namespace="portal_admin"))]


@hooks.register("register_admin_menu_item")
def register_portal_admin_menu_item() -> MenuItem:
    return ProposalsMenuItem(
        "Profile changes", reverse("portal_admin:proposals"), icon_name="user", order=260
    )
