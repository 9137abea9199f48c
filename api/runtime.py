"""The composition root: settings → keys, signer pool, issuer, store, accounts, limiters.

:func:`build_issuing_runtime` (keys → signer pool → issuer) is shared by the CLI
(``dcc issue``) and the app, so both refuse bad keys or value sets with the same single
message. :func:`open_resources` adds what the app holds while it runs (the store, checked
to be at the code's schema revision; the accounts read from it and kept fresh; trust
store, rate limiters), built once in the lifespan and closed at shutdown; any problem
raises a :class:`~signing.errors.DccError` before the app serves a request. Routes receive
the :class:`Resources` through :func:`api.deps.resources_of`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar, TypeVarTuple

import anyio
import anyio.to_thread
import orjson
import redis.asyncio as aioredis

from api.accounts import AccountDirectory
from api.audit import AuditTrail
from api.issue_queue import IssueQueue
from api.metrics import Metrics
from api.ratelimit import Limiter
from api.ratelimit.factory import build_limiter, create_redis_client
from api.ratelimit.resilient import ResilientLimiter
from api.render_check import CheckedRenderer
from api.settings import Settings
from hcert.valuesets import DeviceRegistry
from issuer.issuer import Issuer
from issuer.request import RequestPolicy
from keys.eku import CertType
from keys.load import SigningKeys, load_signing_keys
from keys.trust_list import export_trust_list
from signing.errors import ConfigError
from signing.pool import SignerPool, WaitObserver
from signing.signer import LocalSigner
from store import Store
from store.errors import StoreUnavailable
from verifier import TrustStore

__all__ = [
    "BATCH_THREADS",
    "RENDER_THREADS",
    "Clock",
    "IssuingRuntime",
    "Resources",
    "build_issuing_runtime",
    "load_devices",
    "open_resources",
    "purge_idempotency_keys",
]

Clock = Callable[[], datetime]

RENDER_THREADS: Final = 4
"""Worker threads for QR rendering and image reading (CPU-bound, ms each)."""
BATCH_THREADS: Final = 1
"""Batches issued at once per process; more wait for the thread (bounded by their quota).

One, because two batch threads in one process contend for the interpreter lock: measured
7,100-7,400 certificates/s with one thread against 3,200-4,100/s with two (BENCHMARKS.md).
Run more workers to use more cores."""

_LOGGER = logging.getLogger("dcc.api")
_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")

TEST_ONLY: Final[tuple[CertType, ...]] = ("test",)


@dataclass(frozen=True)
class IssuingRuntime:
    """What issuing needs at run time: the loaded keys, the signer pool and the issuer."""

    keys: SigningKeys
    pool: SignerPool
    issuer: Issuer


def load_devices(settings: Settings) -> DeviceRegistry:
    """The RAT device list from ``DCC_VALUESETS_FILE``, or the id-format check alone."""
    if settings.valuesets_file is None:
        return DeviceRegistry.format_only()
    return DeviceRegistry.from_file(settings.valuesets_file)


def build_issuing_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    observer: WaitObserver | None = None,
) -> IssuingRuntime:
    """Load and check the keys, then build the pool and the issuer (raises DccError)."""
    now = clock or (lambda: datetime.now(UTC))
    keys = load_signing_keys(
        settings.keys_dir,
        passphrase=settings.key_passphrase,
        now=now(),
        required_cert_types=TEST_ONLY,
    )
    if keys.country != settings.country:
        raise ConfigError(
            f"DCC_COUNTRY is {settings.country} but the signing certificate (DSC) in "
            f"{settings.keys_dir} is for {keys.country}: set DCC_COUNTRY={keys.country} or "
            f"create keys with `dcc keys init --country {settings.country}`",
            code="country_mismatch",
        )
    signers = [LocalSigner(keys.private_key, keys.kid) for _ in range(settings.signer_slots)]
    pool = SignerPool(signers, acquire_timeout=settings.signer_timeout, observer=observer)
    issuer = Issuer(
        settings.issuer_config(),
        pool=pool,
        devices=load_devices(settings),
        not_after=keys.not_after,
        clock=now,
    )
    return IssuingRuntime(keys=keys, pool=pool, issuer=issuer)


@dataclass(eq=False)
class Resources:
    """Everything routes need: settings, issuing runtime, accounts, limiters, metrics, audit."""

    settings: Settings
    runtime: IssuingRuntime
    issue_queue: IssueQueue
    store: Store
    accounts: AccountDirectory
    trust: TrustStore
    trust_list_json: bytes
    issue_limiter: Limiter
    verify_limiter: Limiter
    redis: aioredis.Redis | None
    metrics: Metrics
    audit: AuditTrail
    render_threads: anyio.CapacityLimiter
    batch_threads: anyio.CapacityLimiter
    clock: Clock
    background: list[asyncio.Task[None]]
    renderer: CheckedRenderer
    """Renders QR images and PDFs, each read back before it leaves (api.render_check)."""

    @property
    def devices(self) -> DeviceRegistry:
        """The RAT device registry requests are checked against."""
        return self.runtime.issuer.devices

    @property
    def policy(self) -> RequestPolicy:
        """The deployment's issue-request policy (name length, sample age, clock skew)."""
        return self.runtime.issuer.config.policy

    @property
    def limiter_backend(self) -> str:
        """``redis`` when quotas are shared through Redis, else ``memory``."""
        return "redis" if self.redis is not None else "memory"

    async def in_render_thread(self, func: Callable[[*_Args], _T], *args: *_Args) -> _T:
        """``func(*args)`` in a worker thread bounded by :attr:`render_threads` (QR, PDF, images).

        CPU work of milliseconds runs there so the event loop keeps serving other requests.
        """
        return await anyio.to_thread.run_sync(func, *args, limiter=self.render_threads)

    def limiter_state(self) -> str:
        """How issuance quotas are decided now (``ok``, ``degraded``, ``failing-closed``…)."""
        limiter = self.issue_limiter
        return limiter.state.value if isinstance(limiter, ResilientLimiter) else "ok"

    async def close(self) -> None:
        """Stop the background tasks; close the limiters, the Redis client and the store."""
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.issue_limiter.close()
            await self.verify_limiter.close()
        finally:
            try:
                if self.redis is not None:
                    await self.redis.aclose()
            finally:
                await self.store.close()


