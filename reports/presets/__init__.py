"""The shipped provider SLA presets (``<id>.toml`` beside this file) and their loader.

Reading them is I/O, so it sits here, above the pure analysis layer
(``reports.analysis.sla_terms`` holds the schema they are validated against).
"""

from __future__ import annotations

from reports.analysis.sla_terms import SlaConfigError
from reports.presets.loader import list_presets, load_preset, resolve

__all__ = ["SlaConfigError", "list_presets", "load_preset", "resolve"]
