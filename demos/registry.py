"""Slug -> demo module, knob introspection and validation of knob values from any source.

Importing this module does not import torch; `load()` does (through the demo module).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from pydantic import ValidationError

from demos.catalogue import CATALOGUE, DemoInfo

__all__ = [
    "DemoUnavailable",
    "Knob",
    "KnobError",
    "UnknownDemo",
    "available",
    "describe",
    "describe_all",
    "info",
    "knobs",
    "load",
    "params_class",
    "params_to_strings",
    "parse_params",
    "planned_claims",
    "slugs",
]

# Test-only: slug -> (DemoInfo, module). Lets tests run a fake demo without a file under demos/.
_EXTRA: dict[str, tuple[DemoInfo, types.ModuleType]] = {}


class UnknownDemo(KeyError, ValueError):
    """The slug is not in the catalogue."""

    def __init__(self, slug: str):
        self.slug = slug
        known = ", ".join(slugs())
        self.message = f"unknown demo {slug!r}; known demos: {known}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class DemoUnavailable(LookupError):
    """The slug is catalogued but its module has not been written yet."""

    def __init__(self, slug: str, module: str):
        self.slug = slug
        super().__init__(f"demo {slug!r} is catalogued but demos/{module}.py does not exist yet")


class KnobError(ValueError):
    """A knob value was refused. `knob` and `message` describe the first problem; `problems` all of them."""

    def __init__(self, knob: str, message: str, problems: list[tuple[str, str]] | None = None):
        self.knob = knob
        self.message = message
        self.problems = problems or [(knob, message)]
        super().__init__("; ".join(f"{k}: {m}" for k, m in self.problems))


@dataclass(frozen=True)
class Knob:
    name: str
    kind: str  # 'int' | 'float' | 'bool' | 'choice' | 'multi'
    default: Any
    min: float | int | None
    max: float | int | None
    options: tuple[Any, ...]
    description: str
    # Bounds details used for validation messages (not part of describe()).
    min_exclusive: bool = False
    max_exclusive: bool = False
    min_items: int | None = None
    max_items: int | None = None
    # Words with units for people ("Hidden width (units)"): the Field's title; `name` is the code name.
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["options"] = list(self.options)
        if isinstance(d["default"], tuple):
            d["default"] = list(d["default"])
        for k in ("min_exclusive", "max_exclusive", "min_items", "max_items"):
            d.pop(k)
        return d


# ---------------------------------------------------------------------------------------------- lookup


def slugs() -> list[str]:
    return [*CATALOGUE, *(s for s in _EXTRA if s not in CATALOGUE)]


def info(slug: str) -> DemoInfo:
    if slug in _EXTRA:
        return _EXTRA[slug][0]
    if slug not in CATALOGUE:
        raise UnknownDemo(slug)
    return CATALOGUE[slug]


def available(slug: str) -> bool:
    """True when the demo's module exists (found without importing it, so without importing torch)."""
    if slug in _EXTRA:
        return True
    if slug not in CATALOGUE:
        return False
    try:
        return importlib.util.find_spec(f"demos.{CATALOGUE[slug].module}") is not None
    except (ImportError, ValueError):
        return False


def load(slug: str) -> types.ModuleType:
    if slug in _EXTRA:
        return _EXTRA[slug][1]
    meta = info(slug)
    if not available(slug):
        raise DemoUnavailable(slug, meta.module)
    return importlib.import_module(f"demos.{meta.module}")


def params_class(slug: str) -> type:
    return load(slug).Params


