"""The invited person's page (/sign/<token>/) and the signer's own link (/sign/s/<token>/)."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from signatories import services
from signatories.models import Action, Invitation, Signature, SignOn
from signatories.services.sign_ons import new_link_fields
from tests.factories import ContactFactory
from tests.support.signing import (
    SIGNATURE_LINK,
    Members,
    approved_revision,
    make_members,
    open_new_sign_on,
    sign_data,
    token_for,
)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TEXT_CHANGED = "The letter&#x27;s text has changed since this page was opened"


def url(token: str, name: str = "sign") -> str:
    return reverse(f"signatories:{name}", args=[token])


def decline_data(**overrides) -> dict:
    data = {"action": "decline", "decline-signer_name": "Kim Lee", "decline-reason": ""}
    data.update({f"decline-{k}": v for k, v in overrides.items()})
    return data


def withdraw_data(reason: str = "") -> dict:
    return {"action": "withdraw", "withdraw-reason": reason}


def error_summary(html: str) -> str:
    """The error summary at the top of the page, up to its closing tag."""
    start = html.index('id="error-summary"')
    return html[start : html.index("</div>", start)]


def test_it_shows_the_frozen_letter_and_the_deadline_without_an_account(
    client, sign_on, tokens, django_assert_max_num_queries
):
    letter = sign_on.letter
    letter.title = "A later draft"
    letter.save_revision()
    with (
        time_machine.travel(sign_on.deadline - datetime.timedelta(days=3), tick=False),
        django_assert_max_num_queries(25),
    ):
        response = client.get(url(tokens[0]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "We write about widgets." in text
    assert "A joint letter on widgets" in text
    assert "A later draft" not in text
    assert "closes in 3 days, on " in text
    assert " ET</strong>" in text
    assert "I am authorized to sign on behalf of Association of Widget Makers 0" in text
    assert 'value="Association of Widget Makers 0 (AWM0)"' in text
    assert 'name="csrfmiddlewaretoken"' in text


def test_opening_the_page_never_consumes_the_token(client, sign_on, invitations, tokens):
    for _ in range(3):
        assert client.get(url(tokens[0])).status_code == 200
    invitations[0].refresh_from_db()
    assert invitations[0].opened_at is not None
    assert invitations[0].responded_at is None
    assert sign_on.events.filter(action=Action.INVITATION_OPENED).count() == 1
    assert not Signature.objects.exists()


def test_signing_shows_a_confirmation_and_emails_the_signers_own_link(
    client,
    sign_on,
    invitations,
    tokens,
    mailoutbox,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 302
    assert response["Location"] == url(tokens[0], "thanks")
    page = client.get(response["Location"]).content.decode()
    assert "Thank you for signing" in page
    assert "pat0@awm0.example.org" in page
    [email] = mailoutbox
    assert email.to == ["pat0@awm0.example.org"]
    signature_path = SIGNATURE_LINK.search(email.body).group(1)
    assert signature_path in email.alternatives[0][0]
    assert signature_path != url(tokens[0])
    signature = Signature.objects.get()
    assert (signature.signer_email, signature.status) == ("pat0@awm0.example.org", "approved")

    with django_assert_max_num_queries(12):
        confirm = client.get(signature_path)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "The signature of Association of Widget Makers 0" in html
    assert '<form method="get"' in html
    assert 'name="withdraw" value="1">Withdraw the signature…</button>' in html
    question = client.get(signature_path, {"withdraw": "1"}).content.decode()
    assert "Withdraw the signature of Association of Widget Makers 0 from" in question
    assert 'value="withdraw">Withdraw the signature</button>' in question
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(signature_path, withdraw_data("Board said no"))
    assert done.status_code == 302
    assert done["Location"] == signature_path
    assert "is withdrawn" in client.get(done["Location"]).content.decode()
    signature.refresh_from_db()
    assert signature.status == "withdrawn"
    assert sign_on.events.get(action=Action.WITHDRAWN).detail["reason"] == "Board said no"
    assert mailoutbox[-1].subject.startswith("Signature withdrawn")
    # The link cannot withdraw what is already withdrawn.
    again = client.post(signature_path, withdraw_data())
    assert again.status_code == 409
    assert sign_on.events.filter(action=Action.WITHDRAWN).count() == 1
    assert 'name="withdraw"' not in client.get(signature_path).content.decode()
    # Nor does the question show for it.
    assert "Withdraw the signature of" not in (
        client.get(signature_path, {"withdraw": "1"}).content.decode()
    )


def test_declining_records_the_reason(client, sign_on, invitations, tokens):
    response = client.post(url(tokens[1]), decline_data(reason="Outside our remit"))
    assert response.status_code == 302
    assert "declines to sign" in client.get(response["Location"]).content.decode()
    signature = Signature.objects.get()
    assert (signature.response, signature.reason) == ("declined", "Outside our remit")
    assert (signature.signer_name, signature.signer_email) == ("Kim Lee", "pat1@awm1.example.org")
    assert signature.organization == invitations[1].organization


def test_withdrawing_from_the_signer_page(client, sign_on, invitations, tokens):
    client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    response = client.post(url(tokens[0]), withdraw_data())
    assert response.status_code == 302
    assert response["Location"] == url(tokens[0])
    assert Signature.objects.get().status == "withdrawn"
    assert sign_on.events.filter(action=Action.WITHDRAWN).exists()


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "A" * 43,
        "",
        "a" * 500,
        "../../admin",
    ],
    ids=["garbage", "forged", "empty", "long", "traversal"],
)
@pytest.mark.parametrize("kind", ["", "s/"], ids=["invitation", "signature"])
def test_it_refuses_a_forged_token(client, db, token, kind):
    path = f"/sign/{kind}{token}/" if token else f"/sign/{kind}/"
    response = client.get(path)
    assert response.status_code == 404
    response = client.post(path, {"action": "withdraw"})
    assert response.status_code in (404, 405)
    assert not Signature.objects.exists()


def test_it_refuses_a_truncated_or_altered_token(client, sign_on, invitations, tokens):
    token = tokens[0]
    for bad in (token[:-1], token[:20], token[:-1] + ("A" if token[-1] != "A" else "B")):
        response = client.post(f"/sign/{bad}/", sign_data(sign_on, invitations[0].organization))
        assert response.status_code == 404
        assert "This link" in response.content.decode()
    assert not Signature.objects.exists()


def test_it_refuses_a_replaced_token(client, sign_on, invitations, tokens):
    old = tokens[0]
    # A new nonce is how a link is replaced.
    Invitation.objects.filter(pk=invitations[0].pk).update(**new_link_fields(invitations[0]))
    invitations[0].refresh_from_db()
    assert token_for(invitations[0]) != old
    response = client.post(url(old), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 404
    assert "replaced by a newer one" in response.content.decode()
    assert client.get(url(token_for(invitations[0]))).status_code == 200
    assert not Signature.objects.exists()


def test_a_token_of_another_sign_on_acts_only_on_its_own(client, members, sign_on, tokens):
    other = open_new_sign_on(members, revision=approved_revision(slug="other"))
    org = sign_on.invitations.first().organization
    # The form claims the other sign-on's text: refused.
    response = client.post(url(tokens[0]), sign_data(other, org))
    assert response.status_code == 400
    assert "text has changed" in response.content.decode()
    assert not Signature.objects.exists()
    assert client.post(url(tokens[0]), sign_data(sign_on, org)).status_code == 302
    assert not other.signatures.exists()


def test_signing_twice_results_in_one_signature(client, sign_on, invitations, tokens):
    data = sign_data(sign_on, invitations[0].organization)
    assert client.post(url(tokens[0]), data).status_code == 302
    again = client.post(url(tokens[0]), data)
    assert again.status_code == 409
    assert "already signed for Association of Widget Makers 0" in again.content.decode()
    assert Signature.objects.count() == 1


def test_a_second_contact_is_told_who_signed(client, db):
    members = make_members()
    org = members.organizations[0]
    ContactFactory(
        organization=org,
        name="Bo Second",
        email="second@awm0.example.org",
        is_authorized_signer=True,
    )
    sign_on = open_new_sign_on(members)
    first = sign_on.invitations.get(organization=org, name="Pat Signer 0")
    second_invitation = sign_on.invitations.get(organization=org, name="Bo Second")
    client.post(url(token_for(first)), sign_data(sign_on, org, signer_name="Ada First"))
    second = Client()
    page = second.get(url(token_for(second_invitation))).content.decode()
    assert "Ada First" in page
    assert "Sign the letter</button>" not in page
    response = second.post(
        url(token_for(second_invitation)), sign_data(sign_on, org, signer_name="Bo Second")
    )
    assert response.status_code == 409
    assert "Ada First (President) already signed" in response.content.decode()
    assert Signature.objects.filter(organization=org).count() == 1


def test_a_post_without_csrf_is_refused(sign_on, invitations, tokens):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 403
    response = client.post(url(tokens[0]), decline_data())
    assert response.status_code == 403
    assert not Signature.objects.exists()
    # With the token from the page, the same client may sign.
    page = client.get(url(tokens[0]))
    data = sign_data(sign_on, invitations[0].organization)
    data["csrfmiddlewaretoken"] = page.context["csrf_token"]
    assert client.post(url(tokens[0]), data).status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("signer_name", "", "Your name: this is required."),
        ("signer_name", "   ", "Your name: this is required."),
        ("signer_name", "N" * 201, "at most 200 characters"),
        ("display_name", "D" * 301, "at most 300 characters"),
        ("display_name", "", "The name as it will print: this is required."),
        ("signer_title", "T" * 10_000, "at most 200 characters"),
        ("comment", "C" * 2001, "at most 2000 characters"),
        ("authorized", "", "Confirm that you are authorized"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(
    client, sign_on, invitations, tokens, field, value, message
):
    data = sign_data(sign_on, invitations[0].organization, **{field: value})
    if field == "authorized":
        data.pop("authorized")
    response = client.post(url(tokens[0]), data)
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert f'id="id_{field}_error"' in text
    assert message in error_summary(text)
    assert not Signature.objects.exists()


def test_a_line_break_in_a_name_is_folded_into_a_space(client, sign_on, invitations, tokens):
    """The typed input keeps names on one line: a pasted line break becomes a space."""
    data = sign_data(sign_on, invitations[0].organization, signer_name="Line\nbreak\x07")
    assert client.post(url(tokens[0]), data).status_code == 302
    assert Signature.objects.get().signer_name == "Line break"


def test_the_email_is_the_invited_address_and_cannot_be_typed(client, sign_on, invitations, tokens):
    data = sign_data(sign_on, invitations[0].organization, signer_email="someone@else.example")
    assert client.post(url(tokens[0]), data).status_code == 302
    assert Signature.objects.get().signer_email == "pat0@awm0.example.org"


def test_html_is_escaped_everywhere(
    client,
    staff_client,
    sign_on,
    invitations,
    tokens,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from letters.pdf import letter_pdf_html

    org = invitations[0].organization
    data = sign_data(
        sign_on,
        org,
        display_name=f"{org.name} {XSS}",
        signer_name=f"Eve {XSS}",
        signer_title=XSS,
        comment=XSS,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url(tokens[0]), data).status_code == 302
    signature = Signature.objects.get()
    assert signature.status == "pending_review"
    review = staff_client.get(reverse("signatories_admin:review")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_signature(signature=signature, actor=services.Actor.system("staff"))
    pages = [
        client.get(url(tokens[0], "thanks")).content.decode(),
        client.get(url(tokens[0])).content.decode(),
        review,
        staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk])).content.decode(),
        letter_pdf_html(sign_on.letter, sign_on.letter.signatory_lines()),
        client.get(SIGNATURE_LINK.search(mailoutbox[0].body).group(1)).content.decode(),
    ]
    pages += [email.alternatives[0][0] for email in mailoutbox]
    for html in pages:
        assert "<script>" not in html
        assert "<img src=x" not in html
    assert "&lt;script&gt;" in pages[0]
    assert "&lt;script&gt;" in pages[2]
    assert any("&lt;script&gt;" in email.alternatives[0][0] for email in mailoutbox)
    assert "&lt;script&gt;" in pages[4]
    # The subject is one plain line.
    assert all("\n" not in email.subject for email in mailoutbox)


@pytest.mark.parametrize("status", ["draft", "closed", "cancelled", "published"])
def test_it_refuses_responses_unless_open(client, sign_on, invitations, tokens, status):
    SignOn.objects.filter(pk=sign_on.pk).update(status=status)
    response = client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    expected = {"draft": "has not opened yet", "cancelled": "was cancelled"}.get(
        status, "responses are no longer accepted"
    )
    assert response.status_code == (403 if status == "draft" else 410)
    assert expected in response.content.decode()
    for data in (
        decline_data(),
        {"action": "forward", "forward-name": "Dana", "forward-email": "dana@awm1.example.org"},
    ):
        refused = client.post(url(tokens[1]), data)
        assert refused.status_code in (403, 410)
    assert not Signature.objects.exists()
    assert sign_on.invitations.count() == len(invitations)
    assert expected in client.get(url(tokens[0])).content.decode()


def test_after_the_deadline_everything_is_refused(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    signature_path = SIGNATURE_LINK.search(mailoutbox[0].body).group(1)
    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        # Still open in the database: the services check the deadline themselves.
        response = client.post(url(tokens[1]), sign_data(sign_on, invitations[1].organization))
        assert response.status_code == 410
        assert "responses are no longer accepted" in response.content.decode()
        assert client.post(url(tokens[0]), withdraw_data()).status_code == 410
        assert client.post(signature_path, withdraw_data()).status_code == 410
        # The signer's link still shows the signature, without a way to withdraw it.
        page = client.get(signature_path).content.decode()
        assert "responses are no longer accepted" in page
        assert 'name="withdraw"' not in page
        assert "Withdraw the signature of" not in (
            client.get(signature_path, {"withdraw": "1"}).content.decode()
        )
    assert Signature.objects.get().status == "approved"


def test_a_token_after_withdrawal_may_sign_again_but_not_withdraw_twice(
    client, sign_on, invitations, tokens
):
    data = sign_data(sign_on, invitations[0].organization)
    client.post(url(tokens[0]), data)
    client.post(url(tokens[0]), withdraw_data())
    second = client.post(url(tokens[0]), withdraw_data())
    assert second.status_code == 409
    assert "no signature to withdraw" in second.content.decode()
    assert client.post(url(tokens[0]), data).status_code == 302
    assert Signature.objects.filter(status__in=Signature.ACTIVE_STATUSES).count() == 1


def test_get_never_changes_a_response(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks
):
    for action in ("decline", "withdraw", "forward", "sign"):
        assert client.get(url(tokens[1]), {"action": action}).status_code == 200
    assert not Signature.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    signature_path = SIGNATURE_LINK.search(mailoutbox[0].body).group(1)
    for action in ("withdraw", "confirm"):
        assert client.get(signature_path, {"action": action}).status_code == 200
    assert Signature.objects.get().status == "approved"
    assert sign_on.invitations.count() == len(invitations)


@pytest.mark.parametrize("show", [True, False])
def test_who_signed_so_far_shows_only_when_staff_allow_it(client, members, show):
    sign_on = open_new_sign_on(members, show_signatories=show)
    invitations = list(sign_on.invitations.select_related("organization").order_by("pk"))
    first, second = token_for(invitations[0]), token_for(invitations[1])
    client.post(url(first), sign_data(sign_on, invitations[0].organization))

    text = client.get(url(second)).content.decode()

    assert (invitations[0].organization.printed_name in text) is show
    assert ("signed so far" in text) is show
    assert "No signatories yet" not in text


# ---------------------------------------------------------------------------------------------
# Finding 13: the smaller seams of the signer's page


@pytest.mark.parametrize("text_hash", ["0" * 64, "", None], ids=["forged", "empty", "missing"])
def test_a_forged_or_missing_text_hash_is_refused_with_a_message(
    client, sign_on, invitations, tokens, text_hash
):
    """Finding 13: a forged or missing text_hash answered 400 with no message on the page."""
    data = sign_data(sign_on, invitations[0].organization)
    if text_hash is None:
        data.pop("text_hash")
    else:
        data["text_hash"] = text_hash
    response = client.post(url(tokens[0]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert TEXT_CHANGED in error_summary(html)
    # Also beside the form, not only in the summary.
    form = html[html.index('id="respond"') :]
    assert TEXT_CHANGED in form
    assert not Signature.objects.exists()


@pytest.mark.parametrize("where", ["invitation", "signature"])
def test_a_withdrawal_reason_over_the_limit_is_refused_by_name(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks, where
):
    """Finding 13: a withdrawal reason over 2,000 characters was silently dropped."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    path = url(tokens[0]) if where == "invitation" else SIGNATURE_LINK.search(mailoutbox[0].body)[1]
    response = client.post(path, withdraw_data("R" * 2001))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Reason: at most 2000 characters (this has 2001)." in error_summary(html)
    assert 'id="id_withdraw-reason_error"' in html
    assert 'href="#id_withdraw-reason"' in error_summary(html)
    signature = Signature.objects.get()
    assert signature.status == "approved"
    assert not sign_on.events.filter(action=Action.WITHDRAWN).exists()
    # Exactly at the limit, the reason is kept whole.
    assert client.post(path, withdraw_data("R" * 2000)).status_code == 302
    assert sign_on.events.get(action=Action.WITHDRAWN).detail["reason"] == "R" * 2000


