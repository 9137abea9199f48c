"""The access log configuration of ``dcc serve`` keeps paths and drops query strings."""

from __future__ import annotations

import logging

from api.access_log import PathOnly, path_only
from api.server import logging_config, uvicorn_options
from api.server_limits import HTTP_PROTOCOL


def test_path_only_cuts_the_query_string() -> None:
    assert path_only("/v1/certificates?api_key=dcc_x") == "/v1/certificates"
    assert path_only("/healthz") == "/healthz"
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/trust-list?api_key=dcc_secret", "1.1", 401), None,
    )  # fmt: skip
    assert PathOnly().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /v1/trust-list HTTP/1.1" 401'


def test_dcc_serve_applies_the_filter_and_the_limited_protocol() -> None:
    config = logging_config("info")
    assert config["handlers"]["access"]["filters"] == ["path_only"]
    assert config["filters"]["path_only"] == {"()": "api.access_log.PathOnly"}
    options = uvicorn_options(host="127.0.0.1", port=1, workers=1, log_level="info")
    assert options["http"] == HTTP_PROTOCOL
