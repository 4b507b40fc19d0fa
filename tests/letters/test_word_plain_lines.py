"""A signatory block typed as plain lines: with no closing line and no heading, a run of three or
more short lines at the end of a letter that all read as names, of organizations or of people and
in any script, is the signatory block; sentences, sign-offs and a list the body introduces stay in
the body."""

import io

import docx
import pytest

from letters.word import WordLetter, read_word_letter
from tests.letters.word_documents import save

TITLE = "Joint letter on community networks"
BODY = [
    "We write to ask the Commission to keep spectrum open to community networks.",
    "Community networks connect the places that markets leave out.",
]
ASKS = ["Reserve spectrum for local operators", "Fund training", "Publish the evidence"]


def ordinary_letter(*last: str, ask_after: str = "What we ask") -> bytes:
    """A letter written to Word the ordinary way: Title, headings, a list, then `last` typed one
    per line."""
    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    document.add_paragraph(BODY[0])
    document.add_heading(ask_after, level=2)
    for item in ASKS:
        document.add_paragraph(item, style="List Bullet")
    document.add_paragraph(BODY[1])
    for line in last:
        document.add_paragraph(line)
    return save(document)


def read(data: bytes) -> WordLetter:
    return read_word_letter(io.BytesIO(data), name="letter.docx")


def body_end(letter: WordLetter) -> list[str]:
    """The texts of the body's last blocks after the list: what stayed in the body."""
    last = letter.body[-1]
    texts = []
    for block in letter.body[letter.body.index(last) - 10 :]:
        if block["type"] == "paragraph":
            texts.append(block["value"].removeprefix("<p>").removesuffix("</p>"))
    return texts[texts.index(BODY[1]) :]


ORGANIZATIONS = ["AlterMundi", "Alvatal", "ANSOL", "Guifi.net", "Freifunk"]
PEOPLE = ["Jane Roe", "Ana María Ruiz", "Jean-Luc Dupont", "Dr. John Smith"]
SCRIPTS = {
    "greek": ["Homo Digitalis", "Ελένη Παπαδοπούλου", "Ένωση Πληροφορικής Ελλάδος"],
    "cyrillic": ["Роскомсвобода", "Иван Петров", "Мария Иванова"],
    "arabic": ["مؤسسة الحقوق الرقمية", "أحمد خالد", "سمير القاسم"],
    "cjk": ["数字权利中心", "山田太郎", "사단법인 오픈넷"],
}


@pytest.mark.parametrize(
    "names",
    [ORGANIZATIONS, PEOPLE, ORGANIZATIONS[:2] + PEOPLE[:2], *SCRIPTS.values()],
    ids=["organizations", "people", "mixed", *SCRIPTS],
)
def test_three_or_more_plain_names_at_the_end_are_the_signatory_block(names: list[str]) -> None:
    letter = read(ordinary_letter(*names))

    assert letter.signatory_lines == names
    assert body_end(letter) == [BODY[1]]
    assert letter.closing == ""
    assert letter.notes == []


def test_organizations_without_an_organization_word_read_as_organizations() -> None:
    letter = read(ordinary_letter("AlterMundi", "Alvatal", "ANSOL"))

    assert letter.signatories == [{"name": "AlterMundi"}, {"name": "Alvatal"}, {"name": "ANSOL"}]


@pytest.mark.parametrize(
    "last",
    [
        # Sentences and sign-offs, in any script.
        ["Together we can do it", "See you in Brussels", "Let us act now"],
        ["我们敦促委员会保护社区网络。", "社区网络连接了市场遗漏的地方。", "谢谢。"],
        ["نطالب المفوضية بحماية الشبكات المجتمعية.", "شكرا لكم؟", "مع التحية؛"],
        ["Мы просим Комиссию защитить сети.", "Спасибо!", "До встречи…"],
        # A sender's signature: a name, a title on a line of its own, an organization.
        ["Jane Roe", "Executive Director", "Community Networks"],
        # A line of an unspaced script as long as a sentence.
        [
            "数字权利中心",
            "山田太郎",
            "我们敦促委员会保护社区网络并为地方运营商保留频谱以连接那些市场遗漏的地方和人民",
        ],
        # Too long to be a name.
        [
            "Jane Roe",
            "John Smith",
            ("The Commission Should Reserve Spectrum For Local Operators " * 2).strip(),
        ],
    ],
    ids=["sentences", "chinese", "arabic", "russian", "signature", "unspaced", "long"],
)
def test_short_last_lines_that_are_not_all_names_stay_in_the_body(last: list[str]) -> None:
    letter = read(ordinary_letter(*last))

    assert letter.signatories == []
    assert body_end(letter) == [BODY[1], *last]


def test_two_plain_names_stay_in_the_body_with_a_note() -> None:
    letter = read(ordinary_letter("AlterMundi", "Alvatal"))

    assert letter.signatories == []
    assert body_end(letter) == [BODY[1], "AlterMundi", "Alvatal"]
    assert "may be signatories (AlterMundi; Alvatal)" in letter.notes[0]


def test_a_list_of_names_the_body_introduces_stays_in_the_body() -> None:
    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    document.add_paragraph(BODY[0])
    document.add_paragraph("We thank the networks that hosted our visits:")
    for name in ORGANIZATIONS:
        document.add_paragraph(name, style="List Bullet")
    letter = read(save(document))

    assert letter.signatories == []
    assert letter.body[-1] == {"type": "bullets", "value": [f"<p>{n}</p>" for n in ORGANIZATIONS]}


def test_a_list_of_names_under_a_body_heading_stays_in_the_body() -> None:
    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    document.add_paragraph(BODY[0])
    document.add_heading("Where community networks work", level=2)
    for name in ORGANIZATIONS:
        document.add_paragraph(name, style="List Bullet")
    letter = read(save(document))

    assert letter.signatories == []
    assert letter.body[-1]["type"] == "section"


def test_a_letter_of_names_only_is_not_all_signatories() -> None:
    document = docx.Document()
    for name in ORGANIZATIONS:
        document.add_paragraph(name)
    letter = read(save(document))

    assert letter.signatories == []
