"""Each ASGI server gets the same ServeOptions: address, workers, logging, no server header."""

from __future__ import annotations

from api.server import (
    APP_FACTORY,
    DEFAULT_SERVER,
    SERVERS,
    ServeOptions,
    granian_options,
    hypercorn_config,
    uvicorn_options,
)

OPTIONS = ServeOptions(host="127.0.0.1", port=8123, workers=3, log_level="warning")


def test_every_server_gets_the_same_address_workers_and_logging() -> None:
    uvicorn = uvicorn_options(host="127.0.0.1", port=8123, workers=3, log_level="warning")
    granian = granian_options(OPTIONS)
    hypercorn = hypercorn_config(OPTIONS)
    assert (uvicorn["host"], uvicorn["port"], uvicorn["workers"]) == ("127.0.0.1", 8123, 3)
    assert (granian["address"], granian["port"], granian["workers"]) == ("127.0.0.1", 8123, 3)
    assert (hypercorn.bind, hypercorn.workers) == (["127.0.0.1:8123"], 3)
    for config in (uvicorn["log_config"], granian["log_dictconfig"], hypercorn.logconfig_dict):
        assert config["loggers"]["dcc.audit"]["handlers"] == ["audit"]
    assert uvicorn["server_header"] is False
    assert hypercorn.include_server_header is False
    assert uvicorn["proxy_headers"] is False


def test_the_app_is_built_by_the_factory_in_each_worker() -> None:
    assert granian_options(OPTIONS)["target"] == APP_FACTORY
    assert granian_options(OPTIONS)["factory"] is True
    assert hypercorn_config(OPTIONS).application_path == f"{APP_FACTORY}()"
    assert DEFAULT_SERVER in SERVERS
