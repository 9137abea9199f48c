"""Static checks of the page assets: strict-CSP-safe HTML, complete translations, contrast."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from api.pages.views import ASSETS, GENERATED_ASSETS, STATIC_DIR

PAGES = ("index.html", "verify.html")
_KEY_RE = re.compile(r'^\s*"([a-zA-Z_.]+)":\s*"', re.MULTILINE)
_VAR_RE = re.compile(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;")


class _Collector(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed((STATIC_DIR / page).read_text(encoding="utf-8"))
    return collector.tags


def _texts() -> dict[str, set[str]]:
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    english, french = source.split("\n  fr: {", 1)
    return {"en": set(_KEY_RE.findall(english)), "fr": set(_KEY_RE.findall(french))}


@pytest.mark.parametrize("page", PAGES)
def test_pages_hold_no_inline_script_style_or_external_reference(page: str) -> None:
    for tag, attrs in _tags(page):
        assert tag != "style"
        assert "style" not in attrs
        assert not any(name.startswith("on") for name in attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/assets/")
        for name in ("src", "href", "action"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("/", "#")), f"{tag} {name}={value}"
                if value.startswith("/assets/"):
                    assert value.removeprefix("/assets/") in {*ASSETS, *GENERATED_ASSETS}


@pytest.mark.parametrize("page", PAGES)
def test_every_input_has_a_label_element(page: str) -> None:
    tags = _tags(page)
    labelled = {attrs.get("for") for tag, attrs in tags if tag == "label"}
    for tag, attrs in tags:
        if tag in {"input", "select", "textarea"} and attrs.get("type") != "radio":
            assert attrs.get("id") in labelled, attrs


def test_every_text_exists_in_english_and_french() -> None:
    texts = _texts()
    assert texts["en"] == texts["fr"]
    used = {
        value
        for page in PAGES
        for _, attrs in _tags(page)
        for name, value in attrs.items()
        if name.startswith("data-i18n") and value
    }
    assert used <= texts["en"]
    scripts = "".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in ASSETS)
    called = set(re.findall(r"""\bt\("([a-zA-Z_]+\.[a-zA-Z_]+)""", scripts))
    assert called <= texts["en"]


def test_every_listed_asset_exists() -> None:
    for name in ASSETS:
        assert (STATIC_DIR / name).is_file()


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, two: str) -> float:
    high, low = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("ink", "card"),
        ("ink", "page"),
        ("muted", "card"),
        ("muted", "page"),
        ("action", "card"),
        ("#ffffff", "action"),
        ("#ffffff", "brand"),
        ("error", "card"),
        ("valid-ink", "valid-bg"),
        ("invalid-ink", "invalid-bg"),
    ],
)
def test_colour_pairs_meet_wcag_aa(text: str, background: str) -> None:
    variables = dict(_VAR_RE.findall((STATIC_DIR / "app.css").read_text(encoding="utf-8")))

    def colour(name: str) -> str:
        return name if name.startswith("#") else variables[name]

    assert _contrast(colour(text), colour(background)) >= 4.5
