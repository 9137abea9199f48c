"""How ``dcc serve`` runs the app under an ASGI server: which servers, their options, logging.

Three servers can run the same app (:data:`SERVERS`); :data:`DEFAULT_SERVER` is uvicorn:
in four runs of bench 6 on the real service (BENCHMARKS.md, issue 18) it spent the least
CPU per single issue every time and served the most single issues in the two quietest runs;
granian spent less CPU per PDF and served more PDFs (choose it for print-heavy loads);
hypercorn was the slowest. Every option a deployment
sets is a field of :class:`ServeOptions`, and each server's translation of those fields
lives in ONE function here (:func:`uvicorn_options`, :func:`granian_options`,
:func:`hypercorn_config`), so a new limit (header size, slow clients) is added once to
:class:`ServeOptions` and mapped in each of the three. Common to all: no proxy headers
(quotas key on the socket peer), no ``server`` header, our logging (:func:`logging_config`),
10 s of graceful shutdown, the app built in each worker by :data:`APP_FACTORY`.

Kept apart from the CLI so that the benchmark's bare app (:mod:`loadtests.bare_app`) runs
under exactly the same options, and so that ``dcc verify`` never imports a server: the
servers are imported only by :func:`run_server`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from uvicorn.config import LOGGING_CONFIG

from api.server_limits import BODY_TIMEOUT, HEADER_TIMEOUT, HTTP_PROTOCOL, MAX_HEADER_BYTES

if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig

__all__ = [
    "APP_FACTORY",
    "DEFAULT_SERVER",
    "SERVERS",
    "ServeOptions",
    "ServerName",
    "granian_options",
    "hypercorn_config",
    "logging_config",
    "run_server",
    "uvicorn_options",
]

APP_FACTORY: Final = "api.app:app_from_env"
ServerName = Literal["uvicorn", "granian", "hypercorn"]
SERVERS: Final[tuple[ServerName, ...]] = get_args(ServerName)
DEFAULT_SERVER: Final[ServerName] = "uvicorn"
GRACEFUL_SECONDS: Final = 10


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What ``dcc serve`` asks of whichever server runs the app."""

    host: str
    port: int
    workers: int = 1
    log_level: str = "info"
    drain_seconds: float = GRACEFUL_SECONDS
    """On SIGTERM: stop accepting, let requests in flight finish at most this long
    (``DCC_DRAIN_SECONDS``)."""
    factory: str = APP_FACTORY
    """``module:function`` building the app in each worker."""


def logging_config(level: str) -> dict[str, Any]:
    """uvicorn's logging plus ours: audit lines (JSON, ``dcc.audit``) alone on stdout.

    The servers' access logs go to stderr with their other messages, never among audit lines.
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
    for server_logger in ("_granian", "granian.access", "hypercorn.error"):
        config["loggers"][server_logger] = {
            "handlers": ["default"],
            "level": upper,
            "propagate": False,
        }
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


def granian_options(options: ServeOptions) -> dict[str, Any]:
    """The keyword arguments of ``granian.server.Server`` for ``options``.

    ASGI interface, HTTP/1.1 only (what the service is measured and documented with), the
    same logging and an access log like uvicorn's (stderr, level info), workers killed 10 s
    after SIGTERM and a worker that dies started again (as uvicorn does). granian reads no
    proxy headers, but always sends ``server: granian`` (it has no option to omit it).
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return {
        "target": options.factory,
        "factory": True,
        "address": options.host,
        "port": options.port,
        "interface": Interfaces.ASGI,
        "http": HTTPModes.http1,
        "websockets": False,
        "workers": options.workers,
        "log_level": LogLevels(options.log_level),
        "log_dictconfig": logging_config(options.log_level),
        # stderr, as uvicorn's ("METHOD path HTTP/1.1" status), when the level shows it: not
        # at warning and above, where granian would still call into Python per request
        "log_access": options.log_level in ("info", "debug"),
        "workers_kill_timeout": max(1, round(options.drain_seconds)),
        # the header bounds of api.server_limits, as far as granian has them: a read buffer
        # of that size (larger headers are refused) and the time to receive the headers
        "http1_settings": HTTP1Settings(
            header_read_timeout=round(HEADER_TIMEOUT * 1000), max_buffer_size=MAX_HEADER_BYTES
        ),
        "respawn_failed_workers": True,
    }


def hypercorn_config(options: ServeOptions) -> HypercornConfig:
    """hypercorn's ``Config`` for ``options`` (uvloop workers, no ``server`` header)."""
    from hypercorn.config import Config

    config = Config()
    config.application_path = f"{options.factory}()"
    config.bind = [f"{options.host}:{options.port}"]
    config.workers = options.workers
    config.worker_class = "uvloop"
    config.loglevel = options.log_level.upper()
    config.logconfig_dict = logging_config(options.log_level)
    config.accesslog = None
    config.errorlog = "-"
    config.include_server_header = False
    config.graceful_timeout = options.drain_seconds
    # the bounds of api.server_limits, as far as hypercorn has them: incomplete requests (the
    # headers) above that size are refused, and a read that waits longer than the body
    # deadline ends the connection
    config.h11_max_incomplete_size = MAX_HEADER_BYTES
    config.read_timeout = int(BODY_TIMEOUT)
    return config


def run_server(server: ServerName, options: ServeOptions) -> None:
    """Serve ``options.factory`` with ``server`` until it is stopped (SIGINT/SIGTERM)."""
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            options.factory,
            **uvicorn_options(
                host=options.host,
                port=options.port,
                workers=options.workers,
                log_level=options.log_level,
                drain_seconds=options.drain_seconds,
            ),
        )
    elif server == "granian":
        import multiprocessing

        from granian.server import Server

        # Workers start from a fresh interpreter (as uvicorn's do), never a fork of this
        # process, which has opened the database and loaded the keys to check them.
        multiprocessing.set_start_method("spawn", force=True)
        Server(**granian_options(options)).serve()
    else:
        from hypercorn.run import run

        run(hypercorn_config(options))