@pytest.fixture
def long_sign_on(db) -> tuple[Members, SignOn]:
    members = make_members()
    body = [
        {"type": "paragraph", "value": f"<p>Paragraph {n} of a long argument about widgets.</p>"}
        for n in range(80)
    ]
    return members, open_new_sign_on(members, revision=approved_revision(body=body))


def test_a_long_letter_has_a_link_to_respond_at_the_top(client, long_sign_on):
    """Finding 13 / item 9: on a long letter the form to respond was far below, unannounced."""
    _, sign_on = long_sign_on
    invitation = sign_on.invitations.order_by("organization__name").first()
    html = client.get(url(token_for(invitation))).content.decode()
    jump = re.search(r'<a href="#respond">([^<]*)</a>', html)
    assert jump is not None and jump[1] == "Sign or decline"
    assert jump.start() < html.index("Paragraph 0 of a long argument")
    assert html.index("Paragraph 79 of a long argument") < html.index('id="respond"')


def test_every_error_is_summarised_at_the_top_with_focus(client, long_sign_on):
    """Finding 13 / item 9: errors showed only beside their fields, below a long letter."""
    _, sign_on = long_sign_on
    invitation = sign_on.invitations.order_by("organization__name").first()
    data = sign_data(sign_on, invitation.organization, display_name="", signer_name="")
    data.pop("authorized")
    response = client.post(url(token_for(invitation)), data)
    assert response.status_code == 400
    html = response.content.decode()
    summary = error_summary(html)
    assert "autofocus" in html[html.rindex("<div", 0, html.index('id="error-summary"')) :][:300]
    assert html.index('id="error-summary"') < html.index("Paragraph 0 of a long argument")
    assert "There are 3 problems" in summary
    for anchor, message in [
        ("id_display_name", "The name as it will print: this is required."),
        ("id_signer_name", "Your name: this is required."),
        ("id_authorized", "Confirm that you are authorized to sign on behalf of"),
    ]:
        assert f'<a href="#{anchor}">{message}' in summary
        assert f'id="{anchor}"' in html


def test_after_withdrawal_no_heading_says_the_organization_signed(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 13 / item 9: after withdrawal the page still said the organization had signed."""
    name = invitations[0].organization.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    assert f"{name} has signed</h2>" in client.get(url(tokens[0])).content.decode()
    signature_path = SIGNATURE_LINK.search(mailoutbox[0].body).group(1)
    assert client.post(url(tokens[0]), withdraw_data()).status_code == 302

    page = client.get(url(tokens[0])).content.decode()
    headings = " ".join(re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", page, flags=re.S))
    assert "has signed" not in headings
    assert re.search(rf"Sign (again )?for {name}", headings)
    assert 'value="sign">Sign the letter</button>' in page
    own = client.get(signature_path).content.decode()
    [heading] = re.findall(r"<h1[^>]*>(.*?)</h1>", own, flags=re.S)
    assert heading == f"The signature of {name} is withdrawn"
