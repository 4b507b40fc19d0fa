import csv
import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from coalition.crm.models import Contact
from letters.models import Publication
from signatories import selectors, services
from signatories.models import Action, Signature, SignOn
from signatories.services.sign_ons import close_at_deadline
from signatories.tasks import send_invitation
from tests.factories import ContactFactory, UserFactory
from tests.support import signing
from tests.support.signing import LINK, STAFF_ACTOR, approved_revision, sign, sign_data


def open_form_data(approval, members, **overrides) -> dict:
    """The form that opens a sign-on, with a message that has markup to escape."""
    return signing.open_form_data(
        approval, members, **{"message": "Please sign by Friday <b>now</b>", **overrides}
    )


def test_staff_open_a_sign_on_and_invitations_go_out(
    staff_client, members, mailoutbox, django_capture_on_commit_callbacks
):
    revision = approved_revision()
    ContactFactory(
        organization=members.organizations[0], email="quiet@awm0.example.org", email_opt_out=True
    )
    page = staff_client.get(reverse("signatories_admin:open"))
    assert page.status_code == 200
    assert "A joint letter on widgets" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("signatories_admin:open"),
            open_form_data(revision.circulation_approval, members),
        )
    sign_on = SignOn.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("signatories_admin:tracker", args=[sign_on.pk])
    assert sign_on.status == "open"
    assert sign_on.revision == revision
    assert sorted(m.to[0] for m in mailoutbox) == [c.email for c in members.contacts]
    email = mailoutbox[0]
    assert "A joint letter on widgets" in email.subject
    assert " ET" in email.subject
    assert LINK.search(email.body)
    html = email.alternatives[0][0]
    assert "Please sign by Friday &lt;b&gt;now&lt;/b&gt;" in html
    assert "closes in 5 days" in email.body
    opened = sign_on.events.get(action=Action.OPENED)
    assert opened.actor == "staff"
    assert opened.ip_address == "127.0.0.1"


def test_the_open_form_names_the_bad_field(staff_client, members):
    revision = approved_revision()
    past = timezone.localtime(timezone.now() - datetime.timedelta(days=1))
    response = staff_client.post(
        reverse("signatories_admin:open"),
        open_form_data(
            revision.circulation_approval, members, deadline=past.strftime("%Y-%m-%dT%H:%M")
        ),
    )
    assert response.status_code == 400
    assert "Deadline: The deadline must be in the future." in response.content.decode()
    response = staff_client.post(
        reverse("signatories_admin:open"),
        open_form_data(revision.circulation_approval, members, coalitions=[]),
    )
    assert "The audience is empty" in response.content.decode()
    assert not SignOn.objects.exists()


def test_the_admin_needs_permissions(client, sign_on):
    user = UserFactory(username="plain")
    client.force_login(user)
    assert client.get(reverse("signatories_admin:index")).status_code == 302  # no admin access
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    # Wagtail turns PermissionDenied into a redirect to the dashboard with a message.
    denied = client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert (denied.status_code, denied["Location"]) == (302, "/admin/")
    assert (
        client.post(reverse("signatories_admin:close", args=[sign_on.pk]))["Location"] == "/admin/"
    )
    user.user_permissions.add(Permission.objects.get(codename="view_signon"))
    user = type(user).objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(reverse("signatories_admin:tracker", args=[sign_on.pk])).status_code == 200
    assert (
        client.post(reverse("signatories_admin:close", args=[sign_on.pk]))["Location"] == "/admin/"
    )
    sign_on.refresh_from_db()
    assert sign_on.status == "open"


def test_the_tracker_counts_by_coalition_and_tier(
    staff_client, client, sign_on, invitations, tokens, django_assert_max_num_queries
):
    client.get(reverse("signatories:sign", args=[tokens[2]]))
    client.post(
        reverse("signatories:sign", args=[tokens[0]]),
        sign_data(sign_on, invitations[0].organization),
    )
    # Printed under another name: held for review.
    client.post(
        reverse("signatories:sign", args=[tokens[1]]),
        sign_data(sign_on, invitations[1].organization, display_name="Widget Friends"),
    )
    with django_assert_max_num_queries(30):
        response = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert response.status_code == 200
    counts = response.context["tally"]
    # A signature waiting for review is pending, not signed: each organization in one column.
    assert counts.totals == {
        "total": 3,
        "opened": 3,
        "signed": 1,
        "review": 1,
        "signer": 0,
        "declined": 0,
        "withdrawn": 0,
        "not_responded": 1,
    }
    groups = {(c, t): (n["signed"], n["review"]) for c, t, n in counts.by_group}
    assert groups == {
        ("Digital Trade Coalition", "Lead"): (1, 0),
        ("Digital Trade Coalition", "Steering"): (0, 1),
        ("Digital Trade Coalition", "Member"): (0, 0),
    }
    html = response.content.decode()
    assert "<svg" in html and 'class="signed"' in html
    assert "Signed, pending review" in html
    assert "signed (1)" in html and "pending (1)" in html


