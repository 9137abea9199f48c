"""The composition root: settings → keys, signer pool, issuer, store, accounts, limiters.

:func:`api.issuing_runtime.build_issuing_runtime` (keys → signer pool → issuer) is shared
by the CLI (``dcc issue``) and the app, so both refuse bad keys or value sets with the same
single message. :func:`open_resources` adds what the app holds while it runs (the store, checked
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, TypeVar, TypeVarTuple

import anyio
import anyio.to_thread
import orjson

from api.accounts import AccountDirectory
from api.audit import AuditTrail
from api.issue_queue import IssueQueue
from api.issuing_runtime import IssuingRuntime, build_issuing_runtime
from api.keyring import keep_keys_fresh, track_last_expiry
from api.metrics import Metrics
from api.oidc import IdentityProvider
from api.ratelimit import Limiter
from api.ratelimit.factory import build_limiter, create_redis_client
from api.ratelimit.resilient import ResilientLimiter
from api.ratelimit.topology import RedisClient, close_client
from api.render_check import CheckedRenderer
from api.render_limits import RenderSlots
from api.revocation_list import RevocationListCache
from api.settings import Settings
from api.trust_lists import ImportedTrustLists
from api.work_limits import new_image_decode_limiter
from hcert.valuesets import DeviceRegistry
from issuer.request import RequestPolicy
from keys.ring import KeyRing
from keys.signed_list import TrustListSigner
from keys.trust_list import export_trust_list
from store import Store
from store.errors import StoreUnavailable
from verifier import TrustStore, load_revocation_lists
from verifier.destination import RuleSet, default_rule_set, load_rule_set

__all__ = [
    "BATCH_THREADS",
    "RENDER_THREADS",
    "Clock",
    "Resources",
    "load_rules",
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


def load_rules(settings: Settings) -> RuleSet:
    """The destination rules: the packaged LU rules plus ``DCC_RULES_DIR``'s files."""
    return load_rule_set([settings.rules_dir] if settings.rules_dir else [])


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
    redis: RedisClient | None
    metrics: Metrics
    audit: AuditTrail
    render_threads: anyio.CapacityLimiter
    batch_threads: anyio.CapacityLimiter
    clock: Clock
    background: list[asyncio.Task[None]]
    trust_lists: ImportedTrustLists
    revocation_list: RevocationListCache
    renderer: CheckedRenderer
    """Renders QR images and PDFs, each read back before it leaves (api.render_check)."""

    def verification_trust(self) -> TrustStore:
        """What ``/v1/verify`` trusts: the own keys (:attr:`trust`) and the imported lists."""
        return self.trust_lists.with_own(self.trust)

    rules: RuleSet = field(default_factory=default_rule_set)
    identity: IdentityProvider | None = None
    """The OpenID provider when ``DCC_OIDC_ISSUER`` is set (logins, access tokens)."""
    image_decodes: anyio.CapacityLimiter = field(default_factory=new_image_decode_limiter)
    render_slots: RenderSlots = field(default_factory=RenderSlots)
    trust_list_signer: TrustListSigner | None = None
    trust_list_cose: bytes | None = None
    scoped_queues: dict[str, IssueQueue] = field(default_factory=dict)

    def queue_for(self, scope: str | None) -> IssueQueue:
        """The issue queue of ``scope``'s accounts (the default queue for None)."""
        if scope is None:
            return self.issue_queue
        queue = self.scoped_queues.get(scope)
        if queue is None:
            queue = self.scoped_queues[scope] = IssueQueue(self.runtime.issuer_for(scope))
        return queue

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
                    await close_client(self.redis)
            finally:
                if self.identity is not None:
                    await self.identity.close()
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
    rules = load_rules(settings)
    metrics.track_pool(runtime.pool)
    trust_lists = ImportedTrustLists.open(settings)  # raises for a bad list
    imported = (
        load_revocation_lists(settings.revocation_lists) if settings.revocation_lists else None
    )
    store = Store.open(settings.database_url, observer=metrics.observe_commit)
    try:
        await store.check_schema()
        accounts = AccountDirectory(
            store.accounts, members=store.members, refresh_seconds=settings.accounts_refresh
        )
        await accounts.load()
    except BaseException:
        await store.close()
        raise
    if not len(accounts):
        _LOGGER.warning(
            "no API accounts in %s: issuing is refused until `dcc accounts add` creates one",
            store.shown_url,
        )
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
    keyring = runtime.keyring
    published = keyring.published()
    resources = Resources(
        settings=settings,
        runtime=runtime,
        issue_queue=IssueQueue(runtime.issuer),
        store=store,
        accounts=accounts,
        trust=TrustStore.from_certificates(published),
        trust_list_json=orjson.dumps(export_trust_list(published)),
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
            asyncio.create_task(trust_lists.keep_fresh()),
        ],
        trust_lists=trust_lists,
        rules=rules,
        identity=IdentityProvider(settings.oidc, clock=lambda: now().timestamp())
        if settings.oidc is not None
        else None,
        revocation_list=RevocationListCache(
            store.revocations,
            country=settings.country,
            clock=now,
            imported=imported,
            on_build=metrics.observe_revocation_list,
        ),
        renderer=CheckedRenderer(metrics.count_render_check_failure),
    )
    resources.trust_list_signer = TrustListSigner.from_directory(
        settings.keys_dir, settings.key_passphrase
    )
    publish_keys(resources, keyring)
    # published before the issuers follow a new active DSC: no certificate leaves before
    # the trust lists hold its key
    keyring.add_listener(lambda ring: publish_keys(resources, ring), first=True)
    resources.background.append(asyncio.create_task(keep_keys_fresh(keyring)))
    resources.background.append(asyncio.create_task(keep_trust_list_signed(resources)))
    resources.background.append(asyncio.create_task(track_last_expiry(store, keyring)))
    return resources


async def keep_trust_list_signed(resources: Resources) -> None:
    """Sign the trust list again every quarter of its validity (a lifespan task), so the
    signed list a verifier fetches is never near its expiry."""
    while True:
        await asyncio.sleep(resources.settings.trust_list_validity.total_seconds() / 4)
        publish_keys(resources, resources.runtime.keyring)


def publish_keys(resources: Resources, ring: KeyRing) -> None:
    """After a key change: the trust list (plain, and signed by the CSCA when this replica
    holds its key) and the verifier's trust store hold every DSC that may still have valid
    certificates; metrics follow the active pool."""
    published = ring.published()
    trust = TrustStore.from_certificates(published)
    listing = orjson.dumps(export_trust_list(published))
    signer = resources.trust_list_signer
    if signer is not None:  # the signed list first: the key ring's thread may run this while
        # the loop serves both lists, so a DSC seen in the plain list is in the signed one
        validity = resources.settings.trust_list_validity
        resources.trust_list_cose = signer.sign(published, now=resources.clock(), validity=validity)
    resources.trust = trust
    resources.trust_list_json = listing
    active = ring.active(None)
    if active is not None:
        resources.metrics.track_pool(active.pool)
