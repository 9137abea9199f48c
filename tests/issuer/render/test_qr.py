"""QR rendering and reading: exact geometry, single alphanumeric segment, hostile images.

Ground truth for the matrix is independent of the code under test: zxing-cpp reads every
rendered image back, and ``qrcode`` rebuilds the same symbol from one forced alphanumeric
segment (same version, same mask read from the format information) module for module.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any, cast

import pytest
import qrcode
import zxingcpp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter
from qrcode.base import rs_blocks
from qrcode.util import MODE_ALPHA_NUM, BCH_type_info, QRData

from issuer.render.qr import (
    ALPHANUMERIC_CAPACITY_Q,
    MAX_QR_TEXT_CHARS,
    QrMatrix,
    alphanumeric_version,
    qr_matrix,
    render_png,
    render_png_reference,
    render_svg,
)
from signing.errors import DccError, DecodeError
from verifier.qr_read import MAX_IMAGE_BYTES, read_qr

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
LETTERS = BASE45[10:]
SVG_NS = "{http://www.w3.org/2000/svg}"
SVG_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")

# Published PNGs (EXPECTEDPICTUREDECODE true) whose picture is not their JSON's PREFIX.
KNOWN_MISMATCHED_PNGS = {
    "ES/png/2101.png": "holds another ES test certificate; the JSON's own 2DCODE matches",
    "ES/png/2102.png": "holds another ES test certificate; the JSON's own 2DCODE matches",
    "ES/png/2103.png": "holds another ES test certificate; the JSON's own 2DCODE matches",
}


def hc1_text(seed: int, length: int) -> str:
    """An HC1-like text: ``HC1:`` and random base45, ``length`` chars in all."""
    rng = random.Random(seed)
    return "HC1:" + "".join(rng.choice(BASE45) for _ in range(length - 4))


HC1_598 = hc1_text(598, 598)
HC1_SAMPLES = [hc1_text(seed, length) for seed, length in enumerate((500, 547, 598, 611, 650))]

alphanumeric_texts = st.text(alphabet=BASE45, min_size=1, max_size=700)
hc1_like_texts = st.text(alphabet=BASE45, min_size=496, max_size=646).map("HC1:".__add__)
# Letters and digit runs around libzint's numeric-segment thresholds (7 at the ends, 13 inside).
digit_run_texts = st.lists(
    st.one_of(
        st.text(alphabet=LETTERS, min_size=1, max_size=40),
        st.text(alphabet="0123456789", min_size=5, max_size=16),
    ),
    min_size=1,
    max_size=6,
).map("".join)


def png_pixels(png: bytes) -> tuple[tuple[int, int], bytes]:
    """Size and 8-bit grey pixels of a PNG, checking it is 1-bit (mode 1, or L of 0/255)."""
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.mode in ("1", "L")
        grey = image.convert("L")
    pixels = grey.tobytes()
    assert set(pixels) <= {0, 255}
    return grey.size, pixels


def expected_pixels(matrix: QrMatrix, scale: int, border: int) -> bytes:
    """The picture a renderer must draw, built module by module in plain Python."""
    side = matrix.size + 2 * border
    lines = []
    for y in range(side * scale):
        my = y // scale - border
        row = matrix.rows[my] if 0 <= my < matrix.size else bytes(matrix.size)
        modules = [0] * border + list(row) + [0] * border
        lines.append(bytes(0 if module else 255 for module in modules for _ in range(scale)))
    return b"".join(lines)


def format_mask(matrix: QrMatrix) -> int:
    """The mask pattern in the format information; asserts the level there is Q."""
    n = matrix.size
    bits = 0
    for i in range(15):
        y = i if i < 6 else i + 1 if i < 8 else n - 15 + i
        bits |= matrix.rows[y][8] << i
    masks = [
        m for m in range(8) if BCH_type_info((qrcode.constants.ERROR_CORRECT_Q << 3) | m) == bits
    ]
    assert len(masks) == 1, "format information is not level Q"
    return masks[0]


def single_alphanumeric_segment(text: str, version: int, mask: int) -> tuple[bytes, ...]:
    """The matrix ``qrcode`` builds for one alphanumeric segment at a fixed version and mask."""
    symbol = qrcode.QRCode(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_Q,
        mask_pattern=mask,
        border=0,
    )
    symbol.add_data(QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM))
    symbol.make(fit=False)
    return tuple(bytes(row) for row in symbol.modules)


def has_all_zero_block(text: str) -> bool:
    """Whether qrcode's Reed-Solomon code fails on ``text`` (a data block of zero bytes)."""
    try:
        single_alphanumeric_segment(text, alphanumeric_version(len(text)), 0)
    except ValueError:
        return True
    return False


