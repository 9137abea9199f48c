"""The README cannot drift: its shell blocks run, in order, as a newcomer would run them.

Every fenced ``sh`` block of README.md runs in ``bash -euo pipefail`` and must exit 0. A block
may be skipped only by an HTML comment on the line before it,
``<!-- doctest: skip: <reason> -->``, and the reason is required.

The blocks run in a temporary working directory, never in the repository: ``.venv`` there is
a symlink to the virtualenv running the tests (the README calls ``.venv/bin/dcc``), ``var/``
is the temporary one, and ``DCC_KEYS_DIR`` and ``DCC_DATABASE_URL`` point into it (every other
``DCC_*`` variable of the caller is dropped), so the developer's ``var/`` and database are
never touched. Each block runs in a fresh shell: state passes between blocks through files.

``make run`` serves until stopped, so the README marks it skipped; this test runs the lines
of the Makefile's ``run`` target itself (keys, database schema, the ``dev`` account), then
starts its ``dcc serve`` on a free loopback port before the first block (the README tells the
reader to keep ``make run`` serving in another terminal) and polls ``/healthz`` until it
answers. The README's base URL ``http://127.0.0.1:8000`` is replaced by that server's.

Key outputs are asserted where cheap (:data:`EXPECTED`: a verification prints ``VALID``, a
batch issues 2 and refuses 1, ...), and the server's log must hold its start-up summary and
audit lines, and no personal data.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
import pytest

from tests.waiting import wait_until

ROOT: Final = Path(__file__).resolve().parents[1]
README: Final = ROOT / "README.md"
MAKEFILE: Final = ROOT / "Makefile"
README_BASE_URL: Final = "http://127.0.0.1:8000"
"""Where ``make run`` serves, as the README writes it; replaced by the test server's URL."""
SERVE_ARGUMENTS: Final = ("serve", "--host", "127.0.0.1", "--port")

SHELL_LANGUAGES: Final = frozenset({"sh", "bash", "shell"})
_FENCE: Final = re.compile(r"^```([A-Za-z0-9_+-]*)\s*$")
_SKIP: Final = re.compile(r"^<!--\s*doctest:\s*skip\b:?\s*(?P<reason>.*?)\s*-->\s*$")
_LINK: Final = re.compile(r"\]\((?P<target>[^)\s]+)\)")

BLOCK_TIMEOUT: Final = 120.0
START_TIMEOUT: Final = 30.0
STOP_TIMEOUT: Final = 10.0

EXPECTED: Final[dict[str, tuple[str, ...]]] = {
    # a unique piece of a block's text: regular expressions its output must match (multiline)
    "dcc keys init --dir var/demo/keys": (r"^kid: \S+=?$",),
    "dcc issue --keys var/demo/keys": (r'"uvci": "URN:UVCI:01:LU:', r'"hc1": "HC1:'),
    "--json var/demo/qr.png": (
        r"^VALID$",
        r'^\{"valid":true,"verdict":"valid","checks":\[\{"name":"prefix","ok":true\}',
        r"^INVALID: expiry: expired at ",
        r"^exit status 1$",
    ),
    "import verifier": (
        r"^True \['prefix', 'base45', 'zlib', 'cose', 'kid', 'signature', 'expiry', 'schema', "
        r"'key_usage', 'rules'\]$",
    ),
    "/v1/certificates/batch": (  # curl prints bodies without a final newline
        r"^HTTP/1\.1 201 ",
        r"^(?i:ratelimit-policy): 20000;w=3600",
        r"^(?i:dcc-uvci): URN:UVCI:01:LU:",
        r'\{"issued":2,"failed":1,"results":\[',
        # the retry answers the first attempt's certificate, marked as replayed
        r"(?i:dcc-uvci): (\S+)\s+(?i:dcc-uvci): \1\s+(?i:idempotent-replayed): true",
    ),
    "/v1/verify -F image=": (
        r'(\{"valid":true,"verdict":"valid","checks":\[.*){3}',
        r'"status":401,.*"code":"authentication_required"',
        r'\[\{"kid":"[^"]+","country":"LU","certificateType":"DSC"',
        r'\{"status":"ok"\}',
        r'\{"status":"ready","checks":\{"keys":true,"store":true,"limiter":true\}',
        r'dcc_certificates_issued_total\{outcome="issued",type="rapid-antigen"\} [1-9][0-9]*\.0',
    ),
    "dcc accounts add": (
        r"^issuance quota: 600/minute \(burst 1000\)$",
        r"^dcc_[0-9a-f]{16}_\S+$",
        r"now has issuance quota 100/minute$",
        r"^new key for account 'Lab Nord'",
        r"is now disabled$",
        r"is now active$",
        r"^2 account\(s\)$",
        r"^[0-9a-f]{16}  lab  +active  +100/minute +Lab Nord$",
        r"is now removed$",
    ),
}


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block of a markdown file."""

    line: int
    """1-based line of the opening fence."""
    language: str
    text: str
    skip: str | None
    """The reason of a ``doctest: skip`` marker right before the block, else None."""


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced block of ``markdown``, in order (unterminated fences are an error)."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == "```"), None)
        if end is None:
            raise ValueError(f"README line {index + 1}: the code block is never closed")
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _SKIP.match(previous.strip())
        text = "\n".join(lines[index + 1 : end]) + "\n"
        blocks.append(Block(index + 1, opening[1], text, marker["reason"] if marker else None))
        index = end + 1
    return blocks


def shell_blocks() -> list[Block]:
    """The README's shell blocks, skipped ones included."""
    return [b for b in code_blocks(README.read_text("utf-8")) if b.language in SHELL_LANGUAGES]


