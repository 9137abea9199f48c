"""The load generators send what they are given and count what comes back.

The wrk Lua script is checked as text (its string literals decoded as Lua 5.1/LuaJIT reads
them: no Lua interpreter needed) and, when wrk is installed, run for a second against a
server that records every body. The asyncio generator (forced by hiding wrk) runs against
the same recording server and against the real bare endpoint. Only counts and consistency
are asserted, never a speed.
"""

from __future__ import annotations

import json
import re
import shutil
from typing import TYPE_CHECKING

import pytest

from loadtests import loadgen
from loadtests.fixtures import sample_requests
from loadtests.loadgen import LoadResult, generator_name, run_load
from loadtests.servers import Server, free_port

if TYPE_CHECKING:
    from .conftest import RecordingServer

_LUA_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "a": "\a", "v": "\v"}
_LUA_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"', re.DOTALL)
HAS_WRK = shutil.which("wrk") is not None
HEADERS = {"Content-Type": "application/json", "Authorization": 'Bearer k"e\\y'}
TRICKY = [
    json.dumps({"name": 'Anna "Annie" Müller', "path": "C:\\temp\\x"}, ensure_ascii=False),
    json.dumps({"family": "Παπαδόπουλος", "given": "Олена", "emoji": "✓ ß"}, ensure_ascii=False),
    json.dumps({"pretty": ["a", "b"]}, indent=2),  # real newlines in the body
    "tab\there, quote ' and a ]] bracket",
]


def lua_unquote(body: str) -> str:
    """The value of a double-quoted Lua 5.1 string literal's body (raises on bad escapes)."""
    out, index = [], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        escape = body[index + 1]
        if escape in _LUA_ESCAPES:
            out.append(_LUA_ESCAPES[escape])
            index += 2
        elif escape in "\\\"'\n":
            out.append(escape)
            index += 2
        elif escape.isdigit():
            digits = re.match(r"\d{1,3}", body[index + 1 :])
            assert digits is not None
            out.append(chr(int(digits[0])))
            index += 1 + len(digits[0])
        else:
            raise ValueError(f"invalid escape sequence \\{escape} in a Lua string")
    return "".join(out)


def _literals(script: str, name: str) -> list[str]:
    block = re.search(rf"local {name} = \{{(.*?)\n?\}}\n", script, re.DOTALL)
    assert block is not None, script
    return [lua_unquote(m[1]) for m in _LUA_STRING.finditer(block[1])]


def test_wrk_script_carries_bodies_and_headers_verbatim() -> None:
    script = loadgen._wrk_script("/v1/certificates", HEADERS, TRICKY)
    assert _literals(script, "bodies") == TRICKY
    assert _literals(script, "headers") == [item for pair in HEADERS.items() for item in pair]
    assert "wrk.format('POST', \"/v1/certificates\", headers, bodies[i])" in script
    assert "i = i % #bodies + 1" in script
    assert "done = function(summary, latency, requests)" in script
    assert "WRKJSON" in script


def test_wrk_script_of_the_bench_bodies() -> None:
    bodies = [json.dumps(b, ensure_ascii=False) for b in sample_requests(64)]
    script = loadgen._wrk_script("/v1/certificates", {}, bodies)
    assert _literals(script, "bodies") == bodies
    assert any(not body.isascii() for body in bodies)  # UTF-8 kept, not \\u-escaped


def test_wrk_script_escapes_control_characters_as_lua_does() -> None:
    script = loadgen._wrk_script("/", {}, ["bell\x07 and \x01"])
    assert _literals(script, "bodies") == ["bell\x07 and \x01"]


def test_run_load_needs_a_body() -> None:
    with pytest.raises(ValueError, match="at least one body"):
        run_load("http://127.0.0.1:1/", {}, [])


