"""The letter's body both ways: the schema's inline text to Wagtail's rich text and back."""

import html
import re
from html.parser import HTMLParser
from typing import Any

import nh3

INLINE_TAGS = {"b", "strong", "i", "em", "br", "a"}


def clean_inline(text: str) -> str:
    """Sanitise inline HTML to the tags the schema allows, in the form Wagtail's editor stores."""
    cleaned = nh3.clean(
        text,
        tags=INLINE_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    cleaned = re.sub(r"<(/?)strong>", r"<\1b>", cleaned)
    return re.sub(r"<(/?)em>", r"<\1i>", cleaned)


def _rich(text: str) -> str:
    return f"<p>{clean_inline(text)}</p>"


class _InlineText(HTMLParser):
    """Rich text back to the schema's inline text: paragraphs split, allowed tags kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            if self.paragraphs[-1]:
                self.paragraphs.append("")
        elif tag == "br":
            self.paragraphs[-1] += "<br>"
        elif tag in {"b", "i"}:
            self.paragraphs[-1] += f"<{tag}>"
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.paragraphs[-1] += f'<a href="{html.escape(href)}">'

    def handle_endtag(self, tag: str) -> None:
        if tag in {"b", "i", "a"}:
            self.paragraphs[-1] += f"</{tag}>"

    def handle_data(self, data: str) -> None:
        self.paragraphs[-1] += data.replace("<", "&lt;").replace(">", "&gt;")


def rich_to_paragraphs(value: Any) -> list[str]:
    parser = _InlineText()
    parser.feed(str(getattr(value, "source", value)))
    parser.close()
    return [p for p in parser.paragraphs if p.strip()]


def derive_title(document: dict[str, Any]) -> str:
    recipients = document.get("recipients") or []
    date = document.get("date")
    if recipients:
        title = f"Letter to {recipients[0]}"
        return f"{title}, {date}" if date else title
    if date:
        return f"Letter of {date}"
    first = document["body"][0]
    text = first.get("text") or first.get("items", [""])[0]
    words = html.unescape(re.sub(r"<[^>]+>", "", clean_inline(text))).split()
    return " ".join(words[:10]) + ("…" if len(words) > 10 else "")


def body_stream(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stream: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] == "paragraph":
            stream.append({"type": "paragraph", "value": _rich(block["text"])})
        elif block["type"] == "heading":
            stream.append({"type": "heading", "value": block["text"].strip()})
        else:
            items = [_rich(item) for item in block["items"]]
            stream.append({"type": block["type"], "value": items})
    return stream
