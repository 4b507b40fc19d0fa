import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from signatories import services
from signatories.models import Signature, SignOn
from tests.factories import ContactFactory

from .conftest import WITHDRAW_LINK, approved_revision, open_new_sign_on, sign_data, token_for

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def url(token: str, name: str = "sign") -> str:
    return reverse(f"signatories:{name}", args=[token])


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
    assert sign_on.events.filter(action="invitation_opened").count() == 1
    assert not Signature.objects.exists()


def test_signing_shows_a_confirmation_and_emails_a_withdraw_link(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 302
    assert response["Location"] == url(tokens[0], "thanks")
    page = client.get(response["Location"]).content.decode()
    assert "Thank you for signing" in page
    [email] = mailoutbox
    assert email.to == ["pat0@awm0.example.org"]
    withdraw_path = WITHDRAW_LINK.search(email.body).group(1)
    assert withdraw_path in email.alternatives[0][0]
    confirm = client.get(withdraw_path)
    assert confirm.status_code == 200
    assert "Withdraw the signature of Association of Widget Makers 0" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(withdraw_path, {"reason": "Board said no"})
    assert done.status_code == 302
    assert "has been withdrawn" in client.get(done["Location"]).content.decode()
    assert Signature.objects.get().status == "withdrawn"
    assert mailoutbox[-1].subject.startswith("Signature withdrawn")
    # A used withdrawal link cannot act again.
    assert client.post(withdraw_path).status_code == 410


def test_declining_records_the_reason(client, sign_on, invitations, tokens):
    response = client.post(
        url(tokens[1], "decline"),
        {
            "decline-signer_name": "Kim Lee",
            "decline-signer_email": "kim@awm1.example.org",
            "decline-reason": "Outside our remit",
        },
    )
    assert response.status_code == 302
    assert "declines to sign" in client.get(response["Location"]).content.decode()
    signature = Signature.objects.get()
    assert (signature.response, signature.reason) == ("declined", "Outside our remit")


def test_withdrawing_from_the_signer_page(client, sign_on, invitations, tokens):
    client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    response = client.post(url(tokens[0], "withdraw"), {"reason": ""})
    assert response.status_code == 302
    assert Signature.objects.get().status == "withdrawn"
    assert sign_on.events.filter(action="withdrawn").exists()


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
def test_it_refuses_a_forged_token(client, db, token):
    path = f"/sign/{token}/" if token else "/sign//"
    response = client.get(path)
    assert response.status_code == 404
    response = client.post(path, {})
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
    token_for(invitations[0])
    response = client.post(url(old), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 404
    assert "replaced by a newer one" in response.content.decode()


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


def test_a_second_contact_is_told_who_signed(client, sign_on, invitations, tokens):
    org = invitations[0].organization
    client.post(url(tokens[0]), sign_data(sign_on, org, signer_name="Ada First"))
    ContactFactory(organization=org, email="second@awm0.example.org", is_authorized_signer=True)
    second = Client()
    page = second.get(url(tokens[0])).content.decode()
    assert "Ada First" in page
    assert "Sign the letter</button>" not in page
    response = second.post(
        url(tokens[0]),
        sign_data(sign_on, org, signer_name="Bo Second", signer_email="second@awm0.example.org"),
    )
    assert response.status_code == 409
    assert "Ada First (President) already signed" in response.content.decode()
    assert Signature.objects.filter(organization=org).count() == 1


def test_a_post_without_csrf_is_refused(sign_on, invitations, tokens):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    assert response.status_code == 403
    response = client.post(
        url(tokens[0], "decline"),
        {"decline-signer_name": "Kim", "decline-signer_email": "k@x.org"},
    )
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
        ("signer_name", "", "This field is required."),
        ("signer_name", "   ", "This field is required."),
        ("signer_name", "N" * 201, "at most 200 characters"),
        ("display_name", "D" * 301, "at most 300 characters"),
        ("display_name", "", "This field is required."),
        ("signer_email", "not an email", "Enter a valid email address."),
        ("signer_title", "T" * 10_000, "at most 200 characters"),
        ("comment", "C" * 2001, "at most 2000 characters"),
        ("signer_name", "Line\nbreak", "single line"),
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
    assert not Signature.objects.exists()


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
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_signature(signature=signature, actor=services.Actor.system("staff"))
    pages = [
        client.get(url(tokens[0], "thanks")).content.decode(),
        client.get(url(tokens[0])).content.decode(),
        staff_client.get(reverse("signatories_admin:review")).content.decode(),
        staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk])).content.decode(),
        letter_pdf_html(sign_on.letter, sign_on.letter.signatory_lines()),
    ]
    pages += [email.alternatives[0][0] for email in mailoutbox]
    for html in pages:
        assert "<script>" not in html
        assert "<img src=x" not in html
    assert "&lt;script&gt;" in pages[0]
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
    decline = client.post(
        url(tokens[1], "decline"),
        {"decline-signer_name": "Kim", "decline-signer_email": "k@x.org"},
    )
    assert decline.status_code in (403, 410)
    assert not Signature.objects.exists()
    assert expected in client.get(url(tokens[0])).content.decode()


def test_after_the_deadline_everything_is_refused(
    client, sign_on, invitations, tokens, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tokens[0]), sign_data(sign_on, invitations[0].organization))
    withdraw_path = WITHDRAW_LINK.search(mailoutbox[0].body).group(1)
    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        # Still open in the database: the services check the deadline themselves.
        response = client.post(url(tokens[1]), sign_data(sign_on, invitations[1].organization))
        assert response.status_code == 410
        assert "responses are no longer accepted" in response.content.decode()
        assert client.post(url(tokens[0], "withdraw")).status_code == 410
        assert client.post(withdraw_path).status_code == 410
        assert client.get(withdraw_path).status_code == 410
    assert Signature.objects.get().status == "approved"


def test_a_token_after_withdrawal_may_sign_again_but_not_withdraw_twice(
    client, sign_on, invitations, tokens
):
    data = sign_data(sign_on, invitations[0].organization)
    client.post(url(tokens[0]), data)
    client.post(url(tokens[0], "withdraw"))
    second = client.post(url(tokens[0], "withdraw"))
    assert second.status_code == 409
    assert "no signature to withdraw" in second.content.decode()
    assert client.post(url(tokens[0]), data).status_code == 302
    assert Signature.objects.filter(status__in=Signature.ACTIVE_STATUSES).count() == 1


def test_get_never_changes_a_response(client, sign_on, invitations, tokens):
    for name in ("decline", "withdraw"):
        assert client.get(url(tokens[0], name)).status_code == 405
    assert not Signature.objects.exists()


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
