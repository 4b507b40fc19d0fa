"""PDF render times for the seed letter and for long signatory lists (`make bench`).

Figures only: rendering must stay roughly linear in the number of signatories (the signatory
list uses CSS columns, never grid or flex, which WeasyPrint lays out in quadratic time).
"""

import io
import time

import pytest
from pypdf import PdfReader

from letters.lines import SignatoryLine
from letters.pdf import letter_pdf_html, render_letter_pdf
from signatories.interchange import import_letter

pytestmark = [pytest.mark.bench, pytest.mark.django_db]


def synthetic_lines(count: int) -> list[SignatoryLine]:
    return [
        SignatoryLine(text=f"National Association of Example Makers {n:04d} (NAEM{n})")
        for n in range(count)
    ]


def timed(page, lines, repeat: int) -> tuple[float, float, int]:
    """Best wall time of `repeat` renders, the HTML share of it, and the page count."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        pdf = render_letter_pdf(page, lines)
        best = min(best, time.perf_counter() - start)
    start = time.perf_counter()
    letter_pdf_html(page, lines)
    html_time = time.perf_counter() - start
    return best, html_time, len(PdfReader(io.BytesIO(pdf)).pages)


def bare_weasyprint(html: str, repeat: int) -> float:
    """Best wall time of WeasyPrint alone on the same HTML and files: no tags, no mending."""
    from weasyprint import HTML

    from letters.pdf import PDF_ORIGIN, local_only_fetcher

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        HTML(string=html, base_url=PDF_ORIGIN, url_fetcher=local_only_fetcher()).write_pdf()
        best = min(best, time.perf_counter() - start)
    return best


def test_pdf_render_times(seed_document, bench_row) -> None:
    letter = import_letter(document=seed_document, publish=True).letter
    seed_lines = letter.signatory_lines()
    render_letter_pdf(letter, seed_lines)  # warm up fonts and templates
    cases = [
        (f"seed letter ({len(seed_lines)} signatories)", seed_lines, 3),
        ("seed text, 100 signatories", synthetic_lines(100), 3),
        ("seed text, 1,000 signatories", synthetic_lines(1000), 1),
    ]
    print("\nPDF render (PDF/UA-1, best of N wall time)")
    results = []
    for label, lines, repeat in cases:
        seconds, html_seconds, pages = timed(letter, lines, repeat)
        results.append((len(lines), seconds))
        bare = bare_weasyprint(letter_pdf_html(letter, lines), repeat)
        print(
            f"  {label:<34} {seconds:6.2f} s  {pages:3d} pages  (HTML {html_seconds * 1000:.0f} ms;"
            f" bare WeasyPrint on that HTML {bare:.2f} s, {seconds / bare:.2f}x)"
        )
        bench_row(
            "PDF render, best of N (ours: HTML, tags, PDF/UA-1 mending; bare: WeasyPrint alone)",
            label,
            f"{seconds:.2f} s vs {bare:.2f} s bare = {seconds / bare:.2f}x",
            "",
        )
    (n1, t1), (n2, t2) = results[1], results[2]
    print(f"  per extra signatory, 100 -> 1,000: {(t2 - t1) / (n2 - n1) * 1000:.2f} ms")


def test_a_published_versions_pdf(seed_document, bench_row) -> None:
    """A version as it is published: PDF/A-3b and PDF/UA-1, its list inside, a QR code, signed
    by the coalition (the development certificate the suite makes), against the preview's PDF."""
    from letters import signing
    from letters.versions import render_version_pdf

    letter = import_letter(document=seed_document, publish=True).letter
    publication = letter.publications.get()
    render_version_pdf(publication)  # warm up fonts, templates and the certificate
    best_version = best_preview = best_signing = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        signed = render_version_pdf(publication)
        best_version = min(best_version, time.perf_counter() - start)
        start = time.perf_counter()
        preview = render_letter_pdf(letter, publication.lines())
        best_preview = min(best_preview, time.perf_counter() - start)
        unsigned = render_letter_pdf(letter, publication.lines(), variant="pdf/a-3b")
        start = time.perf_counter()
        signing.sign(unsigned, reason="bench", location="bench")
        best_signing = min(best_signing, time.perf_counter() - start)
    assert signed.signer and signing.check_signature(signed.pdf).holds
    print(
        f"\nPublished version of the seed letter: {best_version:.2f} s, {len(signed.pdf):,} bytes"
        f" (the preview's PDF/UA-1: {best_preview:.2f} s, {len(preview):,} bytes); signing "
        f"alone {best_signing * 1000:.0f} ms"
    )
    bench_row(
        "A published version's PDF, best of 3 (archival, files inside, QR code, signed)",
        "seed letter",
        f"{best_version:.2f} s vs {best_preview:.2f} s for the preview; signing "
        f"{best_signing * 1000:.0f} ms",
        "",
    )


