"""Fixtures for the letters tests: a letter with every kind of block, a letterhead, a logo."""

import datetime
import io

import pytest
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images.models import Image
from wagtail.models import Site

from letters.models import Letterhead
from tests.factories import make_letter
from tests.support.letters import EVERY_BLOCK


@pytest.fixture
def letter(db):
    """A published letter with one block of each type and a cc and footnote."""
    return make_letter(
        body=EVERY_BLOCK,
        cc="Office of the Trade Representative",
        footnotes="See the annex.",
        dateline="",
        letter_date=datetime.date(2025, 3, 12),
    )


@pytest.fixture
def letterhead(db):
    site = Site.objects.get(is_default_site=True)
    letterhead = Letterhead.for_site(site)
    letterhead.coalition_name = "Widget Trade Coalition"
    letterhead.address = "1 Widget Way\nWashington, DC 20001"
    letterhead.footer = "widgetcoalition.example · +1 202 555 0100"
    letterhead.save()
    return letterhead


@pytest.fixture
def logo(db):
    buffer = io.BytesIO()
    PILImage.new("RGB", (120, 40), (20, 60, 120)).save(buffer, "PNG")
    return Image.objects.create(title="Coalition logo", file=ImageFile(buffer, name="logo.png"))
