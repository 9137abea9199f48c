"""Auto-pipelining of one Lua script: concurrent calls share one Redis round trip.

Why: through redis-py, one ``EVALSHA`` costs the event loop 50-100 µs of CPU (pool checkout,
retry wrapper, timers, packing, parsing), more than the script costs Redis. Under load many
requests want a decision at once, so :class:`ScriptBatcher` queues the calls and sends
everything queued in ONE write: a non-transactional pipeline of ``EVALSHA`` commands, one
per call, each touching only its own key (Redis-Cluster-safe, no ``MULTI``). The fixed
costs are paid once per batch, as ioredis and Lettuce do.

How: :meth:`ScriptBatcher.call` appends (key, args, future) and, if no drain task runs,
starts one. The drain task takes up to ``max_batch`` queued calls (in order, skipping those
whose waiter was cancelled), writes them, reads every reply and resolves each future; calls
queued meanwhile form the next batch, so at most one batch per batcher is in flight and
Redis applies the calls in the order they were made. The batcher keeps one connection of
the client's pool checked out (no pool round per batch) and packs ``EVALSHA`` itself; the
reads of a batch share one timeout (the connection's socket timeout).

Failures: a broken connection is re-established and the calls still unanswered are sent
once more (the client's ``Retry``, as redis-py does for a single command); ``NOSCRIPT``
(a restarted or flushed Redis) sends ``SCRIPT LOAD`` and the affected calls again in one
round trip; any other error reaches every waiter of the batch as the same exception type
(a copy each). A waiter that is cancelled just stops waiting: its reply, if any, is dropped.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import math
from collections import deque
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

import redis.asyncio as aioredis
from redis._parsers.encoders import Encoder
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from signing.errors import ConfigError

__all__ = ["DEFAULT_MAX_BATCH", "ScriptBatcher"]

DEFAULT_MAX_BATCH: Final = 256
"""Calls per round trip; more wait for the next one (bounds a write and a reply buffer)."""


class _Call(NamedTuple):
    """One queued script call: its key, its arguments and the waiter's future."""

    key: str
    args: tuple[int, ...]
    future: asyncio.Future[Any]


