"""Joining a letter's PDF rendered in parts into one file that is still PDF/UA-1 and PDF/A-3b.

WeasyPrint lays out a whole document in memory, at a few hundred kilobytes per signatory; a list
of a hundred thousand names would need gigabytes. Past `PART_SIZE` lines the letter is rendered
in parts (letters.pdf), each a complete tagged PDF of its own, freed before the next, and joined
here with pikepdf (qpdf), which copies the parts' objects without holding them as Python objects.

One file must have one structure tree: each further part's top-level elements go under the first
part's Document element, its pages' /StructParents and its annotations' /StructParent move past
the keys already used, and the parent tree is built again from all of them. The document's own
parts (catalog, XMP metadata, output intent, associated files, information dictionary) are the
first part's, as WeasyPrint wrote them.

Measured limit, one list item per name: qpdf keeps every object of the joined file in memory,
about 1 KB each, and the structure tree has some ten objects per name, so the join itself grows by
about 9 KB per name (37 MB per part of 4,000): 100,000 names would reach about 1.4 GB resident.
So a list that long prints its names run-in (letters.pdf.RUN_IN_FROM), a few objects per line of
names, in parts of `RUN_IN_PART_SIZE`, and stays under 700 MB (tests/benchmarks/bench_pdf.py).
"""

import io
import re
from collections.abc import Iterable, Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

#: Signatory lines per part. A part of 4,000 short lines lays out in about 10 s and 200 MB.
PART_SIZE = 4000
#: Signatory lines per part of a list printed run-in (letters.pdf.RUN_IN_FROM), which lays out in
#: a tenth of the memory per name and adds a few objects per line of names, not ten per name.
#: Measured: one render of 20,000 run-in names peaks at 380 MB, about 11 KB a name, so 100,000
#: in one would near 1.3 GB; in four parts of 25,000 they peak at about 690 MB, joined, in about
#: 250 s of CPU for both passes (tests/benchmarks/bench_pdf.py).
RUN_IN_PART_SIZE = 25_000


def join_parts(parts: Iterable[bytes]) -> bytes:
    """One PDF of the parts' pages in order, with one structure tree, outline and parent tree."""
    pieces = iter(parts)
    joined = Pdf.open(io.BytesIO(next(pieces)))
    tree = joined.Root.StructTreeRoot
    document = _document_element(tree)
    entries = list(_number_tree(tree.ParentTree))
    next_key = max((key for key, _ in entries), default=-1) + 1
    for part in pieces:
        with Pdf.open(io.BytesIO(part)) as other:
            next_key = _append_part(joined, document, entries, next_key, other)
    tree.ParentTree = joined.make_indirect(
        Dictionary(Nums=Array([item for key, value in entries for item in (key, value)]))
    )
    tree.ParentTreeNextKey = next_key
    out = io.BytesIO()
    # Object streams keep the file small (the tree has several objects per name); qpdf leaves
    # the XMP metadata stream uncompressed, as PDF/A wants it.
    joined.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    joined.close()
    return _unambiguous_stream_ends(out.getvalue())


def _unambiguous_stream_ends(data: bytes) -> bytes:
    """qpdf's file with every stream whose data ends with CR ending in CR LF before `endstream`.

    qpdf writes `stream LF data LF endstream`; when the data ends with CR (a compressed stream,
    about one in 250: at 100,000 names, nine of them), a reader takes CR LF for the end-of-line
    marker and the /Length for one byte more than the data (PDF/A 6.1.7.1), as letters.pdf's
    finisher mends for WeasyPrint. Here the CR goes in after the data and the space qpdf puts
    after the stream dictionary's `<<` goes out, so that the object keeps its length and the
    cross-reference offsets stay right.
    """
    fixed = bytearray(data)
    for match in re.finditer(rb"\r\nendstream", data):
        end = match.start() + 1  # the LF, after the data's last byte
        start = data.rfind(b" obj\n<< ", 0, end)
        opening = start + len(b" obj\n<<")
        length = re.match(rb" [^>]*?/Length (\d+)[^>]*>>\nstream\n", data[opening:end])
        if start < 0 or length is None or opening + length.end() + int(length[1]) != end:
            raise ValueError(f"a stream ending at byte {end} is not as qpdf writes them")
        fixed[opening:end] = data[opening + 1 : end] + b"\r"
    return bytes(fixed)


