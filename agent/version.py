"""The running version, as installed."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("slaproof")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.0.0+source"