def assert_single_alphanumeric_segment(text: str) -> None:
    matrix = qr_matrix(text)
    assert matrix.version == alphanumeric_version(len(text))
    mask = format_mask(matrix)
    assert matrix.rows == single_alphanumeric_segment(text, matrix.version, mask)


def svg_matrix(svg: str) -> tuple[int, int, list[bytearray]]:
    """Parse our SVG back: (pixel width, viewBox side, module rows incl. quiet zone)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("shape-rendering") == "crispEdges"
    assert root.get("width") == root.get("height")
    _, _, side, side_h = (int(v) for v in root.get("viewBox", "").split())
    assert side == side_h
    rect, path = list(root)
    assert rect.tag == f"{SVG_NS}rect"
    assert (rect.get("width"), rect.get("height"), rect.get("fill")) == (str(side),) * 2 + ("#fff",)
    assert path.tag == f"{SVG_NS}path"
    assert path.get("fill") == "#000"
    data = path.get("d", "")
    assert SVG_RUN.sub("", data) == "", "path holds something other than row runs"
    rows = [bytearray(side) for _ in range(side)]
    for x, y, width, back in SVG_RUN.findall(data):
        assert width == back
        start, length = int(x), int(width)
        assert not any(rows[int(y)][start : start + length]), "runs overlap"
        rows[int(y)][start : start + length] = b"\x01" * length
    return int(root.get("width", "0")), side, rows


def png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width``x``height`` 1-bit pixels, with a bogus IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"junk") + chunk(b"IEND", b"")
    )


def error_code(exc: pytest.ExceptionInfo[DccError]) -> str:
    return exc.value.code


# --- the matrix --------------------------------------------------------------------------


def test_capacity_table_is_iso_alphanumeric_q() -> None:
    for version, capacity in enumerate(ALPHANUMERIC_CAPACITY_Q, start=1):
        data_bits = 8 * sum(
            b.data_count for b in rs_blocks(version, qrcode.constants.ERROR_CORRECT_Q)
        )
        count_bits = 9 if version < 10 else 11 if version < 27 else 13
        bits = data_bits - 4 - count_bits
        assert capacity == bits // 11 * 2 + (bits % 11 >= 6)
    # hcert.md §1.7 table, level Q.
    assert [alphanumeric_version(n) for n in (500, 550, 598, 650, 1040)] == [17, 18, 19, 20, 25]
    assert MAX_QR_TEXT_CHARS == 2420


def test_598_char_hc1_is_version_19_alphanumeric() -> None:
    matrix = qr_matrix(HC1_598)
    # Byte mode would need version 24 at Q (598 bytes); alphanumeric fits version 19.
    assert (matrix.version, matrix.size) == (19, 93)
    assert len(matrix.rows) == 93
    assert all(len(row) == 93 and set(row) <= {0, 1} for row in matrix.rows)
    assert_single_alphanumeric_segment(HC1_598)


@pytest.mark.parametrize("text", HC1_SAMPLES)
def test_hc1_samples_are_one_alphanumeric_segment_at_q(text: str) -> None:
    assert_single_alphanumeric_segment(text)


@pytest.mark.parametrize(
    "text",
    [
        "1",
        "123456789012",
        "HC1:1234567",
        "1234567HC1:",
        "HC1:ABC123456789012DEF",
        "HC1:ABC1234567890123DEF",
        hc1_text(7, 580) + "12345678901234567890",
    ],
)
def test_digit_runs_stay_alphanumeric(text: str) -> None:
    assert_single_alphanumeric_segment(text)


@settings(max_examples=30, deadline=None)
@given(text=st.one_of(alphanumeric_texts, digit_run_texts, hc1_like_texts))
def test_any_alphanumeric_text_is_one_alphanumeric_segment(text: str) -> None:
    assume(not has_all_zero_block(text))
    assert_single_alphanumeric_segment(text)


@pytest.mark.parametrize("text", ["HC1:" + "0" * 594, "0" * 100])
def test_zero_runs_qrcode_cannot_encode_still_render(text: str) -> None:
    # qrcode fails on an all-zero data block; the libzint symbol (numeric segment) is used.
    assert has_all_zero_block(text)
    assert qr_matrix(text).version < alphanumeric_version(len(text))
    assert read_qr(render_png(text)) == text
    with pytest.raises(DccError) as exc:
        render_png_reference(text)
    assert error_code(exc) == "qr_render_failed"


def test_largest_text_fits_version_40() -> None:
    text = hc1_text(40, MAX_QR_TEXT_CHARS)
    matrix = qr_matrix(text)
    assert (matrix.version, matrix.size) == (40, 177)
    assert read_qr(render_png(text, scale=2)) == text


def test_matrix_rejects_inconsistent_shapes() -> None:
    with pytest.raises(DccError) as exc:
        QrMatrix(size=22, version=1, rows=(bytes(22),) * 22)
    assert error_code(exc) == "qr_render_failed"
    with pytest.raises(DccError):
        QrMatrix(size=21, version=1, rows=(bytes(21),) * 20)


# --- PNG -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "border"), [(4, 4), (1, 4), (10, 4), (3, 0), (2, 7)])
def test_png_is_the_matrix_at_exact_integer_scale(scale: int, border: int) -> None:
    png = render_png(HC1_598, scale=scale, border=border)
    size, pixels = png_pixels(png)
    side = (93 + 2 * border) * scale
    assert size == (side, side)
    assert pixels == expected_pixels(qr_matrix(HC1_598), scale, border)
    assert read_qr(png) == HC1_598


def test_default_png_is_404_px_with_a_4_module_white_quiet_zone() -> None:
    size, pixels = png_pixels(render_png(HC1_598))
    assert size == (404, 404)
    quiet = 4 * 4
    rows = [pixels[y * 404 : (y + 1) * 404] for y in range(404)]
    assert all(row == b"\xff" * 404 for row in rows[:quiet] + rows[-quiet:])
    assert all(row[:quiet] == row[-quiet:] == b"\xff" * quiet for row in rows)
    # The finder pattern's dark corner starts right at the quiet zone.
    assert rows[quiet][quiet] == rows[-quiet - 1][quiet] == rows[quiet][-quiet - 1] == 0


@pytest.mark.parametrize("text", HC1_SAMPLES)
def test_png_reads_back(text: str) -> None:
    assert read_qr(render_png(text)) == text


@settings(max_examples=25, deadline=None)
@given(text=st.one_of(alphanumeric_texts, hc1_like_texts))
def test_png_reads_back_any_alphanumeric_text(text: str) -> None:
    assert read_qr(render_png(text, scale=2)) == text


# --- SVG -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "border"), [(4, 4), (1, 0), (10, 2)])
def test_svg_path_is_the_matrix(scale: int, border: int) -> None:
    svg = render_svg(HC1_598, scale=scale, border=border)
    width, side, rows = svg_matrix(svg)
    assert side == 93 + 2 * border
    assert width == side * scale
    matrix = qr_matrix(HC1_598)
    expected = [bytes(side)] * border
    expected += [bytes(border) + row + bytes(border) for row in matrix.rows]
    expected += [bytes(side)] * border
    assert [bytes(row) for row in rows] == expected
    assert svg.count("<path") == 1
    assert svg.count("<rect") == 1


@pytest.mark.parametrize("text", [HC1_598, "HC1:" + "0" * 40, "A"])
def test_svg_rasterised_from_its_path_reads_back(text: str) -> None:
    scale = 4
    _, side, rows = svg_matrix(render_svg(text, scale=scale))
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle(
                    (x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1), fill=0
                )
    out = io.BytesIO()
    image.save(out, format="PNG")
    assert read_qr(out.getvalue()) == text


# --- reference renderer -----------------------------------------------------------------


def test_reference_png_reads_back_with_the_same_geometry() -> None:
    png = render_png_reference(HC1_598)
    size, pixels = png_pixels(png)
    assert size == (404, 404)
    assert read_qr(png) == HC1_598
    # Same version and layout; only the mask (chosen by each library) may differ.
    _, ours = png_pixels(render_png(HC1_598))
    assert pixels[: 404 * 16] == ours[: 404 * 16] == b"\xff" * (404 * 16)


def test_reference_png_honours_scale_and_border() -> None:
    text = HC1_SAMPLES[0]
    size, _ = png_pixels(render_png_reference(text, scale=2, border=6))
    assert size == ((85 + 12) * 2,) * 2
    assert read_qr(render_png_reference(text, scale=2, border=6)) == text


# --- text and layout validation -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "hc1:ABC", "HC1:ABC\n", "HC1:ÄBC", "HC1:A_B", "HC1:\x00", "A" * (MAX_QR_TEXT_CHARS + 1)],
)
@pytest.mark.parametrize("render", [render_png, render_svg, render_png_reference])
def test_renderers_refuse_text_outside_the_alphanumeric_set(text: str, render: object) -> None:
    assert callable(render)
    with pytest.raises(DccError) as exc:
        render(text)
    assert error_code(exc) == "qr_text_invalid"
    with pytest.raises(DccError) as exc:
        qr_matrix(text)
    assert error_code(exc) == "qr_text_invalid"


def test_text_errors_never_echo_the_text() -> None:
    with pytest.raises(DccError) as exc:
        render_png("HC1:SECRETNAME?")
    assert "SECRETNAME" not in str(exc.value)
    assert exc.value.context == {"position": 14}


@pytest.mark.parametrize(("scale", "border"), [(0, 4), (41, 4), (4, -1), (4, 41)])
def test_renderers_refuse_unbounded_layouts(scale: int, border: int) -> None:
    for render in (render_png, render_svg, render_png_reference):
        with pytest.raises(DccError) as exc:
            render(HC1_598, scale=scale, border=border)
        assert error_code(exc) == "qr_layout_invalid"


# --- reading images --------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def test_read_qr_from_jpeg() -> None:
    with Image.open(io.BytesIO(render_png(HC1_598))) as image:
        jpeg = encode(image.convert("RGB"), "JPEG", quality=85)
    assert jpeg[:2] == b"\xff\xd8"
    assert read_qr(jpeg) == HC1_598


def test_read_qr_from_a_rotated_code_in_a_photo_like_canvas() -> None:
    rng = random.Random(11)
    canvas = Image.linear_gradient("L").resize((1400, 1000)).convert("RGB")
    noise = Image.effect_noise((1400, 1000), 40).convert("RGB")
    canvas = Image.blend(canvas, noise, 0.3)
    draw = ImageDraw.Draw(canvas)
    for _ in range(40):
        x, y = rng.randrange(1400), rng.randrange(1000)
        draw.line(
            (x, y, x + rng.randrange(-200, 200), y + rng.randrange(-200, 200)),
            fill=(30, 60, 90),
            width=3,
        )
    with Image.open(io.BytesIO(render_png(HC1_598, scale=5))) as code:
        rotated = code.convert("L").rotate(
            7, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
        )
    canvas.paste(rotated.convert("RGB"), (437, 211))
    photo = canvas.filter(ImageFilter.GaussianBlur(0.8))
    assert read_qr(encode(photo, "JPEG", quality=85)) == HC1_598


def test_read_qr_on_a_transparent_background() -> None:
    with Image.open(io.BytesIO(render_png(HC1_598))) as code:
        alpha = code.convert("L").point(lambda v: 255 - v)
    transparent = Image.new("RGBA", alpha.size, (0, 0, 0, 0))
    transparent.putalpha(alpha)  # black modules, fully transparent (black) background
    assert read_qr(encode(transparent, "PNG")) == HC1_598


def test_read_qr_accepts_bytearray_and_memoryview() -> None:
    png = render_png(HC1_598)
    assert read_qr(bytearray(png)) == HC1_598  # type: ignore[arg-type]
    assert read_qr(memoryview(png)) == HC1_598  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "image_invalid"),
        (b"not an image at all" * 10, "image_invalid"),
        (bytes(random.Random(3).randbytes(5000)), "image_invalid"),
        (render_png(HC1_598)[:300], "image_invalid"),  # truncated PNG
        (png_header(300, 300), "image_invalid"),  # valid header, broken pixels
        (png_header(7000, 7000), "image_too_large"),  # 49 Mpx: our 16 Mpx guard
        (png_header(10_000, 10_000), "image_too_large"),  # 100 Mpx: Pillow's bomb warning
        (png_header(100_000, 100_000), "image_too_large"),  # 10 Gpx: Pillow's bomb error
        (b"\x89PNG" + bytes(MAX_IMAGE_BYTES), "image_too_large"),
    ],
)
def test_read_qr_refuses_bad_images(data: bytes, code: str) -> None:
    with pytest.raises(DecodeError) as exc:
        read_qr(data)
    assert (exc.value.stage, exc.value.code) == ("image", code)


def test_read_qr_refuses_non_bytes() -> None:
    with pytest.raises(DecodeError) as exc:
        read_qr("HC1:ABC")  # type: ignore[arg-type]
    assert exc.value.code == "image_invalid"


def test_read_qr_refuses_formats_outside_the_allowlist() -> None:
    with Image.open(io.BytesIO(render_png(HC1_598))) as image:
        tiff = encode(image, "TIFF")
    with pytest.raises(DecodeError) as exc:
        read_qr(tiff)
    assert exc.value.code == "image_invalid"


@pytest.mark.parametrize(
    "image",
    [Image.new("L", (300, 300), 255), Image.effect_noise((300, 300), 60), Image.new("1", (1, 1))],
)
def test_read_qr_reports_images_without_a_code(image: Image.Image) -> None:
    with pytest.raises(DecodeError) as exc:
        read_qr(encode(image, "PNG"))
    assert (exc.value.stage, exc.value.code) == ("image", "qr_not_found")


def test_read_qr_reports_a_code_of_another_symbology_as_not_found() -> None:
    barcode = zxingcpp.create_barcode(HC1_598, zxingcpp.BarcodeFormat.DataMatrix)
    bitmap = barcode.to_image(scale=4)
    height, width = bitmap.shape
    pixels = bytes(memoryview(cast(Any, bitmap)))  # buffer protocol; the stub omits it
    image = Image.frombytes("L", (width, height), pixels)
    assert zxingcpp.read_barcode(image) is not None  # readable, just not a QR code
    with pytest.raises(DecodeError) as exc:
        read_qr(encode(image, "PNG"))
    assert exc.value.code == "qr_not_found"


# --- the EU test vectors -------------------------------------------------------------


def load_vector(path: Path) -> dict[str, object] | None:
    if not path.is_file():
        return None
    try:
        vector = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return vector if isinstance(vector, dict) else None


def expects_picture_decode(vector: dict[str, object]) -> bool | None:
    results = vector.get("EXPECTEDRESULTS")
    if not isinstance(results, dict):
        return None
    expected = results.get("EXPECTEDPICTUREDECODE")
    return expected if isinstance(expected, bool) else None


def test_published_png_files_decode_to_their_prefix(testdata_dir: Path) -> None:
    decoded, mismatched = 0, set()
    for png in sorted(testdata_dir.glob("*/png/*.png")):
        country = png.parent.parent
        vector = load_vector(country / "2DCode" / "raw" / f"{png.stem}.json")
        if vector is None or expects_picture_decode(vector) is not True:
            continue
        name = png.relative_to(testdata_dir).as_posix()
        text = read_qr(png.read_bytes())
        if name in KNOWN_MISMATCHED_PNGS:
            assert text != vector["PREFIX"]
            assert text.startswith("HC1:")
            mismatched.add(name)
        else:
            assert text == vector["PREFIX"], name
            decoded += 1
    assert mismatched == set(KNOWN_MISMATCHED_PNGS)
    assert decoded >= 250  # 253 in the shipped subset


def test_embedded_2dcode_pictures_decode_as_expected(testdata_dir: Path) -> None:
    decoded = refused = 0
    for path in sorted(testdata_dir.glob("*/2DCode/raw/*.json")):
        vector = load_vector(path)
        if vector is None or not isinstance(vector.get("2DCODE"), str) or not vector["2DCODE"]:
            continue
        expected = expects_picture_decode(vector)
        picture = base64.b64decode(str(vector["2DCODE"]))
        if expected is True:
            assert read_qr(picture) == vector["PREFIX"], path.name
            decoded += 1
        elif expected is False:
            with pytest.raises(DecodeError):
                read_qr(picture)
            refused += 1
    assert decoded >= 280  # 289 in the shipped subset
    assert refused >= 1  # common/Q1: "QR code cannot be read"
