import csv
import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from signatories import services
from signatories.models import Signature, SignOn
from tests.factories import ContactFactory, UserFactory

from .conftest import LINK, STAFF_ACTOR, approved_revision, sign_data


def open_form_data(approval, members, **overrides) -> dict:
    deadline = timezone.localtime(timezone.now() + datetime.timedelta(days=5))
    data = {
        "approval": approval.pk,
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        "coalitions": [members.coalition.pk],
        "message": "Please sign by Friday <b>now</b>",
        "auto_approve_authorized": "on",
    }
    data.update(overrides)
    return data


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
    opened = sign_on.events.get(action="opened")
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
    client.post(
        reverse("signatories:sign", args=[tokens[1]]),
        sign_data(sign_on, invitations[1].organization, signer_email="new@example.com"),
    )
    with django_assert_max_num_queries(30):
        response = staff_client.get(reverse("signatories_admin:tracker", args=[sign_on.pk]))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert totals == {
        "invited": 3,
        "opened": 3,
        "signed": 2,
        "declined": 0,
        "pending": 1,
        "not_responded": 1,
    }
    groups = {(c, t): counts["signed"] for c, t, counts in response.context["by_group"]}
    assert groups == {
        ("Digital Trade Coalition", "Lead"): 1,
        ("Digital Trade Coalition", "Steering"): 1,
        ("Digital Trade Coalition", "Member"): 0,
    }
    html = response.content.decode()
    assert "<svg" in html and 'class="signed"' in html
    assert "Signed, pending review" in html
    assert "signed (2)" in html


def test_the_export_lists_every_organization_and_defuses_formulas(
    staff_client, client, sign_on, invitations, tokens
):
    org = invitations[0].organization
    client.post(
        reverse("signatories:sign", args=[tokens[0]]),
        sign_data(sign_on, org, signer_name='=HYPERLINK("http://evil")'),
    )
    response = staff_client.get(reverse("signatories_admin:export", args=[sign_on.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Organization", "Coalitions and tiers", "State"]
    assert len(rows) == 4
    assert rows[1][4] == '\'=HYPERLINK("http://evil")'
    assert rows[1][2] == "Signed"
    response = staff_client.get(reverse("signatories_admin:export", args=[sign_on.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 4
    assert sheet["E2"].value == '=HYPERLINK("http://evil")'
    assert sheet["E2"].data_type == "s"


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
    for i in (0, 1):
        client.post(
            reverse("signatories:sign", args=[tokens[i]]),
            sign_data(sign_on, invitations[i].organization, signer_email=f"unknown{i}@example.com"),
        )
    with django_assert_max_num_queries(20):
        page = staff_client.get(reverse("signatories_admin:review"))
    assert page.content.decode().count("not a known authorized signer") == 2
    first, second = Signature.objects.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("signatories_admin:approve", args=[first.pk]))
        staff_client.post(reverse("signatories_admin:reject", args=[second.pk]), {"reason": ""})
    second.refresh_from_db()
    assert second.status == "pending_review"  # no reason, no rejection
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("signatories_admin:reject", args=[second.pk]),
            {"reason": "Not a member & <b>no</b>"},
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("approved", "rejected")
    rejected = mailoutbox[-1]
    assert rejected.to == ["unknown1@example.com"]
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
    from signatories.tasks import close_sign_on_at_deadline

    assert close_sign_on_at_deadline.call(sign_on.pk) == "deadline not reached"
    with time_machine.travel(sign_on.deadline + datetime.timedelta(seconds=1)):
        assert close_sign_on_at_deadline.enqueue(sign_on.pk).return_value == "closed"
        assert close_sign_on_at_deadline.call(sign_on.pk) == "not open"


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_no_invitation_is_sent_once_the_sign_on_ended(status, sign_on, invitations, mailoutbox):
    from signatories.tasks import send_invitation

    services.close_sign_on(
        sign_on=sign_on, actor=STAFF_ACTOR
    ) if status == "closed" else services.cancel_sign_on(sign_on=sign_on, actor=STAFF_ACTOR)
    assert send_invitation.call(invitations[0].pk) == 0
    assert mailoutbox == []
