import io

import pytest
from django.core.management import call_command

from coalition.crm.models import Contact, Membership, Organization


@pytest.mark.django_db
def test_it_makes_realistic_members():
    out = io.StringIO()
    call_command("generate_members", organizations=20, contacts=50, seed=3, stdout=out)
    assert Organization.objects.count() == 20
    assert Contact.objects.count() == 50
    assert not Organization.objects.filter(contacts__isnull=True).exists()
    assert Membership.objects.exists()
    assert Contact.objects.filter(is_primary=True).count() == 20
    assert "Made 20 organizations, 50 contacts" in out.getvalue()
    # Names are unique the way the database insists.
    assert len(set(Organization.objects.values_list("name_key", flat=True))) == 20
