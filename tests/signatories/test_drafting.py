"""Drafting together: staff share a letter's draft with member contacts, each through a link of
their own; readers comment on passages and suggest wording without an account; staff accept
(a new revision of the letter) or reject each, and the reader is emailed; comments close when
the text is approved for circulation."""

import re

import pytest
from django.urls import reverse
from wagtail.models import PageLogEntry

from letters import passages
from letters.models import LetterPage
from letters.services import approve_for_circulation
from signatories import selectors, services
from signatories.inputs import Commenting
from signatories.models import DraftComment, DraftShare
from tests.factories import make_letter
from tests.support.signing import STAFF_ACTOR, Members, open_new_sign_on

pytestmark = pytest.mark.django_db

DRAFT_LINK = re.compile(r"http://[^/\s]+(/sign/draft/[A-Za-z0-9_-]{43}/)")
READER = services.Actor(label="reader", ip_address="203.0.113.50", user_agent="Test/1.0")


@pytest.fixture
def letter(db) -> LetterPage:
    """A draft letter: a paragraph, a heading, and a bulleted list of two items."""
    return make_letter(live=False, title="A draft on widgets", slug="draft-widgets")


def draft_passages(letter: LetterPage) -> list[passages.Passage]:
    letter.refresh_from_db()
    _, draft = selectors.latest_draft(letter)
    return list(passages.passages(draft))


def share(letter: LetterPage, members: Members, index: int = 0) -> DraftShare:
    [made] = services.share_draft(
        letter=letter, contacts=[members.contacts[index]], actor=STAFF_ACTOR
    )
    return made


def link_of(made: DraftShare) -> str:
    return reverse("signatories:draft", args=[selectors.draft_link_token(made)])


def passage_url(made: DraftShare, key: str) -> str:
    return reverse("signatories:draft_passage", args=[selectors.draft_link_token(made), key])


def post_comment(client, made: DraftShare, passage: passages.Passage, **fields):
    data = {"text_hash": passages.text_hash(passage.text), "comment": "", "suggestion": ""}
    data.update(fields)
    return client.post(passage_url(made, passage.key), data)


def comment_on(made: DraftShare, passage: passages.Passage, **fields: str) -> DraftComment:
    return services.comment_on_draft(
        share=made,
        passage=passage.key,
        commenting=Commenting(**fields),
        text_hash=passages.text_hash(passage.text),
        actor=READER,
    )


def decide(staff_client, comment: DraftComment, action: str, note: str = ""):
    url = reverse("signatories_admin:draft_comment", args=[comment.share.letter_id, comment.pk])
    return staff_client.post(url, {"action": action, "note": note})


