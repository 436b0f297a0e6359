"""Links from answers to demos, as URL query parameters. Torch-free, so quiz pages can use it."""

from typing import Any


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    return str(value)


def demo_query(slug: str, params: dict[str, Any] | None = None) -> dict[str, str]:
    """`?demo=SLUG&knob=value...`: lists comma-separated, the same form the CLI's --set takes."""
    query = {"demo": slug}
    for key, value in (params or {}).items():
        query[key] = _as_text(value)
    return query
