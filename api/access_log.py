"""The access log names paths only, never query strings (issue 19).

A client that puts its API key in the URL (``?api_key=dcc_…``) is refused (401: keys go in
the ``Authorization`` header), but uvicorn's access log wrote the whole URL, key included.
:class:`PathOnly` is a logging filter on the access handler that cuts every request target
at its ``?``: uvicorn's access record carries ``(client, method, target, version, status)``.
"""

from __future__ import annotations

import logging

__all__ = ["PathOnly", "path_only"]


def path_only(target: str) -> str:
    """``target`` without its query string."""
    return target.partition("?")[0]


class PathOnly(logging.Filter):
    """Drops the query string from uvicorn's access log records (keeps every record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], path_only(args[2]), *args[3:])
        return True
