"""What ``POST /v1/certificates/render`` costs its caller (issue 19: costly endpoints).

* **Quota:** every render spends one cell of the caller's own issuance quota (its account
  rate, else its role's: ``DCC_RATE_PHARMACIST`` / ``DCC_RATE_LAB``), charged before the
  body is read. An account whose quota is spent cannot render; the deployment's global
  signing quota is not charged (a render signs nothing). The pharmacist's page issues once
  and renders the QR code and the PDF: three cells per certificate.
* **Concurrency:** at most :data:`RENDERS_PER_ACCOUNT` renders of one account run at once
  per process; another one is refused at once with 429 ``render_concurrency`` and
  ``Retry-After: 1`` rather than queued, so one account cannot fill the render threads
  that every other account's QR codes, PDFs and image uploads share.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Final

from api.problems import RateLimited
from api.ratelimit import Decision

__all__ = ["RENDERS_PER_ACCOUNT", "RenderSlots"]

RENDERS_PER_ACCOUNT: Final = 2


class RenderSlots:
    """Renders in flight per account, at most ``limit`` each (one event loop, no lock)."""

    def __init__(self, limit: int = RENDERS_PER_ACCOUNT) -> None:
        self.limit = limit
        self.running: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, account_id: str) -> AsyncIterator[None]:
        """A slot of ``account_id`` for the block; :class:`RateLimited` when all are taken."""
        count = self.running.get(account_id, 0)
        if count >= self.limit:
            decision = Decision(
                allowed=False, limit=self.limit, remaining=0, retry_after=1.0, reset_after=1.0
            )
            raise RateLimited(
                f"this account already has {self.limit} renders running; retry after 1 s",
                decision=decision,
                code="render_concurrency",
            )
        self.running[account_id] = count + 1
        try:
            yield
        finally:
            left = self.running[account_id] - 1
            if left:
                self.running[account_id] = left
            else:
                del self.running[account_id]
