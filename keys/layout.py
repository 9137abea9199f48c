"""The files of a keys directory, as ``dcc keys init`` writes them and the loader reads them."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CSCA_CERT_FILE",
    "CSCA_KEY_FILE",
    "DSC_CERT_FILE",
    "DSC_KEY_FILE",
    "MAX_KEY_FILE_BYTES",
]

CSCA_CERT_FILE: Final = "csca.pem"
CSCA_KEY_FILE: Final = "csca.key"
DSC_CERT_FILE: Final = "dsc.pem"
DSC_KEY_FILE: Final = "dsc.key"

MAX_KEY_FILE_BYTES: Final = 1024 * 1024
"""Key and certificate files larger than this are refused unread (they are a few KiB)."""