# --------------------------------------------------------------------------------------------- knobs


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip Annotated[...] layers; return the bare type and the collected metadata."""
    meta: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        meta.extend(annotation.__metadata__)
        annotation = annotation.__origin__
    return annotation, meta


def _bounds(meta: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"min": None, "max": None, "min_excl": False, "max_excl": False}
    out["min_items"] = out["max_items"] = None
    for m in meta:
        for attr, key, excl in (
            ("ge", "min", False),
            ("gt", "min", True),
            ("le", "max", False),
            ("lt", "max", True),
        ):
            v = getattr(m, attr, None)
            if v is not None:
                out[key] = v
                out[f"{key}_excl"] = excl
        if getattr(m, "min_length", None) is not None:
            out["min_items"] = m.min_length
        if getattr(m, "max_length", None) is not None:
            out["max_items"] = m.max_length
    return out


def _knob(name: str, field: Any) -> Knob:
    knob = _knob_bare(name, field)
    label = field.title or name.replace("_", " ").capitalize()
    return replace(knob, label=label)


def _knob_bare(name: str, field: Any) -> Knob:
    ann, meta = _unwrap(field.annotation)
    meta = [*meta, *field.metadata]
    b = _bounds(meta)
    desc = field.description or ""
    default = field.get_default(call_default_factory=True)
    origin = typing.get_origin(ann)
    common = dict(min_exclusive=b["min_excl"], max_exclusive=b["max_excl"])
    if origin is Literal:
        return Knob(name, "choice", default, None, None, tuple(typing.get_args(ann)), desc)
    if origin in (list, tuple, set, frozenset):
        (item,) = typing.get_args(ann)[:1] or (str,)
        item, item_meta = _unwrap(item)
        ib = _bounds(item_meta)
        options = tuple(typing.get_args(item)) if typing.get_origin(item) is Literal else ()
        default = list(default) if default is not None else []
        return Knob(
            name,
            "multi",
            default,
            ib["min"],
            ib["max"],
            options,
            desc,
            min_exclusive=ib["min_excl"],
            max_exclusive=ib["max_excl"],
            min_items=b["min_items"],
            max_items=b["max_items"],
        )
    if ann is bool:
        return Knob(name, "bool", default, None, None, (), desc)
    if ann is int:
        return Knob(name, "int", default, b["min"], b["max"], (), desc, **common)
    if ann is float:
        return Knob(name, "float", default, b["min"], b["max"], (), desc, **common)
    raise TypeError(f"knob {name!r}: unsupported annotation {ann!r}")


def knobs_of(params_cls: type) -> list[Knob]:
    return [_knob(n, f) for n, f in params_cls.model_fields.items()]


def knobs(slug: str) -> list[Knob]:
    return knobs_of(params_class(slug))


# ----------------------------------------------------------------------------------------- validation

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _range_text(k: Knob) -> str:
    lo, hi = k.min, k.max
    if lo is not None and hi is not None and not (k.min_exclusive or k.max_exclusive):
        return f"between {_fmt(lo)} and {_fmt(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"{'>' if k.min_exclusive else '>='} {_fmt(lo)}")
    if hi is not None:
        parts.append(f"{'<' if k.max_exclusive else '<='} {_fmt(hi)}")
    return " and ".join(parts) if parts else "a number"


class _Bad(Exception):
    pass


def _to_int(k: Knob, v: Any) -> int:
    if isinstance(v, bool):
        raise _Bad(f"must be a whole number, {_range_text(k)} (got {_fmt(v)})")
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            try:
                f = float(s)
            except ValueError:
                raise _Bad(f"must be a whole number, {_range_text(k)} (got {v!r})") from None
            v = f
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _Bad(f"must be a finite whole number, {_range_text(k)} (got {_fmt(v)})")
        if not v.is_integer():
            raise _Bad(f"must be a whole number, {_range_text(k)} (got {_fmt(v)})")
        return int(v)
    if isinstance(v, int):
        return v
    raise _Bad(f"must be a whole number, {_range_text(k)} (got {type(v).__name__} {v!r})")


def _to_float(k: Knob, v: Any) -> float:
    if isinstance(v, bool):
        raise _Bad(f"must be a number, {_range_text(k)} (got {_fmt(v)})")
    if isinstance(v, str):
        try:
            v = float(v.strip())
        except ValueError:
            raise _Bad(f"must be a number, {_range_text(k)} (got {v!r})") from None
    if isinstance(v, int | float):
        f = float(v)
        if not math.isfinite(f):
            raise _Bad(f"must be a finite number, {_range_text(k)} (NaN and infinity are refused; got {v!r})")
        return f
    raise _Bad(f"must be a number, {_range_text(k)} (got {type(v).__name__} {v!r})")


def _check_range(k: Knob, v: float | int) -> None:
    lo_bad = k.min is not None and (v <= k.min if k.min_exclusive else v < k.min)
    hi_bad = k.max is not None and (v >= k.max if k.max_exclusive else v > k.max)
    if lo_bad or hi_bad:
        raise _Bad(f"must be {_range_text(k)} (got {_fmt(v)})")


def _to_bool(k: Knob, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise _Bad(f"must be true or false (got {v!r})")


def _options_text(options: tuple[Any, ...]) -> str:
    return ", ".join(_fmt(o) for o in options)


def _match_option(options: tuple[Any, ...], v: Any) -> Any:
    """Return the option that `v` denotes (exact, or by string form, or numerically), else raise _Bad."""
    for o in options:
        if type(o) is type(v) and o == v:
            return o
    if isinstance(v, str):
        s = v.strip()
        for o in options:
            if isinstance(o, str) and o == s:
                return o
        for o in options:
            if isinstance(o, str) and o.lower() == s.lower():
                return o
        for o in options:
            if isinstance(o, bool):
                continue
            if isinstance(o, int | float):
                try:
                    f = float(s)
                except ValueError:
                    continue
                if f == o:
                    return o
    elif isinstance(v, int | float) and not isinstance(v, bool):
        for o in options:
            if isinstance(o, int | float) and not isinstance(o, bool) and o == v:
                return o
    raise _Bad(f"must be one of {_options_text(options)} (got {v!r})")


def _coerce(k: Knob, v: Any) -> Any:
    if k.kind == "int":
        x = _to_int(k, v)
        _check_range(k, x)
        return x
    if k.kind == "float":
        x = _to_float(k, v)
        _check_range(k, x)
        return x
    if k.kind == "bool":
        return _to_bool(k, v)
    if k.kind == "choice":
        return _match_option(k.options, v)
    # multi
    if isinstance(v, str):
        items: list[Any] = [s.strip() for s in v.split(",") if s.strip()]
    elif isinstance(v, list | tuple | set | frozenset):
        items = list(v)
    else:
        items = [v]
    out: list[Any] = []
    for it in items:
        try:
            if k.options:
                x = _match_option(k.options, it)
            else:
                numeric = isinstance(k.default[0], int | float) if k.default else k.min is not None
                x = _to_float(k, it) if numeric else str(it)
                if numeric:
                    _check_range(k, x)
        except _Bad as e:
            what = f"one of {_options_text(k.options)}" if k.options else _range_text(k)
            raise _Bad(f"each item must be {what} (bad item {it!r})") from e
        # Named variants are compared once each; a list of numbers (e.g. logits) may repeat a value,
        # and its Params decides whether that makes sense.
        if k.options and x in out:
            raise _Bad(f"lists each item at most once ({_fmt(x)} appears twice)")
        out.append(x)
    if k.min_items is not None and len(out) < k.min_items:
        choose = f" of {_options_text(k.options)}" if k.options else ""
        raise _Bad(f"choose at least {k.min_items}{choose} (got {len(out)})")
    if k.max_items is not None and len(out) > k.max_items:
        raise _Bad(f"choose at most {k.max_items} (got {len(out)})")
    return out


def _bounds_hint(k: Knob | None) -> str:
    if k is None:
        return ""
    if k.kind in ("int", "float"):
        return f" (must be {_range_text(k)})"
    if k.kind in ("choice", "multi") and k.options:
        return f" (options: {_options_text(k.options)})"
    if k.kind == "bool":
        return " (true or false)"
    return ""


def validate_into(params_cls: type, values: Mapping[str, Any] | None):
    """Coerce and check `values` against `params_cls`; return a Params instance or raise KnobError."""
    ks = {k.name: k for k in knobs_of(params_cls)}
    problems: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    for name, raw in (values or {}).items():
        k = ks.get(name)
        if k is None:
            problems.append((str(name), f"unknown knob; known knobs: {', '.join(ks)}"))
            continue
        try:
            clean[name] = _coerce(k, raw)
        except _Bad as e:
            problems.append((name, str(e)))
    if not problems:
        try:
            return params_cls(**clean)
        except ValidationError as e:
            for err in e.errors():
                loc = err.get("loc") or ()
                name = str(loc[0]) if loc else "params"
                msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
                problems.append((name, msg + _bounds_hint(ks.get(name))))
        except (ValueError, TypeError) as e:  # a validator that raised outside pydantic's wrapping
            problems.append(("params", str(e)))
    first = problems[0]
    raise KnobError(first[0], first[1], problems)


def parse_params(slug: str, values: Mapping[str, Any] | None = None):
    """Params for `slug` from typed values or strings (URL query, CLI --set). Raises KnobError."""
    return validate_into(params_class(slug), values)


def params_to_strings(params: Any) -> dict[str, str]:
    """Knobs that differ from their defaults, as strings that parse_params turns back into `params`."""
    out: dict[str, str] = {}
    for k in knobs_of(type(params)):
        v = getattr(params, k.name)
        default = k.default
        if k.kind == "multi":
            if list(v) == list(default):
                continue
            out[k.name] = ",".join(_fmt(x) for x in v)
        else:
            if v == default and type(v) is type(default):
                continue
            out[k.name] = _fmt(v)
    return out


# ------------------------------------------------------------------------------------------- claims


def planned_claims(slug: str, params: Any = None) -> list[Any]:
    """The claims a run of `params` will check, before it runs: Claim(id, plain statement, holds=None).

    A demo lists them in `CLAIMS` ({id: statement in words, no numbers}) and, when some claims are
    only checked at some settings, says which with `checked_claims(params) -> [id, ...]`. A stopped run
    lists these, not checked. Empty for a module without CLAIMS (test fakes)."""
    from demos.base import Claim

    module = load(slug)
    table: Mapping[str, str] = getattr(module, "CLAIMS", None) or {}
    if not table:
        return []
    if params is None:
        params = module.Params()
    elif not isinstance(params, module.Params):
        params = validate_into(module.Params, params)
    pick = getattr(module, "checked_claims", None)
    ids = list(pick(params)) if pick is not None else list(table)
    return [Claim(i, table[i], None) for i in ids]


# ------------------------------------------------------------------------------------------- describe


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    return v


def describe(slug: str) -> dict[str, Any]:
    meta = info(slug)
    ok = available(slug)
    ks = [{kk: _jsonable(vv) for kk, vv in k.as_dict().items()} for k in knobs(slug)] if ok else []
    return {
        "slug": meta.slug,
        "title": meta.title,
        "summary": meta.summary,
        "topics": list(meta.topics),
        "available": ok,
        "knobs": ks,
    }


def describe_all() -> list[dict[str, Any]]:
    """Every catalogued demo. A module that exists but fails to import is listed as unavailable with
    an `error` entry instead of breaking the whole listing."""
    out = []
    for slug in CATALOGUE:
        try:
            out.append(describe(slug))
        except Exception as e:  # noqa: BLE001 - another author's half-written module must not break the list
            meta = CATALOGUE[slug]
            out.append(
                {
                    "slug": slug,
                    "title": meta.title,
                    "summary": meta.summary,
                    "topics": list(meta.topics),
                    "available": False,
                    "knobs": [],
                    "error": f"{type(e).__name__}: {e}",
                }
            )
    return out
