"""The HC1 container that the issuer and the verifier share (hcert.md §1-§2, §8).

- :mod:`hcert.hc1`: ``HC1:`` prefix, zlib, base45 (:mod:`hcert.base45`); encode and
  bounded decode;
- :mod:`hcert.claims`: the CWT claim keys, the claims encoders, and the one strict parser;
- :mod:`hcert.valuesets`: the EU value-set codes and the RAT device registry;
- :mod:`hcert.revocation`: the revocation hashes (SIGNATURE, UCI, COUNTRYCODEUCI).

It depends on :mod:`signing` alone; :mod:`issuer` and :mod:`verifier` sit side by side
above it and never import each other.
"""

from __future__ import annotations

from hcert.hc1 import MAX_HC1_CHARS, PREFIX, decode_hc1, encode_hc1

__all__ = ["MAX_HC1_CHARS", "PREFIX", "decode_hc1", "encode_hc1"]