class ScriptBatcher:
    """Runs one Lua script by ``EVALSHA``, coalescing concurrent calls into pipelines."""

    def __init__(
        self, client: aioredis.Redis, script: str, *, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        """Use one connection of ``client``'s pool (checked out at the first call, returned
        by :meth:`aclose`)."""
        if max_batch < 1:
            raise ConfigError("max_batch must be at least 1", code="rate_limiter_invalid")
        self._pool = client.connection_pool
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest().encode()  # noqa: S324 (script id)
        encoder: Encoder = self._pool.get_encoder()  # type: ignore[no-untyped-call]
        self._encoding: tuple[str, str] = (encoder.encoding, encoder.encoding_errors)
        self._max_batch = max_batch
        self._queue: deque[_Call] = deque()
        self._drain: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None  # the pool's, checked out once
        self._closed = False

    def call(self, key: str, args: tuple[int, ...]) -> asyncio.Future[Any]:
        """Queue ``EVALSHA sha 1 key *args``; the future gets the script's reply or error
        (after :meth:`aclose`, this raises a Redis ``ConnectionError`` at once).

        Must be called from the event loop the client runs on. Cancelling the future (e.g.
        the awaiting task is cancelled) withdraws the call if it has not been sent yet.
        """
        if self._closed:  # a late request during shutdown: like a Redis that went away
            raise RedisConnectionError("the rate limiter's Redis batcher is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Call(key, args, future))
        if self._drain is None:
            self._drain = loop.create_task(self._run())
        return future

    async def aclose(self) -> None:
        """Stop: cancel the batch in flight and every queued call (their waiters see
        ``CancelledError``) and return the connection to the pool (left open)."""
        self._closed = True
        drain, self._drain = self._drain, None
        if drain is not None:
            drain.cancel()
            await asyncio.wait([drain])  # its end, not its CancelledError
        while self._queue:
            self._queue.popleft().future.cancel()
        await self._release()

    async def _run(self) -> None:
        """Send batches until the queue is empty (the next call starts a new task)."""
        try:
            while self._queue:
                batch = self._take()
                if batch:
                    await self._settle(batch)
        finally:
            if self._drain is asyncio.current_task():
                self._drain = None

    def _take(self) -> list[_Call]:
        """Up to ``max_batch`` queued calls, oldest first, without the withdrawn ones."""
        queue, batch = self._queue, list[_Call]()
        while queue and len(batch) < self._max_batch:
            pending = queue.popleft()
            if not pending.future.done():
                batch.append(pending)
        return batch

    async def _settle(self, batch: list[_Call]) -> None:
        """Run one batch and resolve its futures, whatever happens."""
        try:
            replies = await self._execute(batch)
        except Exception as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(_copy_error(exc))
            return
        except BaseException:  # cancelled (aclose): nobody will answer these waiters
            for pending in batch:
                pending.future.cancel()
            raise
        for pending, reply in zip(batch, replies, strict=True):
            if pending.future.done():
                continue
            if isinstance(reply, Exception):
                pending.future.set_exception(_copy_error(reply))
            else:
                pending.future.set_result(reply)

    async def _execute(self, batch: Sequence[_Call]) -> list[Any]:
        """Every call's reply (or its own ``ResponseError``), in order; NOSCRIPT reloads."""
        commands = [self._pack(call) for call in batch]
        replies = await self._round_trip(commands)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            load = _pack_command(b"SCRIPT", b"LOAD", self._script.encode())
            try:
                again = await self._round_trip([load, *(commands[i] for i in missing)])
            except Exception as exc:  # only these calls failed; the others ran
                again = [exc] * (len(missing) + 1)
            loaded = again[0]
            for i, reply in zip(missing, again[1:], strict=True):
                replies[i] = loaded if isinstance(loaded, Exception) else reply
        return replies

    def _pack(self, call: _Call) -> bytes:
        """``EVALSHA sha 1 key *args`` in RESP (the client's generic packer costs 5x more)."""
        key = call.key.encode(*self._encoding)
        return _pack_command(b"EVALSHA", self._sha, b"1", key, *(b"%d" % a for a in call.args))

    async def _round_trip(self, commands: list[bytes]) -> list[Any]:
        """Write ``commands`` (packed) at once on the batcher's connection, read every reply.

        A ``ConnectionError`` is retried per the client's ``Retry`` on a fresh connection,
        resending only the commands not answered yet (answered ones already ran).
        """
        connection = self._connection
        if connection is None:  # kept between batches: no pool checkout per round trip
            connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
            self._connection = connection
        replies: list[Any] = []

        async def attempt() -> list[Any]:
            if not connection.is_connected:
                # connect() explicitly: a Sentinel-managed connection asks the sentinels for
                # the current master there (sending would reconnect to the last address).
                await connection.connect()
            await _send_and_read(connection, commands[len(replies) :], replies)
            return replies

        async def reconnect(_error: Exception) -> None:
            await connection.disconnect()

        try:
            if connection.retry is None:
                return await attempt()
            result: list[Any] = await connection.retry.call_with_retry(attempt, reconnect)
            return result
        except BaseException:  # whatever broke, never leave unread replies on the socket
            await connection.disconnect(nowait=True)
            raise

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection)


def _pack_command(*args: bytes) -> bytes:
    """One command in RESP: an array of bulk strings."""
    return b"*%d\r\n" % len(args) + b"".join(map(_bulk, args))


def _bulk(arg: bytes) -> bytes:
    """One RESP bulk string."""
    return b"$%d\r\n%s\r\n" % (len(arg), arg)


async def _send_and_read(
    connection: AbstractConnection, commands: Sequence[bytes], replies: list[Any]
) -> None:
    """One write of ``commands``, then their replies appended to ``replies``.

    The read is bounded once per round trip by the connection's socket timeout (not once
    per reply); a timeout disconnects, so no stale reply can reach a later batch.
    """
    await connection.send_packed_command(b"".join(commands))
    timeout = connection.socket_timeout
    try:
        async with asyncio.timeout(timeout):
            for _ in commands:
                try:
                    replies.append(await connection.read_response(timeout=math.inf))
                except ResponseError as exc:  # this command's own error; the stream is fine
                    replies.append(exc)
    except TimeoutError:  # asyncio's (builtin); redis-py raises its own TimeoutError
        raise RedisTimeoutError(f"Timeout reading from Redis after {timeout} s") from None


def _copy_error(exc: Exception) -> Exception:
    """A copy of ``exc`` for one waiter (a shared instance would share its traceback)."""
    try:
        clone = copy.copy(exc)
    except Exception:  # an exception type that cannot be rebuilt from its args
        return exc
    clone.__cause__ = exc
    return clone
