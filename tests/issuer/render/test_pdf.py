"""The printable certificate: A4, its QR code reads back to the HC1, both languages, local times."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2
import pytest

from issuer.issuer import IssuedCertificate, Issuer
from issuer.render.pdf import find_unicode_font, format_local, render_pdf
from signing.errors import ConfigError, DccError
from tests.issuer.render.conftest import issue_example
from verifier.qr_read import read_qr

A4_POINTS = (595.28, 841.89)
LABELS = (
    ("Date of birth", "Date de naissance"),
    ("Sample collected", "Prélèvement"),
    ("Valid until", "Valable jusqu'au"),
    ("Certificate identifier", "Identifiant du certificat"),
    ("Certificate issuer", "Émetteur du certificat"),
)
NEEDS_FONT = pytest.mark.skipif(
    find_unicode_font() is None,
    reason="DejaVu Sans not installed (Debian: apt-get install fonts-dejavu-core)",
)


class Rendered:
    """A PDF opened with pdfium: page count, size, text layer and page 1 as a PNG."""

    def __init__(self, pdf: bytes, *, dpi: int = 150) -> None:
        document = pypdfium2.PdfDocument(pdf)
        try:
            self.pages = len(document)
            page = document[0]
            self.size = page.get_size()
            textpage = page.get_textpage()
            self.text = textpage.get_text_bounded()
            self.footer_bottom = self._bottom_of(textpage, "Scannez")
            image = page.render(scale=dpi / 72).to_pil()
        finally:
            document.close()
        out = io.BytesIO()
        image.save(out, format="PNG")
        self.png = out.getvalue()

    @staticmethod
    def _bottom_of(textpage: Any, needle: str) -> float:
        searcher = textpage.search(needle)
        found = searcher.get_next()
        assert found is not None, f"{needle!r} not on the page"
        _, bottom, _, _ = textpage.get_charbox(found[0])
        return float(bottom)


def test_a4_page_whose_qr_reads_back_to_the_hc1(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    rendered = Rendered(render_pdf(issued))
    assert rendered.pages == 1
    assert rendered.size == pytest.approx(A4_POINTS, abs=0.1)
    assert read_qr(rendered.png) == issued.hc1


def test_the_qr_still_reads_at_print_resolution_of_a_cheap_printer(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    assert read_qr(Rendered(render_pdf(issued), dpi=96).png) == issued.hc1


def test_text_layer_has_the_uvci_and_both_languages(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    text = Rendered(render_pdf(issued)).text
    assert issued.uvci in text
    for english, french in LABELS:
        assert english in text
        assert french in text
    assert "EU Digital COVID Certificate" in text
    assert "Certificat COVID numérique de l'UE" in text
    assert "Not detected / Non détecté" in text
    assert "MUELLER<SCHMIDT<<ANNA<MARIA" in text
    assert "1985-03-02" in text


def test_times_are_local_with_their_offset(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    for zone in ("Europe/Luxembourg", "America/New_York", "Asia/Kolkata"):
        text = Rendered(render_pdf(issued, timezone=zone)).text
        assert format_local(issued.expires_at, ZoneInfo(zone)) in text
        assert format_local(issued.issued_at, ZoneInfo(zone)) in text
        assert zone in text
    summer = datetime(2021, 7, 8, 12, 30, tzinfo=UTC)
    winter = datetime(2021, 1, 8, 12, 30, tzinfo=UTC)
    assert format_local(summer, ZoneInfo("Europe/Luxembourg")) == "2021-07-08 14:30 (UTC+02:00)"
    assert format_local(winter, ZoneInfo("America/St_Johns")) == "2021-01-08 09:00 (UTC-03:30)"


@NEEDS_FONT
def test_non_latin_names_are_printed_as_written(issuer: Issuer) -> None:
    issued = issue_example(issuer, family_name="Иванова-Петрова", given_name="Ελένη")
    text = Rendered(render_pdf(issued)).text
    assert "Иванова-Петрова" in text
    assert "Ελένη" in text
    assert "IVANOVA<PETROVA<<ELENI" in text


@NEEDS_FONT
def test_names_the_font_cannot_show_print_their_standardised_form(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    issued = issue_example(
        issuer,
        family_name="山田",
        family_name_standardised="YAMADA",
        given_name="محمد",  # Arabic: glyphs exist, but would print unjoined, left to right
    )
    with caplog.at_level("WARNING"):
        text = Rendered(render_pdf(issued)).text
    assert "山田" not in text
    assert "محمد" not in text
    gnt = issued.certificate["nam"]["gnt"]
    assert f"YAMADA<<{gnt}" in text
    assert "missing" not in caplog.text  # fpdf2 logs glyphs it cannot draw


def test_without_a_unicode_font_names_fall_back_to_their_standardised_form(
    issuer: Issuer, tmp_path: Path
) -> None:
    issued = issue_example(issuer, family_name="Иванова", given_name="Ελένη")
    rendered = Rendered(render_pdf(issued, font_dirs=(tmp_path,)))
    assert rendered.pages == 1
    assert "IVANOVA" in rendered.text
    assert "Иванова" not in rendered.text
    assert read_qr(rendered.png) == issued.hc1
    assert "Prélèvement" in rendered.text  # Latin-1 labels survive the core font


def test_longest_fields_still_fit_one_page(issuer: Issuer) -> None:
    issued = issue_example(issuer, family_name="W" * 80, given_name="M" * 80)
    rendered = Rendered(render_pdf(issued, device_name="W" * 120))
    assert rendered.pages == 1
    assert rendered.footer_bottom > 20  # points above the bottom edge: still on the paper
    assert read_qr(rendered.png) == issued.hc1


def test_same_certificate_same_bytes(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    assert render_pdf(issued) == render_pdf(issued)


def test_bad_time_zone_and_missing_test_entry_are_refused(issuer: Issuer) -> None:
    issued = issue_example(issuer)
    with pytest.raises(ConfigError) as refused:
        render_pdf(issued, timezone="Mars/Olympus_Mons")
    assert refused.value.code == "timezone_invalid"
    broken = IssuedCertificate(**{**_fields(issued), "certificate": {"ver": "1.3.0"}})
    with pytest.raises(DccError) as failed:
        render_pdf(broken)
    assert failed.value.code == "pdf_render_failed"


def _fields(issued: IssuedCertificate) -> dict[str, Any]:
    return {name: getattr(issued, name) for name in IssuedCertificate.__slots__}
