"""The members file's columns are defined once (coalition.crm.columns): the header each export
writes reads back as columns the import knows, and nothing of an organization or a contact that
the import writes is left out of the export that carries it."""

import pytest
from django.urls import reverse

from coalition.crm import columns
from coalition.crm.imports import read_rows
from coalition.crm.imports.base import COLUMNS, KNOWN_COLUMNS
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def exported_header(client, listing: str, fmt: str) -> list[str]:
    """The export's first row, as the import reads it."""
    response = client.get(reverse(listing), {"export": fmt})
    assert response.status_code == 200
    return read_rows(b"".join(response.streaming_content), f"export.{fmt}").header


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_organizations_export_heads_every_column_as_the_import_reads_it(manager_client, fmt):
    ContactFactory()

    header = exported_header(manager_client, "coalition_organizations:index", fmt)

    assert [name for name in header if name not in KNOWN_COLUMNS] == []
    assert header == [exported.column.name for exported in columns.ORGANIZATIONS_EXPORT]
    organization = [column.name for column in columns.ORGANIZATION_COLUMNS]
    assert [name for name in organization if name not in header] == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_contacts_export_heads_every_column_as_the_import_reads_it(manager_client, fmt):
    ContactFactory()

    header = exported_header(manager_client, "coalition_contacts:index", fmt)

    assert [name for name in header if name not in COLUMNS] == []
    assert "name" in header  # the organization's, which the contacts belong to
    contact = [column.name for column in columns.CONTACT_COLUMNS]
    assert [name for name in contact if name not in header] == []
