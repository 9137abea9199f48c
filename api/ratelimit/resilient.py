"""Redis quotas that survive a Redis outage: a circuit breaker and a per-policy fallback.

:class:`ResilientLimiter` asks the Redis limiter first. Redis errors and timeouts count as
failures; after ``breaker_threshold`` consecutive ones the circuit opens and calls skip Redis
for ``breaker_reset`` seconds, then one call probes it; any success closes the circuit and
ends the outage. While Redis is unavailable the policy decides:

``"degrade"``
    decide in process with a conservative rate (count and burst divided by
    ``fallback_divisor``, the replica count) for at most ``degrade_for`` seconds of
    continuous outage, then behave as ``"fail-closed"``. For issuance and revocation.
``"fail-closed"``
    raise :class:`~api.ratelimit.errors.LimiterUnavailable` (the API answers 503 with
    ``Retry-After``).
``"fail-open"``
    decide in process with the normal rate. For verification.

Each transition is logged once, with a stable name in the message and in ``extra["event"]``:
``ratelimit_circuit_open`` (WARNING), ``ratelimit_circuit_closed`` (INFO),
``ratelimit_degraded_start``, ``ratelimit_failing_closed_start``,
``ratelimit_fail_open_start`` (WARNING) and ``ratelimit_recovered`` (INFO, the end of any
outage). Log lines never contain keys (they may hold client addresses). ``on_event`` receives
the same event names (e.g. to count them in metrics).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import Literal, get_args

from redis.exceptions import RedisError

from api.ratelimit.base import Decision, Limiter, check_cost, key_kind
from api.ratelimit.deadlines import SharedDeadline
from api.ratelimit.errors import LimiterUnavailable
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from signing.errors import ConfigError

__all__ = [
    "EVENTS",
    "DecisionObserver",
    "EventObserver",
    "FailurePolicy",
    "LimiterState",
    "ResilientLimiter",
]

FailurePolicy = Literal["degrade", "fail-closed", "fail-open"]
"""What to do while Redis is unavailable."""

DecisionObserver = Callable[[str, str], None]
"""Called with (subject kind, outcome) after every decision. Outcomes: ``allowed``,
``denied``, ``fallback_allowed``, ``fallback_denied``, ``unavailable``."""

EventObserver = Callable[[str], None]
"""Called with the event name of every transition as it is logged (once per transition)."""

_LOGGER = logging.getLogger(__name__)
_STORE_ERRORS = (RedisError, OSError)  # OSError covers socket errors and TimeoutError


class LimiterState(StrEnum):
    """How quota decisions are being made right now (for /readyz and metrics)."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILING_CLOSED = "failing-closed"
    OPEN_FALLBACK = "open-fallback"


_STATE_EVENTS: dict[LimiterState, tuple[int, str]] = {
    LimiterState.OK: (logging.INFO, "ratelimit_recovered"),
    LimiterState.DEGRADED: (logging.WARNING, "ratelimit_degraded_start"),
    LimiterState.FAILING_CLOSED: (logging.WARNING, "ratelimit_failing_closed_start"),
    LimiterState.OPEN_FALLBACK: (logging.WARNING, "ratelimit_fail_open_start"),
}
EVENTS: tuple[str, ...] = (
    "ratelimit_circuit_open",
    "ratelimit_circuit_closed",
    *(event for _, event in _STATE_EVENTS.values()),
)
"""Every event name a :class:`ResilientLimiter` logs (and passes to ``on_event``)."""


