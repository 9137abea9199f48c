"""The layers import one way: signing <- hcert <- {keys, issuer, verifier}, store <- api <- cli.

Read from the source with ``ast`` (every import statement, also inside functions), plus the
check anyone can run: importing the verifier loads nothing of the issuer.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("signing", "hcert", "keys", "issuer", "verifier", "store", "api", "cli", "loadtests")
ALLOWED: dict[str, set[str]] = {
    "signing": set(),
    "hcert": {"signing"},
    "keys": {"signing", "hcert"},
    "issuer": {"signing", "hcert", "keys"},
    "verifier": {"signing", "hcert", "keys"},
    "store": {"signing"},
    "api": {"signing", "hcert", "keys", "issuer", "verifier", "store"},
    "cli": {"signing", "hcert", "keys", "issuer", "verifier", "store", "api"},
}


def _imports(path: Path) -> set[str]:
    tops: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops & set(OURS)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(found - ALLOWED[package] - {package})
        for path in sorted((ROOT / package).rglob("*.py"))
        if (found := _imports(path)) - ALLOWED[package] - {package}
    }
    assert wrong == {}


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("verifier", {"issuer", "api", "cli", "pydantic", "fastapi", "redis", "uvicorn"}),
        ("hcert", {"issuer", "verifier", "keys", "PIL", "pydantic"}),
        ("issuer.issuer", {"qrcode", "fpdf", "verifier", "api"}),
        ("api.settings", {"redis", "uvicorn"}),
    ],
)
def test_importing_a_layer_loads_nothing_above_it(module: str, absent: set[str]) -> None:
    """Run in a fresh interpreter, as ``python -c "import verifier, sys; ..."`` would."""
    code = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    assert sorted(loaded & absent) == []
