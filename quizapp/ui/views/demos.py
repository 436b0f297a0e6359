import time
from collections.abc import Callable
from urllib.parse import urlencode

import streamlit as st

from demos import cost, registry, runtime
from demos.catalogue import CATALOGUE
from quizapp.db import read_session
from quizapp.demo_figures import fit_for_page
from quizapp.questions import questions_by_demo
from quizapp.textutil import escape_markdown
from quizapp.ui.common import PRACTICE_PAGE, topic_title

S = st.session_state
DEVICES = ["auto", "cpu", "cuda", "mps"]


def _gallery(note: str | None = None) -> None:
    st.title("Demos")
    st.caption(
        "Each demo trains a small model on this server in seconds and checks the claims our answers make."
    )
    if note:
        st.warning(note)
    with read_session() as session:
        linked = questions_by_demo(session=session)
    cols = st.columns(3)
    for i, info in enumerate(CATALOGUE.values()):
        with cols[i % 3].container(border=True):
            st.subheader(info.title)
            st.write(info.summary)
            st.caption("Topics: " + ", ".join(topic_title(t) for t in info.topics))
            questions = linked.get(info.slug, [])
            if questions:
                with st.expander(f"{len(questions)} question(s) link here"):
                    for q in questions[:12]:
                        st.markdown("- " + q.prompt.strip().splitlines()[0][:140])
            if registry.available(info.slug):
                st.page_link(
                    "views/demos.py",
                    label="Open the demo",
                    icon=":material/play_arrow:",
                    query_params={"demo": info.slug},
                )
            else:
                st.caption("Being built: this demo will show what the summary above describes.")


def _store_once() -> None:
    """Every server process answers runs stored by any of them (quizapp.demo_store)."""
    if runtime._store is None:
        from quizapp.demo_store import DbResultStore

        runtime.set_store(DbResultStore())


def _initial_seed() -> tuple[int, str | None]:
    raw = st.query_params.get("seed", "0")
    try:
        seed = int(raw)
    except ValueError:
        shown = escape_markdown(repr(raw))
        return 0, f"The link's seed {shown} was refused: a whole number from 0 to {2**31 - 1} is needed."
    if not 0 <= seed <= 2**31 - 1:
        return 0, f"The link's seed {seed} was refused: a whole number from 0 to {2**31 - 1} is needed."
    return seed, None


def _page_gone() -> Callable[[], bool]:
    """True once this browser tab is closed or has navigated away (its session is no longer active)."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return lambda: False
        instance, session_id = Runtime.instance(), ctx.session_id
        return lambda: not instance.is_active_session(session_id)
    except Exception:  # an older or test runtime: the Stop button and the budget still stop a run
        return lambda: False


def _initial_values(slug: str) -> tuple[dict, str | None]:
    """Knob values from the URL; on a bad value, the defaults and a message naming the knob."""
    raw = {k: st.query_params[k] for k in st.query_params if k not in ("demo", "seed")}
    try:
        return registry.parse_params(slug, raw).model_dump(), None
    except registry.KnobError as exc:
        refused = escape_markdown(str(exc))  # the message quotes the URL's values: plain text only
        return registry.parse_params(
            slug, {}
        ).model_dump(), f"The link's settings were refused: {refused}. Defaults are shown."


def _widget(k, value, key: str):  # type: ignore[no-untyped-def]
    """The knob's widget: its label in words with units, its code name in the help."""
    label, help_ = k.label or k.name, f"{k.description} `{k.name}` in links and the CLI."
    if k.kind == "bool":
        return st.toggle(label, value=bool(value), help=help_, key=key)
    if k.kind == "choice":
        opts = list(k.options)
        return st.selectbox(label, opts, index=opts.index(value) if value in opts else 0, help=help_, key=key)
    if k.kind == "multi" and k.options:
        return st.multiselect(
            label, list(k.options), default=[v for v in value if v in k.options], help=help_, key=key
        )
    if k.kind == "int":
        return st.number_input(
            label, min_value=k.min, max_value=k.max, value=int(value), step=1, help=help_, key=key
        )
    if k.kind == "float":
        step = max(abs(float(value)) / 10, 1e-4) if value else 0.01
        return st.number_input(
            label,
            min_value=float(k.min) if k.min is not None else None,
            max_value=float(k.max) if k.max is not None else None,
            value=float(value),
            step=step,
            format="%g",
            help=help_,
            key=key,
        )
    # a list of numbers (e.g. dropout rates, logits): typed as comma-separated text and parsed by the registry
    text = ",".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return st.text_input(label + " (comma-separated)", value=text, help=help_, key=key)


