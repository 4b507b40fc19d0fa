"""An organization's timeline: the CRM's own entries plus what each app contributes."""

import ast
import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from coalition.crm.hooks import TimelineEntry
from coalition.crm.selectors import organization_timeline
from coalition.crm.services import merge_organizations
from signatories import services
from signatories.inputs import Declining, Forwarding, Withdrawing
from tests.factories import ContactFactory, InteractionFactory, OrganizationFactory
from tests.support.crm import open_sign_on_for, sign
from tests.support.signing import SIGNER

COALITION = Path(__file__).resolve().parents[2] / "coalition" / "crm"


@pytest.fixture
def org(db):
    org = OrganizationFactory(name="Widget Makers Guild", acronym="WMG")
    ContactFactory(organization=org, name="Ada Lovelace", email="ada@wmg.example")
    ContactFactory(organization=org, name="Grace Hopper", email="grace@wmg.example")
    return org


# What the recording source below was asked: (organization ids, limit), one per call.
CALLS: list[tuple[list[int], int]] = []


def recording_source(organizations: list, limit: int) -> list[TimelineEntry]:
    CALLS.append(([o.pk for o in organizations], limit))
    now = timezone.now()
    return [
        TimelineEntry(when=now - datetime.timedelta(days=n), kind="test", label=f"E{n}", summary="")
        for n in range(5)
    ]


def oldest_first(organizations: list, limit: int) -> list[TimelineEntry]:
    now = timezone.now()
    return [
        TimelineEntry(when=now - datetime.timedelta(days=n), kind="test", label=f"E{n}", summary="")
        for n in (9, 8, 1, 0)
    ]


@pytest.fixture
def only_source(settings):
    """The settings name one source, which records what it was asked, in place of the apps'."""
    CALLS.clear()
    settings.CRM_TIMELINE_SOURCES = [f"{__name__}.recording_source"]
    return CALLS


@pytest.mark.django_db
def test_it_adds_each_registered_source_newest_first_and_bounded(org, only_source):
    # Dated midnight two days ago: older than E2 (two days ago, now), newer than E3.
    InteractionFactory(
        organization=org,
        occurred_on=timezone.localdate() - datetime.timedelta(days=2),
        summary="A call",
    )

    timeline = organization_timeline(org, limit=4)

    assert only_source == [([org.pk], 4)]
    assert [entry.label for entry in timeline] == ["E0", "E1", "E2", "Note"]


@pytest.mark.django_db
def test_it_keeps_the_newest_entries_of_a_source_whatever_their_order(org, settings):
    settings.CRM_TIMELINE_SOURCES = [f"{__name__}.oldest_first"]

    assert [entry.label for entry in organization_timeline(org, limit=2)] == ["E0", "E1"]


@pytest.mark.django_db
def test_history_follows_a_merge(org, staff, only_source):
    duplicate = OrganizationFactory(name="Widget Guild of Makers")
    ContactFactory(organization=duplicate)
    open_sign_on_for(duplicate)
    merge_organizations(survivor=org, duplicate=duplicate, user=staff)

    timeline = organization_timeline(org)

    # The source is asked about the record kept after the merge too.
    assert only_source == [([org.pk, duplicate.pk], 200)]
    merged = next(entry for entry in timeline if entry.kind == "history")
    assert merged.label == "Merged Widget Guild of Makers into this organization"
    assert merged.detail == "by staff; kept as a record of the merge"


@pytest.mark.django_db
def test_the_sign_on_contributes_each_invited_person_and_each_response(org):
    asked = open_sign_on_for(org, title="Letter on widgets")
    ada, grace = asked.invitations.order_by("name")
    services.record_invitation_opened(invitation=ada, actor=SIGNER)
    services.forward_invitation(
        invitation=grace,
        forwarding=Forwarding(name="Alan Turing", email="alan@wmg.example"),
        actor=SIGNER,
    )
    sign(ada, signer_name="Ada Lovelace")
    declined = open_sign_on_for(org, title="Letter on gadgets")
    services.decline_letter(
        invitation=declined.invitations.first(),
        declining=Declining(signer_name="Grace Hopper", reason="Not our issue"),
        actor=SIGNER,
    )
    withdrawn = open_sign_on_for(org, title="Letter on gizmos")
    signature = sign(withdrawn.invitations.first(), signer_name="Ada Lovelace")
    services.withdraw_signature(signature=signature, withdrawing=Withdrawing(), actor=SIGNER)

    entries = {(e.kind, e.label): e for e in organization_timeline(org)}

    invited = entries[("invitation", "Invited Ada Lovelace to sign “Letter on widgets”")]
    assert (invited.summary, invited.detail) == ("ada@wmg.example", "answered")
    forwarded = entries[("invitation", "Invited Alan Turing to sign “Letter on widgets”")]
    assert (forwarded.summary, forwarded.detail) == (
        "alan@wmg.example",
        "not opened yet, forwarded by Grace Hopper",
    )
    signed = entries[("signature", "Signed “Letter on widgets”")]
    assert signed.summary == "Widget Makers Guild (WMG)"
    assert signed.detail.startswith("by Ada Lovelace, ")
    no = entries[("decline", "Declined “Letter on gadgets”")]
    assert (no.summary, no.detail) == ("Not our issue", "by Grace Hopper, Approved")
    assert entries[("signature", "Signed “Letter on gizmos”")].detail.endswith("Withdrawn")
    gone = entries[("withdrawal", "Withdrew the signature of “Letter on gizmos”")]
    assert gone.when == signature.__class__.objects.get(pk=signature.pk).withdrawn_at
    assert sum(1 for kind, _ in entries if kind == "invitation") == 7


@pytest.mark.django_db
def test_the_timeline_costs_the_same_with_more_history(org, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign(open_sign_on_for(org, title="Letter 0").invitations.first())
    organization_timeline(org)  # warm the content type cache
    with CaptureQueriesContext(connection) as few:
        organization_timeline(org)

    for i in range(1, 4):
        sign_on = open_sign_on_for(org, title=f"Letter {i}")
        sign(sign_on.invitations.first())
        InteractionFactory(organization=org)
    with django_assert_max_num_queries(len(few)):
        timeline = organization_timeline(org)
    assert len(timeline) == 3 + 4 * 3  # interactions, then two invitations and a signature each


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_crm_never_imports_the_apps_that_depend_on_it():
    # settings and the root urlconf are the only places that name all three apps.
    for path in COALITION.rglob("*.py"):
        if path.name in ("settings.py", "urls.py") or "migrations" in path.parts:
            continue
        assert not {
            name for name in _imports(path) if name.split(".")[0] in ("signatories", "letters")
        }, path


def test_the_timeline_reflects_over_no_other_app():
    tree = ast.parse((COALITION / "selectors.py").read_text())
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"getattr", "hasattr"}
    assert "django.apps" not in _imports(COALITION / "selectors.py")
