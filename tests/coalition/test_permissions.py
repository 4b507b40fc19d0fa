import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from coalition.crm.models import Interaction, Organization
from tests.factories import OrganizationFactory, UserFactory
from tests.support.crm import make_members


@pytest.mark.django_db
def test_the_migration_creates_the_two_groups():
    managers = Group.objects.get(name="Coalition managers")
    viewers = Group.objects.get(name="Coalition viewers")
    manager_perms = set(managers.permissions.values_list("codename", flat=True))
    viewer_perms = set(viewers.permissions.values_list("codename", flat=True))
    assert {
        "add_organization",
        "delete_contact",
        "import_organizations",
        "merge_organizations",
        "export_contacts",
        "access_admin",
    } <= manager_perms
    assert {
        "access_admin",
        "view_organization",
        "view_contact",
        "view_coalition",
        "view_membership",
        "view_interaction",
    } <= viewer_perms
    coalition_perms = set(
        viewers.permissions.filter(content_type__app_label="coalition").values_list(
            "codename", flat=True
        )
    )
    assert all(codename.startswith("view_") for codename in coalition_perms)


@pytest.mark.django_db
def test_viewers_see_every_listing_and_organization_page(viewer_client, coalition):
    [org] = make_members(1, coalition)
    for name in ["organizations", "contacts", "memberships", "interactions", "coalitions"]:
        assert viewer_client.get(reverse(f"coalition_{name}:index")).status_code == 200
    page = viewer_client.get(reverse("coalition_organizations:inspect", args=[org.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="log-interaction"' not in html
    assert "Merge a duplicate" not in html


@pytest.mark.django_db
def test_viewers_change_nothing(viewer_client, coalition):
    [org] = make_members(1, coalition)
    other = OrganizationFactory()
    denied = [
        ("get", reverse("coalition_organizations:add"), {}),
        ("get", reverse("coalition_organizations:edit", args=[org.pk]), {}),
        ("post", reverse("coalition_organizations:delete", args=[org.pk]), {}),
        ("get", reverse("coalition_contacts:add"), {}),
        ("get", reverse("coalition_memberships:add"), {}),
        ("get", reverse("coalition_interactions:add"), {}),
        ("get", reverse("coalition_coalitions:add"), {}),
        (
            "post",
            reverse("coalition_organizations:log_interaction", args=[org.pk]),
            {"kind": "call", "summary": "x"},
        ),
        ("post", reverse("coalition_organizations:merge", args=[org.pk]), {"duplicate": other.pk}),
        ("get", reverse("coalition_import:index"), {}),
    ]
    for method, url, data in denied:
        response = getattr(viewer_client, method)(url, data)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"] == "/admin/" or "login" in response["Location"], url
    assert Organization.objects.filter(pk=other.pk).exists()
    assert not Interaction.objects.filter(summary="x").exists()


@pytest.mark.django_db
def test_viewers_cannot_export_contact_details(viewer_client, coalition):
    make_members(1, coalition)
    contacts = reverse("coalition_contacts:index")
    for fmt in ["csv", "xlsx"]:
        response = viewer_client.get(contacts, {"export": fmt})
        # Wagtail turns PermissionDenied into a redirect to the dashboard with a message.
        assert response.status_code in (302, 403)
        assert "Content-Disposition" not in response
    assert "Download CSV" not in viewer_client.get(contacts).content.decode()
    # Organizations carry no contact details.
    assert (
        viewer_client.get(reverse("coalition_organizations:index"), {"export": "csv"}).status_code
        == 200
    )


@pytest.mark.django_db
def test_managers_may_do_everything(manager_client, coalition):
    [org] = make_members(1, coalition)
    for url in [
        reverse("coalition_organizations:add"),
        reverse("coalition_organizations:edit", args=[org.pk]),
        reverse("coalition_organizations:merge", args=[org.pk]),
        reverse("coalition_import:index"),
    ]:
        assert manager_client.get(url).status_code == 200, url
    assert (
        manager_client.get(reverse("coalition_contacts:index"), {"export": "csv"}).status_code
        == 200
    )


@pytest.mark.django_db
def test_staff_outside_the_groups_are_kept_out(client, coalition):
    [org] = make_members(1, coalition)
    user = UserFactory(username="outsider", is_staff=True)
    user.groups.add(Group.objects.get(name="Coalition viewers"))
    user.groups.clear()
    client.force_login(user)
    for url in [
        reverse("coalition_organizations:index"),
        reverse("coalition_organizations:inspect", args=[org.pk]),
        reverse("coalition_import:index"),
    ]:
        assert client.get(url).status_code in (302, 403), url


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, coalition):
    upload = io.BytesIO(b"name\nX\n")
    upload.name = "x.csv"
    response = client.post(reverse("coalition_import:index"), {"file": upload})
    assert response.status_code == 302
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_the_coalition_menu_shows_what_each_group_may_use(manager, viewer):
    menus = {}
    for user in (manager, viewer):
        client = Client()
        client.force_login(user)
        menus[user.username] = client.get("/admin/").content.decode()
    manager_menu, viewer_menu = menus["manager"], menus["viewer"]
    for label in ["Coalition", "Organizations", "Contacts", "Memberships", "Interactions"]:
        assert f'"label": "{label}"' in manager_menu
        assert f'"label": "{label}"' in viewer_menu
    assert '"label": "Import members"' in manager_menu
    assert '"label": "Import members"' not in viewer_menu
