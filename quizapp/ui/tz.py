"""Times as the viewer reads them: stored in UTC, shown and entered in the browser's time zone
(`st.context.timezone`), UTC where the browser does not say (AppTest, scripts)."""

from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st


def viewer_zone() -> tzinfo:
    name = None
    try:
        name = st.context.timezone
    except Exception:  # noqa: BLE001 - no browser context (bare script)
        name = None
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def zone_label() -> str:
    zone = viewer_zone()
    return "UTC" if zone is UTC else str(zone)


def show(moment: datetime | None, empty: str = "none") -> str:
    """A stored time in the viewer's zone: 2026-03-01 17:00 Europe/Paris (or UTC)."""
    if moment is None:
        return empty
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(viewer_zone()):%Y-%m-%d %H:%M} {zone_label()}"


def local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(viewer_zone())


def to_utc(day: date | None, at: time | None, default: time) -> datetime | None:
    """A date and time of day typed in the viewer's zone, as a UTC moment (None without a date)."""
    if day is None:
        return None
    return datetime.combine(day, at or default, tzinfo=viewer_zone()).astimezone(UTC)


def moment_input(
    label: str, value: datetime | None, key: str, default: time, container=st
) -> datetime | None:  # type: ignore[no-untyped-def]
    """A date and a time of day side by side, in the viewer's zone; returns UTC (None: no date)."""
    shown = local(value)
    c1, c2 = container.columns(2)
    day = c1.date_input(f"{label} ({zone_label()})", value=shown.date() if shown else None, key=f"{key}-day")
    at = c2.time_input(
        f"{label}: time",
        value=shown.time().replace(microsecond=0) if shown else default,
        key=f"{key}-time",
        step=900,
    )
    return to_utc(day, at, default)


def moment_from_state(key: str, default: time) -> datetime | None:
    """What `moment_input(..., key, default)` holds, read from session state: what a form's submit
    callback sees before the script runs again."""
    return to_utc(st.session_state.get(f"{key}-day"), st.session_state.get(f"{key}-time"), default)