def test_staff_share_the_draft_and_each_contact_is_emailed_a_link_of_their_own(
    staff_client, letter, members, client, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("signatories_admin:drafting", args=[letter.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    for contact in members.contacts:
        assert contact.email in page.content.decode()
    chosen = members.contacts[:2]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"contacts": [c.pk for c in chosen], "note": "Before Friday, please."}
        )
    assert response.status_code == 302
    shares = list(DraftShare.objects.order_by("pk"))
    assert [(s.name, s.email, s.contact) for s in shares] == [(c.name, c.email, c) for c in chosen]
    assert {s.organization_name for s in shares} == {c.organization.name for c in chosen}
    links = {}
    for contact in chosen:
        [email] = [m for m in mailoutbox if m.to == [contact.email]]
        assert email.subject == f"Draft for your comments: {letter.title}"
        assert "Before Friday, please." in email.body
        links[contact.email] = DRAFT_LINK.search(email.body).group(1)
    assert len(set(links.values())) == 2
    # The database holds the token's hash, not the token.
    for made in shares:
        token = links[made.email].split("/")[-2]
        assert token not in (made.token_hash, made.token_nonce)
        assert client.get(links[made.email]).status_code == 200
    # Those who have a link are not offered again; sharing with one of them twice is refused.
    listing = staff_client.get(url).content.decode()
    assert f'value="{chosen[0].pk}"' not in listing
    assert f'value="{members.contacts[2].pk}"' in listing
    with pytest.raises(services.SignOnError, match="already has a link"):
        services.share_draft(letter=letter, contacts=[chosen[0]], actor=STAFF_ACTOR)
    assert staff_client.post(url, {"contacts": []}).status_code == 400
    archived = members.contacts[2].organization
    archived.status = "archived"
    archived.save()
    with pytest.raises(services.SignOnError, match="not a contact of an active member"):
        services.share_draft(letter=letter, contacts=[members.contacts[2]], actor=STAFF_ACTOR)
    assert f'value="{members.contacts[2].pk}"' not in staff_client.get(url).content.decode()
    assert DraftShare.objects.count() == 2


def test_the_reader_sees_the_draft_and_reading_changes_nothing(letter, members, client):
    made = share(letter, members)
    response = client.get(link_of(made))
    assert response.status_code == 200
    html = response.content.decode()
    assert "We write about widgets." in html
    assert "Our asks" in html and "Fewer tariffs" in html and "More widgets" in html
    for passage in draft_passages(letter):
        assert passage_url(made, passage.key) in html
    assert response["X-Robots-Tag"] == "noindex, nofollow, noarchive"
    assert response["Referrer-Policy"] == "no-referrer"
    form_page = client.get(passage_url(made, draft_passages(letter)[0].key))
    assert form_page.status_code == 200
    # Its form's POST must carry the site's origin past the CSRF check: not "no-referrer".
    assert form_page["Referrer-Policy"] == "same-origin"
    assert not DraftComment.objects.exists()


def test_a_comment_and_a_suggestion_reach_staff_marked_word_by_word(
    letter, members, client, staff_client
):
    made = share(letter, members)
    opening, _, first_item, _ = draft_passages(letter)
    response = post_comment(client, made, opening, comment="Name the regulation, please.")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#passage-{opening.key}")
    response = post_comment(client, made, first_item, suggestion="Lower tariffs on widgets")
    assert response.status_code == 302
    first, second = DraftComment.objects.order_by("pk")
    assert (first.passage, first.quoted, first.comment, first.suggestion) == (
        opening.key,
        "We write about widgets.",
        "Name the regulation, please.",
        "",
    )
    assert (second.passage, second.quoted, second.suggestion) == (
        first_item.key,
        "Fewer tariffs",
        "Lower tariffs on widgets",
    )
    assert second.revision_id == letter.latest_revision_id
    assert second.ip_address == "127.0.0.1"
    # The reader sees what they wrote under each passage.
    reader = client.get(link_of(made)).content.decode()
    assert "Name the regulation, please." in reader
    # Staff see both beside their passages, the suggestion as removed and added words.
    page = staff_client.get(reverse("signatories_admin:drafting", args=[letter.pk]))
    html = page.content.decode()
    row = html[html.index(f'id="passage-{first_item.key}"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r"<del>.*Fewer.*</del>", row)
    assert re.search(r"<ins>.*Lower.*</ins>", row)
    assert re.search(r"<ins>.*on widgets.*</ins>", row)
    assert "Name the regulation, please." in html
    assert "(2 to decide)" in html


def test_accepting_a_suggestion_saves_a_new_revision_and_tells_the_reader(
    letter, members, staff_client, staff, mailoutbox, django_capture_on_commit_callbacks
):
    made = share(letter, members)
    opening, heading, first_item, _ = draft_passages(letter)
    on_item = comment_on(made, first_item, suggestion="Lower tariffs")
    on_paragraph = comment_on(
        made, opening, suggestion="We write about widgets & gadgets.\n\nAnd <their> makers."
    )
    before = letter.latest_revision_id
    blocks = [(b.block_type, b.id) for b in selectors.latest_draft(letter)[1].body]
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(staff_client, on_item, "accept", note="Thank you.")
    assert response.status_code == 302
    on_item.refresh_from_db()
    letter.refresh_from_db()
    assert on_item.status == DraftComment.Status.ACCEPTED
    assert on_item.decided_by == staff and on_item.note == "Thank you."
    assert on_item.accepted_revision_id == letter.latest_revision_id != before
    assert on_item.accepted_revision.user == staff
    assert PageLogEntry.objects.filter(
        page=letter, action="wagtail.edit", revision=on_item.accepted_revision
    ).exists()
    # Each block keeps its type and id; the item is found again where it was.
    _, draft = selectors.latest_draft(letter)
    assert [(b.block_type, b.id) for b in draft.body] == blocks
    after = draft_passages(letter)
    assert [p.key for p in after[:2]] == [opening.key, heading.key]
    assert passages.find(draft, first_item.key) == after[2]
    assert [p.text for p in after] == [opening.text, "Our asks", "Lower tariffs", "More widgets"]
    assert not letter.live  # a revision, nothing published
    [email] = [m for m in mailoutbox if m.to == [made.email]]
    assert email.subject == f'Accepted: your suggestion on "{letter.title}"'
    assert "Thank you." in email.body and "{+Lower+}" in email.body
    # A paragraph takes paragraphs, escaped: the suggestion is text, never markup.
    decide(staff_client, on_paragraph, "accept")
    letter.refresh_from_db()
    _, draft = selectors.latest_draft(letter)
    [block] = [b for b in draft.body if b.id == opening.key]
    assert block.block_type == "paragraph"
    assert block.value.source == (
        "<p>We write about widgets &amp; gadgets.</p><p>And &lt;their&gt; makers.</p>"
    )


def test_rejecting_tells_the_reader_and_changes_no_text(
    letter, members, staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    made = share(letter, members)
    _, _, first_item, _ = draft_passages(letter)
    comment = comment_on(made, first_item, comment="Too blunt?", suggestion="Lower tariffs")
    before = letter.latest_revision_id
    page = staff_client.get(
        reverse("signatories_admin:draft_comment", args=[letter.pk, comment.pk])
    )
    assert made.email in page.content.decode()  # who is told, before anything is done
    with django_capture_on_commit_callbacks(execute=True):
        decide(staff_client, comment, "reject", note="We keep the members' wording.")
    comment.refresh_from_db()
    letter.refresh_from_db()
    assert comment.status == DraftComment.Status.REJECTED and comment.accepted_revision is None
    assert letter.latest_revision_id == before
    [email] = [m for m in mailoutbox if m.to == [made.email]]
    assert email.subject.startswith("Not taken up:")
    assert "We keep the members' wording." in email.body
    # Decided once: a second decision is refused.
    decide(staff_client, comment, "accept")
    comment.refresh_from_db()
    assert comment.status == DraftComment.Status.REJECTED


def test_a_suggestion_on_a_passage_that_changed_since_is_refused(
    letter, members, staff_client, mailoutbox
):
    made = share(letter, members)
    _, _, first_item, _ = draft_passages(letter)
    comment = comment_on(made, first_item, suggestion="Lower tariffs")
    # Staff edit the same item in the editor meanwhile.
    edited = letter.get_latest_revision_as_object()
    edited.body = passages.replaced_body(edited, first_item.key, "No tariffs at all")
    edited.save_revision()
    letter.refresh_from_db()
    edit = letter.latest_revision_id
    response = decide(staff_client, comment, "accept")
    comment.refresh_from_db()
    letter.refresh_from_db()
    assert comment.status == DraftComment.Status.OPEN
    assert letter.latest_revision_id == edit
    assert draft_passages(letter)[2].text == "No tariffs at all"
    shown = staff_client.get(response["Location"]) if response.status_code == 302 else response
    assert "accepting it would undo that change" in shown.content.decode()
    assert not mailoutbox


def test_a_withdrawn_link_opens_nothing(letter, members, staff_client, client):
    made = share(letter, members)
    first = draft_passages(letter)[0]
    revoke = reverse("signatories_admin:revoke_draft_share", args=[letter.pk, made.pk])
    assert staff_client.post(revoke).status_code == 302
    made.refresh_from_db()
    assert made.revoked_at is not None
    response = client.get(link_of(made))
    assert response.status_code == 410
    assert "withdrew this link" in response.content.decode()
    assert post_comment(client, made, first, comment="Still there?").status_code == 410
    assert not DraftComment.objects.exists()


def test_approval_for_circulation_closes_comments(letter, members, client, staff_client):
    made = share(letter, members)
    opening, _, first_item, _ = draft_passages(letter)
    waiting = comment_on(made, first_item, suggestion="Lower tariffs")
    approve_for_circulation(revision=letter.latest_revision, user=None)

    page = client.get(link_of(made))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Comments on this draft closed" in html
    assert passage_url(made, opening.key) not in html  # read-only
    assert "We write about widgets." in html
    response = post_comment(client, made, opening, comment="Late thought.")
    assert response.status_code == 410
    assert "Comments on this draft closed" in response.content.decode()
    assert DraftComment.objects.count() == 1
    # Staff can no longer accept what was left open: it is closed without a decision.
    decide(staff_client, waiting, "accept")
    waiting.refresh_from_db()
    assert waiting.status == DraftComment.Status.CLOSED
    assert waiting.accepted_revision is None
    # An approval made before a share does not close it: sharing again opens another round.
    again = share(letter, members, index=1)
    assert post_comment(client, again, opening, comment="A second round.").status_code == 302


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"suggestion": "Fewer <b>tariffs</b>"},
            "suggestion",
            "Suggested wording: plain text only; remove the markup <b>.",
        ),
        (
            {"suggestion": '<a href="https://x.example">Fewer</a>'},
            "suggestion",
            "remove the markup <a>",
        ),
        ({"comment": "x" * 2001}, "comment", "Comment: at most 2000 characters (this has 2001)."),
        ({"suggestion": "y " * 2600}, "suggestion", "Suggested wording: at most 5000 characters"),
        ({}, "comment", "write a comment, or suggest new wording"),
        ({"suggestion": "Fewer   tariffs"}, "suggestion", "this is the passage as it reads"),
        ({"suggestion": "Fewer \u202etariffs"}, "suggestion", "U+202E"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_written(
    letter, members, client, fields, field, message
):
    made = share(letter, members)
    first_item = draft_passages(letter)[2]
    response = post_comment(client, made, first_item, **fields)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    html = response.content.decode()
    assert 'id="error-summary"' in html and f"#id_{field}" in html
    assert not DraftComment.objects.exists()


def test_the_passage_changing_while_the_reader_writes_is_refused(letter, members, client):
    made = share(letter, members)
    first_item = draft_passages(letter)[2]
    shown = passages.text_hash(first_item.text)
    edited = letter.get_latest_revision_as_object()
    edited.body = passages.replaced_body(edited, first_item.key, "No tariffs at all")
    edited.save_revision()
    response = client.post(
        passage_url(made, first_item.key), {"text_hash": shown, "suggestion": "Lower tariffs"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "The passage changed while you were writing" in html
    assert "No tariffs at all" in html and "Lower tariffs" in html  # their text is kept
    assert not DraftComment.objects.exists()


def test_comments_through_one_link_are_rate_limited(letter, members, client, settings):
    settings.SIGN_ON_RATE_LIMITS = {"suggest": "100/h/ip,2/h/link"}
    made = share(letter, members)
    opening = draft_passages(letter)[0]
    for n in range(2):
        assert post_comment(client, made, opening, comment=f"Thought {n}.").status_code == 302
    response = post_comment(client, made, opening, comment="A third thought.")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many requests through this link" in html
    assert "A third thought." in html  # kept, to send later
    assert DraftComment.objects.count() == 2
    # Another person's link is counted apart.
    other = share(letter, members, index=1)
    assert post_comment(client, other, opening, comment="Mine.").status_code == 302


def test_a_link_of_another_letter_or_a_guessed_token_opens_nothing(letter, members, client):
    made = share(letter, members)
    other_letter = make_letter(live=False, title="Another draft", slug="another-draft")
    other_passage = draft_passages(other_letter)[0]
    token = selectors.draft_link_token(made)
    guessed = "A" * 43
    assert client.get(reverse("signatories:draft", args=[guessed])).status_code == 404
    assert client.get(reverse("signatories:draft", args=["not-a-token"])).status_code == 404
    # Another kind of link (an invitation's) does not open a draft.
    invitation_token = selectors.invitation_link_token(
        open_new_sign_on(members).invitations.first()
    )
    assert client.get(reverse("signatories:draft", args=[invitation_token])).status_code == 404
    # A passage of another letter, or a made-up one, is not found under this link.
    for key in (other_passage.key, "no-such-passage", "a.b.c"):
        url = reverse("signatories:draft_passage", args=[token, key])
        assert client.get(url).status_code == 404
        assert client.post(url, {"comment": "Hello"}).status_code == 404
    assert not DraftComment.objects.exists()


def test_staff_find_shares_and_comments_only_under_their_own_letter(letter, members, staff_client):
    made = share(letter, members)
    comment = comment_on(made, draft_passages(letter)[0], comment="Hello")
    other = make_letter(live=False, title="Another draft", slug="another-draft")
    wrong = reverse("signatories_admin:draft_comment", args=[other.pk, comment.pk])
    assert staff_client.get(wrong).status_code == 404
    revoke = reverse("signatories_admin:revoke_draft_share", args=[other.pk, made.pk])
    assert staff_client.post(revoke).status_code == 404
    made.refresh_from_db()
    assert made.revoked_at is None


@pytest.mark.parametrize("start", list(DraftComment.Status))
@pytest.mark.parametrize("target", [DraftComment.Status.ACCEPTED, DraftComment.Status.REJECTED])
def test_each_status_moves_only_as_its_table_says(letter, members, start, target):
    made = share(letter, members)
    comment = comment_on(made, draft_passages(letter)[0], comment="Hello")
    if start != DraftComment.Status.OPEN:
        DraftComment.objects.filter(pk=comment.pk).update(
            status=start, decided_at=comment.created_at
        )
    allowed = DraftComment.can_transition(start, target)
    assert allowed == (start == DraftComment.Status.OPEN)
    if allowed:
        decided = services.decide_draft_comment(
            comment=comment, accept=target == DraftComment.Status.ACCEPTED, actor=STAFF_ACTOR
        )
        assert decided.status == target
    else:
        with pytest.raises(services.TransitionNotAllowed):
            services.decide_draft_comment(
                comment=comment, accept=target == DraftComment.Status.ACCEPTED, actor=STAFF_ACTOR
            )