class ResilientLimiter:
    """A Redis limiter behind a circuit breaker, with an in-process fallback per policy."""

    def __init__(
        self,
        primary: Limiter,
        fallback: InMemoryLimiter,
        *,
        policy: FailurePolicy,
        degrade_for: float = 300.0,
        breaker_threshold: int = 3,
        breaker_reset: float = 2.0,
        fallback_divisor: int = 1,
        call_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = _LOGGER,
        on_decision: DecisionObserver | None = None,
        on_event: EventObserver | None = None,
    ) -> None:
        """``primary`` is normally a :class:`~api.ratelimit.redis_gcra.RedisLimiter`;
        ``call_timeout`` bounds one Redis decision whatever the client's own timeouts."""
        if policy not in get_args(FailurePolicy):
            raise _invalid(f"rate limiter policy must be one of {get_args(FailurePolicy)}")
        if breaker_threshold < 1 or fallback_divisor < 1:
            raise _invalid("breaker_threshold and fallback_divisor must be at least 1")
        if degrade_for < 0 or breaker_reset <= 0 or call_timeout <= 0:
            raise _invalid("degrade_for must be >= 0, breaker_reset and call_timeout > 0")
        self._primary = primary
        self._fallback = fallback
        self._policy: FailurePolicy = policy
        self._degrade_for = degrade_for
        self._threshold = breaker_threshold
        self._breaker_reset = breaker_reset
        self._divisor = fallback_divisor
        self._deadline = SharedDeadline(call_timeout)  # one timer, not one per call
        self._clock = clock
        self._log = logger
        self._on_decision = on_decision
        self._on_event = on_event
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._outage_since: float | None = None
        self._logged_state = LimiterState.OK

    @property
    def policy(self) -> FailurePolicy:
        """The policy applied while Redis is unavailable."""
        return self._policy

    @property
    def state(self) -> LimiterState:
        """How decisions are made now: ``ok`` (Redis), or the policy's outage state."""
        return self._state_at(self._clock())

    @property
    def circuit_open(self) -> bool:
        """Whether calls currently skip Redis (between probes)."""
        return self._opened_at is not None

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Decide with Redis when it answers, else per policy.

        Raises :class:`LimiterUnavailable` when the policy (or an outage longer than
        ``degrade_for``) leaves no way to decide.
        """
        check_cost(cost)
        call, probe = self._may_call_redis()
        if call:
            try:
                decision = await self._deadline.run(self._primary.hit(key, rate, cost))
            except _STORE_ERRORS as exc:
                self._record_failure(exc)
            else:
                self._record_success()
                self._observe(key, "allowed" if decision.allowed else "denied")
                return decision
            finally:
                if probe:
                    self._probing = False
        return self._decide_without_redis(key, rate, cost)

    async def healthy(self) -> bool:
        """Whether Redis answers now (readiness); the fallback is always available."""
        return await self._primary.healthy()

    async def probe(self) -> LimiterState:
        """Ping Redis (readiness) and let the answer move the state, then return it.

        A failed ping starts the outage clock if no decision has yet (so every worker of a
        replica polled by the balancer reports the outage, and its policy, from the first
        probe on, not from its first quota decision); a successful one ends an outage and
        closes the circuit at once. The failure count of the breaker is left to decisions.
        """
        if await self._primary.healthy():
            self._record_success()
        elif self._outage_since is None:
            self._outage_since = self._clock()
        state = self.state
        self._note_state(state)
        return state

    async def close(self) -> None:
        """Close the Redis client and forget the in-process buckets."""
        try:
            await self._primary.close()
        finally:
            await self._fallback.close()

    def _may_call_redis(self) -> tuple[bool, bool]:
        """(call Redis?, is this call the probe?). Closed circuit: call. Open: skip, except
        for one probe once ``breaker_reset`` has passed since it opened."""
        if self._opened_at is None:
            return True, False
        if self._probing or self._clock() - self._opened_at < self._breaker_reset:
            return False, False
        self._probing = True
        return True, True

    def _record_failure(self, exc: BaseException) -> None:
        now = self._clock()
        self._failures += 1
        if self._outage_since is None:
            self._outage_since = now
        if self._opened_at is not None:  # a failed probe: stay open for another period
            self._opened_at = now
        elif self._failures >= self._threshold:
            self._opened_at = now
            self._log.warning(
                "ratelimit_circuit_open: %d consecutive Redis failures (last: %s); "
                "skipping Redis for %.1f s (policy %s)",
                self._failures,
                type(exc).__name__,
                self._breaker_reset,
                self._policy,
                extra={"event": "ratelimit_circuit_open"},
            )
            self._emit("ratelimit_circuit_open")

    def _record_success(self) -> None:
        if self._failures == 0 and self._outage_since is None and self._opened_at is None:
            return  # healthy and already known to be: nothing to record (the common case)
        self._failures = 0
        if self._opened_at is not None:
            self._opened_at = None
            self._log.info(
                "ratelimit_circuit_closed: Redis answers again (policy %s)",
                self._policy,
                extra={"event": "ratelimit_circuit_closed"},
            )
            self._emit("ratelimit_circuit_closed")
        self._outage_since = None
        self._note_state(LimiterState.OK)

    def _decide_without_redis(self, key: str, rate: Rate, cost: int) -> Decision:
        now = self._clock()
        state = self._state_at(now)
        self._note_state(state)
        if state is LimiterState.FAILING_CLOSED:
            self._observe(key, "unavailable")
            retry_after = self._retry_after(now)
            raise LimiterUnavailable(
                f"rate limiter unavailable (Redis down, policy {self._policy})",
                retry_after=retry_after,
            )
        local_rate = rate.divided(self._divisor) if state is LimiterState.DEGRADED else rate
        decision = self._fallback.decide(key, local_rate, cost)
        if decision.impossible and cost <= rate.burst:
            # Only the reduced outage share is too small: wait for Redis, not for ever.
            decision = replace(decision, impossible=False, retry_after=self._retry_after(now))
        self._observe(key, "fallback_allowed" if decision.allowed else "fallback_denied")
        return decision

    def _state_at(self, now: float) -> LimiterState:
        if self._outage_since is None:
            return LimiterState.OK
        if self._policy == "fail-open":
            return LimiterState.OPEN_FALLBACK
        if self._policy == "degrade" and now - self._outage_since < self._degrade_for:
            return LimiterState.DEGRADED
        return LimiterState.FAILING_CLOSED

    def _note_state(self, state: LimiterState) -> None:
        """Log a state change once (the first call that observes it)."""
        if state is self._logged_state:
            return
        previous, self._logged_state = self._logged_state, state
        level, event = _STATE_EVENTS[state]
        self._log.log(
            level,
            "%s: rate limiting %s -> %s (policy %s)",
            event,
            previous.value,
            state.value,
            self._policy,
            extra={"event": event},
        )
        self._emit(event)

    def _emit(self, event: str) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _retry_after(self, now: float) -> float:
        """Seconds until the next Redis probe (a full breaker period if none is scheduled)."""
        if self._opened_at is not None:
            left = self._opened_at + self._breaker_reset - now
            if left > 0:
                return left
        return self._breaker_reset

    def _observe(self, key: str, outcome: str) -> None:
        if self._on_decision is not None:
            self._on_decision(key_kind(key), outcome)


def _invalid(message: str) -> ConfigError:
    return ConfigError(message, code="rate_limiter_invalid")
