"""What makes WeasyPrint's output pass PDF/UA-1 and PDF/A-3b (veraPDF's rules, as
page-validation checks them): WeasyPrint's finisher hook, run on every PDF the project renders
(letters.pdf.render_pdf)."""

from typing import Any

import pydyf  # WeasyPrint's PDF writer, which its finisher gets (untyped: see pyproject)


def mend_for_standards(document: Any, pdf: Any, *, archival: bool) -> None:
    """Repairs WeasyPrint's PDF where it breaks a rule of PDF/UA-1 or PDF/A-3b."""
    _unambiguous_stream_ends(pdf)
    if "Metadata" in pdf.catalog:
        # PDF/A: no filter on the XMP metadata stream (WeasyPrint compresses it with the rest).
        _object(pdf, pdf.catalog["Metadata"]).compress = False
    if archival:
        _without_image_interpolation(pdf)
        _declare_accessible(pdf)
    if "StructTreeRoot" in pdf.catalog:
        decorations = _decorations_out_of_the_tree(pdf)
        _untagged_content_as_artifacts(pdf, decorations)
        _list_item_bodies(pdf)


class _EndOfLineKeptApart:
    """pydyf writes a stream as `stream LF data LF endstream`. When the data itself ends with CR
    (about one compressed stream in twenty-five), a reader takes CR LF for the end-of-line marker
    and the /Length for one byte more than the data (PDF/A 6.1.7.1). Such a stream ends with its
    own CR LF instead, which leaves no doubt where the data stops."""

    @property
    def data(self) -> bytes:
        data: bytes = super().data  # type: ignore[misc]  # a mixin: the stream class it joins has it
        if data.endswith(b"\r\nendstream"):
            return data[: -len(b"\nendstream")] + b"\r\nendstream"
        return data


_KEPT_APART: dict[type, type] = {}


def _kept_apart(item: Any) -> None:
    if isinstance(item, pydyf.Stream) and not isinstance(item, _EndOfLineKeptApart):
        kind = type(item)
        if kind not in _KEPT_APART:
            _KEPT_APART[kind] = type(kind.__name__, (_EndOfLineKeptApart, kind), {})
        item.__class__ = _KEPT_APART[kind]


class _StreamsKeptApart(pydyf.PDF):
    """A PDF whose streams, those it has and those it adds as it writes (the object stream and the
    cross-reference stream, which hold the dates), end as `_EndOfLineKeptApart` says."""

    def add_object(self, object_: Any) -> None:
        _kept_apart(object_)
        super().add_object(object_)


def _unambiguous_stream_ends(pdf: Any) -> None:
    for item in pdf.objects:
        _kept_apart(item)
    pdf.__class__ = _StreamsKeptApart


def _object(pdf: Any, reference: bytes | str) -> Any:
    return pdf.objects[_number(reference)]


def _number(reference: bytes | str) -> int:
    return int(reference.split()[0])


def _elements(pdf: Any) -> list[Any]:
    """Every structure element in the file, in the tree or not."""
    return [
        item
        for item in pdf.objects
        if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/StructElem"
    ]


# PDF/UA-1 names itself in the XMP metadata (pdfuaid:part); PDF/A allows a property outside its
# predefined schemas only with an extension schema that declares it (PDF/A-1 6.7.8, kept by
# PDF/A-3), so the archival file declares both in WeasyPrint's RDF.
_ACCESSIBLE = b"""<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">\
<pdfuaid:part>1</pdfuaid:part></rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"><pdfaExtension:schemas><rdf:Bag>\
<rdf:li rdf:parseType="Resource">\
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\
<pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\
<pdfaProperty:category>internal</pdfaProperty:category>\
<pdfaProperty:description>The part of ISO 14289 the file conforms to</pdfaProperty:description>\
</rdf:li></rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas>\
</rdf:Description>
"""


def _declare_accessible(pdf: Any) -> None:
    """The archival file is PDF/UA-1 too: say so where both standards look."""
    metadata = _object(pdf, pdf.catalog["Metadata"])
    xml = b"".join(metadata.stream)
    metadata.stream = [xml.replace(b"</rdf:RDF>", _ACCESSIBLE + b"</rdf:RDF>", 1)]


def _without_image_interpolation(pdf: Any) -> None:
    """PDF/A forbids /Interpolate true, which WeasyPrint sets for `image-rendering: auto`."""
    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and item.extra.get("Subtype") == "/Image":
            item.extra["Interpolate"] = "false"


