"""Issuing EU DCC test certificates: request → DCC payload → signed ``HC1:`` → QR or PDF.

- :mod:`issuer.request`: the issue-request contract (models, rules, validation);
- :mod:`issuer.issuer`: the :class:`~issuer.issuer.Issuer` (UVCI, payload, claims, signature);
- :mod:`issuer.render`: an issued certificate as QR code (PNG, SVG) or printable PDF.

The package front imports nothing itself, so that issuing does not load QR rendering or
the PDF. The codec the verifier shares lives in :mod:`hcert`.
"""
