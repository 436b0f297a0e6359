"""The demo knob parser (`quizapp demo run --set`, the demos page URL) takes any text: it returns
Params whose numbers are finite and in bounds, or KnobError naming the knob."""

import math

from hypothesis import given
from hypothesis import strategies as st

from demos import registry

SLUGS = [s for s in registry.slugs() if registry.available(s)]
KNOBS = {slug: {k.name: k for k in registry.knobs(slug)} for slug in SLUGS}
SPECIAL = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "-1e999",
    "1e-400",
    "0x10",
    "1_0",
    "٣",
    " 3 ",
    "true",
    "no",
    "",
    ",",
    "relu,relu",
    "sigmoid, relu",
    "1,2,3",
    "-0",
    "1.5",
    "2.0",
    "1" * 5000,
]


def _values(slug: str):  # type: ignore[no-untyped-def]
    names = sorted(KNOBS[slug])
    options = sorted({str(o) for k in KNOBS[slug].values() for o in k.options})
    value = st.one_of(
        st.text(max_size=30),
        st.sampled_from(SPECIAL + options),
        st.floats(allow_subnormal=False).map(repr),
        st.integers().map(str),
        st.lists(st.sampled_from(options or ["1"]), max_size=4).map(",".join),
    )
    return st.dictionaries(st.sampled_from(names) | st.text(max_size=8), value, max_size=4)


def _finite(value) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


@st.composite
def slug_and_values(draw):  # type: ignore[no-untyped-def]
    slug = draw(st.sampled_from(SLUGS))
    return slug, draw(_values(slug))


@given(slug_and_values())
def test_any_text_gives_finite_params_or_a_knob_error(case):
    slug, values = case
    try:
        params = registry.parse_params(slug, values)
    except registry.KnobError as exc:
        assert exc.problems and all(message for _name, message in exc.problems)
        return
    for name, value in params.model_dump().items():
        assert _finite(value), f"{slug}.{name} accepted {value!r}"
        k = KNOBS[slug].get(name)
        if k is not None and k.kind in ("int", "float"):
            assert k.min is None or value >= k.min, (slug, name, value)
            assert k.max is None or value <= k.max, (slug, name, value)


@given(st.sampled_from(SLUGS), st.text(max_size=40))
def test_a_cli_set_item_parses_or_is_refused(slug, item):
    """As `--set KNOB=VALUE` splits it."""
    key, _, value = item.partition("=")
    try:
        params = registry.parse_params(slug, {key.strip(): value.strip()})
    except registry.KnobError:
        return
    assert _finite(params.model_dump())
