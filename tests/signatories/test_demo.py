import io
import re

from django.core import mail

from letters.models import LetterPage
from signatories import demo, selectors
from signatories.models import Action, DraftShare, Invitation, LetterDelivery, Recipient, SignOn
from tests.factories import CoalitionFactory, ContactFactory, MembershipFactory, make_letter
from tests.support.signing import LINK

DRAFT_LINK = re.compile(r"http://[^/\s]+(/sign/draft/[A-Za-z0-9_-]{43}/)")
OPEN_LINK = re.compile(r"http://[^/\s]+(/sign/open/[A-Za-z0-9_-]{43}/)")


def test_the_demo_opens_a_sign_on_and_prints_its_links_twice_over(
    db, client, django_capture_on_commit_callbacks
):
    make_letter()  # the archive exists, as after load_demo
    coalition = CoalitionFactory(slug="digital-trade-coalition")
    for _ in range(4):
        MembershipFactory(
            coalition=coalition, organization=ContactFactory(is_authorized_signer=True).organization
        )
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        demo.load(out)
    first_run = out.getvalue()
    demo.load(out)
    second_run = out.getvalue()[len(first_run) :]

    open_sign_on = SignOn.objects.get(status=SignOn.Status.OPEN)
    # Two signatures (one held for review), a decline, and two requests for one organization
    # through the open link, one confirmed and one not; the fourth member passed the request to
    # a colleague. Two people signed in a personal capacity and confirmed: the first is listed
    # by the sign-on's rule, the second (the same line from another address) waits for staff.
    assert open_sign_on.signatures.count() == 7
    assert set(open_sign_on.signatures.values_list("status", flat=True)) == {
        "approved",
        "pending_review",
        "unconfirmed",
    }
    requests = open_sign_on.signatures.filter(
        invitation__isnull=True, organization__isnull=False
    ).order_by("pk")
    assert [r.status for r in requests] == ["pending_review", "unconfirmed"]
    people = open_sign_on.signatures.filter(organization__isnull=True).order_by("pk")
    assert [p.status for p in people] == ["approved", "pending_review"]
    assert open_sign_on.auto_approve_individuals
    assert requests[0].organization == requests[1].organization
    # The deadline was extended once, on record; a member joined after the sign-on opened.
    assert open_sign_on.events.filter(action=Action.DEADLINE_CHANGED).count() == 1
    assert [o.name for o in selectors.not_yet_invited(open_sign_on).joined_later] == [
        "Open Markets Forum"
    ]
    forwarded = Invitation.objects.get(sign_on=open_sign_on, forwarded_by__isnull=False)
    published = SignOn.objects.get(status=SignOn.Status.PUBLISHED)
    assert len(published.publication.signatories) == 4
    assert published.publication.pdf_sha256
    assert published.publication.chain_head == published.last_event_hash
    assert client.get(published.letter.url).status_code == 200
    assert SignOn.objects.count() == 2
    for sign_on in (open_sign_on, published):
        assert selectors.verify_event_chain(sign_on=sign_on) == []

    # Each run prints the link of someone still waiting and of the colleague: the same links,
    # derived again, not new ones.
    links = LINK.findall(first_run)
    assert len(links) == 2
    assert LINK.findall(second_run) == links
    assert links[1] == f"/sign/{selectors.invitation_link_token(forwarded)}/"
    for link in links:
        assert client.get(link).status_code == 200
    # The open link's address is shown only when made: each run makes a new one.
    (old_open_link,) = OPEN_LINK.findall(first_run)
    (open_link,) = OPEN_LINK.findall(second_run)
    assert client.get(open_link).status_code == 200
    assert client.get(old_open_link).status_code == 404
    assert mail.outbox

    # A draft shared with a member, who commented on one passage and suggested wording for
    # another: its link printed on each run, the same link, opening the draft.
    (draft_link,) = DRAFT_LINK.findall(first_run)
    assert DRAFT_LINK.findall(second_run) == [draft_link]
    share = DraftShare.objects.get()
    assert draft_link == f"/sign/draft/{selectors.draft_link_token(share)}/"
    comments = list(share.comments.order_by("pk"))
    assert [(bool(c.comment), bool(c.suggestion)) for c in comments] == [
        (True, False),
        (False, True),
    ]
    assert "Could we name the regulation" in client.get(draft_link).content.decode()

    # The published example: a late signature (where there is one) and a word of the text
    # corrected, each a version
    # the page shows (the text's word by word), its footnote with the letter's own marker, and
    # its open data in view.
    published = LetterPage.objects.get(title=demo.PUBLISHED_TITLE)
    versions = list(published.publications.order_by("version"))
    # (Here every member signed in time: no late signature, so the text's is version 2.)
    assert [v.version for v in versions] == [1, 2]
    assert versions[-1].changes == {"added": [], "removed": [], "text": True}
    page = client.get(published.url).content.decode()
    assert "<ins>" in page and "and their customers" in page
    assert 'class="letter-footnotes marked"' in page
    assert 'id="open-data"' in page and 'id="embed-code"' in page
    # ... delivered to its recipient by email (the provider said opened) and at a meeting, whose
    # answer is published beside its versions; the second run adds none of it again.
    [delivered] = Recipient.objects.filter(letter=published)
    assert delivered.contact.email == demo.DEMO_RECIPIENT_EMAIL
    assert sorted(
        LetterDelivery.objects.filter(recipient=delivered).values_list("method", "status")
    ) == [("email", "opened"), ("meeting", "delivered")]
    assert 'id="answers"' in page and "will take your proposals into account" in page


def test_the_demo_reads_in_french_and_arabic_and_shares_its_draft_through_the_portal(
    db, client, django_capture_on_commit_callbacks
):
    from letters import demo_translations, translations

    make_letter()
    coalition = CoalitionFactory(slug="digital-trade-coalition")
    for _ in range(4):
        MembershipFactory(
            coalition=coalition, organization=ContactFactory(is_authorized_signer=True).organization
        )
    with django_capture_on_commit_callbacks(execute=True):
        demo.load(io.StringIO())
        out = io.StringIO()
        demo_translations.load(out)
    again = io.StringIO()
    demo_translations.load(again)
    assert again.getvalue() == ""  # once only

    statement = LetterPage.objects.get(title=demo_translations.STATEMENT)
    languages = {lang.code: lang for lang in translations.languages_of(statement)}
    assert set(languages) == {"en", "fr", "ar"}
    # The French was made from the first version's text: it says so; the Arabic is current.
    assert languages["fr"].outdated and not languages["ar"].outdated
    arabic = client.get(languages["ar"].url).content.decode()
    assert 'lang="ar" dir="rtl"' in arabic
    open_letter = LetterPage.objects.get(title=demo_translations.SIGN_ON)
    sign_on = SignOn.objects.get(letter=open_letter)
    assert [page.language_code for page in selectors.translations_to_read(sign_on)] == ["fr"]
    assert "signers choose it on their page" in out.getvalue()

    contact = ContactFactory(organization=coalition.memberships.first().organization)
    share = demo.share_draft_with(contact)
    assert share is not None and demo.share_draft_with(contact) == share
