"""How much costly work one process lets run at once (hardening.md, API4).

* Image decodes (``POST /v1/verify`` with an image, the ``/verify`` page's uploads): at
  most :data:`IMAGE_DECODES` at once per process. One decode is bounded by the QR reader
  (16 Mpx, ~80 MB of pixels); two at once keep a worker under ~160 MB of image memory
  whatever the clients send, where four 16383x2400 WebP images grew one by 1.9 GiB.
  More requests wait for their turn (they are already bounded by the verify quota).
"""

from __future__ import annotations

from typing import Final

import anyio

__all__ = ["IMAGE_DECODES", "new_image_decode_limiter"]

IMAGE_DECODES: Final = 2


def new_image_decode_limiter() -> anyio.CapacityLimiter:
    """A fresh limiter of :data:`IMAGE_DECODES` tokens (built inside the event loop)."""
    return anyio.CapacityLimiter(IMAGE_DECODES)
