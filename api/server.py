"""How ``dcc serve`` runs the app under an ASGI server (uvicorn): options and logging.

Kept apart from the CLI so that the benchmark's bare app (:mod:`loadtests.bare_app`) runs
under exactly the same options, and so that ``dcc verify`` never imports a server.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from uvicorn.config import LOGGING_CONFIG

from api.server_limits import HTTP_PROTOCOL

__all__ = ["APP_FACTORY", "logging_config", "uvicorn_options"]

APP_FACTORY: Final = "api.app:app_from_env"


def logging_config(level: str) -> dict[str, Any]:
    """uvicorn's logging plus ours: audit lines (JSON, ``dcc.audit``) alone on stdout.

    uvicorn's access log goes to stderr with its other messages, never among audit lines.
    """
    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config.setdefault("filters", {})["path_only"] = {"()": "api.access_log.PathOnly"}
    config["handlers"]["access"]["filters"] = ["path_only"]  # paths only, no query strings
    config["formatters"]["plain"] = {"format": "%(message)s"}
    config["handlers"]["audit"] = {
        "formatter": "plain",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    upper = level.upper()
    config["loggers"]["dcc.audit"] = {"handlers": ["audit"], "level": "INFO", "propagate": False}
    config["loggers"]["dcc"] = {"handlers": ["default"], "level": upper, "propagate": False}
    config["loggers"]["api"] = {"handlers": ["default"], "level": upper, "propagate": False}
    return config


def uvicorn_options(
    *, host: str, port: int, workers: int, log_level: str, drain_seconds: float = 10.0
) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` for an app factory, as ``dcc serve`` runs it.

    No proxy headers from uvicorn (``DCC_TRUSTED_PROXIES`` is applied by the app itself),
    no ``server`` header, our logging, ``drain_seconds`` (``DCC_DRAIN_SECONDS``) of graceful
    shutdown: on SIGTERM the socket stops accepting, requests in flight finish (at most that
    long), then the process exits. The bare benchmark app (:mod:`loadtests.bare_app`) runs
    with the same options, so bench 4 compares like with like.
    """
    return {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "log_config": logging_config(log_level),
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": drain_seconds,
        "http": HTTP_PROTOCOL,  # header size/count and header/body deadlines
    }
