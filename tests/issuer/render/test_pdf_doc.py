"""The own PDF writer: a valid cross-reference table, cached font subsets, the checked QR."""

from __future__ import annotations

import re
from typing import Literal

import pytest

from issuer.issuer import Issuer
from issuer.render.pdf import find_unicode_font, render_pdf
from issuer.render.pdf_doc import parse_png
from issuer.render.pdf_font import load_face
from tests.issuer.render.conftest import issue_example
from verifier.qr_read import read_qr


def test_every_cross_reference_points_at_its_object(issuer: Issuer) -> None:
    pdf = render_pdf(issue_example(issuer))
    startxref = int(re.findall(rb"startxref\n(\d+)\n%%EOF\n$", pdf)[0])
    table = pdf[startxref:].split(b"trailer")[0].splitlines()
    assert table[0] == b"xref"
    count = int(table[1].split()[1])
    entries = table[2 : 2 + count]
    assert entries[0].endswith(b"f ")
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry.split()[0])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    assert b"/Size %d" % count in pdf


def test_the_embedded_qr_image_is_the_png_that_was_checked(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    seen: list[tuple[str, bytes, str]] = []

    def check(kind: Literal["png", "svg"], image: bytes, text: str) -> None:
        seen.append((kind, image, text))

    pdf = render_pdf(issued, check=check)
    [(kind, png, text)] = seen
    assert (kind, text) == ("png", issued.hc1)
    assert read_qr(png) == issued.hc1
    assert parse_png(png).idat in pdf


@pytest.mark.skipif(find_unicode_font() is None, reason="DejaVu Sans not installed")
def test_latin_certificates_share_one_subset_and_other_scripts_add_their_pages(
    issuer: Issuer,
) -> None:
    fonts = find_unicode_font()
    assert fonts is not None
    face = load_face(fonts[0])
    latin = face.subset("Müller-Schmidt Łukasz")
    assert face.subset("Anna Maria Dvořák") is latin
    greek = face.subset("Ελένη")
    assert greek is not latin
    assert ord("Λ") in greek.gids
    assert ord("Λ") not in latin.gids
    assert ord("ł") in greek.gids  # the Latin pages are always in
    assert b"/FontFile2" in render_pdf(issue_example(issuer, given_name="Ελένη"))
    labels = face.subset("Valid until", exact=True)  # fixed text: only its characters
    assert set(labels.gids) == set(map(ord, "Valid until"))
    assert face.subset("until Valid", exact=True) is labels
