"""My questions (instructors and admins): the questions I own, publishing, a form with a live preview,
GIFT / Moodle XML upload with a dry run, and downloads. The rules live in quizapp.owned_questions."""

import functools
import hashlib

import streamlit as st

from quizapp import owned_questions as oq
from quizapp.bank.schema import KINDS, TOPICS, TYPES
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied
from quizapp.questions import QuestionView
from quizapp.ui.answering import answer_widget
from quizapp.ui.common import DIFFICULTY, TYPE_LABELS, actor, plain, topic_title

MAX_UPLOAD_MB = 10
VIEWS = ["My questions", "Write a question", "Import a file", "Download"]
FORMATS = {"gift": "GIFT", "moodle-xml": "Moodle XML", "apkg": "Anki package (.apkg)"}
EXTENSIONS = {"gift": "gift", "moodle-xml": "xml", "apkg": "apkg"}
MIME = {"gift": "text/plain", "moodle-xml": "application/xml", "apkg": "application/octet-stream"}
S = st.session_state
F = "mq-f-"  # the authoring form's widget keys

st.title("My questions")
me = actor()
if me.role not in ("instructor", "admin"):
    st.error("This page is for instructors.")
    st.stop()


def _flash(message: str, kind: str = "success") -> None:
    S["mq-flash"] = (kind, message)


def _show_flash() -> None:
    if flashed := S.pop("mq-flash", None):
        kind, message = flashed
        getattr(st, kind)(message)


# ---------------------------------------------------------------- actions (callbacks)


def _on_publish(qid: str, published: bool) -> None:
    try:
        with write_session() as session:
            oq.set_published(session=session, actor=me, question_id=qid, published=published)
        _flash(f"{'Published' if published else 'Unpublished'} {qid}.")
    except (AccessDenied, LookupError) as exc:
        _flash(plain(str(exc)), "error")


def _on_active(qid: str, active: bool) -> None:
    try:
        with write_session() as session:
            oq.set_active(session=session, actor=me, question_id=qid, active=active)
        _flash(f"{'Restored' if active else 'Deleted (retired)'} {qid}.")
    except (AccessDenied, LookupError) as exc:
        _flash(plain(str(exc)), "error")


def _lines(items) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(str(i) for i in items or [])


def _on_edit(view: QuestionView) -> None:
    """Load a question into the form and open it."""
    d = view.data
    S["mq-editing"] = view.id
    S["mq-view"] = "Write a question"
    S[F + "type"], S[F + "kind"], S[F + "topic"] = view.type, view.kind, view.topic
    S[F + "difficulty"] = view.difficulty
    S[F + "title"], S[F + "prompt"] = d.get("title") or "", d["prompt"]
    S[F + "explanation"], S[F + "tags"] = d["explanation"], ", ".join(d.get("tags") or [])
    S[F + "choices"] = _lines(d.get("choices"))
    S[F + "single"] = d.get("answer") if view.type == "single" else None
    S[F + "multi"] = list(d.get("answer") or []) if view.type == "multi" else []
    S[F + "tf"] = "True" if d.get("answer") is True else "False"
    S[F + "number"] = str(d.get("answer")) if view.type == "numeric" else ""
    S[F + "tolerance"] = str(d.get("tolerance") or 0)
    S[F + "answers"] = _lines(d.get("answers"))
    S[F + "model"] = d.get("answer") if view.type == "open" else ""
    S[F + "key_points"] = _lines(d.get("key_points"))
    S["mq-extra"] = {k: d[k] for k in ("credits", "feedback", "alternatives", "case_sensitive") if k in d}


def _on_new() -> None:
    for key in [k for k in S if str(k).startswith(F)]:
        del S[key]
    S.pop("mq-editing", None)
    S.pop("mq-extra", None)


# ---------------------------------------------------------------- the list


