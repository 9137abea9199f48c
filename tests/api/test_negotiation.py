"""Content negotiation (api.negotiation): one reader of ``Accept`` for every route."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.negotiation import negotiate
from api.problems import NotAcceptable
from api.routes.certificates import PRODUCTS
from api.routes.render import RENDER_FORMATS


@pytest.mark.parametrize(
    ("accept", "product"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("image/*", "png"),
        ("image/svg+xml", "svg"),
        ("image/png;q=0.4, image/svg+xml;q=0.9", "svg"),
        ("text/html, */*;q=0.1", "json"),
        ("application/json;q=0, image/png", "png"),
        ("application/json;q=0, */*", "png"),
        ("APPLICATION/PDF", "pdf"),
    ],
)
def test_the_single_issue_answers_what_accept_prefers(accept: str | None, product: str) -> None:
    assert negotiate(accept, PRODUCTS) == product


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "png"),
        ("*/*", "png"),
        ("image/*", "png"),
        ("application/pdf", "pdf"),
        ("image/svg+xml, image/png;q=0.5", "svg"),
        ("application/pdf;q=0, image/png", "png"),
        # Where the render endpoint's own reader used to differ (it served a refused PNG):
        ("image/png;q=0.0, application/pdf", "pdf"),
        ("application/pdf;q=0.1, image/svg+xml", "svg"),
        ("image/png;q=0, */*", "svg"),
    ],
)
def test_the_render_endpoint_answers_what_accept_prefers(accept: str | None, expected: str) -> None:
    assert negotiate(accept, RENDER_FORMATS) == expected


@pytest.mark.parametrize("accept", ["text/plain", "application/json", "image/*;q=0"])
def test_nothing_acceptable_is_406(accept: str) -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate(accept, RENDER_FORMATS)
    assert caught.value.context["available"] == [media for media, _ in RENDER_FORMATS]


@settings(deadline=None)
@given(st.sampled_from([media for media, _ in PRODUCTS]), st.floats(0.001, 1))
def test_a_type_refused_with_q0_is_never_chosen(refused: str, other_q: float) -> None:
    accept = f"{refused};q=0, */*;q={other_q:.3f}"
    chosen = negotiate(accept, PRODUCTS)
    assert dict(PRODUCTS)[refused] != chosen