PURGE_SECONDS: Final = 600
"""How often a replica deletes idempotency keys past their 24 h (their stored responses hold
the certificates, names and dates of birth included: kept no longer than replays need)."""


async def purge_idempotency_keys(store: Store, clock: Clock) -> None:
    """Delete expired idempotency keys now and every :data:`PURGE_SECONDS` (a lifespan task)."""
    while True:
        try:
            purged = await store.idempotency.purge(now=int(clock().timestamp()))
        except StoreUnavailable as error:
            _LOGGER.warning("expired idempotency keys not purged: %s", error)
        else:
            if purged:
                _LOGGER.info("purged %d expired idempotency keys", purged)
        await asyncio.sleep(PURGE_SECONDS)


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def open_resources(
    settings: Settings,
    *,
    metrics: Metrics,
    clock: Clock | None = None,
    issue_limiter: Limiter | None = None,
    verify_limiter: Limiter | None = None,
    audit: AuditTrail | None = None,
) -> Resources:
    """Load keys, open the store and read its accounts, build the limiters (raises DccError).

    ``issue_limiter``/``verify_limiter`` replace the ones the settings describe (tests);
    ``audit`` is where audit lines go (default: ``DCC_AUDIT_FILE``, else the ``dcc.audit``
    logger).
    """
    now = clock or _utc_now
    runtime = build_issuing_runtime(settings, clock=now, observer=metrics.observe_signer_wait)
    metrics.track_pool(runtime.pool)
    store = Store.open(settings.database_url, observer=metrics.observe_commit)
    try:
        await store.check_schema()
        accounts = AccountDirectory(store.accounts, refresh_seconds=settings.accounts_refresh)
        await accounts.load()
    except BaseException:
        await store.close()
        raise
    if not len(accounts):
        _LOGGER.warning(
            "no API accounts in %s: issuing is refused until `dcc accounts add` creates one",
            store.shown_url,
        )
    certificate = runtime.keys.certificate
    redis = create_redis_client(settings.redis_url) if settings.redis_url else None
    if issue_limiter is None:
        issue_limiter = build_limiter(
            settings.redis_url,
            policy=settings.ratelimit_failure,
            replicas=settings.replicas,
            client=redis,
            on_event=metrics.limiter_event_counter("issue"),
        )
    if verify_limiter is None:
        verify_limiter = build_limiter(
            settings.redis_url,
            policy="fail-open",
            replicas=settings.replicas,
            client=redis,
            on_event=metrics.limiter_event_counter("verify"),
        )
    metrics.track_limiter("issue", issue_limiter)
    metrics.track_limiter("verify", verify_limiter)
    if audit is None:
        audit = AuditTrail.to_file(settings.audit_file) if settings.audit_file else None
    return Resources(
        settings=settings,
        runtime=runtime,
        issue_queue=IssueQueue(runtime.issuer),
        store=store,
        accounts=accounts,
        trust=TrustStore.from_certificates([certificate]),
        trust_list_json=orjson.dumps(export_trust_list([certificate])),
        issue_limiter=issue_limiter,
        verify_limiter=verify_limiter,
        redis=redis,
        metrics=metrics,
        audit=audit or AuditTrail.to_logger(),
        render_threads=anyio.CapacityLimiter(RENDER_THREADS),
        batch_threads=anyio.CapacityLimiter(BATCH_THREADS),
        clock=now,
        background=[
            asyncio.create_task(accounts.keep_fresh()),
            asyncio.create_task(purge_idempotency_keys(store, now)),
        ],
        renderer=CheckedRenderer(metrics.count_render_check_failure),
    )
