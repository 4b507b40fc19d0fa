"""Member contacts in the portal: real accounts, made as a sign-in code request makes them."""

import io
import re

from PIL import Image as PILImage

from coalition.crm.models import Contact
from coalition.crm.portal.services import address_for_login_code

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def png(colour: str = "navy", size: tuple[int, int] = (60, 24)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def account_of(contact: Contact):
    """The contact's account, made as asking for a sign-in code makes it."""
    address_for_login_code(contact.email)
    contact.refresh_from_db()
    assert contact.user is not None
    return contact.user


def log_in(client, contact: Contact):
    client.force_login(account_of(contact))
    return client