def _list() -> None:
    everyone = me.role == "admin" and st.toggle("Every instructor's questions", key="mq-everyone")
    with read_session() as session:
        rows = oq.my_questions(session=session, actor=me, everyone=everyone)
    if not rows:
        st.info("No questions of yours yet: write one or import a GIFT or Moodle XML file.")
        return
    shown = sum(r.published and r.active for r in rows)
    st.caption(
        f"{len(rows)} question(s), {shown} published. Unpublished questions are seen only by you (and "
        "admins); you can use them in your own assignments either way."
    )
    for r in rows:
        status = "Retired" if not r.active else ("Published" if r.published else "Private")
        who = f" · {plain(r.owner)}" if everyone else ""
        with st.expander(f"{plain(r.title)} · {status}"):
            st.caption(
                f"{r.view.id} · {TYPE_LABELS[r.view.type]} · {topic_title(r.view.topic)} · "
                f"{DIFFICULTY[r.view.difficulty]} · version {r.view.version}{who}"
            )
            st.markdown(r.view.prompt)
            c1, c2, c3 = st.columns(3)
            if r.active:
                c1.button(
                    "Unpublish" if r.published else "Publish",
                    key=f"mq-pub-{r.view.id}",
                    on_click=_on_publish,
                    args=(r.view.id, not r.published),
                )
                c2.button("Edit", key=f"mq-edit-{r.view.id}", on_click=_on_edit, args=(r.view,))
            c3.button(
                "Delete" if r.active else "Restore",
                key=f"mq-del-{r.view.id}",
                help="Deleting retires it: it leaves every list, and answers already given keep it.",
                on_click=_on_active,
                args=(r.view.id, not r.active),
            )


# ---------------------------------------------------------------- the authoring form