def _share(slug: str, params, seed: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The link for these settings: the URL follows the knobs as they change, before Run."""
    query = {"demo": slug, **registry.params_to_strings(params), "seed": str(seed)}
    if {k: st.query_params[k] for k in st.query_params} != query:
        st.query_params.from_dict(query)
    return query


def _page_url() -> str:
    try:
        url = st.context.url or ""
    except AttributeError:  # an older Streamlit
        url = ""
    return url.split("?", 1)[0].split("#", 1)[0] or "/demos"


def _before_run(slug: str, params, query: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """What a run of these settings will check, whether it fits the budget, and its link."""
    planned = registry.planned_claims(slug, params)
    if planned:
        st.markdown(
            "**This run checks:**\n" + "\n".join(f"- {escape_markdown(c.statement)}" for c in planned)
        )
    else:
        st.caption("These settings leave nothing to compare, so this run checks no claim; it still draws.")
    warning = cost.budget_warning(slug, params, runtime.default_budget_s())
    if warning:
        st.warning(warning)
    st.caption("Copy link: these settings and seed (the copy icon is at the right of the box)")
    st.code(f"{_page_url()}?{urlencode(query)}", language=None)


def _figures(slug: str, outcome) -> list:  # type: ignore[no-untyped-def]
    if outcome.figures is not None:  # answered from the store: plotly JSON
        import plotly.graph_objects as go

        return [go.Figure(f) for f in outcome.figures]
    if outcome.result is None:
        return []
    return registry.load(slug).figures(outcome.result)


def _chart(slot, fig, key: str) -> None:  # type: ignore[no-untyped-def]
    """One figure in its slot: a short title in the chart, the full one as a caption under it."""
    fig, caption = fit_for_page(fig)
    with slot.container():
        st.plotly_chart(fig, width="stretch", key=key)
        if caption:
            st.caption(escape_markdown(caption))


def _draw(slug: str, outcome, slots) -> None:  # type: ignore[no-untyped-def]
    for i, fig in enumerate(_figures(slug, outcome)):
        if i < len(slots):
            _chart(slots[i], fig, f"{slug}-final-{i}")
    if outcome.stopped:
        st.warning(outcome.message + " The charts and metrics show the run so far.")
    metrics = outcome.metrics
    if metrics:
        st.subheader("Metrics")
        cols = st.columns(min(4, len(metrics)))
        for i, (name, value) in enumerate(metrics.items()):
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            cols[i % len(cols)].metric(name.replace("_", " "), shown)
    st.subheader("Claims checked by this run")
    for c in outcome.claims:
        text = escape_markdown(c.statement)
        if c.holds is None:
            st.info("Not checked: the run stopped. " + text)
        else:
            (st.success if c.holds else st.error)(("Holds: " if c.holds else "Does not hold: ") + text)
    if outcome.stopped and not outcome.claims:
        st.info("Not checked: the run stopped before its claims could be read.")
    if not outcome.stopped:
        st.caption(outcome.message)


def _demo(slug: str) -> None:
    info = CATALOGUE[slug]
    st.page_link("views/demos.py", label="All demos", icon=":material/arrow_back:", query_params={})
    st.title(info.title)
    st.write(info.summary)
    for t in info.topics:
        st.page_link(
            str(PRACTICE_PAGE),
            label=f"Practise {topic_title(t)} questions",
            icon=":material/quiz:",
            query_params={"topic": t},
        )
    if not registry.available(slug):
        st.info("This demo is being built. When it lands, this page trains it live with the knobs below it.")
        return
    values, problem = _initial_values(slug)
    if problem:
        st.error(problem)
    seed0, seed_problem = _initial_seed()
    if seed_problem:
        st.error(seed_problem)
    knobs = registry.knobs(slug)
    cols = st.columns(3)
    chosen = {}
    for i, k in enumerate(knobs):
        with cols[i % 3]:
            chosen[k.name] = _widget(k, values[k.name], f"knob-{slug}-{k.name}")
    c1, c2 = st.columns(2)
    device = c1.selectbox(
        "Device", DEVICES, help="auto picks CUDA, then Apple MPS, then the CPU.", key=f"device-{slug}"
    )
    seed = c2.number_input(
        "Seed",
        min_value=0,
        max_value=2**31 - 1,
        value=seed0,
        step=1,
        help="The random seed: the same seed gives the same run. `seed` in links and the CLI.",
        key=f"seed-{slug}",
    )
    try:
        params = registry.parse_params(slug, chosen)
    except registry.KnobError as exc:
        params = None
        st.error(f"Not run: {escape_markdown(str(exc))}")
    if params is not None:
        query = _share(slug, params, int(seed))
        _before_run(slug, params, query)
    run = st.button("Run", type="primary", disabled=params is None, key=f"run-{slug}")
    stop = st.button("Stop", key=f"stop-{slug}", help="Stop the run going; its charts so far stay")
    if stop:
        going = S.pop("demo_going", None)
        if going is not None and going.get("slug") == slug:
            _draw_stopped(slug, going)
            return
    if not run or params is None:
        last = S.get("demo_last", {}).get(slug)
        if last is not None:
            _draw(slug, last, [st.empty() for _ in range(8)])
        return
    _store_once()
    module = registry.load(slug)
    bar = st.progress(0.0, text="Starting...")
    status = st.empty()
    slots = [st.empty() for _ in range(8)]
    last_draw = [0.0]

    def on_wait(position: int) -> None:
        status.info(f"Every trainer is busy: you are number {position} in the queue.")

    going = {"slug": slug, "partial": None, "where": None}
    S["demo_going"] = going  # what a Stop click (a rerun that interrupts this one) draws

    def on_progress(fraction: float, partial, where=None) -> None:  # type: ignore[no-untyped-def]
        status.empty()
        going["where"] = where or runtime.current_run()
        if partial is not None:
            going["partial"] = partial
        bar.progress(fraction, text=f"Training... {fraction:.0%}")
        now = time.monotonic()
        if partial is not None and (now - last_draw[0] > 0.4 or fraction >= 1.0):
            last_draw[0] = now
            try:
                figs = module.figures(partial)
            except Exception:  # a partial caught mid-step may not draw; the next one will
                return
            for i, fig in enumerate(figs):
                if i < len(slots):
                    _chart(slots[i], fig, f"{slug}-live-{i}-{now}")

    try:
        outcome = _run(slug, params, int(seed), device, on_progress, on_wait)
    except _JobFailed as exc:
        bar.empty()
        st.error(f"The run failed: {exc}. The page is usable: press Run to try again.")
        return
    except runtime.DeviceUnavailable as exc:
        bar.empty()
        st.error(str(exc))
        return
    # Kept on an exception (a Stop click interrupts this script with a rerun that draws it).
    if S.get("demo_going") is going:
        S.pop("demo_going", None)
    if outcome.stopped:
        bar.empty()
    else:
        bar.progress(1.0, text="Done")
        S.setdefault("demo_last", {})[slug] = outcome
    _draw(slug, outcome, slots)


class _JobFailed(RuntimeError):
    pass


def _run(slug, params, seed, device, on_progress, on_wait):  # type: ignore[no-untyped-def]
    """In this process, or, with QUIZAPP_REDIS_URL set, on a `quizapp worker` through Redis."""
    from quizapp import demo_jobs

    gone = _page_gone()
    if demo_jobs.redis_url():
        hit = runtime.lookup(runtime.run_key(slug, params, seed=seed, device=device))
        if hit is not None:
            return hit
        try:
            conn = demo_jobs.connect()
        except demo_jobs.QueueUnavailable as exc:
            st.caption(f"{exc}; running here instead.")
        else:
            job = demo_jobs.enqueue(
                slug,
                params.model_dump(mode="json"),
                seed=seed,
                device=device,
                budget_s=runtime.default_budget_s(),
                conn=conn,
            )
            try:
                return demo_jobs.follow(
                    job,
                    on_progress=on_progress,
                    on_wait=on_wait,
                    should_stop=gone,
                    conn=conn,
                )
            except demo_jobs.JobFailed as exc:
                raise _JobFailed(str(exc)) from None
    return runtime.run_demo(
        slug, params, seed=seed, device=device, on_progress=on_progress, on_wait=on_wait, stop=gone
    )


def _draw_stopped(slug: str, going: dict) -> None:
    """After Stop: the run so far, its metrics, and its claims marked not checked."""
    where = going.get("where") or {}
    partial = going.get("partial")
    module = registry.load(slug)
    step, total = where.get("step"), where.get("steps_total")
    at = f"step {step}" + (f" of {total}" if total else "") if step is not None else "the start"
    st.warning(f"Stopped at {at} after {where.get('elapsed_s', 0.0):.1f} s, as you asked.")
    if partial is None:
        return
    try:
        for i, fig in enumerate(module.figures(partial)):
            _chart(st.empty(), fig, f"{slug}-stopped-{i}")
        metrics = module.metrics(partial)
        claims = module.claims(partial)
    except Exception:
        return
    if metrics:
        st.subheader("Metrics so far")
        cols = st.columns(min(4, len(metrics)))
        for i, (name, value) in enumerate(metrics.items()):
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            cols[i % len(cols)].metric(name.replace("_", " "), shown)
    for c in claims:
        st.info("Not checked: the run stopped. " + c.statement)


slug = st.query_params.get("demo")
if slug is None:
    _gallery()
elif slug not in CATALOGUE:
    _gallery(note=f"There is no demo called {escape_markdown(repr(slug))}; here are all of them.")
else:
    _demo(slug)
