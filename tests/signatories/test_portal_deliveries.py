"""Members see, in the portal, where the letters their organization signed went and the answers
published to them: never an unpublished answer, another organization's letter, or a letter their
organization did not sign."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from letters.models import LetterPage
from signatories import services
from signatories.answer_files import check_upload
from signatories.models import Answer, Recipient, Signature
from tests.factories import SignatureFactory, make_letter, publish
from tests.support.portal import log_in
from tests.support.recipients import ADDRESS_BLOCK, emailed, recipient
from tests.support.signing import STAFF_ACTOR, Members

pytestmark = pytest.mark.django_db


def signed_by(slug: str, organization, status: str = Signature.Status.APPROVED) -> LetterPage:
    """A letter the organization responded to (approved: signed), then published."""
    letter = make_letter(live=False, slug=slug, title=f"Letter {slug}", recipients=ADDRESS_BLOCK)
    SignatureFactory(letter=letter, organization=organization, status=status)
    return publish(letter)


def delivered_to(letter: LetterPage, name: str, office: str) -> Recipient:
    someone = recipient(
        letter, name, f"{name.split()[0].lower()}@{letter.slug}.example.gov", office
    )
    [delivery] = emailed(letter, someone, attach=False)
    services.record_provider_event(
        outbox_key=delivery.outbox_key,
        provider="Postmark",
        event_type="delivered",
        event_id=f"delivered-{delivery.pk}",
        occurred_at=None,
    )
    return someone


def answer(who: Recipient, text: str, *, published: bool, file: bool = False) -> Answer:
    upload = None
    if file:
        pdf = SimpleUploadedFile("reply.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
        upload = check_upload(pdf, label="File")
    given = services.record_answer(
        recipient=who,
        received_on=datetime.date(2026, 1, 20),
        text=text,
        file=upload,
        actor=STAFF_ACTOR,
    )
    return services.publish_answer(answer=given, actor=STAFF_ACTOR) if published else given


def portal_page(client, organization) -> str:
    response = client.get(reverse("portal:organization", args=[organization.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_member_sees_the_delivery_and_published_answer_of_a_letter_it_signed(
    client, members: Members
):
    ours, theirs = members.organizations[0], members.organizations[1]
    signed = signed_by("signed", ours)
    jane = delivered_to(signed, "Jane Doe", "Department of Widgets")
    published = answer(jane, "We read your letter closely.", published=True, file=True)
    ann = delivered_to(signed, "Ann Other", "Office of Trade")
    answer(ann, "A draft reply not yet for anyone's eyes.", published=False)
    other = signed_by("other", theirs)
    answer(delivered_to(other, "Olga Outsider", "Ministry of Elsewhere"), "Theirs.", published=True)
    held = signed_by("held", ours, status=Signature.Status.PENDING_REVIEW)
    answer(delivered_to(held, "Hal Held", "Held Office"), "Not signed.", published=True)

    page = portal_page(log_in(client, members.contacts[0]), ours)

    assert "Letter signed" in page
    assert "Jane Doe" in page and "Department of Widgets" in page
    assert "Ann Other" in page and "Office of Trade" in page
    assert "Delivered" in page
    assert "We read your letter closely." in page
    file_url = reverse("public:answer_file", args=["signed", published.public_key])
    assert f'href="{file_url}"' in page
    assert client.get(file_url).status_code == 200
    # Never an unpublished answer, nor a letter the organization did not sign.
    assert "not yet for anyone" not in page
    for unseen in ("Olga Outsider", "Ministry of Elsewhere", "Theirs.", "Hal Held", "Not signed."):
        assert unseen not in page


def test_the_other_organizations_member_sees_its_own_letter_only(client, members: Members):
    ours, theirs = members.organizations[0], members.organizations[1]
    answer(delivered_to(signed_by("signed", ours), "Jane Doe", "Widgets"), "Ours.", published=True)
    other = signed_by("other", theirs)
    answer(delivered_to(other, "Olga Outsider", "Elsewhere"), "Theirs.", published=True)

    page = portal_page(log_in(client, members.contacts[1]), theirs)

    assert "Olga Outsider" in page and "Theirs." in page
    assert "Jane Doe" not in page and "Ours." not in page
    # Nor can they open the first organization's page.
    url = reverse("portal:organization", args=[ours.slug])
    assert client.get(url).status_code == 404


def test_a_signed_letter_not_yet_delivered_says_so(client, members: Members):
    signed_by("signed", members.organizations[0])

    page = portal_page(log_in(client, members.contacts[0]), members.organizations[0])

    assert "Letter signed" in page
    assert "Not delivered to its recipients yet." in page
    assert "No answer published yet." in page


def test_the_portal_reads_as_many_times_for_many_letters(client, members: Members):
    ours = members.organizations[0]
    log_in(client, members.contacts[0])

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            portal_page(client, ours)
        return len(queries)

    first = signed_by("first", ours)
    answer(delivered_to(first, "Jane Doe", "Widgets"), "One.", published=True)
    portal_page(client, ours)  # the site's root paths, cached from then on
    few = counted()
    for n in range(3):
        more = signed_by(f"more-{n}", ours)
        answer(delivered_to(more, f"Person{n} Else", f"Office {n}"), "More.", published=True)
        delivered_to(more, f"Other{n} Person", f"Office {n}")

    assert counted() == few
    assert portal_page(client, ours).count("More.") == 3
