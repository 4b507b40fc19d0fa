"""Submitting a page's form as a browser would: the fields the page holds, as it fills them,
with the changes a person makes, sent by the button they press."""

import re
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, Tag
from django.test import Client


@dataclass
class Submitted:
    """The page the form was on, and the answer to sending it (None if the page had no such form)."""

    page: Any
    response: Any


def _button(soup: BeautifulSoup, label: str, sending_to: str) -> Tag | None:
    wanted = re.compile(label, re.IGNORECASE)
    for button in soup.find_all(["button", "input"]):
        if button.name == "input" and button.get("type") != "submit":
            continue
        if sending_to and sending_to not in (button.get("formaction") or ""):
            continue
        text = button.get_text(" ", strip=True) if button.name == "button" else button.get("value")
        if button.get("type", "submit") == "submit" and wanted.search(text or ""):
            return button
    return None


def form_fields(form: Tag) -> dict[str, list[str]]:
    """What the form sends as it stands: its values, its ticked boxes, its chosen options."""
    fields: dict[str, list[str]] = {}
    outside = (
        form.find_parent("html").find_all(attrs={"form": form.get("id")}) if form.get("id") else []
    )
    for element in [*form.find_all(["input", "textarea", "select"]), *outside]:
        if element.name not in ("input", "textarea", "select"):
            continue
        name = element.get("name")
        if not name or element.has_attr("disabled"):
            continue
        kind = element.get("type", "text")
        if element.name == "input" and kind in ("submit", "button", "file", "image", "reset"):
            continue
        if kind in ("checkbox", "radio"):
            if element.has_attr("checked"):
                fields.setdefault(name, []).append(element.get("value", "on"))
            continue
        if element.name == "textarea":
            fields.setdefault(name, []).append(element.get_text())
        elif element.name == "select":
            options = element.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")] or options[:1]
            fields.setdefault(name, []).extend(o.get("value", o.get_text()) for o in chosen)
        else:
            fields.setdefault(name, []).append(element.get("value", ""))
    return fields


def submit(
    client: Client,
    url: str,
    button: str,
    *,
    changes: dict[str, Any] | None = None,
    sending_to: str = "",
) -> Submitted:
    """Open `url`, fill in `changes` and press the button whose words match `button` (and that
    sends its form to an address containing `sending_to`, where several buttons read alike)."""
    return press(client, client.get(url), url, button, changes=changes, sending_to=sending_to)


def press(
    client: Client,
    page: Any,
    url: str,
    button: str,
    *,
    changes: dict[str, Any] | None = None,
    sending_to: str = "",
) -> Submitted:
    """On a page already open (at `url`), fill in `changes` and press a button, as `submit`."""
    if page.status_code not in (200, 400, 409):
        return Submitted(page=page, response=None)
    soup = BeautifulSoup(page.content, "html.parser")
    pressed = _button(soup, button, sending_to)
    if pressed is None:
        return Submitted(page=page, response=None)
    # A button may belong to a form elsewhere on the page, and send it to an address of its own.
    form = soup.find(id=pressed["form"]) if pressed.get("form") else pressed.find_parent("form")
    if form is None:
        return Submitted(page=page, response=None)
    fields = form_fields(form)
    if pressed.get("name"):
        fields[pressed["name"]] = [pressed.get("value", "")]
    for name, value in (changes or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value if isinstance(value, list) else [str(value)]
    action = pressed.get("formaction") or form.get("action") or url
    if (form.get("method") or "get").lower() == "get":
        return Submitted(page=page, response=client.get(action, fields))
    return Submitted(page=page, response=client.post(action, fields))
