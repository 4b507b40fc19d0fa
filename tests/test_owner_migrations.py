"""Tables that changed owner keep their rows: a database filled by the schema before the move is
migrated forward and reads the same through the new owner."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from coalition.core.models import EmailDelivery
from coalition.crm.models import Organization
from letters.models import Publication, PublicationHold
from signatories import selectors, services
from signatories.inputs import staff_line, staff_text
from signatories.models import Event, Invitation, Signature, SignOn
from signatories.services.holds import hold_for
from tests.factories import make_letter
from tests.support import signing
from tests.support.signing import STAFF_ACTOR

# The sign-on app's last migration while it owned the published versions, and the letters app's.
BEFORE = [
    ("signatories", "0013_deliveries_say_their_sign_on"),
    ("letters", "0004_publish_permission_and_publishers"),
    ("core", "0003_remove_emaildelivery_sign_on_id"),
]


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [
        key
        for key in executor.loader.graph.leaf_nodes()
        if key[0] in {"signatories", "letters", "core"}
    ]


@pytest.mark.django_db(transaction=True)
def test_published_versions_move_to_the_letters_app_with_their_dates_and_organizations() -> None:
    letter = make_letter(live=False)
    revision = letter.get_latest_revision()
    signer = Organization.objects.create(name="Association of Widget Makers")
    forward = latest()

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    opened = timezone.now() - datetime.timedelta(days=10)
    closed = opened + datetime.timedelta(days=7)
    sign_on = old.get_model("signatories", "SignOn").objects.create(
        letter_id=letter.pk,
        revision_id=revision.pk,
        text_hash="0" * 64,
        status="published",
        deadline=closed,
        opened_at=opened,
        closed_at=closed,
    )
    versions = old.get_model("signatories", "Publication")
    first = versions.objects.create(
        letter_id=letter.pk,
        sign_on=sign_on,
        revision_id=revision.pk,
        version=1,
        is_current=False,
        signatories=[{"text": "Association of Widget Makers"}],
        chain_head="a" * 64,
        chain_length=4,
    )
    first.organizations.set([signer.pk])
    versions.objects.create(
        letter_id=letter.pk,
        sign_on=sign_on,
        revision_id=revision.pk,
        version=2,
        note="A late signature.",
        signatories=[{"text": "Association of Widget Makers"}, {"text": "Widget Guild"}],
    )

    old.get_model("core", "EmailDelivery").objects.create(
        key="b" * 64,
        job="invitation:first",
        regarding="invitation 1",
        recipient="ada@example.org",
        topic="sign-on 1",
    )

    MigrationExecutor(connection).migrate(forward)

    moved = list(Publication.objects.filter(letter_id=letter.pk).order_by("version"))
    assert [(v.version, v.is_current, v.note) for v in moved] == [
        (1, False, ""),
        (2, True, "A late signature."),
    ]
    assert {(v.circulated_at, v.closed_at) for v in moved} == {(opened, closed)}
    assert (moved[0].chain_head, moved[0].chain_length) == ("a" * 64, 4)
    assert list(moved[0].organizations.all()) == [signer]
    assert list(signer.publications.all()) == [moved[0]]
    assert [line.text for line in moved[1].lines()] == [
        "Association of Widget Makers",
        "Widget Guild",
    ]
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "letters_publication"
        )
    }
    assert "sign_on_id" not in columns and {"circulated_at", "closed_at"} <= columns
    # The letter is held back from Wagtail's own doors as the sign-on app holds it from now on.
    hold = PublicationHold.objects.get(letter_id=letter.pk)
    assert (hold.url_name, hold.url_args) == ("signatories_admin:corrections", [letter.pk])
    assert "is published" in hold.message
    # The outbox's deliveries are in the machinery's own table, whole.
    assert list(EmailDelivery.objects.values_list("key", "topic")) == [("b" * 64, "sign-on 1")]
    tables = set(connection.introspection.table_names())
    assert {
        "letters_publication",
        "letters_publication_organizations",
        "core_emaildelivery",
    } <= tables
    assert not {
        t
        for t in tables
        if t.startswith("signatories_")
        and t.split("_", 1)[1]
        in {"publication", "publication_organizations", "emaildelivery", "workerheartbeat"}
    }


def _every_state() -> list[SignOn]:
    """Sign-ons in every status, made by the services, with signatures in every status among
    them and a published letter with a correction."""
    members = signing.make_members(6)
    letters = iter(range(5))

    def sign_on_of_a_new_letter() -> SignOn:
        n = next(letters)
        return signing.open_new_sign_on(
            members, revision=signing.approved_revision(title=f"Letter {n}", slug=f"letter-{n}")
        )

    draft = services.create_sign_on(
        revision=signing.approved_revision(title="A draft", slug="a-draft"),
        deadline=timezone.now() + datetime.timedelta(days=3),
        coalitions=[members.coalition],
        actor=STAFF_ACTOR,
    )
    cancelled = services.cancel_sign_on(
        sign_on=sign_on_of_a_new_letter(), actor=STAFF_ACTOR, reason=staff_text("x", name="reason")
    )

    live = signing.with_open_link(sign_on_of_a_new_letter())
    signing.sign(live.invitations.order_by("pk").first())  # approved, then asked to reconfirm:
    services.recirculate_sign_on(
        sign_on=live,
        revision=signing.approved_change(
            live.letter, [{"type": "paragraph", "value": "<p>New.</p>"}]
        ),
        material=True,
        note=staff_text("Reworded.", name="note"),
        actor=STAFF_ACTOR,
    )
    people = list(Invitation.objects.filter(sign_on=live).order_by("pk"))  # on the new text
    signing.sign(people[1], display_name="Someone Else")  # waits for review
    signing.withdraw(signing.sign(people[2]))
    services.reject_signature(
        signature=signing.sign(people[3], display_name="Not Us"),
        actor=STAFF_ACTOR,
        reason=staff_text("No.", name="reason"),
    )
    signing.decline(people[4])
    signing.sign(people[5])  # approved: it prints as the organization is named
    signing.ask_to_sign(SignOn.objects.get(pk=live.pk))  # an address never confirmed

    closed = sign_on_of_a_new_letter()
    signing.sign(closed.invitations.order_by("pk").first())
    services.close_sign_on(sign_on=closed, actor=STAFF_ACTOR)

    published = sign_on_of_a_new_letter()
    signing.sign(published.invitations.order_by("pk").first())
    services.close_sign_on(sign_on=published, actor=STAFF_ACTOR)
    services.publish_sign_on(sign_on=published, actor=STAFF_ACTOR)
    services.add_signatory(
        letter=published.letter,
        display_name=staff_line("Widget Guild", name="display_name"),
        reason=staff_text("Signed by email.", name="reason"),
        actor=STAFF_ACTOR,
    )
    services.publish_correction(
        letter=published.letter,
        note=staff_text("Adds Widget Guild.", name="note"),
        actor=STAFF_ACTOR,
    )
    return [draft, cancelled, live, closed, published]


def _as_it_stands(sign_ons: list[SignOn]) -> dict:
    """Everything a reader, a signer or staff see of these sign-ons, and their record's head."""
    return {
        sign_on.pk: {
            "sign_on": SignOn.objects.values().get(pk=sign_on.pk),
            "signatures": list(Signature.objects.filter(sign_on=sign_on).order_by("pk").values()),
            "events": list(
                Event.objects.filter(sign_on=sign_on).order_by("sequence").values_list("hash")
            ),
            "versions": [
                (
                    p.version,
                    p.is_current,
                    p.note,
                    p.circulated_at,
                    p.closed_at,
                    p.chain_head,
                    [line.text for line in p.lines()],
                    sorted(p.organizations.values_list("pk", flat=True)),
                )
                for p in Publication.objects.filter(letter_id=sign_on.letter_id).order_by("version")
            ],
            "hold": list(
                PublicationHold.objects.filter(letter_id=sign_on.letter_id).values_list(
                    "message", "url_name", "url_args", "label"
                )
            ),
        }
        for sign_on in sign_ons
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_with_every_state_comes_through_the_move_whole() -> None:
    """Sign-ons in every status and signatures in every status, written by the services; the
    database taken back to the schema before the move, given what that schema held and the new one
    does not, and migrated forward: every row, version and hold is as it was, and every event
    chain verifies."""
    sign_ons = _every_state()
    assert {s.status for s in SignOn.objects.all()} == set(SignOn.Status.values)
    assert {s.status for s in Signature.objects.all()} == set(Signature.Status.values)
    assert all(selectors.verify_event_chain(sign_on=s) == [] for s in sign_ons)
    before = _as_it_stands(sign_ons)
    forward = latest()

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # What the schema before the move held and the new one does not: each version named the
    # sign-on that published it.
    old = executor.loader.project_state(BEFORE).apps
    for version in old.get_model("signatories", "Publication").objects.all():
        version.sign_on = (
            old.get_model("signatories", "SignOn")
            .objects.exclude(status="cancelled")
            .get(letter_id=version.letter_id)
        )
        version.save(update_fields=["sign_on"])
    MigrationExecutor(connection).migrate(forward)

    assert _as_it_stands(sign_ons) == before
    for sign_on in sign_ons:
        assert selectors.verify_event_chain(sign_on=sign_on) == [], sign_on.status
        # The hold the migration wrote is the one the services write from now on.
        expected = hold_for(sign_on.letter)
        found = PublicationHold.objects.filter(letter_id=sign_on.letter_id).first()
        if expected is None:
            assert found is None, sign_on.status
        else:
            assert found is not None, sign_on.status
            assert (found.message, found.url_name, list(found.url_args), found.label) == (
                expected.message,
                expected.url_name,
                list(expected.url_args),
                expected.label,
            ), sign_on.status
