"""The HTTP load generator of the benches: wrk when installed, else a raw-socket asyncio one.

Both keep ``connections`` keep-alive connections busy for ``duration`` seconds, cycling
through a list of POST bodies, and report the same :class:`LoadResult` (requests per
second, latency percentiles, non-2xx answers and socket errors). Both endpoints of a
comparison are always loaded by the same generator with the same settings. wrk is
Debian's (``apt-get install wrk``); its Lua script is written to a temporary file.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

__all__ = ["LoadResult", "generator_name", "run_load"]

_WRK_MARK: Final = "WRKJSON "
_DONE_LUA: Final = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"socket_errors":%d,"non_2xx":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run measured (latencies in milliseconds)."""

    generator: str
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def generator_name() -> str:
    """``wrk`` when it is installed, else ``python-asyncio``."""
    return "wrk" if shutil.which("wrk") else "python-asyncio"


_CONTROL: Final = re.compile("[\x00-\x1f\x7f]")


def _lua_string(text: str) -> str:
    """``text`` as a Lua 5.1 string literal (UTF-8 kept; quotes, backslashes and control
    characters escaped, the latter as ``\\ddd``: Lua has no ``\\u`` escape)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _CONTROL.sub(lambda match: f"\\{ord(match.group()):03d}", escaped) + '"'


def _wrk_script(path: str, headers: Mapping[str, str], bodies: Sequence[str]) -> str:
    header_items = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    body_items = ",\n".join(_lua_string(body) for body in bodies)
    return (
        f"local headers = {{ {header_items} }}\n"
        f"local bodies = {{\n{body_items}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        f"  return wrk.format('POST', {_lua_string(path)}, headers, bodies[i])\n"
        "end\n" + _DONE_LUA
    )


def _run_wrk(
    url: str,
    headers: Mapping[str, str],
    bodies: Sequence[str],
    *,
    connections: int,
    threads: int,
    duration: float,
) -> LoadResult:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    with tempfile.TemporaryDirectory(prefix="dcc-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_wrk_script(parts.path or "/", headers, bodies), encoding="utf-8")
        result = subprocess.run(  # noqa: S603 (wrk on loopback)
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        )
    line = next((x for x in result.stdout.splitlines() if x.startswith(_WRK_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (its script failed?): {result.stderr.strip()}")
    data = json.loads(line[len(_WRK_MARK) :])
    return LoadResult(
        generator="wrk",
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
    )


async def _connection(
    host: str, port: int, requests: Sequence[bytes], deadline: float, out: list[tuple[float, int]]
) -> int:
    """One keep-alive connection sending requests until ``deadline``; returns socket errors."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return 1
    index = 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            out.append((time.perf_counter() - started, status))
    except (OSError, asyncio.IncompleteReadError, ValueError):
        return 1
    finally:
        writer.close()
    return 0


async def _run_asyncio(
    url: str,
    headers: Mapping[str, str],
    bodies: Sequence[str],
    *,
    connections: int,
    duration: float,
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [
        (
            f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
            f"Content-Length: {len(body.encode())}\r\n\r\n"
        ).encode()
        + body.encode()
        for body in bodies
    ]
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()
    deadline = started + duration
    errors = await asyncio.gather(
        *(_connection(host, port, requests, deadline, samples) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(sample[0] * 1000 for sample in samples) or [0.0]
    cuts = statistics.quantiles(latencies, n=1000) if len(latencies) > 1 else latencies * 999
    return LoadResult(
        generator="python-asyncio",
        requests=len(samples),
        seconds=elapsed,
        non_2xx=sum(1 for _, status in samples if not 200 <= status < 300),
        socket_errors=sum(errors),
        p50_ms=cuts[499],
        p90_ms=cuts[899],
        p99_ms=cuts[989],
        max_ms=latencies[-1],
    )


def run_load(
    url: str,
    headers: Mapping[str, str],
    bodies: Sequence[str],
    *,
    connections: int = 32,
    threads: int = 1,
    duration: float = 10.0,
) -> LoadResult:
    """Load ``url`` (POST, cycling ``bodies``) and return what was measured."""
    if not bodies:
        raise ValueError("run_load needs at least one body")
    if shutil.which("wrk"):
        return _run_wrk(
            url, headers, bodies, connections=connections, threads=threads, duration=duration
        )
    return asyncio.run(
        _run_asyncio(url, headers, bodies, connections=connections, duration=duration)
    )
