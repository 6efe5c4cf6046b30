"""Reading the shipped provider presets and merging a target's overrides into one.

A preset is ``reports/presets/<id>.toml``. A target's ``sla`` config section is
either ``{preset = "...", <overrides>}`` or a whole definition; :func:`resolve`
merges and validates it, naming the bad key on error. The schema itself is
:class:`reports.analysis.sla_terms.SlaDefinition`.
"""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

from reports.analysis.sla_terms import SlaConfigError, SlaDefinition, validate_definition

PRESET_PACKAGE = "reports.presets"


def list_presets() -> list[str]:
    """Ids of the shipped presets, sorted."""
    root = resources.files(PRESET_PACKAGE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def _preset_data(preset_id: str) -> dict[str, Any]:
    if preset_id not in list_presets():
        raise SlaConfigError(f"sla.preset: unknown preset {preset_id!r} (known: {', '.join(list_presets())})")
    text = resources.files(PRESET_PACKAGE).joinpath(f"{preset_id}.toml").read_text(encoding="utf-8")
    # Decimal, not float: 99.99 must stay 99.99 for unrounded tier comparisons.
    return tomllib.loads(text, parse_float=Decimal)


def load_preset(preset_id: str) -> SlaDefinition:
    """The shipped preset ``preset_id``, validated."""
    data = _preset_data(preset_id)
    data["preset"] = preset_id
    return validate_definition(data, where=f"preset {preset_id}")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (numbers, strings, lists) is replaced."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def override_paths(override: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the leaves an override sets (what the report lists as 'your override')."""
    paths: list[str] = []
    for k, v in override.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and k != "confidence":
            paths.extend(override_paths(v, path + "."))
        else:
            paths.append(path)
    return paths


def resolve(config_section: dict[str, Any]) -> SlaDefinition:
    """A target's ``sla`` section → definition: a preset with deep-merged overrides, or a custom one."""
    if not isinstance(config_section, dict):
        raise SlaConfigError("sla: must be a table (preset = \"...\" plus overrides, or a full definition)")
    section = dict(config_section)
    preset_id = section.pop("preset", None)
    if preset_id is None:
        if "overrides" in section:
            raise SlaConfigError("sla.overrides: unknown key (set fields directly)")
        return validate_definition(section, where="custom SLA")
    if not isinstance(preset_id, str):
        raise SlaConfigError("sla.preset: must be a preset id string")
    base = _preset_data(preset_id)
    for key in ("id", "overrides"):
        if key in section:
            raise SlaConfigError(f"sla.{key}: cannot be set next to 'preset'; drop 'preset' for a custom definition")
    merged = deep_merge(base, section)
    merged["preset"] = preset_id
    merged["overrides"] = override_paths(section)
    return validate_definition(merged, where=f"sla (preset {preset_id} with overrides)")
