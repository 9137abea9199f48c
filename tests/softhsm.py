"""A SoftHSM2 token for the PKCS#11 tests, initialised in a temporary directory.

PKCS#11 modules are initialised once per process (``C_Initialize`` reads ``SOFTHSM2_CONF``
then), so the whole test process shares one SoftHSM configuration: :func:`softhsm` creates
it on first use (a temp dir with ``softhsm2.conf`` and one token, label ``dcc-test``, user
PIN ``1234``) and points ``SOFTHSM2_CONF`` at it. :meth:`SoftHsm.removed` takes the token
away (its directory moved aside) and brings it back, as an unplugged and re-plugged HSM.
Tests skip when Debian's softhsm2 is not installed (``make system-deps``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

__all__ = ["MODULE", "SoftHsm", "softhsm"]

MODULE: Final = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN: Final = "dcc-test"
PIN: Final = "1234"


@dataclass(frozen=True)
class SoftHsm:
    module: Path
    token: str
    pin: str
    tokens_dir: Path

    @contextlib.contextmanager
    def removed(self) -> Iterator[None]:
        """The token is gone inside the block (its directory moved away), back after it."""
        away = self.tokens_dir.with_name("tokens.away")
        self.tokens_dir.rename(away)
        try:
            yield
        finally:
            away.rename(self.tokens_dir)


_INSTANCE: list[SoftHsm] = []


def softhsm() -> SoftHsm:
    """The process's SoftHSM token (created on first call); skips without softhsm2."""
    if _INSTANCE:
        return _INSTANCE[0]
    util = shutil.which("softhsm2-util")
    if util is None or not MODULE.exists():
        pytest.skip("softhsm2 is not installed: `make system-deps` installs it")
    root = Path(tempfile.mkdtemp(prefix="dcc-softhsm-"))
    atexit.register(shutil.rmtree, root, True)
    tokens = root / "tokens"
    tokens.mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "5678"],
        check=True,
        capture_output=True,
    )
    _INSTANCE.append(SoftHsm(MODULE, TOKEN, PIN, tokens))
    return _INSTANCE[0]
