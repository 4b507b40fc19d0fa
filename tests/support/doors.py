"""Every door the project serves, found by Django's URL resolver and Wagtail's page routes, made
into addresses that open something real in a `World`.

A new URL is covered because the resolver lists it: nothing here names the project's views one by
one. Path parameters are filled by what they are (a page, a viewset's object, a slug, a token);
a parameter nobody can fill is tried with "1" and counted apart.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from wagtail.admin.viewsets import viewsets
from wagtail.models import Page

from tests.support.world import World

PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")
UNNAMED_GROUP = re.compile(r"\((?!\?)(?:[^()]|\([^()]*\))*\)")

# Patterns whose regular expression is not a template: the address to try for each.
LITERAL = {
    "wagtail_serve": None,  # every page's own address is tried instead (page_addresses)
    "admin/^.*/$": "/admin/no-such-door/",
    "^media/(?P<path>.*)$": "/media/original_images/logo.png",
    "^accounts/password/": "/accounts/password/",
}


@dataclass(frozen=True)
class Door:
    """One URL pattern: its template with `<converter:name>` placeholders, and its name."""

    template: str
    name: str
    namespace: str

    @property
    def parameters(self) -> list[tuple[str, str]]:
        return [
            (m.group("converter") or "str", m.group("name"))
            for m in PLACEHOLDER.finditer(self.template)
        ]


def _segment(pattern: Any) -> str | None:
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    assert isinstance(pattern, RegexPattern)
    text = str(pattern)
    counter = iter(range(100))
    text = NAMED_GROUP.sub(lambda m: f"<re:{m.group('name')}>", text)
    text = UNNAMED_GROUP.sub(lambda m: f"<re:_{next(counter)}>", text)
    text = text.replace("^", "").replace("$", "").replace("\\.", ".")
    if re.search(r"[\\()\[\]*+?|{}]", text):
        return None  # still a regular expression: see LITERAL
    return text


def doors() -> list[Door]:
    """Every URL pattern of the project, Wagtail's admin and allauth's included."""
    found: list[Door] = []

    def walk(patterns: list[Any], prefix: str, raw: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                segment = _segment(pattern.pattern)
                walk(
                    pattern.url_patterns,
                    prefix + (segment if segment is not None else "\x00"),
                    raw + str(pattern.pattern),
                    inner,
                )
                continue
            assert isinstance(pattern, URLPattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            segment = _segment(pattern.pattern)
            template = prefix + segment if segment is not None else None
            whole = raw + str(pattern.pattern)
            if name in LITERAL or whole in LITERAL or template is None or "\x00" in template:
                literal = LITERAL.get(name or "", LITERAL.get(whole))
                if literal is None and (name in LITERAL or whole in LITERAL):
                    continue
                if literal is None:
                    raise AssertionError(f"no address to try for the pattern {whole!r} ({name})")
                template = literal.lstrip("/")
            found.append(Door(template="/" + template, name=name or whole, namespace=namespace))

    walk(get_resolver().url_patterns, "", "", "")
    return found


def first_pk(model: type) -> object:
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first() or 1


def _viewset_models() -> dict[str, type]:
    get_resolver().url_patterns  # noqa: B018 (the admin's viewsets register as its URLs load)
    models = {}
    for viewset in viewsets.viewsets:
        model = getattr(viewset, "model", None)
        try:
            namespace = viewset.url_namespace
        except Exception:  # noqa: S112 (a viewset without a namespace of its own)
            continue
        if model is not None:
            models[namespace] = apps.get_model(model) if isinstance(model, str) else model
    return models


class Filler:
    """Values for path parameters that open something real in the world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.viewset_models = _viewset_models()

    def values(self, door: Door) -> dict[str, object]:
        """Every parameter this door may have, with a value that opens something real."""
        w, ids, path, ns = self.world, self.world.ids, door.template, door.namespace
        values: dict[str, object] = {
            "page_id": ids["draft"],
            "parent_page_id": ids["index"],
            "page_pk": ids["index"],
            "page_to_move_id": ids["draft"],
            "destination_id": ids["index"],
            "content_type_app_name": "letters",
            "content_type_model_name": "letterpage",
            "app_label": "letters",
            "model_name": "letterpage",
            "revision_id": ids["latest_revision"],
            "revision_id_a": ids["first_revision"],
            "revision_id_b": ids["latest_revision"],
            "workflow_id": ids["workflow"],
            "workflow_pk": ids["workflow"],
            "workflow_state_id": ids["workflow_state"],
            "task_state_id": ids["task_state"],
            "task_id": ids["task"],
            "action_name": "approve",
            "image_id": ids["image"],
            "document_id": ids["document"],
            "doc_id": ids["document"],
            "uploaded_file_id": ids["uploaded_file"],
            "filter_spec": "fill-10x10",
            "collection_id": ids["collection"],
            "redirect_id": ids["redirect"],
            "session_id": ids["editing_session"],
            "object_id": ids["draft"],
            "letter_pk": ids["published"],
            "signature_pk": ids["printed_signature"],
            "job_id": ids["word_import"],
            "version": 1,
            "fmt": "csv",
            "site_pk": 1,
            # What only an email carries: well-formed, not valid, as a guess would be.
            "restriction_id": 1,
            "preview_pk": 1,  # a press contact of an embargo: none in the world, a guess
            "share_pk": ids["draft_share"],
            "delivery_pk": ids["delivery"],
            "answer_pk": ids["answer"],
            "answer_key": ids["answer_key"],
            "comment_pk": ids["draft_comment"],
            "passage": w.tokens["passage"],
            "page_view_restriction_id": 1,
            "uidb64": "MQ",
            "uidb36": "1",
            "token": "set-password",
            "key": "MQ:1abcde:guess",
            "path": "original_images/logo.png",
        }
        if ns in self.viewset_models:
            values["pk"] = first_pk(self.viewset_models[ns])
        elif "api" in ns or ns == "wagtailadmin_pages":
            kind = "image" if "images" in ns else "document" if "documents" in ns else "draft"
            values["pk"] = ids[kind]
        elif ns.startswith(("wagtailimages", "wagtaildocs")):
            values["pk"] = ids["image" if "images" in ns else "document"]
        elif ns == "wagtailadmin_collections":
            values["pk"] = ids["collection"]
        elif ns == "wagtailadmin_workflows":
            values["pk"] = ids["task" if "/tasks/" in path else "workflow"]
        elif ns == "signatories_admin":
            values["pk"] = ids["request" if "approve" in door.name else "sign_on"]
        elif ns == "simple_translation":
            values["pk"] = ids["draft"]  # a letter is a page, no snippet: refused as such
        elif ns == "portal_admin":
            values["pk"] = ids["proposal"]
        elif door.name.startswith("mfa_"):
            values["pk"] = ids["passkey"]
        if "workflow" in path:
            values["page_id"] = ids["in_review"]
        if ns == "letters_admin":
            values["page_id"] = ids["translation" if door.name == "translation" else "published"]
        if "/drafting/" in path:
            values["letter_pk"] = ids["draft"]  # the letter whose draft is shared
        if ns in ("public", "portal"):
            on_letter = path.startswith("/letters/")
            values["slug"] = w.published.slug if on_letter else w.member_organization.slug
            # The published version's PDF as /verify/ looks it up (a well-formed guess before the
            # PDF is rendered).
            values["sha256"] = (
                w.published.publications.order_by("version")
                .values_list("pdf_sha256", flat=True)
                .first()
                or "0" * 64
            )
        if ns == "signatories":
            kind = "signature" if "/s/" in path else "open_link" if "/open/" in path else ""
            kind = "draft" if "/draft/" in path else kind
            values["token"] = w.tokens[kind or "invitation"]
        if "/bulk/" in path or "editing-sessions" in path:
            values.update(app_label="wagtailcore", model_name="page", action="publish")
        if ns.startswith("wagtailsettings"):
            values.update(app_name="letters", model_name="letterhead", pk=1)
        if "tag-autocomplete" in path:
            values.update(app_name="taggit", model_name="tag")
        if ns == "wagtailadmin_workflows" and "/tasks/add/" in path:
            values.update(app_label="wagtailcore", model_name="groupapprovaltask")
        if door.name == "wagtaildocs_serve":
            values.update(_0=ids["document"], _1="annex.txt")
        return values

    def value(self, door: Door, converter: str, name: str) -> str | None:
        """The value for one parameter, or None when nothing in the world fits it."""
        value = self.values(door).get(name)
        return None if value is None else str(value)

    def addresses(self, door: Door) -> tuple[str, bool]:
        """The address with every parameter filled, and whether all of them found a real value."""
        filled = True

        def substitute(match: re.Match[str]) -> str:
            nonlocal filled
            converter = match.group("converter") or "str"
            value = self.value(door, converter, match.group("name"))
            if value is None:
                filled = False
                return "1"
            return quote(value, safe="")

        return PLACEHOLDER.sub(substitute, door.template), filled

    def variants(self, door: Door) -> Iterator[tuple[str, str]]:
        """The address with one text parameter at a time made impossible: NUL, long, foreign."""
        for index, (converter, name) in enumerate(door.parameters):
            if converter not in ("str", "slug", "path", "re", "uuid"):
                continue
            for label, bad in (
                ("NUL", "%00"),
                ("over-long", "a" * 5000),
                ("foreign script", quote("Ελληνικά-漢字-عربي", safe="")),
            ):
                position = iter(range(100))

                def substitute(match: re.Match[str], bad: str = bad) -> str:
                    if next(position) == index:  # noqa: B023 (the counter of this variant)
                        return bad
                    value = self.value(door, match.group("converter") or "str", match.group("name"))
                    return quote(value or "1", safe="")

                yield f"{name} {label}", PLACEHOLDER.sub(substitute, door.template)


def page_addresses(world: World) -> list[str]:
    """Every page's own address and its routes (a letter's PDFs), live or not."""
    addresses = []
    for page in Page.objects.filter(depth__gt=1).specific():
        url = page.get_url()
        if not url:
            continue
        addresses.append(url)
        for route in getattr(page, "get_subpage_urls", lambda: [])():
            addresses.append(url + PLACEHOLDER.sub("1", str(route.pattern)))
    return sorted(set(addresses))
