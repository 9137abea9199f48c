"""Errors raised by ``api.ratelimit``: the project hierarchy plus :class:`LimiterUnavailable`.

Bad rate settings raise :class:`signing.errors.ConfigError` (code ``rate_invalid``, or
``rate_cost_invalid`` for a hit that costs less than one cell). When the shared store is
down and the policy says not to guess, :class:`LimiterUnavailable` tells the API to answer
503 with ``Retry-After``.
"""

from __future__ import annotations

from signing.errors import DccError

__all__ = ["LimiterUnavailable"]


class LimiterUnavailable(DccError):
    """No quota decision could be made (Redis down, policy fail-closed); retry later.

    ``retry_after`` is in seconds: when the circuit breaker will next try Redis.
    """

    default_code = "rate_limiter_unavailable"

    def __init__(
        self, message: str, *, retry_after: float, code: str | None = None, **context: object
    ) -> None:
        super().__init__(message, code=code, retry_after=retry_after, **context)
        self.retry_after = retry_after
