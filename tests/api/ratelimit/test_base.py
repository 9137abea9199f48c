"""Decision headers (RateLimit-*, Retry-After), key kinds and cost checks."""

from __future__ import annotations

import pytest

from api.ratelimit.base import Decision, Limiter, check_cost, decision_from_us, key_kind
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from signing.errors import ConfigError


def test_allowed_decision_headers_have_no_retry_after() -> None:
    """Allowed: limit, remaining, reset rounded up, policy; no Retry-After."""
    decision = Decision(True, 10, 7, 0.0, 17.2, policy="10;w=60")
    assert decision.headers() == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "7",
        "RateLimit-Reset": "18",
        "RateLimit-Policy": "10;w=60",
    }


@pytest.mark.parametrize(
    ("retry_after", "header"), [(9.999_999, "10"), (10.0, "10"), (10.000_001, "11"), (0.2, "1")]
)
def test_retry_after_rounds_up_and_is_at_least_one(retry_after: float, header: str) -> None:
    """Retry-After is whole seconds, never early (ceil) and never 0."""
    decision = Decision(False, 6, 0, retry_after, 60.0)
    assert decision.headers()["Retry-After"] == header
    assert "RateLimit-Policy" not in decision.headers()


def test_impossible_decision_has_no_retry_after() -> None:
    """No wait makes a cost above the burst fit, so no Retry-After is promised."""
    decision = decision_from_us(-1, 6, 0, 0, Rate.parse("6/minute"))
    assert decision.impossible
    assert not decision.allowed
    assert "Retry-After" not in decision.headers()
    assert decision.headers()["RateLimit-Remaining"] == "6"


def test_decision_from_us_converts_microseconds() -> None:
    """The integer GCRA answer becomes seconds; retry_after is 0 unless denied."""
    rate = Rate.parse("6/minute")
    assert decision_from_us(0, 0, 10_000_000, 60_000_000, rate) == Decision(
        False, 6, 0, 10.0, 60.0, policy="6;w=60"
    )
    assert decision_from_us(1, 5, 0, 10_000_000, rate).retry_after == 0.0


def test_key_kind_is_the_prefix_before_the_first_colon() -> None:
    """Metrics label subjects by kind, never by the subject itself."""
    assert key_kind("lab:42") == "lab"
    assert key_kind("verify:2001:db8::1") == "verify"
    assert key_kind("global") == "global"


@pytest.mark.parametrize("cost", [0, -1, True, 1.5])
def test_check_cost_refuses_non_positive_or_non_integer_costs(cost: object) -> None:
    """A hit costs a whole number of cells, at least one."""
    with pytest.raises(ConfigError) as caught:
        check_cost(cost)  # type: ignore[arg-type]
    assert caught.value.code == "rate_cost_invalid"


def test_in_memory_limiter_satisfies_the_protocol() -> None:
    """The runtime-checkable Protocol recognises a real limiter."""
    assert isinstance(InMemoryLimiter(), Limiter)