def _split(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _form_data(qtype: str) -> dict:
    data: dict = {
        "kind": S.get(F + "kind"),
        "type": qtype,
        "topic": S.get(F + "topic"),
        "difficulty": S.get(F + "difficulty"),
        "prompt": S.get(F + "prompt", ""),
        "explanation": S.get(F + "explanation", ""),
        "tags": [t.strip() for t in (S.get(F + "tags") or "").split(",") if t.strip()],
    }
    if title := (S.get(F + "title") or "").strip():
        data["title"] = title
    if qtype in ("single", "multi"):
        data["choices"] = _split(S.get(F + "choices", ""))
        data["answer"] = S.get(F + "single") if qtype == "single" else list(S.get(F + "multi") or [])
    elif qtype == "truefalse":
        data["answer"] = S.get(F + "tf") == "True"
    elif qtype == "numeric":
        data["answer"], data["tolerance"] = _number(S.get(F + "number")), _number(S.get(F + "tolerance"))
    elif qtype == "short":
        data["answers"] = _split(S.get(F + "answers", ""))
    else:
        data["answer"], data["key_points"] = S.get(F + "model", ""), _split(S.get(F + "key_points", ""))
    # Fields the form does not edit (partial credits, per-answer feedback) are kept from an import
    # while they still fit; a change that breaks them is reported like any other error.
    for key, value in (S.get("mq-extra") or {}).items():
        if (
            key in ("credits", "feedback")
            and qtype in ("single", "multi", "short", "truefalse", "numeric")
            or key == "alternatives"
            and qtype == "numeric"
            or key == "case_sensitive"
            and qtype == "short"
        ):
            data[key] = value
    return data


def _number(raw):  # type: ignore[no-untyped-def]
    try:
        return float(str(raw).strip())
    except ValueError:
        return raw


def _errors_under(errors: dict[str, str], *names: str) -> None:
    for name in names:
        if name in errors:
            st.error(plain(f"{name}: {errors[name]}"), icon=":material/error:")


def _on_save(data: dict) -> None:
    editing = S.get("mq-editing")
    try:
        with write_session() as session:
            view = oq.save_question(session=session, actor=me, data=data, question_id=editing)
        _flash(f"Saved {view.id} (version {view.version}). It stays private until you publish it.")
        S["mq-editing"] = view.id
    except oq.SpecError as exc:
        S["mq-save-errors"] = exc.fields
    except (AccessDenied, LookupError) as exc:
        _flash(plain(str(exc)), "error")


def _preview(data: dict) -> None:
    """The question as a learner sees it in practice: the same caption, markdown and answer widget."""
    st.markdown("#### Preview")
    spec = oq.validate_spec(dict(data, id="preview"))[0]
    d = spec.content()
    view = QuestionView("preview", 0, 1, spec.kind, spec.type, spec.topic, spec.difficulty, d)
    with st.container(border=True):
        st.caption(f"{topic_title(view.topic)} · {DIFFICULTY[view.difficulty]} · {TYPE_LABELS[view.type]}")
        st.markdown(view.prompt)
        answer_widget(view, "mq-preview-answer")
        with st.expander("After answering"):
            st.markdown("**Why**")
            st.markdown(view.explanation)


def _write() -> None:
    editing = S.get("mq-editing")
    if editing:
        st.caption(f"Editing {editing}: saving makes a new version; answers already given keep theirs.")
        st.button("Start a new question instead", on_click=_on_new, key="mq-new")
    left, right = st.columns(2)
    with left:
        qtype = st.selectbox(
            "Type", TYPES, format_func=TYPE_LABELS.get, key=F + "type", disabled=bool(editing)
        )
        c1, c2, c3 = st.columns(3)
        S.setdefault(F + "kind", "quiz")
        c1.selectbox("Kind", KINDS, key=F + "kind")
        c2.selectbox("Topic", list(TOPICS), format_func=topic_title, key=F + "topic")
        c3.selectbox("Difficulty", [1, 2, 3], format_func=DIFFICULTY.get, key=F + "difficulty")
        st.text_input("Title (optional; the Moodle question name)", key=F + "title", max_chars=255)
        st.text_area("Prompt (markdown)", key=F + "prompt", height=120)
        if qtype in ("single", "multi"):
            st.text_area("Choices, one per line", key=F + "choices", height=120)
            choices = _split(S.get(F + "choices", ""))
            if qtype == "single":
                if S.get(F + "single") not in choices:
                    S[F + "single"] = None
                st.selectbox("The right choice", choices, key=F + "single", index=None)
            else:
                S[F + "multi"] = [c for c in S.get(F + "multi") or [] if c in choices]
                st.multiselect("The right choices", choices, key=F + "multi")
        elif qtype == "truefalse":
            st.radio("The statement is", ["True", "False"], key=F + "tf", horizontal=True)
        elif qtype == "numeric":
            n1, n2 = st.columns(2)
            n1.text_input("Answer (a number)", key=F + "number")
            S.setdefault(F + "tolerance", "0")
            n2.text_input("Tolerance (plus or minus)", key=F + "tolerance")
        elif qtype == "short":
            st.text_area(
                "Accepted answers, one per line (regular expressions matched against the whole answer, "
                "case ignored)",
                key=F + "answers",
            )
        else:
            st.text_area("Model answer (markdown)", key=F + "model", height=120)
            st.text_area("Key points, one per line", key=F + "key_points")
        st.text_area("Explanation (markdown), shown after answering", key=F + "explanation", height=100)
        st.text_input("Tags, comma-separated", key=F + "tags")
    data = _form_data(qtype)
    errors: dict[str, str] = {}
    try:
        oq.validate_spec(dict(data, id="draft-question"))
    except oq.SpecError as exc:
        errors = exc.fields
    errors = S.pop("mq-save-errors", None) or errors
    with left:
        if errors:
            st.markdown("**Fix these before saving:**")
            for name, message in errors.items():
                st.error(plain(f"{name or 'question'}: {message}"), icon=":material/error:")
        st.button(
            "Save changes" if editing else "Save question",
            type="primary",
            key="mq-save",
            disabled=bool(errors),
            on_click=_on_save,
            args=(data,),
        )
    with right:
        if errors:
            st.info("The preview appears once the question passes every check.")
        else:
            _preview(data)


# ---------------------------------------------------------------- import


def _import() -> None:
    st.write(
        "Upload a GIFT (.gift, .txt) or Moodle XML (.xml) file. You see what would be imported, skipped "
        "and refused before anything is stored; a file with any refused question imports nothing. "
        "Imported questions are yours and private until you publish them."
    )
    up = st.file_uploader(
        "Question file", type=["gift", "txt", "xml"], key="mq-upload", max_upload_size=MAX_UPLOAD_MB
    )
    c1, c2, c3 = st.columns(3)
    guess = "moodle-xml" if up is not None and up.name.lower().endswith(".xml") else "gift"
    fmt = c1.selectbox(
        "Format", ["gift", "moodle-xml"], format_func=FORMATS.get, index=["gift", "moodle-xml"].index(guess)
    )
    topic = c2.selectbox(
        "Topic for questions whose category names none",
        [None, *TOPICS],
        format_func=lambda t: "(none)" if t is None else topic_title(t),
        key="mq-import-topic",
    )
    encoding = c3.text_input("Encoding (empty: UTF-8, else Windows-1252)", key="mq-encoding").strip() or None
    if up is None:
        return
    data = up.getvalue()
    if len(data) > MAX_UPLOAD_MB * 2**20:
        st.error(f"{plain(up.name)} is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB.")
        return
    digest = hashlib.sha256(data).hexdigest()
    key = (digest, fmt, topic, encoding)
    run_import = functools.partial(
        oq.import_file, actor=me, data=data, fmt=fmt, source=up.name, encoding=encoding, topic=topic
    )
    try:
        with read_session() as session:
            report = run_import(session=session, dry_run=True)
    except oq.OwnedQuestionError as exc:
        st.error(plain(str(exc)))
        return
    if report.refused:
        st.error(f"{len(report.refused)} question(s) refused: nothing can be imported from this file.")
        st.dataframe(
            [
                {"question": r["question"], "line": r.get("line"), "reason": r["reason"]}
                for r in report.refused
            ],
            hide_index=True,
        )
    if report.skipped:
        st.warning(f"{len(report.skipped)} question(s) will be skipped (types we do not have).")
        st.dataframe(report.skipped, hide_index=True)
    for note in report.notices:
        st.caption(note)
    if report.questions:
        label = "will be imported" if not report.refused else "would be imported"
        st.write(f"{len(report.questions)} question(s) {label}:")
        st.dataframe(
            [
                {"id": q["id"], "type": q["type"], "title": q["title"], "": q["status"]}
                for q in report.questions
            ],
            hide_index=True,
        )
    if error := S.pop("mq-import-error", None):
        st.error(error)
    if S.get("mq-imported") == key:
        st.success("Imported. They are listed under My questions, private until you publish them.")
        return
    if not report.refused and report.questions:  # a callback: one script run per click
        st.button(
            f"Import {len(report.questions)} question(s)",
            type="primary",
            key="mq-import",
            on_click=_store_import,
            args=(run_import, key),
        )


def _store_import(run_import, key) -> None:  # type: ignore[no-untyped-def]
    try:
        with write_session() as session:
            done = run_import(session=session)
            if done.refused:  # changed under us: store nothing
                session.rollback()
                S["mq-import-error"] = "Refused on import; nothing was stored."
                return
        S["mq-imported"] = key
    except oq.OwnedQuestionError as exc:
        S["mq-import-error"] = plain(str(exc))


# ---------------------------------------------------------------- download


def _download() -> None:
    st.write("Your active questions (published or not), for Moodle or for review in Anki.")
    fmt = st.radio("Format", list(FORMATS), format_func=FORMATS.get, horizontal=True, key="mq-export-format")
    if st.button("Prepare the file", key="mq-prepare"):
        with read_session() as session:
            questions = oq.export_questions(session=session, owner_id=me.user_id)
        if not questions:
            st.info("You have no active questions to download.")
            return
        S["mq-export"] = (fmt, oq.export_bytes(questions, fmt, deck_name="quizapp"), len(questions))
    prepared = S.get("mq-export")
    if prepared and prepared[0] == fmt:
        fmt, data, n = prepared
        st.download_button(
            f"Download {n} question(s) as {FORMATS[fmt]}",
            data=data,
            file_name=f"my-questions.{EXTENSIONS[fmt]}",
            mime=MIME[fmt],
            key="mq-download",
            icon=":material/download:",
        )


view = st.radio("Show", VIEWS, horizontal=True, key="mq-view", label_visibility="collapsed")
_show_flash()
if view == "My questions":
    _list()
elif view == "Write a question":
    _write()
elif view == "Import a file":
    _import()
else:
    _download()
