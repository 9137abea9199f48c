"""The revocation bench runs end to end on a small register (SQLite): every step checks its
own outcome (all revoked once, the no-op, 200 then 304) and the table names the figures."""

from __future__ import annotations

import pytest

from loadtests import bench_revocation


def test_the_bench_runs_on_a_small_register(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        bench_revocation.main(
            ["--certificates", "1500", "--others", "10", "--repeat", "2", "--backend", "sqlite"]
        )
        == 0
    )
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| backend | revoked | revoke (1 statement)")
    assert table[2].startswith("| sqlite | 1,500 |")
    assert "| 6 |" in table[2]  # 2 batches (1000 + 500) per hash type
