"""Issuing EU DCC test certificates.

Import from the submodules: ``issuer.issuer`` (the :class:`~issuer.issuer.Issuer`),
``issuer.request`` (the request model and its rules), ``issuer.hc1`` (the ``HC1:`` codec),
``issuer.qr`` (QR rendering and reading), ``issuer.errors`` (the error hierarchy). The package
itself imports nothing, so that light users (the HC1 codec) do not pay for QR or pydantic.
"""
