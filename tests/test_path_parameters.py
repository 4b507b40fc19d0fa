"""Every URL with a path parameter, from Django's URL resolver, with values no slug or token has.

NUL (which PostgreSQL refuses in a query: "A string literal cannot contain NUL"), other control
characters, 10,000 characters, and words in other scripts: each answers 404 (or the page, where
such an object exists), never 500. A new URL is covered because the resolver lists it.
"""

import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize

from tests.factories import StaffFactory, make_letter

HOSTILE = {
    "nul": "\x00",
    "nul-inside": "widgets\x00",
    "escape": "\x1b[2J",
    "delete": "x\x7f",
    "over-long": "a" * 10_000,
    "huge-number": "9" * 30,
    "cyrillic": "письмо",
    "cjk": "公開書簡",
    "arabic": "رسالة",
}


def _regex(pattern: object) -> str:
    """The pattern's own regex, without its anchors."""
    source = pattern.regex.pattern  # type: ignore[attr-defined]
    return source.removeprefix("^").removesuffix(r"\Z").removesuffix("$")


def _patterns(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, str]]:
    for entry in patterns:
        regex = prefix + _regex(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, regex)
        else:
            yield regex, str(entry.name or entry.lookup_str)


def _with_parameters() -> list[tuple[str, str]]:
    """(a format string such as "sign/%(token)s/", the view's name) for every parameterised URL."""
    found: dict[str, str] = {}
    for regex, name in _patterns(get_resolver().url_patterns):
        for template, parameters in normalize(regex):
            if parameters:
                found.setdefault(template, name)
    return sorted(found.items())


URLS = _with_parameters()


def _paths(template: str) -> Iterator[tuple[str, str]]:
    """Each hostile value in every parameter at once, then in each alone (the others plain)."""
    names = re.findall(r"%\((\w+)\)s", template)
    for label, value in HOSTILE.items():
        quoted = quote(value, safe="")
        yield label, "/" + template % dict.fromkeys(names, quoted)
        if len(names) > 1:
            for name in names:
                values = dict.fromkeys(names, "1")
                values[name] = quoted
                yield f"{label} in {name}", "/" + template % values


def test_the_resolver_lists_the_doors_this_module_is_about() -> None:
    templates = {template for template, _ in URLS}
    assert "organizations/%(slug)s/" in templates
    assert "sign/%(token)s/" in templates
    assert "admin/pages/%(page_id)s/edit/" in templates
    assert len(URLS) > 100


@pytest.fixture
def published(db):
    """A published letter, so that its slug's neighbours are looked up among real rows."""
    return make_letter()


@pytest.mark.parametrize("role", ["anonymous", "staff"])
@pytest.mark.parametrize(("template", "name"), URLS, ids=[t for t, _ in URLS])
def test_no_path_parameter_value_answers_500(
    client, settings, published, role: str, template: str, name: str
) -> None:
    settings.DEBUG = False  # a plain 404 page, not the one that lists every URL pattern
    if role == "staff":
        client.force_login(StaffFactory(username="staff", email="staff@example.org"))
    client.raise_request_exception = False
    failed = {}
    for label, path in _paths(template):
        response = client.get(path)
        if response.status_code >= 500:
            failed[label] = response.status_code
    assert not failed, f"{name} answered {failed}"


NAMED_IN_THE_ISSUE = [
    "/organizations/%00/",
    "/letters/%00/signatories.csv",
    "/letters/%00/signatories.json",
    "/letters/%00/letter.json",
    "/letters/%00/embed/",
    "/letters/widgets%00/signatories.csv",
    "/portal/%00/",
    "/portal/%00/profile/",
    "/sign/%00/",
    "/sign/s/%00/",
    "/sign/open/%00/",
    "/sign/open/%00/thanks/",
    "/letters/%00/",
    "/letters/x%00/pdf/v1/",
    "/letters/widgets/%00/",
    "/%00",
    "/admin/pages/%00/edit/",
    "/media/%00",
    "/static/%00",
]


@pytest.mark.parametrize("path", NAMED_IN_THE_ISSUE)
def test_a_nul_in_the_path_answers_404_before_any_query(
    client, published, django_assert_max_num_queries, path: str
) -> None:
    # On PostgreSQL each of these was a 500: "A string literal cannot contain NUL (0x00)".
    with django_assert_max_num_queries(0):
        response = client.get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/organizations/" + "a" * 10_000 + "/",
        "/letters/" + "a" * 10_000 + "/signatories.json",
        "/letters/" + "a" * 10_000 + "/",
        "/sign/" + "a" * 10_000 + "/",
        "/media/" + "a" * 10_000,
    ],
    ids=["organization", "open data", "page", "token", "media"],
)
def test_a_10000_character_segment_answers_404(client, published, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("name", ["Союз производителей", "日本貿易会", "اتحاد الصناعات"])
def test_a_slug_in_another_script_is_the_page_where_it_exists(client, db, name: str) -> None:
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory(name=name, acronym="")
    letter = make_letter(slug=organization.slug)  # a letter under the same slug in that script
    assert organization.slug[0] == name[0].lower()
    assert client.get(f"/organizations/{quote(organization.slug)}/").status_code == 200
    assert client.get(f"/letters/{quote(letter.slug)}/").status_code == 200
    assert client.get(f"/letters/{quote(letter.slug)}/signatories.json").status_code == 200
    assert client.get(f"/organizations/{quote(organization.slug)}x/").status_code == 404


def test_an_id_past_what_a_database_holds_answers_404(staff_client, published) -> None:
    # SQLite raised OverflowError comparing it with a page's id.
    huge = "9" * 30
    assert staff_client.get(f"/admin/letters/{huge}/archive-pdf/").status_code == 404


def test_a_word_for_an_id_answers_404_in_wagtails_choosers(staff_client, db) -> None:
    # Wagtail looked it up as it came: "Field 'id' expected a number but got 'письмо'".
    for path in (
        "/admin/coalition_organization_chooser/chosen/письмо/",
        "/admin/images/chooser/chosen/abc/",
    ):
        assert staff_client.get(path).status_code == 404
