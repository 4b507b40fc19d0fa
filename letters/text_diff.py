"""What changed between two circulated revisions, paragraph by paragraph, as escaped HTML."""

import difflib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from wagtail.models import Revision

# Each of these starts a new paragraph of the plain text; inline markup (b, i, a) does not.
BLOCK_TAGS = {
    "address",
    "blockquote",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ol",
    "p",
    "section",
    "ul",
}
WORDS = re.compile(r"\s+|[^\s]+")


class _Paragraphs(HTMLParser):
    """Collects the text of a rendered letter, one string per block, leaving out the signatories."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skipping = 0  # depth inside the signatories section

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self.paragraphs.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and (
            self._skipping or "signatories" in (dict(attrs).get("class") or "").split()
        ):
            self._skipping += 1
        if tag in BLOCK_TAGS and not self._skipping:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._skipping:
            self._skipping -= 1
            return
        if tag in BLOCK_TAGS and not self._skipping:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_paragraphs(html: str) -> list[str]:
    """The plain text of some HTML, one string per paragraph."""
    parser = _Paragraphs()
    parser.feed(html)
    parser.close()
    return parser.paragraphs


def revision_paragraphs(revision: Revision) -> list[str]:
    """The plain text of a revision's letter as it renders, one string per paragraph."""
    letter = revision.as_object()
    return html_paragraphs(
        render_to_string("letters/includes/letter_text.html", letter.letter_context([]))
    )


@dataclass(frozen=True)
class ChangedParagraph:
    kind: str  # "added", "removed" or "changed"
    html: SafeString
    # For plain-text email: removed words [-like this-], added words {+like this+}.
    text: str = ""

    @property
    def label(self) -> str:
        return {"added": "Added", "removed": "Removed", "changed": "Changed"}[self.kind]


# The bracketed words are for screen readers, most of which do not announce <del> and <ins>.
def _removed(text: str) -> SafeString:
    return format_html(
        '<del><span class="visually-hidden">[removed: </span>{}'
        '<span class="visually-hidden">]</span></del>',
        text,
    )


def _added(text: str) -> SafeString:
    return format_html(
        '<ins><span class="visually-hidden">[added: </span>{}'
        '<span class="visually-hidden">]</span></ins>',
        text,
    )


def _word_diff(old: str, new: str) -> tuple[SafeString, str]:
    old_words, new_words = WORDS.findall(old), WORDS.findall(new)
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    parts: list[str] = []
    plain: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append("".join(old_words[i1:i2]))  # escaped by format_html_join
            plain.append("".join(old_words[i1:i2]))
            continue
        if i2 > i1:
            parts.append(_removed("".join(old_words[i1:i2])))
            plain.append(f"[-{''.join(old_words[i1:i2])}-]")
        if j2 > j1:
            parts.append(_added("".join(new_words[j1:j2])))
            plain.append(f"{{+{''.join(new_words[j1:j2])}+}}")
    return format_html_join("", "{}", ((part,) for part in parts)), "".join(plain)


def word_changes(old: str, new: str) -> ChangedParagraph:
    """One text against another in full, its removed and added words marked up."""
    return ChangedParagraph("changed", *_word_diff(old, new))


def diff_paragraphs(old: list[str], new: list[str]) -> list[ChangedParagraph]:
    """The paragraphs that differ, each with its removed and added words marked up."""
    changes: list[ChangedParagraph] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        before, after = old[i1:i2], new[j1:j2]
        paired = min(len(before), len(after)) if op == "replace" else 0
        for old_text, new_text in zip(before[:paired], after[:paired], strict=True):
            changes.append(ChangedParagraph("changed", *_word_diff(old_text, new_text)))
        for text in before[paired:]:
            changes.append(ChangedParagraph("removed", _removed(text), f"[-{text}-]"))
        for text in after[paired:]:
            changes.append(ChangedParagraph("added", _added(text), f"{{+{text}+}}"))
    return changes


def diff_revisions(old: Revision, new: Revision) -> list[ChangedParagraph]:
    """The changed paragraphs between two revisions of a letter."""
    return diff_paragraphs(revision_paragraphs(old), revision_paragraphs(new))