def _append_part(
    joined: Pdf,
    document: pikepdf.Object,
    entries: list[tuple[int, pikepdf.Object]],
    next_key: int,
    other: Pdf,
) -> int:
    """Add the other part's pages, its structure under `document`, its parent tree entries to
    `entries` (its keys moved to begin at `next_key`) and its outline; the next free key."""
    first_page = len(joined.pages)
    other_tree = other.Root.StructTreeRoot
    for page in other.pages:
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + next_key
        for annotation in page.obj.get("/Annots", Array()):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + next_key
    moved = [(key + next_key, value) for key, value in _number_tree(other_tree.ParentTree)]
    other_document = _document_element(other_tree)
    kids = [kid for kid in _as_list(other_document.get("/K")) if isinstance(kid, Dictionary)]
    for kid in kids:
        # Cut from the other part's tree before copying, or qpdf would copy the whole of it.
        del kid["/P"]
    joined.pages.extend(other.pages)
    # qpdf maps each of the other part's objects to one copy, so the elements' /Pg point at the
    # pages just copied.
    for kid in kids:
        copy = joined.copy_foreign(kid)
        copy.P = document
        document.K.append(copy)
    for key, value in moved:
        entries.append((key, _copied(joined, value)))
    _merge_role_map(joined.Root.StructTreeRoot, other_tree)
    _append_outline(joined, other, first_page)
    return max((key for key, _ in moved), default=next_key - 1) + 1


def _copied(joined: Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """A parent tree value of another PDF, as objects of the joined one."""
    if value.is_indirect:
        return joined.copy_foreign(value)
    if isinstance(value, Array):
        return Array([joined.copy_foreign(item) if item.is_indirect else item for item in value])
    return value


def _document_element(tree: pikepdf.Object) -> pikepdf.Object:
    """The Document element WeasyPrint puts at the top of its structure tree."""
    kids = _as_list(tree.K)
    if len(kids) != 1 or not isinstance(kids[0], Dictionary) or kids[0].get("/S") != "/Document":
        raise ValueError("a part's structure tree does not hold one Document element")
    document = kids[0]
    if not isinstance(document.get("/K"), Array):
        document.K = Array(_as_list(document.get("/K")))
    return document


def _as_list(value: pikepdf.Object | None) -> list[pikepdf.Object]:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _number_tree(node: pikepdf.Object) -> Iterator[tuple[int, pikepdf.Object]]:
    """The (key, value) pairs of a number tree, in order (ISO 32000-1, 7.9.7)."""
    nums = node.get("/Nums")
    if nums is not None:
        for index in range(0, len(nums), 2):
            yield int(nums[index]), nums[index + 1]
    for kid in node.get("/Kids", Array()):
        yield from _number_tree(kid)


def _merge_role_map(tree: pikepdf.Object, other_tree: pikepdf.Object) -> None:
    """Role mappings of the other part that the first lacks (WeasyPrint 70 writes none)."""
    if "/RoleMap" not in other_tree:
        return
    if "/RoleMap" not in tree:
        tree.RoleMap = Dictionary()
    for name, role in other_tree.RoleMap.items():
        if name not in tree.RoleMap:
            tree.RoleMap[name] = Name(str(role))
    if "/IDTree" in other_tree:
        raise ValueError("a part has an ID tree, which joining does not merge")


def _append_outline(joined: Pdf, other: Pdf, first_page: int) -> None:
    """The other part's bookmarks (a group heading that begins in it) after the joined ones."""
    if "/Outlines" not in other.Root:
        return
    pages = {page.obj.objgen: index for index, page in enumerate(other.pages)}
    with other.open_outline() as source, joined.open_outline() as target:
        target.root.extend(_outline_items(source.root, pages, first_page))


def _outline_items(
    items: list[pikepdf.OutlineItem], pages: dict[tuple[int, int], int], first_page: int
) -> list[pikepdf.OutlineItem]:
    copies = []
    for item in items:
        destination = item.destination
        index = 0
        if isinstance(destination, Array) and len(destination) and destination[0].is_indirect:
            index = pages.get(destination[0].objgen, 0)
        copy = pikepdf.OutlineItem(item.title, first_page + index)
        copy.children.extend(_outline_items(item.children, pages, first_page))
        copies.append(copy)
    return copies
