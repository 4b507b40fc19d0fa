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
from tests.factories import make_letter

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
