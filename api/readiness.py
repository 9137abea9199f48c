"""What ``GET /readyz`` answers: can this replica serve now, and how (keys, store, limiter).

A load balancer acts on the status code, so it must say what the replica can do rather than
whether every dependency is perfect:

- the DSC is outside its validity period, or the database does not answer → **503**
  ``not-ready`` (nothing can be issued);
- Redis answers (or quotas are in-process) → **200** ``ready``;
- Redis does not answer and issuance follows ``degrade`` (local quotas, divided by
  ``DCC_REPLICAS``) → **200** ``degraded``: the replica serves, within the configured rates,
  and every replica is in the same situation, so taking them all out would only turn a
  degraded service into an outage;
- Redis does not answer and issuance is ``failing-closed`` (``fail-closed``, or ``degrade``
  past its 300 s) → **503** ``not-ready``: issuance answers 503 anyway.

Each call pings Redis and feeds the answer to the limiters
(:meth:`~api.ratelimit.resilient.ResilientLimiter.probe`), so the answer depends on Redis
now and on the policy, not on which worker happened to make quota decisions: the workers of
one replica answer alike (up to the ``degrade`` expiry, counted per worker from its first
failed probe or decision).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from api.ratelimit.resilient import LimiterState, ResilientLimiter
from api.runtime import Resources

__all__ = ["Readiness", "assess"]

_SERVING_STATES: Final = frozenset({LimiterState.OK, LimiterState.DEGRADED})


@dataclass(frozen=True)
class Readiness:
    """The readiness answer: HTTP status and JSON body."""

    status_code: int
    body: dict[str, Any]


async def assess(resources: Resources) -> Readiness:
    """Check keys, store and limiter now (pings the database and Redis)."""
    active = resources.runtime.keyring.active(None)  # the DSC this replica signs with now
    now = resources.clock()
    issue = resources.issue_limiter
    if isinstance(issue, ResilientLimiter):
        verify = resources.verify_limiter
        if isinstance(verify, ResilientLimiter):
            await verify.probe()  # same Redis: keeps its state (metrics) in step
        state = await issue.probe()
        limiter_ok = state is LimiterState.OK
        policy: str = issue.policy
    else:
        state, policy = LimiterState.OK, "in-process"
        limiter_ok = await issue.healthy()
    checks = {
        "keys": active is not None and active.keys.not_before <= now < active.keys.not_after,
        "store": await resources.store.healthy(),
        "limiter": limiter_ok,
    }
    serving = checks["keys"] and checks["store"] and state in _SERVING_STATES
    if not serving or (not limiter_ok and state is LimiterState.OK):
        status = "not-ready"
    elif state is LimiterState.DEGRADED:
        status = "degraded"
    else:
        status = "ready"
    body = {
        "status": status,
        "checks": checks,
        "limiter": {"backend": resources.limiter_backend, "state": state.value, "policy": policy},
    }
    return Readiness(503 if status == "not-ready" else 200, body)
