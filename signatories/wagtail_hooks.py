from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from . import admin_urls


class PermissionMenuItem(MenuItem):
    def __init__(self, *args: Any, permission: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.permission)


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[URLPattern | URLResolver]:
    return [path("sign-ons/", include(admin_urls, namespace="signatories_admin"))]


@hooks.register("register_admin_menu_item")
def register_sign_on_menu() -> SubmenuMenuItem:
    menu = Menu(
        items=[
            PermissionMenuItem(
                "All sign-ons",
                reverse("signatories_admin:index"),
                icon_name="list-ul",
                permission="signatories.view_signon",
                order=100,
            ),
            PermissionMenuItem(
                "Open a sign-on",
                reverse("signatories_admin:open"),
                icon_name="plus",
                permission="signatories.add_signon",
                order=200,
            ),
            PermissionMenuItem(
                "Review queue",
                reverse("signatories_admin:review"),
                icon_name="tasks",
                permission="signatories.change_signon",
                order=300,
            ),
        ]
    )
    return SubmenuMenuItem("Sign-ons", menu, icon_name="doc-full-inverse", order=250)