def test_the_export_lists_every_organization_and_defuses_formulas(
    staff_client, client, sign_on, invitations, tokens
):
    org = invitations[0].organization
    client.post(
        reverse("signatories:sign", args=[tokens[0]]),
        sign_data(sign_on, org, signer_name='=HYPERLINK("http://evil")'),
    )
    response = staff_client.get(reverse("signatories_admin:export", args=[sign_on.pk, "csv"]))
    assert response.streaming
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert rows[0][:6] == [
        "Organization or person",
        "How",
        "Coalitions and tiers",
        "State",
        "Printed as",
        "Signer",
    ]
    assert len(rows) == 4
    assert rows[1][5] == '\'=HYPERLINK("http://evil")'
    assert rows[1][3] == "Signed"
    assert [row[0] for row in rows[1:]] == [inv.organization.name for inv in invitations]
    response = staff_client.get(reverse("signatories_admin:export", args=[sign_on.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert sheet.max_row == 4
    assert sheet["F2"].value == '=HYPERLINK("http://evil")'
    assert sheet["F2"].data_type == "s"


def test_staff_close_early(staff_client, client, sign_on, invitations, tokens):
    response = staff_client.post(reverse("signatories_admin:close", args=[sign_on.pk]))
    assert response.status_code == 302
    sign_on.refresh_from_db()
    assert sign_on.status == "closed"
    assert sign_on.events.last().detail["early"] is True
    refused = client.post(
        reverse("signatories:sign", args=[tokens[0]]),
        sign_data(sign_on, invitations[0].organization),
    )
    assert refused.status_code == 410
    # Closing twice is refused with a message, not an error page.
    again = staff_client.post(reverse("signatories_admin:close", args=[sign_on.pk]), follow=True)
    assert "cannot become closed" in again.content.decode()


def test_the_review_queue_approves_and_rejects_with_an_emailed_reason(
    staff_client,
    client,
    sign_on,
    invitations,
    tokens,
    mailoutbox,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    # The people invited are not marked as authorized signers: what they sign waits for review.
    Contact.objects.filter(organization__in=[i.organization for i in invitations[:3]]).update(
        is_authorized_signer=False
    )
    for i in (0, 1, 2):
        client.post(
            reverse("signatories:sign", args=[tokens[i]]),
            sign_data(sign_on, invitations[i].organization),
        )
    with django_assert_max_num_queries(20):
        page = staff_client.get(reverse("signatories_admin:review"))
    assert page.content.decode().count("is not marked as an authorized signer") == 3
    first, second, third = Signature.objects.order_by("pk")
    # The reasons are read when the queue opens: staff fixing the contact clears its reason.
    Contact.objects.filter(organization=third.organization).update(is_authorized_signer=True)
    page = staff_client.get(reverse("signatories_admin:review")).content.decode()
    assert page.count("is not marked as an authorized signer") == 2
    assert selectors.review_reasons(third) == []
    reject = reverse("signatories_admin:reject")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("signatories_admin:approve", args=[first.pk]))
        staff_client.post(reject, {"signature": [second.pk], "reason": ""})
    second.refresh_from_db()
    assert second.status == "pending_review"  # no reason, no rejection
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reject, {"signature": [second.pk], "reason": "Not a member & <b>no</b>"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("approved", "rejected")
    rejected = mailoutbox[-1]
    assert rejected.to == [invitations[1].email]
    assert "Not a member & <b>no</b>" in rejected.body
    assert "Not a member &amp; &lt;b&gt;no&lt;/b&gt;" in rejected.alternatives[0][0]
    assert mailoutbox[-2].subject.startswith("Signature approved")
    assert [e.actor for e in sign_on.events.filter(action__in=["approved", "rejected"])] == [
        "staff",
        "staff",
    ]


def test_the_deadline_command_closes_due_sign_ons(sign_on):
    out = io.StringIO()
    call_command("close_due_sign_ons", stdout=out)
    assert "No sign-on" in out.getvalue()
    with time_machine.travel(sign_on.deadline + datetime.timedelta(minutes=1)):
        call_command("close_due_sign_ons", stdout=out)
    assert "Closed the sign-on" in out.getvalue()
    sign_on.refresh_from_db()
    assert sign_on.status == "closed"


def test_the_deadline_task_closes_only_when_due(sign_on):
    assert close_at_deadline.call(sign_on.pk) == "deadline not reached"
    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        assert close_at_deadline.enqueue(sign_on.pk).return_value == "closed"
        assert close_at_deadline.call(sign_on.pk) == "not open"


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_no_invitation_is_sent_once_the_sign_on_ended(status, sign_on, invitations, mailoutbox):
    if status == "closed":
        services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    else:
        services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    assert send_invitation.call(invitations[0].pk, "invitation") == 0
    assert mailoutbox == []


# Confirmation before what cannot be undone ------------------------------------------------------


def unchanged(sign_on: SignOn) -> tuple:
    """What a look at a confirmation page must leave as it was."""
    sign_on.refresh_from_db()
    return (
        sign_on.status,
        sign_on.event_count,
        list(sign_on.invitations.values_list("pk", "reminders_sent")),
        Publication.objects.count(),
    )


def asks_first(staff_client, sign_on: SignOn, action: str) -> tuple[str, str]:
    """The address of the confirmation page that the tracker links to for `action`, and the page,
    whose look changes nothing."""
    url = reverse(f"signatories_admin:{action}", args=[sign_on.pk])
    tracker = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert f'href="{url}"' in tracker.content.decode()
    before = unchanged(sign_on)

    page = staff_client.get(url)

    assert page.status_code == 200
    assert unchanged(sign_on) == before
    return url, page.content.decode()


def test_publishing_asks_first_with_the_count_and_every_line_that_will_print(
    staff_client, sign_on, invitations, mailoutbox
):
    """Finding 9: publishing had no confirmation."""
    signed = [sign(invitations[0]), sign(invitations[1], display_name="Widget Friends")]
    services.approve_signature(signature=signed[1], actor=STAFF_ACTOR)
    services.close_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)

    url, html = asks_first(staff_client, sign_on, "publish")

    assert '<strong id="publish-count">2 signatories</strong>' in html
    start = html.index('<ol id="publish-lines">')
    listed = html[start : html.index("</ol>", start)]
    assert listed.count("<li>") == 2
    for signature in signed:
        assert f"<li>{signature.display_name}" in listed
    assert "Publish with these 2 signatories" in html
    assert not sign_on.letter.live

    response = staff_client.post(url)

    assert response.status_code == 302
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.PUBLISHED
    assert [line["text"] for line in sign_on.publication.signatories] == [
        s.display_name for s in signed
    ]


def test_a_reminder_shows_who_gets_it_before_it_is_sent(
    staff_client, sign_on, invitations, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 9: a reminder to every non-responder went out at a click."""
    sign(invitations[0])
    url = reverse("signatories_admin:remind", args=[sign_on.pk])
    before = unchanged(sign_on)

    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong id="remind-count">2 people</strong>' in html
    start = html.index('<ul id="remind-recipients">')
    listed = html[start : html.index("</ul>", start)]
    assert listed.count("<li>") == 2
    for invitation in invitations[1:]:
        assert f"{invitation.name} &lt;{invitation.email}&gt;" in listed
    assert invitations[0].email not in listed
    assert unchanged(sign_on) == before
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url).status_code == 302

    assert sorted(m.to[0] for m in mailoutbox) == sorted(i.email for i in invitations[1:])


def test_cancelling_asks_first(staff_client, sign_on, invitations):
    """Finding 9: cancelling had no confirmation."""
    sign(invitations[0])

    url, html = asks_first(staff_client, sign_on, "cancel")

    assert "Cancelling ends the sign-on for good" in html
    assert "its 1 signature will never print" in html
    assert '<form method="post">' in html

    response = staff_client.post(url, {"reason": "The hearing was called off"})

    assert response.status_code == 302
    sign_on.refresh_from_db()
    assert sign_on.status == SignOn.Status.CANCELLED
    assert (
        sign_on.events.get(action=Action.CANCELLED).detail["reason"] == "The hearing was called off"
    )


def test_the_open_page_ticks_the_organizations_its_address_names(staff_client, members):
    """The Word import links here with the members a letter's signatory block names."""
    first, second, *_ = members.organizations
    url = reverse("signatories_admin:open")
    page = staff_client.get(
        f"{url}?organizations={first.pk}&organizations={second.pk}&organizations=x"
    )
    assert page.status_code == 200
    ticked = page.context["form"]["organizations"].value()
    assert sorted(int(pk) for pk in ticked) == sorted([first.pk, second.pk])
    html = page.content.decode()
    assert f'<option value="{first.pk}" selected>' in html

    assert not staff_client.get(url).context["form"]["organizations"].value()
