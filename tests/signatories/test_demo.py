import io

from django.core import mail

from signatories import demo
from signatories.models import Signature, SignOn
from tests.factories import CoalitionFactory, ContactFactory, MembershipFactory, make_letter

from .conftest import LINK


def test_the_demo_opens_a_sign_on_and_prints_a_link_twice_over(
    db, client, django_capture_on_commit_callbacks
):
    make_letter()  # the archive exists, as after load_demo
    coalition = CoalitionFactory(slug="digital-trade-coalition")
    for _ in range(4):
        MembershipFactory(
            coalition=coalition, organization=ContactFactory(is_authorized_signer=True).organization
        )
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        demo.load(out)
    demo.load(out)
    assert SignOn.objects.count() == 1
    assert Signature.objects.filter(sign_on__isnull=False).count() == 3
    assert set(Signature.objects.values_list("status", flat=True)) == {"approved", "pending_review"}
    links = LINK.findall(out.getvalue())
    assert len(links) == 2
    assert client.get(links[-1]).status_code == 200
    assert mail.outbox