def test_skipped_blocks_are_few_and_say_why() -> None:
    blocks = shell_blocks()
    skipped = [block for block in blocks if block.skip is not None]
    assert all(block.skip for block in skipped), "a doctest: skip marker needs a reason"
    assert len(skipped) <= 2, [block.line for block in skipped]
    assert len(blocks) - len(skipped) >= 5


def test_every_expectation_names_exactly_one_block() -> None:
    runnable = [block for block in shell_blocks() if block.skip is None]
    for needle in EXPECTED:
        matching = [block.line for block in runnable if needle in block.text]
        assert len(matching) == 1, f"{needle!r} is in the blocks at lines {matching}"


def make_run_recipe() -> tuple[list[str], str]:
    """The shell lines of the Makefile's ``run`` target: (setup lines, the serving line).

    ``$(BIN)`` becomes ``.venv/bin`` and ``$(DCC_KEYS_DIR)`` the variable of that name (the
    test sets it); any other Make variable is an error, so a new one is noticed here.
    """
    lines = MAKEFILE.read_text("utf-8").splitlines()
    start = lines.index(next(line for line in lines if re.match(r"^run:", line)))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip().lstrip("@-")
        command = command.replace("$(BIN)", ".venv/bin").replace(
            "$(DCC_KEYS_DIR)", '"$DCC_KEYS_DIR"'
        )
        assert "$(" not in command, f"the run target uses a Make variable this test lacks: {line}"
        recipe.append(command)
    assert recipe, "the Makefile has no run target"
    *setup, serve = recipe
    return setup, serve


def test_make_run_serves_where_the_readme_says() -> None:
    """The test replaces the README's base URL; ``make run`` must really serve there."""
    _, serve = make_run_recipe()
    assert shlex.split(serve) == [".venv/bin/dcc", *SERVE_ARGUMENTS, "8000"]
    assert README_BASE_URL in README.read_text("utf-8")


@pytest.mark.parametrize(
    "document", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda path: path.name
)
def test_relative_links_point_to_files_that_exist(document: Path) -> None:
    text = document.read_text("utf-8")
    assert "DESIGN.md" not in text, "the project's docs are in docs/, not in ../shared"
    missing = []
    for match in _LINK.finditer(text):
        target = match["target"].split("#", 1)[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue
        if not (document.parent / target).exists():
            missing.append(match["target"])
    assert missing == []


# --- running the blocks ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _virtualenv() -> Path:
    """The virtualenv running these tests (its ``bin/dcc`` is the one under test)."""
    for candidate in (Path(sys.prefix), ROOT / ".venv"):
        if (candidate / "bin" / "dcc").exists():
            return candidate
    pytest.fail(f"no bin/dcc in {sys.prefix} or {ROOT / '.venv'}: run `make test`")


def _environment(work: Path, venv: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DCC_")}
    env["DCC_KEYS_DIR"] = str(work / "var" / "keys")
    env["DCC_DATABASE_URL"] = f"sqlite:///{work / 'var' / 'dcc.sqlite3'}"
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
    env.pop("PYTHONPATH", None)
    return env


def _run(command: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        check=False,
    )


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``/healthz`` until it answers 200 (a server that exits ends the wait at once)."""
    with httpx.Client(base_url=base, timeout=2.0) as client:

        def healthy() -> bool:
            if server.poll() is not None:
                raise AssertionError(
                    f"dcc serve exited with {server.returncode}:\n{log.read_text()}"
                )
            try:
                return client.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(
            healthy,
            what=lambda: f"dcc serve answering /healthz; its log:\n{log.read_text()}",
            timeout=START_TIMEOUT,
        )


@contextmanager
def _make_run(work: Path, env: dict[str, str]) -> Iterator[str]:
    """The Makefile's ``run`` target on a free port; yields the base URL, stops the server.

    The setup lines run as the Makefile writes them; the serving line is started here (it
    never returns) with the port replaced.
    """
    setup, _ = make_run_recipe()
    for command in setup:
        done = _run(["bash", "-euo", "pipefail", "-c", command], work, env)
        assert done.returncode == 0, f"make run: {command}\n{done.stdout}{done.stderr}"
    port = _free_port()
    log = work / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(work / ".venv" / "bin" / "dcc"), *SERVE_ARGUMENTS, str(port)],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _report(block: Block, done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"README block at line {block.line} exited with {done.returncode}\n"
        f"--- block ---\n{block.text}--- stdout ---\n{done.stdout}--- stderr ---\n{done.stderr}"
    )


@pytest.mark.slow
def test_readme_shell_blocks_run_in_order(tmp_path: Path) -> None:
    blocks = [block for block in shell_blocks() if block.skip is None]
    if any("curl " in block.text for block in blocks) and shutil.which("curl") is None:
        pytest.skip("the README's HTTP examples use curl, which is not installed")
    work = tmp_path / "clone"
    work.mkdir()
    venv = _virtualenv()
    (work / ".venv").symlink_to(venv, target_is_directory=True)
    env = _environment(work, venv)
    with _make_run(work, env) as base:
        for block in blocks:
            script = block.text.replace(README_BASE_URL, base)
            done = _run(["bash", "-euo", "pipefail", "-c", script], work, env)
            assert done.returncode == 0, _report(block, done)
            for needle, patterns in EXPECTED.items():
                if needle in block.text:
                    for pattern in patterns:
                        found = re.search(pattern, done.stdout, re.MULTILINE)
                        assert found, f"{pattern!r} not in the output\n{_report(block, done)}"
    log = (work / "server.log").read_text("utf-8")
    assert re.search(r"^dcc serve: keys OK \(kid \S+, DSC valid until ", log, re.MULTILINE), log
    assert '"event":"certificate_issued"' in log.replace(" ", ""), log
    assert "Müller" not in log
    assert "1985-03-02" not in log
