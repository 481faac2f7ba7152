"""Logging filters: what must never reach a log."""

from __future__ import annotations

import logging
import re

QUERY = re.compile(r"\?[^\s\"]*")


class QueryStringsOut(logging.Filter):
    """Request lines lose their query string: callback secrets and signed-URL tokens travel
    there (the development server logs whole request lines; gunicorn is told to log paths)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = QUERY.sub("?…", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrubbed(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _scrubbed(value) for key, value in record.args.items()}
        return True


def _scrubbed(value: object) -> object:
    return QUERY.sub("?…", value) if isinstance(value, str) else value
