"""Full-text search over every active question anyone may see (the public bank and published owned
questions), in the database's own engine.

SQLite: an FTS5 table (porter stemming) ranked by bm25 with column weights. PostgreSQL: a weighted
tsvector (english) with a GIN index, ranked by ts_rank_cd. Both are made by migration 0006 and kept in
line with the bank by `reindex`, which `sync_bank` (so `quizapp init`) calls. The user's words never
reach a query parser as typed: they are cut into letter/digit tokens, and the match expression is
built from those tokens alone, so quotes, `*`, `-`, `:`, brackets, NEAR, AND/OR are just text.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection
from sqlmodel import Session

from quizapp.grading import _expected, readable_pattern
from quizapp.questions import QuestionView, list_questions

START, STOP = "\x02", "\x03"  # match markers: control characters that question text never holds
MAX_TERMS = 12
MAX_TERM_LEN = 40
TITLE_CHARS = 240
SNIPPET_WORDS = 24  # SQLite's snippet() counts tokens
SNIPPET_CHARS = 170  # PostgreSQL's fragments are cut by characters

Segment = tuple[str, bool]  # (text, is a match)
# Function words a question typed in full brings along ("what is the ..."): PostgreSQL's english
# configuration drops them anyway; SQLite would otherwise require every one of them to match.
STOPWORDS = frozenset(
    "a about an and are as at be been but by can could do does did for from had has have how i if in into "  # noqa: SIM905
    "is it its me my not of on or our should so than that the their them then there these they this "
    "to was we were what when where which while who whom why will with would you your".split()
)
_TERM = re.compile(r"[^\W_]+")  # a search word: letters and digits

# Column weights: a match in the prompt (or a tag) outranks one in the answer, which outranks one in
# the explanation; the choices (right and wrong) count least.
_SQLITE_WEIGHTS = (
    "0, 0, 0, 0, 10.0, 6.0, 3.0, 1.0, 0.5"  # question_id kind type topic | prompt tags answer ...
)
_PG_WEIGHTS = "{0.05, 0.2, 0.4, 1.0}"  # D (choices), C (explanation), B (answer), A (prompt, tags)
# FAQ and interview entries are the teaching answers: at a like match they come before quiz items.
TEACHING_BOOST = 1.5
_BOOST = f"(CASE WHEN kind = 'quiz' THEN 1.0 ELSE {TEACHING_BOOST} END)"


@dataclass(frozen=True)
class SearchHit:
    question: QuestionView
    rank: float  # higher is more relevant; comparable only within one search
    title: tuple[Segment, ...]  # the prompt as plain text, matches marked
    snippet: tuple[Segment, ...]  # the best fragment of the answer or explanation, matches marked
    all_words: bool  # False when no question had every word and this one has some of them

    @property
    def answer(self) -> str:
        return readable_answer(self.question.data)


# ---------------------------------------------------------------- the indexed document


def readable_answer(data: dict) -> str:
    """The correct answer as a person reads it (a short answer's key in words, not its pattern)."""
    return _expected(data)


def plain_text(markdown: str) -> str:
    """Markdown source as one line of plain text: what is indexed and what snippets show."""
    t = re.sub(r"^\s*(```|~~~).*$", " ", markdown, flags=re.M)  # code fence lines
    t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", t)  # links and images: their text
    t = re.sub(r"^\s{0,3}(#{1,6}|>)\s*", "", t, flags=re.M)  # headings, quotes
    t = re.sub(r"[`*]+", "", t)
    t = re.sub(r"(?<!\w)_{1,2}|_{1,2}(?!\w)", "", t)  # emphasis underscores, not snake_case
    t = t.replace(START, " ").replace(STOP, " ")
    return re.sub(r"\s+", " ", t).strip()


def _answer_text(data: dict) -> str:
    if data["type"] == "open":
        return "\n".join([str(data.get("answer") or ""), *(data.get("key_points") or [])])
    parts = [readable_answer(data)]
    if data["type"] == "short":
        seen = {_words(parts[0])}
        for pattern in data.get("answers") or []:  # other accepted wordings, each once
            plain = readable_pattern(pattern)
            if plain and _words(plain) not in seen:
                seen.add(_words(plain))
                parts.append(plain)
    return "\n".join(p for p in parts if p)


def _words(text_: str) -> str:
    return " ".join(_TERM.findall(text_.lower()))


def document(data: dict) -> dict[str, str]:
    """The searchable text of one question version, by column."""
    return {
        "prompt": plain_text(data["prompt"]),
        "tags": " ".join(str(t) for t in data.get("tags") or []),
        "answer": plain_text(_answer_text(data)),
        "explanation": plain_text(data.get("explanation") or ""),
        "choices": plain_text("\n".join(str(c) for c in data.get("choices") or [])),
    }


# ---------------------------------------------------------------- keeping the index in line


_CURRENT = """
SELECT q.id, v.id, q.kind, q.type, q.topic, v.data
FROM question q JOIN questionversion v ON v.question_id = q.id AND v.version = q.current_version
WHERE q.active = :active AND (q.owner_id IS NULL OR q.published = :active)
"""


def reindex(session: Session, question_ids: Iterable[str] | None = None) -> int:
    """Bring the index in line with the bank: index each active question whose current version is not
    indexed yet, drop retired questions and replaced versions. With `question_ids`, those questions are
    rebuilt even when their indexed version looks current. Returns how many rows were (re)written."""
    conn = session.connection()
    forced = sorted(set(question_ids)) if question_ids is not None else []
    if conn.dialect.name == "sqlite":
        return _reindex_sqlite(conn, forced)
    return _reindex_postgres(conn, forced)


def _rows(conn: Connection, statement: str, **params: Any) -> list[dict[str, Any]]:
    out = []
    for qid, vid, kind, type_, topic, data in conn.execute(sql(statement), {"active": True, **params}).all():
        if isinstance(data, str):  # SQLite hands back JSON as text through a plain SELECT
            data = json.loads(data)
        out.append(
            {"question_id": qid, "version_id": vid, "kind": kind, "type": type_, "topic": topic}
            | document(data)
        )
    return out


def _reindex_sqlite(conn: Connection, forced: list[str]) -> int:
    if forced:
        conn.execute(
            sql("DELETE FROM questionsearch WHERE question_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": forced},
        )
    # The rowid of an index row is the id of the question version it holds: a row whose version is not
    # some active question's current one is stale.
    conn.execute(
        sql(
            "DELETE FROM questionsearch WHERE rowid NOT IN (SELECT v.id FROM question q JOIN questionversion v "
            "ON v.question_id = q.id AND v.version = q.current_version WHERE q.active = :active "
            "AND (q.owner_id IS NULL OR q.published = :active))"
        ),
        {"active": True},
    )
    rows = _rows(conn, _CURRENT + " AND v.id NOT IN (SELECT rowid FROM questionsearch)")
    if rows:
        conn.execute(
            sql(
                "INSERT INTO questionsearch (rowid, question_id, kind, type, topic, prompt, tags, answer, "
                "explanation, choices) VALUES (:version_id, :question_id, :kind, :type, :topic, :prompt, "
                ":tags, :answer, :explanation, :choices)"
            ),
            rows,
        )
    return len(rows)


def _reindex_postgres(conn: Connection, forced: list[str]) -> int:
    if forced:
        conn.execute(
            sql("DELETE FROM questionsearch WHERE question_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": forced},
        )
    conn.execute(
        sql(
            "DELETE FROM questionsearch s WHERE NOT EXISTS (SELECT 1 FROM question q "
            "WHERE q.id = s.question_id AND q.active = :active AND (q.owner_id IS NULL OR q.published = :active))"
        ),
        {"active": True},
    )
    rows = _rows(
        conn,
        _CURRENT
        + " AND NOT EXISTS (SELECT 1 FROM questionsearch s WHERE s.question_id = q.id AND s.version_id = v.id)",
    )
    if rows:
        conn.execute(
            sql(
                "INSERT INTO questionsearch (question_id, version_id, kind, type, topic, prompt, tags, answer, "
                "explanation, choices) VALUES (:question_id, :version_id, :kind, :type, :topic, :prompt, "
                ":tags, :answer, :explanation, :choices) ON CONFLICT (question_id) DO UPDATE SET "
                "version_id = EXCLUDED.version_id, kind = EXCLUDED.kind, type = EXCLUDED.type, "
                "topic = EXCLUDED.topic, prompt = EXCLUDED.prompt, tags = EXCLUDED.tags, "
                "answer = EXCLUDED.answer, explanation = EXCLUDED.explanation, choices = EXCLUDED.choices"
            ),
            rows,
        )
    return len(rows)


# ---------------------------------------------------------------- querying


def query_terms(text_: str) -> list[str]:
    """The words of a search, lowercased, deduplicated, letters and digits only."""
    terms: list[str] = []
    for word in _TERM.findall(text_.lower()):
        word = word[:MAX_TERM_LEN]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def fts5_query(terms: Sequence[str], *, any_word: bool = False) -> str:
    """An FTS5 match expression: every term a quoted string (so never an operator), the last a prefix."""
    quoted = [f'"{t}"' for t in terms]
    quoted[-1] += "*"
    return (" OR " if any_word else " AND ").join(quoted)


def tsquery(terms: Sequence[str], *, any_word: bool = False) -> str:
    """A to_tsquery expression from letter/digit terms only, the last one matching as a prefix."""
    return (" | " if any_word else " & ").join([*terms[:-1], f"{terms[-1]}:*"])


def _filters(kinds: Sequence[str] | None, types: Sequence[str] | None, topics: Sequence[str] | None):  # type: ignore[no-untyped-def]
    clauses, params, binds = [], {}, []
    for name, values in (("kind", kinds), ("type", types), ("topic", topics)):
        if values:
            clauses.append(f" AND {name} IN :{name}s")
            params[f"{name}s"] = list(values)
            binds.append(bindparam(f"{name}s", expanding=True))
    return "".join(clauses), params, binds


# Rank first, then mark up only the best rows: SQLite computes every selected column of a row before
# sorting, and highlight()/snippet() re-read and re-tokenize the text. `+rowid` keeps the rowid test
# out of FTS5's own planning, so the match is scanned once rather than once per best row.
_SQLITE_SCORE = f"-bm25(questionsearch, {_SQLITE_WEIGHTS}) * {_BOOST}"
_SQLITE_SEARCH = f"""
SELECT question_id, {_SQLITE_SCORE} AS score,
       highlight(questionsearch, 4, :start, :stop) AS title,
       snippet(questionsearch, 6, :start, :stop, ' … ', {SNIPPET_WORDS}) AS answer,
       snippet(questionsearch, 7, :start, :stop, ' … ', {SNIPPET_WORDS}) AS explanation
FROM questionsearch
WHERE questionsearch MATCH :query AND +rowid IN (
    SELECT rowid FROM questionsearch
    WHERE questionsearch MATCH :query/*filters*/
    ORDER BY {_SQLITE_SCORE} DESC, question_id
    LIMIT :limit
)
ORDER BY score DESC, question_id
"""

# Rank on the GIN-indexed documents, then fetch the text of the best rows only. The words are marked in
# Python against the english stems of the search (ts_headline re-parses each text and cost about 1 ms a
# row, more than the ranking).
_PG_SEARCH = f"""
WITH q AS (
    SELECT to_tsquery('english', :query) AS query,
           tsvector_to_array(to_tsvector('english', :words)) AS stems
),
top AS (
    SELECT s.question_id, ts_rank_cd(CAST('{_PG_WEIGHTS}' AS real[]), s.document, q.query) * {_BOOST} AS score
    FROM questionsearch s CROSS JOIN q
    WHERE s.document @@ q.query/*filters*/
    ORDER BY score DESC, s.question_id
    LIMIT :limit
)
SELECT top.question_id, top.score, s.prompt, s.answer, s.explanation, q.stems
FROM top JOIN questionsearch s ON s.question_id = top.question_id CROSS JOIN q
ORDER BY top.score DESC, top.question_id
"""


def _pg_marks(prompt: str, answer: str, explanation: str, stems: Sequence[str], terms: Sequence[str]):  # type: ignore[no-untyped-def]
    """(title, answer fragment, explanation fragment) with the words that match the search marked: a
    word starting with a stem (or a typed word) of three letters or more, or equal to a shorter one."""
    keys = {*(stems or ()), *terms}
    long = sorted((re.escape(k) for k in keys if len(k) >= 3), key=len, reverse=True)
    short = sorted(re.escape(k) for k in keys if len(k) < 3)
    parts = ([f"(?:{'|'.join(long)})[^\\W_]*"] if long else []) + (
        [f"(?:{'|'.join(short)})(?![^\\W_])"] if short else []
    )
    pattern = re.compile(f"(?<![^\\W_])(?:{'|'.join(parts)})", flags=re.IGNORECASE)

    def mark(text_: str) -> str:
        return pattern.sub(f"{START}\\g<0>{STOP}", text_)

    def fragment(text_: str) -> str:
        found = pattern.search(text_)
        return _around(text_, found.start() if found else 0, mark)

    return mark(prompt), fragment(answer), fragment(explanation)


def _around(text_: str, at: int, mark, size: int = SNIPPET_CHARS) -> str:  # type: ignore[no-untyped-def]
    """About `size` characters of one-line text from a little before `at`, cut at spaces, marked."""
    begin = max(0, at - size // 4)
    if begin:
        begin = text_.find(" ", begin) + 1 or begin
    end = begin + size
    if end < len(text_):
        end = text_.rfind(" ", begin, end) if " " in text_[begin:end] else end
    else:
        end = len(text_)
    return ("… " if begin else "") + mark(text_[begin:end]) + (" …" if end < len(text_) else "")


def search(
    *,
    session: Session,
    text: str,
    topics: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    limit: int = 50,
) -> list[SearchHit]:
    """Active questions matching the words of `text`, most relevant first. Every word must match (the
    last may be the start of a word); when no question has them all, those with any of them are given,
    marked `all_words=False`. Words are stemmed: "gradients" finds "gradient"; common words ("what",
    "is", "the") are left out unless there is nothing else. No words, no hits."""
    terms = query_terms(text)
    if not terms:
        return []
    terms = [t for t in terms if t not in STOPWORDS] or terms
    hits = _run(session, terms, False, topics, kinds, types, limit)
    if not hits and len(terms) > 1:
        hits = _run(session, terms, True, topics, kinds, types, limit)
    return hits


def _run(session, terms, any_word, topics, kinds, types, limit) -> list[SearchHit]:  # type: ignore[no-untyped-def]
    conn = session.connection()
    where, params, binds = _filters(kinds, types, topics)
    params["limit"] = max(1, int(limit))
    if conn.dialect.name == "sqlite":
        statement = _SQLITE_SEARCH.replace("/*filters*/", where)
        params |= {"query": fts5_query(terms, any_word=any_word), "start": START, "stop": STOP}
    else:
        statement = _PG_SEARCH.replace("/*filters*/", where)
        params |= {"query": tsquery(terms, any_word=any_word), "words": " ".join(terms)}
    rows = conn.execute(sql(statement).bindparams(*binds), params).all()
    if not rows:
        return []
    if conn.dialect.name != "sqlite":
        rows = [(qid, score, *_pg_marks(*texts, stems, terms)) for qid, score, *texts, stems in rows]
    views = {v.id: v for v in list_questions(session=session, ids=[r[0] for r in rows])}
    hits = []
    for qid, score, title, *fragments in rows:
        view = views.get(qid)
        if view is None:  # retired since the index was last brought in line
            continue
        # The first fragment with a match (answer, then explanation), else the start of the answer.
        snippet = next((f for f in fragments if f and START in f), fragments[0] or fragments[1] or "")
        hits.append(
            SearchHit(
                question=view,
                rank=float(score),
                title=_truncate(segments(title or ""), TITLE_CHARS),
                snippet=segments(snippet),
                all_words=not any_word,
            )
        )
    return hits


# ---------------------------------------------------------------- marked text


def segments(marked: str) -> tuple[Segment, ...]:
    """Text with START/STOP markers as (text, is a match) pieces."""
    out: list[Segment] = []
    pos = 0
    for m in re.finditer(f"{START}(.*?){STOP}", marked, flags=re.S):
        if m.start() > pos:
            out.append((marked[pos : m.start()], False))
        if m.group(1):
            out.append((m.group(1), True))
        pos = m.end()
    if pos < len(marked):
        out.append((marked[pos:], False))
    return tuple((t.replace(START, "").replace(STOP, ""), hit) for t, hit in out)


def _truncate(parts: tuple[Segment, ...], limit: int) -> tuple[Segment, ...]:
    out: list[Segment] = []
    left = limit
    for t, hit in parts:
        if len(t) <= left:
            out.append((t, hit))
            left -= len(t)
            continue
        cut = t[:left].rsplit(" ", 1)[0] if " " in t[:left] else t[:left]
        if cut:
            out.append((cut, hit))
        out.append((" …", False))
        break
    return tuple(out)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def to_markdown(parts: Iterable[Segment], *, mark: str = ":orange-background[{}]") -> str:
    """Marked text as inert markdown: every markdown character escaped, matches wrapped in `mark`."""
    out = []
    for t, hit in parts:
        escaped = _MD_SPECIAL.sub(r"\\\1", t.replace("\n", " "))
        out.append(mark.format(escaped) if hit and escaped.strip() else escaped)
    return "".join(out)
