"""The member portal's pages: a contact's organization, as the secretariat knows it.

Every page is found through the signed-in user's own contact rows: an organization of someone
else's is a 404, exactly like one that does not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache

from coalition.crm.portal import selectors as people
from coalition.crm.portal import services
from coalition.crm.portal.forms import ProfileProposalForm

from . import selectors


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Straight to the person's organization; with several, to the first, which lists the others."""
    contacts = people.portal_contacts(request.user)
    if not contacts:
        return TemplateResponse(request, "portal/no_organization.html", status=403)
    return redirect("portal:organization", slug=contacts[0].organization.slug)


@never_cache
@login_required
def organization(request: HttpRequest, slug: str) -> HttpResponse:
    contacts = people.portal_contacts(request.user)
    contact = people.contact_at(contacts, slug)
    return TemplateResponse(
        request,
        "portal/organization.html",
        {
            "contact": contact,
            "overview": selectors.overview(request, contact),
            # The person's other organizations, to switch to.
            "others": [other.organization for other in contacts if other.pk != contact.pk],
        },
    )


@never_cache
@login_required
def profile(request: HttpRequest, slug: str) -> HttpResponse:
    contact = people.contact_at(people.portal_contacts(request.user), slug)
    organization = contact.organization
    form = ProfileProposalForm(
        request.POST or None, request.FILES or None, organization=organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_profile_change(contact=contact, change=form.change())
        except services.ProposalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "Thank you: the secretariat will review the change. This page shows its outcome.",
            )
            return redirect("portal:organization", slug=organization.slug)
    return TemplateResponse(
        request,
        "portal/profile.html",
        {"contact": contact, "organization": organization, "form": form},
        status=400 if form.errors else 200,
    )
