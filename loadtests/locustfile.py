"""The July-surge scenario: pharmacists, labs and travellers against ``dcc serve``.

In the summer of 2021 every pharmacy issued test certificates at once (field.md §3: the
German pharmacy portal overloaded on 14 June, the Dutch app capped at 25 requests/s). The
:class:`JulySurge` shape replays that: a calm baseline, a ten-fold ramp within a minute, a
plateau, a fall (about 3 minutes by default). Users:

* :class:`Pharmacist` issues one certificate at a time and, as at a real counter, prints
  most of them: 7 issues in 10 ask for the printable PDF (``Accept: application/pdf``),
  2 for JSON (the app shows the code), 1 for the QR PNG;
* :class:`Lab` posts batches of 100-1000 items, each under its own ``Idempotency-Key``,
  and honours ``Retry-After`` when its quota answers 429 (the quota is set so that it does:
  those are the *designed* 429s), then resends the same batch under the same key;
* :class:`Traveller` verifies a certificate: half by its HC1 text (an app), half by a
  photo of the QR code (an image upload).

Inputs come from the JSON file named by ``DCC_SURGE_DATA`` (written by
:mod:`loadtests.surge`: API keys, sample HC1 strings and QR PNGs). When ``DCC_SURGE_OUT``
names a directory, every request is also recorded and, at the end, written there as
``status_history.csv`` (per second and request name: count, 2xx, 429, other, p50/p95/p99)
and ``summary.json`` (phases, totals, error types, the plateau percentiles).
``DCC_SURGE_SECONDS`` (default 180) and ``DCC_SURGE_BASE_USERS`` (default 12) scale it.

Run headless through ``make surge`` (:mod:`loadtests.surge`), not by hand.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any, Final

import gevent  # type: ignore[import-untyped]
from locust import HttpUser, LoadTestShape, between, events, task
from locust.env import Environment

from loadtests.fixtures import sample_request, sample_requests
from loadtests.surge_record import DESIGNED_429, SurgeRecorder, phases_for

__all__ = ["JulySurge", "Lab", "Pharmacist", "Traveller"]

_MAX_RETRY_AFTER: Final = 30.0
ISSUE_JSON: Final = "POST /v1/certificates [json]"
ISSUE_PNG: Final = "POST /v1/certificates [png]"
ISSUE_PDF: Final = "POST /v1/certificates [pdf]"
BATCH: Final = "POST /v1/certificates/batch"
VERIFY_HC1: Final = "POST /v1/verify [hc1]"
VERIFY_IMAGE: Final = "POST /v1/verify [image]"


class SurgeData:
    """The surge inputs: API keys handed out round-robin, HC1 strings and QR images."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._pharmacists = itertools.cycle(data["pharmacists"])
        self._labs = itertools.cycle(data["labs"])
        self.hc1s: list[str] = data["hc1"]
        self.pngs: list[bytes] = [base64.b64decode(png) for png in data["png_b64"]]

    @classmethod
    def from_env(cls) -> SurgeData:
        path = os.environ.get("DCC_SURGE_DATA")
        if not path:
            raise RuntimeError("DCC_SURGE_DATA is not set: run the surge with loadtests.surge")
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def pharmacist_key(self) -> str:
        return str(next(self._pharmacists))

    def lab_key(self) -> str:
        return str(next(self._labs))


def _on_init(environment: Environment, **_: object) -> None:
    environment.dcc_data = SurgeData.from_env()  # type: ignore[attr-defined]
    out = os.environ.get("DCC_SURGE_OUT")
    recorder = SurgeRecorder(Path(out) if out else None, phases=phases_for(_surge_seconds()))
    environment.dcc_recorder = recorder  # type: ignore[attr-defined]
    environment.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    environment.events.test_start.add_listener(recorder.on_test_start)  # type: ignore[no-untyped-call]
    environment.events.test_stop.add_listener(recorder.on_test_stop)  # type: ignore[no-untyped-call]


def _surge_seconds() -> float:
    return float(os.environ.get("DCC_SURGE_SECONDS", "180"))


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]


def _data(user: HttpUser) -> SurgeData:
    data: SurgeData = user.environment.dcc_data
    return data