def _decorations_out_of_the_tree(pdf: Any) -> set[int]:
    """Images with empty alternative text (alt="", the signatories' logos) are decoration.

    WeasyPrint tags every image as a Figure, and PDF/UA-1 wants a Figure to have alternative
    text; decoration is an artifact instead. Our templates give every other image its alt text.
    """
    decorations = set()
    for item in _elements(pdf):
        if item["S"] == "/Figure" and not (item.get("Alt") or item.get("ActualText")):
            siblings = _object(pdf, item["P"])["K"]
            if item.reference in siblings:  # not so in a page margin, whose tags hang loose
                siblings.remove(item.reference)
            decorations.add(item.number)
    return decorations


def _in_the_tree(pdf: Any) -> set[int]:
    """The object numbers of the structure elements that the tree reaches from its root."""
    reached: set[int] = set()
    todo = list(_object(pdf, pdf.catalog["StructTreeRoot"])["K"])
    while todo:
        kid = todo.pop()
        if isinstance(kid, int) or _number(kid) in reached:  # an int is marked content
            continue
        reached.add(_number(kid))
        element = _object(pdf, kid)
        if element.get("Type") == "/StructElem":
            todo.extend(element["K"])
    return reached


def _untagged_content_as_artifacts(pdf: Any, decorations: set[int]) -> None:
    """Marked content that the structure tree does not reach becomes an artifact.

    That is the text of the page margins (running title, footer, "Page 2 of 5"): WeasyPrint
    marks it as content and gives it structure elements that it leaves out of the tree
    (Kozea/WeasyPrint#1836), so it still reads as content, on every page. It becomes a
    pagination artifact, as do decorations a layout one; the elements go, and each page's
    marked content is numbered again without them.
    """
    root = _object(pdf, pdf.catalog["StructTreeRoot"])
    reached = _in_the_tree(pdf)
    page_references = pdf.page_references
    new_numbers: dict[bytes, dict[int, int]] = {}
    artifacts: dict[bytes, dict[int, str]] = {}
    nums = _object(pdf, root["ParentTree"])["Nums"]
    for key, parents in zip(nums[::2], nums[1::2], strict=True):
        if not isinstance(parents, list):  # an annotation's parent, not a page's content
            continue
        page = page_references[key]
        new_numbers[page], artifacts[page] = {}, {}
        kept: list[bytes] = []
        for mcid, parent in enumerate(parents):
            if _number(parent) in reached:
                new_numbers[page][mcid] = len(kept)
                kept.append(parent)
            else:
                artifacts[page][mcid] = (
                    "/Layout" if _number(parent) in decorations else "/Pagination"
                )
        parents[:] = kept
    for page, numbers in new_numbers.items():
        operations = _object(pdf, _object(pdf, page)["Contents"]).stream
        for index, operand in enumerate(operations):
            if isinstance(operand, dict) and "MCID" in operand:
                mcid = operand.pop("MCID")
                if mcid in numbers:
                    operand["MCID"] = numbers[mcid]
                else:  # `/Span <</MCID 7>> BDC` becomes `/Artifact <</Type /Pagination>> BDC`
                    operations[index - 1] = "/Artifact"
                    operand["Type"] = artifacts[page][mcid]
    for element in _elements(pdf):
        if element.number not in reached:
            element.clear()  # referenced by nothing now; pydyf cannot unnumber an object
        elif numbers := new_numbers.get(element.get("Pg"), {}):
            element["K"][:] = [numbers[k] if isinstance(k, int) else k for k in element["K"]]


def _list_item_bodies(pdf: Any) -> None:
    """What a list item holds besides its label goes into an LBody (PDF/UA-1: LI kids).

    WeasyPrint adds the LBody only when the item's text is inline: an item whose rich text
    is a paragraph (<li><p>) gets its P straight under the LI.
    """
    for item in [element for element in _elements(pdf) if element["S"] == "/LI"]:
        kids, body = pydyf.Array(), None
        for kid in item["K"]:
            child = None if isinstance(kid, int) else _object(pdf, kid)
            if child is not None and child.get("S") in ("/Lbl", "/LBody"):
                kids.append(kid)
                body = None
                continue
            if body is None:
                body = pydyf.Dictionary(
                    {
                        "Type": "/StructElem",
                        "S": "/LBody",
                        "K": pydyf.Array(),
                        "Pg": item["Pg"],
                        "P": item.reference,
                    }
                )
                pdf.add_object(body)
                kids.append(body.reference)
            body["K"].append(kid)
            if child is not None:
                child["P"] = body.reference
        item["K"] = kids