def peak_resident_mib() -> float:
    """The process's peak resident memory since `reset_peak_resident` (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_resident() -> None:
    """Start VmHWM again from the memory in use now (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def test_a_list_of_100000_in_parts(seed_document, bench_row, tmp_path) -> None:
    """Issue 20: 100,000 names in bounded memory and time, archival as published versions are,
    still PDF/A-3b and PDF/UA-1: printed run-in (letters.pdf.RUN_IN_FROM), rendered in parts of
    `RUN_IN_PART_SIZE` and joined (letters.pdf_parts)."""
    import gc
    import json

    import page

    from letters import pdf_parts, signing
    from letters.pdf import ARCHIVAL, RUN_IN_FROM, part_size

    letter = import_letter(document=seed_document, publish=True).letter
    lines = [
        SignatoryLine(text=f"Person {n:06d} Example-Signer", detail="Independent")
        for n in range(100_000)
    ]
    render_letter_pdf(letter, lines[:10])  # warm up fonts and templates
    gc.collect()
    before = peak_resident_mib()
    reset_peak_resident()
    start, cpu_start = time.perf_counter(), time.process_time()
    pdf = render_letter_pdf(letter, lines, variant=ARCHIVAL)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = peak_resident_mib()
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    start = time.perf_counter()
    signed = signing.sign(pdf, reason="bench", location="bench")
    signing_seconds = time.perf_counter() - start
    path = tmp_path / "100000.pdf"
    path.write_bytes(signed.pdf)
    verdicts = {}
    for profile in ("3b", "ua1"):
        try:
            report = page.validate_pdf(str(path), profile=profile)
        except Exception as error:  # page-validation stops past a million objects
            verdicts[profile] = f"not checked ({error})"
            continue
        failed = sorted({f["rule_id"] for f in json.loads(report.to_json())["failures"]})
        verdicts[profile] = "passes" if report.is_compliant else f"FAILS {', '.join(failed)}"
    assert len(lines) >= RUN_IN_FROM and part_size(len(lines)) == pdf_parts.RUN_IN_PART_SIZE
    size = part_size(len(lines))
    parts = -(-len(lines) // size)
    print(
        f"\n100,000 signatories run-in, in {parts} parts of {size:,}: {seconds:.0f} s"
        f" ({cpu:.0f} s of CPU),"
        f" peak resident {peak:.0f} MiB (before: {before:.0f} MiB), {pages:,} pages,"
        f" {len(pdf):,} bytes; signing {signing_seconds:.1f} s; PDF/A-3b {verdicts['3b']},"
        f" PDF/UA-1 {verdicts['ua1']} (a shared 2-core machine: other work ran beside it)"
    )
    section = (
        "A list of 100,000 run-in, in parts (archival, joined with pikepdf; shared 2-core machine)"
    )
    bench_row(
        section,
        "wall time (CPU time)",
        f"{seconds / 60:.1f} min ({cpu / 60:.1f} min CPU; {pages:,} pages)",
        "under 10 min",
    )
    bench_row(section, "peak resident memory", f"{peak:.0f} MiB", "under 1 GB")
    bench_row(
        section,
        "file and standards",
        f"{len(pdf) / 1e6:.1f} MB; PDF/A-3b {verdicts['3b']}, PDF/UA-1 {verdicts['ua1']}",
        "",
    )
    assert signing.check_signature(signed.pdf).holds