@pytest.fixture
def no_wrk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide wrk from the load generator so that its asyncio generator runs."""
    which = shutil.which

    def which_but_wrk(name: str, *args: object, **kwargs: object) -> str | None:
        return None if name == "wrk" else which(name)

    monkeypatch.setattr(loadgen.shutil, "which", which_but_wrk)


def _assert_consistent(result: LoadResult, generator: str) -> None:
    assert result.generator == generator
    assert result.requests > 0
    assert result.seconds > 0
    assert result.rps == pytest.approx(result.requests / result.seconds)
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms


def _assert_sent_verbatim(server: RecordingServer, bodies: list[str], result: LoadResult) -> None:
    received = server.received()
    sent = {body.encode() for body in bodies}
    assert received
    assert set(received) == sent  # every body, each byte for byte, and nothing else
    assert len(received) >= result.requests


@pytest.mark.usefixtures("no_wrk")
def test_asyncio_generator_sends_every_body_verbatim(recording_server: RecordingServer) -> None:
    assert generator_name() == "python-asyncio"
    result = run_load(recording_server.url, HEADERS, TRICKY, connections=3, duration=0.5)
    _assert_consistent(result, "python-asyncio")
    assert (result.non_2xx, result.socket_errors) == (0, 0)
    _assert_sent_verbatim(recording_server, TRICKY, result)


@pytest.mark.usefixtures("no_wrk")
def test_asyncio_generator_counts_error_answers(recording_server: RecordingServer) -> None:
    bodies = ['{"ok": 1}', '{"FAIL": 1}']
    result = run_load(recording_server.url, {}, bodies, connections=1, duration=0.3)
    assert result.requests >= 2
    assert result.non_2xx == result.requests // 2  # one connection alternates the two
    assert result.socket_errors == 0


@pytest.mark.usefixtures("no_wrk")
def test_asyncio_generator_counts_refused_connections() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/certificates"
    result = run_load(url, {}, ["{}"], connections=4, duration=0.2)
    assert (result.requests, result.socket_errors, result.rps) == (0, 4, 0.0)


@pytest.mark.usefixtures("no_wrk")
def test_asyncio_generator_against_the_bare_endpoint(bare_server: Server) -> None:
    bodies = [json.dumps(b, ensure_ascii=False) for b in sample_requests(8)]
    url = f"{bare_server.url}/v1/certificates"
    result = run_load(url, {"Content-Type": "application/json"}, bodies, connections=4, duration=1)
    _assert_consistent(result, "python-asyncio")
    assert (result.non_2xx, result.socket_errors) == (0, 0)


@pytest.mark.skipif(not HAS_WRK, reason="wrk is not installed (make system-deps)")
def test_wrk_sends_every_body_verbatim(recording_server: RecordingServer) -> None:
    assert generator_name() == "wrk"
    result = run_load(recording_server.url, HEADERS, TRICKY, connections=2, duration=1)
    _assert_consistent(result, "wrk")
    assert (result.non_2xx, result.socket_errors) == (0, 0)
    _assert_sent_verbatim(recording_server, TRICKY, result)


@pytest.mark.skipif(not HAS_WRK, reason="wrk is not installed (make system-deps)")
def test_wrk_counts_error_answers(recording_server: RecordingServer) -> None:
    result = run_load(
        recording_server.url, {}, ['{"ok":1}', '{"FAIL":1}'], connections=1, duration=1
    )
    assert result.requests >= 2
    assert 0 < result.non_2xx < result.requests
    assert abs(result.non_2xx - result.requests / 2) <= 1


@pytest.mark.skipif(not HAS_WRK, reason="wrk is not installed (make system-deps)")
def test_wrk_against_the_bare_endpoint(bare_server: Server) -> None:
    bodies = [json.dumps(b, ensure_ascii=False) for b in sample_requests(8)]
    url = f"{bare_server.url}/v1/certificates"
    result = run_load(url, {"Content-Type": "application/json"}, bodies, connections=4, duration=1)
    _assert_consistent(result, "wrk")
    assert (result.non_2xx, result.socket_errors) == (0, 0)
