"""A letter's PDF still being rendered by the worker: its address answers 503 with Retry-After
for programs, and a page of the site for readers that says so and asks again by itself."""

import logging

import pytest
from bs4 import BeautifulSoup

from letters.public_page import PDF_RETRY_SECONDS
from letters.versions import attach_publication_pdf
from tests.factories import make_letter, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting_letter():
    """Published, its PDF job queued after commit and not run: the PDF is not there yet."""
    letter = publish(make_letter(live=False))
    assert not letter.publications.get().pdf
    return letter


@pytest.mark.parametrize("address", ["pdf/", "pdf/v1/"])
def test_a_pdf_being_made_is_a_page_that_says_so_and_asks_again(
    client, waiting_letter, address, django_assert_max_num_queries, caplog
):
    # Wagtail finding the page and its route, the version, the letterhead: no more.
    with django_assert_max_num_queries(13):
        response = client.get(f"{waiting_letter.url}{address}")

    assert response.status_code == 503
    assert response["Retry-After"] == str(PDF_RETRY_SECONDS)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    page = BeautifulSoup(response.content, "html.parser")
    assert page.h1.get_text() == "The PDF is being prepared"
    assert waiting_letter.title in page.main.get_text()
    assert page.find("a", string="read the letter on its page")["href"] == waiting_letter.url
    assert page.find("a", string="Look again now")["href"] == f"{waiting_letter.url}{address}"
    assert page.find(attrs={"data-pdf-pending": str(PDF_RETRY_SECONDS)}) is not None
    # Asked again in the background with scripts, by the browser without; no inline script.
    [script] = page.find_all("script")
    assert script["src"] == "/static/letters/pdf-pending.js" and not script.string
    refresh = BeautifulSoup(page.noscript.decode_contents(), "html.parser").meta
    assert (refresh["http-equiv"], refresh["content"]) == ("refresh", str(PDF_RETRY_SECONDS))
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    # Expected while it lasts, and asked for again and again: no error logged (nor reported).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_once_the_pdf_is_made_the_same_address_serves_it(client, waiting_letter):
    assert client.get(f"{waiting_letter.url}pdf/").status_code == 503

    attach_publication_pdf(publication=waiting_letter.publications.get())

    response = client.get(f"{waiting_letter.url}pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