def _check(response: Any, expected: int) -> float:
    """Mark the response; returns the seconds a designed 429 asks us to wait (else 0)."""
    status = response.status_code
    if status == expected:
        response.success()
        return 0.0
    retry_after = response.headers.get("Retry-After")
    if status == 429 and retry_after is not None:
        response.failure(DESIGNED_429)
        try:
            return min(_MAX_RETRY_AFTER, max(0.0, float(retry_after)))
        except ValueError:
            return 1.0
    response.failure(f"unexpected HTTP {status}")
    return 0.0


class Pharmacist(HttpUser):
    """One certificate at a time, mostly as the PDF, about two requests per second."""

    weight = 8
    wait_time = between(0.2, 0.6)

    def on_start(self) -> None:
        self.key = _data(self).pharmacist_key()
        self.rng = random.Random()  # noqa: S311 (load mix, not secrets)

    def _issue(self, accept: str, name: str) -> None:
        body = sample_request(self.rng.randrange(1_000_000))
        headers = {"Authorization": f"Bearer {self.key}", "Accept": accept}
        with self.client.post(
            "/v1/certificates", json=body, headers=headers, name=name, catch_response=True
        ) as response:
            pause = _check(response, 201)
        if pause:
            gevent.sleep(pause)

    @task(7)
    def issue_pdf(self) -> None:
        self._issue("application/pdf", ISSUE_PDF)

    @task(2)
    def issue_json(self) -> None:
        self._issue("application/json", ISSUE_JSON)

    @task(1)
    def issue_png(self) -> None:
        self._issue("image/png", ISSUE_PNG)


class Lab(HttpUser):
    """Batches of 100-1000 certificates under an Idempotency-Key; after a 429 it waits as
    long as Retry-After says and resends the same batch under the same key."""

    weight = 1
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        self.key = _data(self).lab_key()
        self.rng = random.Random()  # noqa: S311 (load mix, not secrets)
        self.items = sample_requests(1000)
        self.pending: tuple[dict[str, Any], str] | None = None

    def _next_batch(self) -> tuple[dict[str, Any], str]:
        if self.pending is not None:
            return self.pending
        size = self.rng.randint(100, 1000)
        start = self.rng.randrange(0, len(self.items) - size + 1)
        return {"items": self.items[start : start + size]}, str(uuid.uuid4())

    @task
    def batch(self) -> None:
        body, idempotency_key = self._next_batch()
        headers = {"Authorization": f"Bearer {self.key}", "Idempotency-Key": idempotency_key}
        with self.client.post(
            "/v1/certificates/batch", json=body, headers=headers, name=BATCH, catch_response=True
        ) as response:
            pause = _check(response, 200)
        self.pending = (body, idempotency_key) if pause else None
        if pause:
            gevent.sleep(pause)


class Traveller(HttpUser):
    """Verifies a certificate: by its HC1 text (an app) or by a photo of its QR code."""

    weight = 3
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        self.rng = random.Random()  # noqa: S311 (load mix, not secrets)

    def _verify(self, name: str, **kwargs: Any) -> None:
        with self.client.post("/v1/verify", name=name, catch_response=True, **kwargs) as response:
            if response.status_code == 200 and not response.json().get("valid"):
                response.failure("a fresh certificate did not verify")
                return
            _check(response, 200)

    @task(1)
    def verify_hc1(self) -> None:
        self._verify(VERIFY_HC1, json={"hc1": self.rng.choice(_data(self).hc1s)})

    @task(1)
    def verify_image(self) -> None:
        png = self.rng.choice(_data(self).pngs)
        self._verify(VERIFY_IMAGE, data=png, headers={"Content-Type": "image/png"})


class JulySurge(LoadTestShape):
    """Calm baseline, ten-fold ramp within a minute, plateau, fall; then stop."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.base_users = int(os.environ.get("DCC_SURGE_BASE_USERS", "12"))
        self.phases = phases_for(_surge_seconds())

    def tick(self) -> tuple[int, float] | None:
        elapsed: float = self.get_run_time()  # type: ignore[no-untyped-call]
        users = self.phases.users_at(elapsed, self.base_users)
        if users is None:
            return None
        return users, float(max(1, self.base_users * 2))
