"""The public surface of keys/: __all__ is sorted, complete and importable."""

from __future__ import annotations

import importlib
import inspect

import pytest

import keys

MODULES = [
    "keys",
    "keys.eku",
    "keys.generate",
    "keys.kid",
    "keys.layout",
    "keys.load",
    "keys.trust_list",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    """Every module's __all__ names exist, once each, and cover its public functions/classes."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for attribute in exported:
        assert hasattr(module, attribute), f"{name}.{attribute}"
    defined_here = {
        attribute
        for attribute, value in vars(module).items()
        if not attribute.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == name
    }
    assert defined_here <= set(exported)


def test_package_exports_the_contract() -> None:
    """The names other packages code against are re-exported by keys/."""
    required = {
        "CertType",
        "GeneratedKeys",
        "OID_FOR_TYPE",
        "SigningKeys",
        "allowed_cert_types",
        "compute_kid",
        "export_trust_list",
        "generate_keys",
        "kid_b64",
        "load_certificate",
        "load_signing_keys",
        "parse_certificates",
        "trust_list_entry",
    }
    assert required <= set(keys.__all__)
