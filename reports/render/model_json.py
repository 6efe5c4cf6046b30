"""summary.json ⇄ the report model (reports/render/model.py).

One encoder writes summary.json from a :class:`Report` (``report_to_json``); one decoder reads it
back (``report_from_json``), checking every key and type against the model and naming the path of
the first thing that does not fit. Both walk the dataclass fields, so the model is the one
statement of the shape (docs/summary.schema.json repeats it for other readers; a test keeps the
three equal). The decoder also turns the analysis' own JSON objects (the SLA evaluation, the
bandwidth tests) into model objects where report building receives them as dicts.

Numbers keep their type both ways (an int stays an int): summary.json must not change by a
single byte when the model is only passed through.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from reports.render.inputs import ReportInputError
from reports.render.model import Report, SlaSection

T = TypeVar("T")
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# -- encoding -----------------------------------------------------------------------------------
def report_to_json(report: Report) -> dict[str, Any]:
    """summary.json as a JSON object: the one function that writes it."""
    return cast(dict[str, Any], encode(report))


def encode(value: Any, offset_time: bool = False) -> Any:
    """A model object (or any value inside one) as JSON values, keys in field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode_object(value)
    if isinstance(value, datetime):
        return value.isoformat() if offset_time else value.astimezone(UTC).strftime(_UTC_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [encode(v, offset_time) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v, offset_time) for k, v in value.items()}
    return value


def _encode_object(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in _fields(type(obj)):
        value = getattr(obj, f.name)
        if value is None and f.metadata.get("omit_none"):
            continue
        out[f.metadata.get("key", f.name)] = encode(value, f.metadata.get("time") == "offset")
    return out


_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    """A model class's fields (looked up once per class)."""
    got = _FIELDS.get(cls)
    if got is None:
        got = _FIELDS[cls] = dataclasses.fields(cls)
    return got


# -- decoding -----------------------------------------------------------------------------------
def report_from_json(data: Any) -> Report:
    """A summary.json object as a :class:`Report`; ReportInputError names the first misfit."""
    return decode(Report, data, "summary")


def sla_section(data: Mapping[str, Any], where: str = "sla") -> SlaSection:
    """SlaResult.to_json() as the model's SLA section (every key checked, none dropped)."""
    return decode(SlaSection, data, where)


def decode(cls: type[T], data: Any, where: str) -> T:
    """``data`` (JSON values) as an instance of the model class ``cls``."""
    if not isinstance(data, Mapping):
        raise ReportInputError(f"{where}: expected an object, got {_what(data)}")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    known: set[str] = set()
    for f in _fields(cls):
        key = f.metadata.get("key", f.name)
        known.add(key)
        if key not in data:
            if f.metadata.get("omit_none"):
                values[f.name] = None
                continue
            raise ReportInputError(f"{where}: lacks {key!r}")
        values[f.name] = _decode(hints[f.name], data[key], f"{where}.{key}")
    extra = sorted(str(k) for k in data if k not in known)
    if extra:
        raise ReportInputError(f"{where}: unknown key(s) {', '.join(extra)}")
    return cls(**values)


def _hints(cls: type) -> dict[str, Any]:
    """A model class's resolved annotations (the model uses postponed annotations)."""
    got = _HINTS.get(cls)
    if got is None:
        got = _HINTS[cls] = get_type_hints(cls)
    return got


def _what(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def _decode(tp: Any, value: Any, where: str) -> Any:
    """``value`` checked against (and built as) the annotation ``tp``."""
    origin = get_origin(tp)
    if origin is None:
        return _decode_plain(tp, value, where)
    handler = _GENERIC.get(origin)
    if handler is None:
        raise TypeError(f"{where}: the decoder does not know {tp!r}")  # a model annotation it cannot read: a bug
    return handler(tp, value, where)


def _decode_plain(tp: Any, value: Any, where: str) -> Any:
    if tp is Any:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return decode(tp, value, where)
    check = _SCALARS.get(tp)
    if check is None:
        raise TypeError(f"{where}: the decoder does not know {tp!r}")
    return check(value, where)


def _union(tp: Any, value: Any, where: str) -> Any:
    args = get_args(tp)
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in (a for a in args if a is not type(None)):
        try:
            return _decode(arg, value, where)
        except ReportInputError as e:
            errors.append(str(e))
    raise ReportInputError(errors[0] if len(errors) == 1 else f"{where}: {_what(value)} fits none of {tp}")


def _literal(tp: Any, value: Any, where: str) -> Any:
    allowed = get_args(tp)
    if not isinstance(value, str) or value not in allowed:
        raise ReportInputError(f"{where}: {value!r} is not one of {', '.join(map(repr, allowed))}")
    return allowed[allowed.index(value)]  # the plain string (a str enum member equals it, but is not it)


def _tuple(tp: Any, value: Any, where: str) -> Any:
    if not isinstance(value, list):
        raise ReportInputError(f"{where}: expected an array, got {_what(value)}")
    args = get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(value) != len(args):
        raise ReportInputError(f"{where}: expected {len(args)} items, got {len(value)}")
    return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))


def _mapping(tp: Any, value: Any, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ReportInputError(f"{where}: expected an object, got {_what(value)}")
    _, item = get_args(tp)
    return {str(k): _decode(item, v, f"{where}.{k}") for k, v in value.items()}


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ReportInputError(f"{where}: expected a string, got {_what(value)}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ReportInputError(f"{where}: expected true or false, got {_what(value)}")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportInputError(f"{where}: expected an integer, got {_what(value)}")
    return value


def _number(value: Any, where: str) -> float:
    """A number, kept as given (47 stays 47: summary.json must not change when re-written)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportInputError(f"{where}: expected a number, got {_what(value)}")
    return value


def _datetime(value: Any, where: str) -> datetime:
    """An ISO 8601 time with a zone ("…Z" or an offset)."""
    text = _str(value, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ReportInputError(f"{where}: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ReportInputError(f"{where}: time without a zone (must be UTC, ending in Z, or carry an offset): {text!r}")
    return moment


def _date(value: Any, where: str) -> date:
    text = _str(value, where)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportInputError(f"{where}: not an ISO 8601 date: {text!r}") from None


_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    str: _str, bool: _bool, int: _int, float: _number, datetime: _datetime, date: _date,
}
_GENERIC: dict[Any, Callable[[Any, Any, str], Any]] = {
    Union: _union, types.UnionType: _union, Literal: _literal, tuple: _tuple, Mapping: _mapping, dict: _mapping,
}
