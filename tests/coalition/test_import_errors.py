"""A members file's problems are all reported in one pass: every row, every column, the header's
too, whatever else is wrong on the same row. Fixing a file takes one round."""

import io

import pytest
from django.urls import reverse

from coalition.crm.imports import import_members
from coalition.crm.models import Contact, Membership, Organization

FILE_WITH_EVERY_MISTAKE = """\
name,acronym,country,website,public_page,nickname,contact_name,contact_email,authorized_signer,primary_contact,coalition,tier,joined_on,coalitions
Widget Guild,WG,US,widgets.example,maybe,x,Ann Lee,ann@widgets.example,yes,sometimes,Nowhere Alliance,platinum,2024-13-45,
Widget Guild,,,,,,Bo,not-an-email,perhaps,,,,,
,X,USA,,,,Cy,cy@example.org,no,,Digital Trade Coalition,observer,,
Gadget Union,,,,,,Di,ann@WIDGETS.example,,,,,,Digital Trade Coalition (platinum)
the gadget union!,,,,,,,,,,,,,
Gadget Union,,,,,,,,,,,,,Imaginary Coalition (lead)
Fine Society,,,,,,Ed,ed@fine.example,yes,no,Digital Trade Coalition,member,,
"""

EVERY_PROBLEM = [
    "Unknown column: nickname. Known columns: name, acronym, display, sort_name, kind, country, "
    "website, public_page, description, tags, status, contact_name, contact_email, "
    "contact_title, contact_phone, authorized_signer, primary_contact, email_opt_out, "
    "coalition, tier, joined_on, coalitions, contacts, created_at.",
    "Row 2: public_page “maybe” should be yes or no.",
    "Row 2: primary_contact “sometimes” should be yes or no.",
    # An unknown coalition, and on the same row a bad tier and a bad date: all three at once.
    "Row 2: coalition “Nowhere Alliance” does not exist.",
    "Row 2: tier “platinum” is not one of: lead, steering, member, observer.",
    "Row 2: joined_on “2024-13-45” should be a date like 2024-05-31.",
    "Row 3: authorized_signer “perhaps” should be yes or no.",
    "Row 3: contact_email “not-an-email” is not a valid email address.",
    "Row 4: name is empty.",
    "Row 4: country “USA” should be a two-letter ISO code, like US.",
    "Row 5: contact_email ann@WIDGETS.example is also on row 2 (a duplicate).",
    "Row 5: tier “platinum” is not one of: lead, steering, member, observer "
    "(in coalitions, for Digital Trade Coalition).",
    "Row 6: organization “the gadget union!” is already on row 5 and this row adds no contact "
    "or membership (a duplicate).",
    "Row 7: coalition “Imaginary Coalition” does not exist.",
]


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [True, False])
def test_every_problem_of_a_file_is_reported_in_one_pass(coalition, dry_run):
    report = import_members(
        data=FILE_WITH_EVERY_MISTAKE.encode(), filename="members.csv", dry_run=dry_run
    )
    assert report.errors == EVERY_PROBLEM
    assert not Organization.objects.exists()
    assert not Contact.objects.exists() and not Membership.objects.exists()


@pytest.mark.django_db
def test_once_every_problem_is_fixed_the_file_imports(coalition):
    fixed = "\n".join(
        [
            "name,acronym,country,website,public_page,contact_name,contact_email,"
            "authorized_signer,primary_contact,coalition,tier,joined_on,coalitions",
            "Widget Guild,WG,US,widgets.example,no,Ann Lee,ann@widgets.example,yes,no,"
            "Digital Trade Coalition,steering,2024-02-29,",
            "Widget Guild,,,,,Bo,bo@widgets.example,no,,,,,",
            "Gadget Union,,,,,Di,di@gadgets.example,,,,,,Digital Trade Coalition (observer)",
        ]
    )
    report = import_members(data=fixed.encode(), filename="members.csv", dry_run=False)
    assert report.ok, report.errors
    guild = Organization.objects.get(name="Widget Guild")
    assert not guild.public_page
    assert guild.memberships.get().tier == "steering"
    assert Organization.objects.get(name="Gadget Union").memberships.get().tier == "observer"


@pytest.mark.django_db
def test_the_admin_lists_every_problem_at_once(manager_client, coalition):
    upload = io.BytesIO(FILE_WITH_EVERY_MISTAKE.encode())
    upload.name = "members.csv"
    response = manager_client.post(reverse("coalition_import:index"), {"file": upload})
    html = response.content.decode()
    assert "Nothing was imported." in html
    for problem in EVERY_PROBLEM:
        assert problem in html, problem
    assert not response.context["token"]
