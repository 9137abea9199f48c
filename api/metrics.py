"""Prometheus metrics of one app instance, on its own :class:`CollectorRegistry`.

Each app owns its registry (never the process-global one), so tests and several apps in a
process do not collide. ``GET /metrics`` renders it. Label values are small fixed sets: no
account ids, no client addresses, no UVCIs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar, cast

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from api.ratelimit.base import Limiter
from api.ratelimit.resilient import EVENTS, LimiterState, ResilientLimiter
from api.revocation_list import PublishedList
from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT
from signing.pool import SignerPool

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "type_label"]

_LATENCY_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
_WAIT_BUCKETS: Final = (0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_GROUP_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
_TYPE_LABELS: Final = {TEST_TYPE_RAT: "rapid-antigen", TEST_TYPE_NAAT: "naat"}
_Metric = TypeVar("_Metric", bound=MetricWrapperBase)


def type_label(test_type: str | None) -> str:
    """``rapid-antigen``, ``naat`` or ``unknown`` (before validation knew the type)."""
    return _TYPE_LABELS.get(test_type or "", "unknown")


class Metrics:
    """The service's counters and histograms (names start with ``dcc_``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[MetricWrapperBase, tuple[str, ...]], MetricWrapperBase] = {}
        registry = self.registry
        self.issued = Counter(
            "dcc_certificates_issued",
            "Issue attempts by test type and outcome (issued, invalid, unavailable, failed).",
            ["type", "outcome"],
            registry=registry,
        )
        self.issue_seconds = Histogram(
            "dcc_issue_duration_seconds",
            "Time to issue, by product (json, png, svg, batch).",
            ["product"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.http_seconds = Histogram(
            "dcc_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.signer_wait = Histogram(
            "dcc_signer_wait_seconds",
            "Time spent waiting for a signer slot, by outcome (obtained, timeout).",
            ["outcome"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.signer_in_use = Gauge(
            "dcc_signer_slots_in_use", "Signer slots currently borrowed.", registry=registry
        )
        self.signer_slots = Gauge(
            "dcc_signer_slots", "Signer slots in the pool.", registry=registry
        )
        self.ratelimit = Counter(
            "dcc_ratelimit_decisions",
            "Rate-limit decisions by subject kind and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.ratelimit_state = Gauge(
            "dcc_ratelimit_state",
            "1 for how quota decisions are made now, by limiter (issue, verify) and state "
            "(ok: Redis or in-process by design; degraded, failing-closed, open-fallback: "
            "Redis unavailable), else 0.",
            ["limiter", "state"],
            registry=registry,
        )
        self.ratelimit_circuit_open = Gauge(
            "dcc_ratelimit_circuit_open",
            "1 while the limiter's circuit breaker skips Redis (between probes), else 0.",
            ["limiter"],
            registry=registry,
        )
        self.ratelimit_events = Counter(
            "dcc_ratelimit_events",
            "Rate-limiter transitions (circuit open/closed, outage start, recovery), by limiter.",
            ["limiter", "event"],
            registry=registry,
        )
        self.register_commit_seconds = Histogram(
            "dcc_register_commit_seconds",
            "Time to commit one group of register rows (one transaction).",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.register_group_requests = Histogram(
            "dcc_register_group_requests",
            "Requests whose rows shared one register commit (group commit).",
            buckets=_GROUP_BUCKETS,
            registry=registry,
        )
        self.register_rows = Counter(
            "dcc_register_rows", "Register rows committed.", registry=registry
        )
        self.idempotency = Counter(
            "dcc_idempotency_keys",
            "Requests with an Idempotency-Key by outcome (claimed, replay, in_flight, mismatch).",
            ["outcome"],
            registry=registry,
        )
        self.verifications = Counter(
            "dcc_verifications",
            "Verification requests by input kind (hc1, image) and result (the report's verdict: "
            "valid, invalid, issuer_unknown).",
            ["input", "result"],
            registry=registry,
        )

        self.revocations = Counter(
            "dcc_revocations",
            "Certificates revoked through this process, by reason.",
            ["reason"],
            registry=registry,
        )
        self.revoked_certificates = Gauge(
            "dcc_revoked_certificates",
            "Certificates revoked in the store (every replica's revocations, expired ones too), "
            "by reason, as of the revocation list's last build.",
            ["reason"],
            registry=registry,
        )
        self.revocation_list_certificates = Gauge(
            "dcc_revocation_list_certificates",
            "Revoked, unexpired certificates on the published revocation list (last build).",
            registry=registry,
        )
        self.revocation_list_batches = Gauge(
            "dcc_revocation_list_batches",
            "Batches of the published revocation list (last build).",
            registry=registry,
        )
        self.revocation_list_bytes = Gauge(
            "dcc_revocation_list_bytes",
            "Size of the published revocation list's JSON body (last build).",
            registry=registry,
        )
        self.render_check_failures = Counter(
            "dcc_render_self_check_failures",
            "QR images (png, svg; the PDF's is png) that did not read back to their HC1: "
            "answered 500, alert on any.",
            ["kind"],
            registry=registry,
        )

    def child(self, metric: _Metric, *values: str) -> _Metric:
        """``metric.labels(*values)``, looked up once per label set and then kept.

        ``labels()`` checks and converts the values and takes the metric's lock on every
        call (several µs on each request); the children never change, so the app keeps them.
        A child is still created on first use only, so ``/metrics`` shows the same series.
        """
        key = (metric, values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return cast("_Metric", found)

    def observe_signer_wait(self, waited: float, obtained: bool) -> None:
        """The signer pool's wait observer: (seconds waited, whether a slot was obtained)."""
        self.child(self.signer_wait, "obtained" if obtained else "timeout").observe(waited)

    def observe_commit(self, requests: int, rows: int, seconds: float) -> None:
        """The group commit's observer: one transaction of ``requests`` and ``rows``."""
        self.register_commit_seconds.observe(seconds)
        self.register_group_requests.observe(requests)
        self.register_rows.inc(rows)

    def observe_revocation_list(self, published: PublishedList) -> None:
        """The revocation list cache's observer: the size of the list just built."""
        self.revocation_list_certificates.set(published.certificates)
        self.revocation_list_batches.set(published.batches)
        self.revocation_list_bytes.set(len(published.body))
        for reason, count in published.by_reason:
            self.revoked_certificates.labels(reason).set(count)

    def track_pool(self, pool: SignerPool) -> None:
        """Report the pool's size and its slots in use at every scrape."""
        self.signer_slots.set(pool.size)
        self.signer_in_use.set_function(lambda: float(pool.in_use))

    def track_limiter(self, name: str, limiter: Limiter) -> None:
        """Report ``limiter``'s state and circuit at every scrape, under label ``name``.

        A limiter without Redis (in-process) is always ``ok`` with a closed circuit. Count
        its transitions with :meth:`limiter_event_counter` as its ``on_event``.
        """
        resilient = limiter if isinstance(limiter, ResilientLimiter) else None
        for state in LimiterState:
            self.ratelimit_state.labels(name, state.value).set_function(
                _state_reader(resilient, state)
            )
        self.ratelimit_circuit_open.labels(name).set_function(
            lambda: float(resilient is not None and resilient.circuit_open)
        )

    def limiter_event_counter(self, name: str) -> Callable[[str], None]:
        """An ``on_event`` observer counting limiter ``name``'s transitions (all start at 0)."""
        for event in EVENTS:
            self.ratelimit_events.labels(name, event)
        return lambda event: self.ratelimit_events.labels(name, event).inc()

    def count_render_check_failure(self, kind: str) -> None:
        """One more QR image that failed its read-back (``kind``: png or svg)."""
        self.child(self.render_check_failures, kind).inc()

    def render(self) -> bytes:
        """The text exposition of every metric of this registry."""
        return generate_latest(self.registry)


def _state_reader(limiter: ResilientLimiter | None, state: LimiterState) -> Callable[[], float]:
    """1.0 while ``limiter`` is in ``state`` (no limiter: always ``ok``), else 0.0."""
    if limiter is None:
        value = float(state is LimiterState.OK)
        return lambda: value
    return lambda: float(limiter.state is state)
