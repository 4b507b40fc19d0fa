from wagtail import hooks

from coalition.services import INTERACTION_ACTION, MERGE_ACTION
from coalition.viewsets import (
    CoalitionViewSetGroup,
    contact_chooser_viewset,
    organization_chooser_viewset,
)


@hooks.register("register_admin_viewset")
def register_coalition_admin() -> list:
    return [CoalitionViewSetGroup(), organization_chooser_viewset, contact_chooser_viewset]


@hooks.register("register_log_actions")
def register_coalition_log_actions(actions) -> None:
    actions.register_action(MERGE_ACTION, "Merge", "Merged another organization into this one")
    actions.register_action(INTERACTION_ACTION, "Log interaction", "Logged an interaction")
