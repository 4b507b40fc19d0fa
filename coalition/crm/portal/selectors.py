"""Reads of the member portal that belong to the CRM: whose organizations a signed-in person
speaks for. What the portal shows of an organization's sign-ons is read in signatories/portal/.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.http import Http404

from coalition.core.addresses import DOTLESS_DOMAINS, email_key
from coalition.crm.models import Contact, Organization
from coalition.crm.selectors import current_organizations


def contacts_reaching(address: str) -> list[Contact]:
    """The contacts of active organizations whose address reaches the same mailbox as `address`.

    One person may be on file at several organizations, under spellings of one address that
    `email_key` counts as the same mailbox ("jane@…", "Jane+acme@…").
    """
    key = email_key(address)
    domain = key.rpartition("@")[2]
    if not domain:
        return []
    domains = {domain} | {alias for alias, same in DOTLESS_DOMAINS.items() if same == domain}
    at_domain = Q()
    for each in sorted(domains):
        at_domain |= Q(email__iendswith=f"@{each}")
    candidates = (
        Contact.objects.filter(at_domain, organization__in=active_organizations())
        .select_related("organization")
        .order_by("organization__sort_name", "organization_id", "pk")
    )
    return [contact for contact in candidates if email_key(contact.email) == key]


def active_organizations() -> QuerySet[Organization]:
    """Organizations whose contacts may use the portal: members, neither pending nor archived."""
    return current_organizations().filter(status=Organization.Status.ACTIVE)


def portal_contacts(user: User | AnonymousUser) -> list[Contact]:
    """The contact rows a signed-in user speaks for: the one their account is linked to, and the
    others on file at the same mailbox; none for an account linked to no contact (staff)."""
    if not isinstance(user, User):
        return []
    linked = Contact.objects.filter(user=user).only("email").first()
    if linked is None:
        return []
    return contacts_reaching(linked.email)


def contact_at(contacts: list[Contact], slug: str) -> Contact:
    """Of a user's contact rows, the one at the organization with this slug; 404 for any other."""
    for contact in contacts:
        if contact.organization.slug == slug:
            return contact
    raise Http404("No organization of yours has this address.")
