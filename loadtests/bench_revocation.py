"""Revocation at scale: revoke 100,000 certificates in one call, then serve the list.

For each backend (SQLite file; PostgreSQL when Debian's binaries are installed, fsync on):

1. the register gets ``--certificates`` rows of one account (real hashes of random
   signatures) and ``--others`` rows of another account, in chunks (not timed);
2. ``revoke_account`` revokes the first account's certificates: one statement (timed);
3. a second identical call (the idempotent no-op) is timed too; then reading the list's
   rows (the join of revocations and register) and building the list (batches, JSON, gzip,
   the verifier's lookup) are timed apart;
4. the app (``create_app``, in process through httpx's ASGI transport) serves
   ``GET /v1/revocation-list``: the first request builds the list (timed), the next ones
   come from the cache (timed, median of ``--repeat``), and ``If-None-Match`` answers 304;
   the body's size, gzip size, batch count are recorded;
5. the verifier's lookup in that list (``RevocationList.match``) is timed per certificate.

Run: ``.venv/bin/python -m loadtests.bench_revocation [--certificates N] [--backend B]``.
Record the printed table in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from api.app import create_app
from api.revocation_list import build_published
from api.settings import Settings
from hcert.revocation import revocation_hashes
from hcert.revocation_list import RevocationList
from keys.generate import generate_keys
from loadtests.postgres import PostgresServer, find_postgres_bin
from store import Store
from store.register import IssuanceRecord

__all__ = ["BenchResult", "main", "run_backend"]

FRAUD: Final = "f" * 16
OTHER: Final = "0" * 16
KID: Final = "AAECAwQFBgc="
CHUNK: Final = 5000


@dataclass(frozen=True)
class BenchResult:
    backend: str
    certificates: int
    revoke_seconds: float
    again_seconds: float
    first_get_seconds: float
    cached_get_ms: float
    not_modified_ms: float
    body_bytes: int
    gzip_bytes: int
    batches: int
    lookup_us: float
    listing_seconds: float
    build_seconds: float


def _rows(count: int, account: str, offset: int, now: int) -> Iterator[list[IssuanceRecord]]:
    chunk: list[IssuanceRecord] = []
    for number in range(offset, offset + count):
        uvci = f"URN:UVCI:01:LU:{number:026d}#A"
        hashes = revocation_hashes(os.urandom(64), issuer="LU", uvci=uvci)
        chunk.append(
            IssuanceRecord(
                uvci=uvci,
                kid=KID,
                account_id=account,
                member=None,
                test_type="LP217198-3",
                channel="batch",
                issued_at=now - 3600 + number % 3000,
                expires_at=now + 86_400 + number % 100_000,
                signature_hash=hashes.signature,
                uci_hash=hashes.uci,
                country_uci_hash=hashes.country_uci,
            )
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _fill(store: Store, certificates: int, others: int, now: int) -> None:
    for chunk in _rows(certificates, FRAUD, 0, now):
        await store.register.record(chunk)
    for chunk in _rows(others, OTHER, certificates, now):
        await store.register.record(chunk)


async def run_backend(
    backend: str, url: str, keys: Path, *, certificates: int, others: int, repeat: int
) -> BenchResult:
    """Fill, revoke, serve on the database at ``url``; the figures."""
    now = int(time.time())
    store = Store.open(url)
    try:
        await store.upgrade()
        await _fill(store, certificates, others, now)
        started = time.perf_counter()
        outcome = await store.revocations.revoke_account(
            FRAUD,
            issued_from=now - 7200,
            issued_until=now + 60,
            reason="fraud",
            by="bench",
            now=now,
        )
        revoke_seconds = time.perf_counter() - started
        assert outcome.revoked == certificates, outcome
        started = time.perf_counter()
        again = await store.revocations.revoke_account(
            FRAUD,
            issued_from=now - 7200,
            issued_until=now + 60,
            reason="fraud",
            by="bench",
            now=now,
        )
        again_seconds = time.perf_counter() - started
        assert again.revoked == 0
        assert again.already == certificates
        started = time.perf_counter()
        version, entries = await store.revocations.listing(now=now)
        listing_seconds = time.perf_counter() - started
        started = time.perf_counter()
        build_published(version, entries, country="LU", imported=None)
        build_seconds = time.perf_counter() - started
    finally:
        await store.close()

    app = create_app(Settings(keys_dir=keys, database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://bench",
            headers={"Accept-Encoding": "identity"},  # the plain body; gzip size computed below
        ) as client:
            started = time.perf_counter()
            first = await client.get("/v1/revocation-list")
            first_get_seconds = time.perf_counter() - started
            assert first.status_code == 200
            cached: list[float] = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = await client.get("/v1/revocation-list")
                cached.append(time.perf_counter() - started)
                assert response.status_code == 200
            etag = first.headers["etag"]
            not_modified: list[float] = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = await client.get("/v1/revocation-list", headers={"If-None-Match": etag})
                not_modified.append(time.perf_counter() - started)
                assert response.status_code == 304
    document = first.json()
    lookup = RevocationList.from_documents([document])
    probes = [
        revocation_hashes(os.urandom(64), issuer="LU", uvci=f"URN:UVCI:01:LU:{n}#A")
        for n in range(10_000)
    ]
    started = time.perf_counter()
    for hashes in probes:
        lookup.match(KID, hashes)
    lookup_us = (time.perf_counter() - started) / len(probes) * 1e6
    body = first.content
    return BenchResult(
        backend=backend,
        certificates=certificates,
        revoke_seconds=revoke_seconds,
        again_seconds=again_seconds,
        first_get_seconds=first_get_seconds,
        cached_get_ms=statistics.median(cached) * 1000,
        not_modified_ms=statistics.median(not_modified) * 1000,
        body_bytes=len(body),
        gzip_bytes=len(gzip.compress(body, 6)),
        batches=len(document["batches"]),
        lookup_us=lookup_us,
        listing_seconds=listing_seconds,
        build_seconds=build_seconds,
    )


@contextmanager
def _databases(root: Path, backends: list[str]) -> Iterator[list[tuple[str, str]]]:
    urls = []
    if "sqlite" in backends:
        urls.append(("sqlite", f"sqlite:///{root / 'bench.sqlite3'}"))
    if "postgresql" in backends and find_postgres_bin() is not None:
        with PostgresServer(fsync=True) as server:
            server.psql("CREATE DATABASE bench")
            urls.append(("postgresql", server.url.rsplit("/", 1)[0] + "/bench"))
            yield urls
            return
    yield urls


def report(results: list[BenchResult]) -> str:
    """The Markdown table of ``results``."""
    lines = [
        "| backend | revoked | revoke (1 statement) | again (no-op) | read rows | build "
        "| first GET (read + build) | cached GET | 304 | list | gzip | batches | lookup |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.certificates:,} | {r.revoke_seconds:.2f} s | "
            f"{r.again_seconds:.2f} s | {r.listing_seconds:.2f} s | {r.build_seconds:.2f} s | "
            f"{r.first_get_seconds:.2f} s | {r.cached_get_ms:.1f} ms | "
            f"{r.not_modified_ms:.1f} ms | {r.body_bytes / 1e6:.1f} MB | "
            f"{r.gzip_bytes / 1e6:.1f} MB | {r.batches} | {r.lookup_us:.1f} µs |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--backend", action="append", choices=["sqlite", "postgresql"], default=None
    )
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite", "postgresql"]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-revocation-") as folder:
        root = Path(folder)
        generate_keys(root / "keys", country="LU")
        with _databases(root, backends) as urls:
            for backend, url in urls:
                results.append(
                    asyncio.run(
                        run_backend(
                            backend,
                            url,
                            root / "keys",
                            certificates=args.certificates,
                            others=args.others,
                            repeat=args.repeat,
                        )
                    )
                )
                print(report(results[-1:]).splitlines()[-1], file=sys.stderr)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
