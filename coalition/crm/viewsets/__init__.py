"""The "Coalition" section of the Wagtail admin: organizations, contacts, memberships, interactions.

The package: `listings` (what every listing shares: streamed exports, deletes that keep history),
`tables` (their rows printed without a template per cell), `organizations`, `choosers`, and
`members` (the other listings and the menu group).
"""

from .choosers import (
    ContactChooser,
    OrganizationChooser,
    contact_chooser_viewset,
    organization_chooser_viewset,
)
from .listings import (
    CoalitionIndexView,
    KeepReferencedDeleteView,
    neutralise_formula,
    records_kept_by,
)
from .members import CoalitionViewSetGroup
from .organizations import OrganizationViewSet

__all__ = [
    "CoalitionIndexView",
    "CoalitionViewSetGroup",
    "ContactChooser",
    "KeepReferencedDeleteView",
    "OrganizationChooser",
    "OrganizationViewSet",
    "contact_chooser_viewset",
    "neutralise_formula",
    "organization_chooser_viewset",
    "records_kept_by",
]
