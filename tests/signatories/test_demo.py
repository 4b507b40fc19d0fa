import io

from django.core import mail

from signatories import demo
from signatories.models import SignOn
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
    open_sign_on = SignOn.objects.get(status=SignOn.Status.OPEN)
    assert open_sign_on.signatures.count() == 3
    assert set(open_sign_on.signatures.values_list("status", flat=True)) == {
        "approved",
        "pending_review",
    }
    published = SignOn.objects.get(status=SignOn.Status.PUBLISHED)
    assert len(published.publication.signatories) == 4
    assert published.publication.pdf_sha256
    assert client.get(published.letter.url).status_code == 200
    assert SignOn.objects.count() == 2
    links = LINK.findall(out.getvalue())
    assert len(links) == 2
    assert client.get(links[-1]).status_code == 200
    assert mail.outbox
