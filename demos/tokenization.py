"""Byte-pair encoding trained from scratch on a small text that the code writes.

The text: sentences drawn from a small grammar whose words share stems and endings (train, trains,
trained, training, retrain, ...), word frequencies skewed as in real text. Training starts from the
256 byte values, so any string can be encoded and nothing is ever unknown. Each step counts every
adjacent pair of tokens inside words (a word keeps its leading space, as in GPT-2), merges the
most frequent pair into a new token and rewrites the text. The chart follows vocabulary size
against the length of the training text and of held-out text in tokens.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import plotly.graph_objects as go
from pydantic import Field

from demos.base import Claim, DemoParams, RunContext

STEMS = ["train", "learn", "model", "test", "token", "predict", "sample", "encode", "weight", "layer"]
ENDINGS = ["", "s", "ed", "ing", "er", "ers"]
PREFIXES = ["", "", "", "", "re", "pre", "un"]
FUNCTION_WORDS = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "we", "this", "with"]
ADJECTIVES = ["small", "large", "deep", "fast", "slow", "noisy", "clean", "new", "old", "good"]
UNSEEN = " untokenizable overfitting"  # words the generator never writes


def _word(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return FUNCTION_WORDS[min(int(rng.expovariate(0.35)), len(FUNCTION_WORDS) - 1)]
    if r < 0.6:
        return rng.choice(ADJECTIVES)
    stem = STEMS[min(int(rng.expovariate(0.3)), len(STEMS) - 1)]
    return rng.choice(PREFIXES) + stem + rng.choice(ENDINGS)


def make_text(n_sentences: int, seed: int) -> str:
    rng = random.Random(seed)
    sentences = []
    for _ in range(n_sentences):
        words = [_word(rng) for _ in range(rng.randint(5, 12))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


class Params(DemoParams):
    n_merges: int = Field(
        300, ge=10, le=2000, description="Merges to learn (vocabulary = 256 bytes + merges).", title="Merges"
    )
    n_sentences: int = Field(
        800, ge=50, le=5000, description="Sentences in the training text.", title="Training sentences"
    )


@dataclass
class Result:
    n_merges: int
    train_chars: int
    heldout_chars: int
    steps_total: int
    steps_done: int = 0
    merges: list[tuple[str, str]] = field(default_factory=list)  # in the order learnt
    merge_counts: list[int] = field(default_factory=list)  # how often each merged pair occurred
    vocab_sizes: list[int] = field(default_factory=list)  # after 0, 1, ... merges
    train_tokens: list[int] = field(default_factory=list)  # training text length in tokens, same steps
    heldout_vocab: list[int] = field(default_factory=list)  # vocab sizes where held-out text was encoded
    heldout_tokens: list[int] = field(default_factory=list)
    top_words: list[tuple[str, list[str]]] = field(default_factory=list)  # frequent words and their tokens
    unseen: list[str] = field(default_factory=list)  # the unseen words' tokens
    roundtrip_ok: bool = False
    sample: list[str] = field(default_factory=list)  # a held-out sentence's tokens

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and bool(self.heldout_tokens)


def _words(text: str) -> Counter[tuple[int, ...]]:
    """Pre-tokenise: split before each space (a word keeps its leading space), then bytes."""
    parts = text.replace(" ", "\0 ").split("\0")
    return Counter(tuple(p.encode()) for p in parts if p)


def _merge_word(word: tuple[int, ...], pair: tuple[int, int], new: int) -> tuple[int, ...]:
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def encode(text: str, ranks: dict[tuple[int, int], int]) -> list[int]:
    """Apply the learnt merges in the order they were learnt (lowest rank first), word by word."""
    out: list[int] = []
    for word in (tuple(p.encode()) for p in text.replace(" ", "\0 ").split("\0") if p):
        while len(word) > 1:
            pairs = [(ranks.get(p, 1 << 30), p) for p in zip(word, word[1:], strict=False)]
            rank, pair = min(pairs)
            if rank == 1 << 30:
                break
            word = _merge_word(word, pair, 256 + rank)
        out.extend(word)
    return out


def decode(ids: list[int], vocab: dict[int, bytes]) -> str:
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


def _show(b: bytes) -> str:
    return b.decode("utf-8", errors="replace").replace(" ", "\u2423")  # a visible space


def _snapshot(r: Result) -> Result:
    return Result(
        r.n_merges,
        r.train_chars,
        r.heldout_chars,
        r.steps_total,
        r.steps_done,
        list(r.merges),
        list(r.merge_counts),
        list(r.vocab_sizes),
        list(r.train_tokens),
        list(r.heldout_vocab),
        list(r.heldout_tokens),
    )


def run(params: Params, ctx: RunContext) -> Result:
    text = make_text(params.n_sentences, ctx.seed)
    heldout = make_text(max(20, params.n_sentences // 5), ctx.seed + 10_000) + UNSEEN
    words = _words(text)
    vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
    ranks: dict[tuple[int, int], int] = {}
    res = Result(params.n_merges, len(text.encode()), len(heldout.encode()), params.n_merges)
    length = sum(len(w) * c for w, c in words.items())
    res.vocab_sizes.append(256)
    res.train_tokens.append(length)

    def encode_heldout() -> None:
        res.heldout_vocab.append(len(vocab))
        res.heldout_tokens.append(len(encode(heldout, ranks)))

    encode_heldout()
    ctx.progress(0.0, _snapshot(res))
    every = max(1, params.n_merges // 20)
    for m in range(params.n_merges):
        ctx.check()
        pairs: Counter[tuple[int, int]] = Counter()
        for w, c in words.items():
            for p in zip(w, w[1:], strict=False):
                pairs[p] += c
        if not pairs:
            break
        # Most frequent first; ties broken by the pair's bytes so runs are reproducible.
        pair, count = max(pairs.items(), key=lambda kv: (kv[1], vocab[kv[0][0]] + vocab[kv[0][1]]))
        if count < 2:
            break
        new = 256 + m
        ranks[pair] = m
        vocab[new] = vocab[pair[0]] + vocab[pair[1]]
        words = Counter({_merge_word(w, pair, new) if pair[0] in w else w: c for w, c in words.items()})
        length -= count
        res.merges.append((_show(vocab[pair[0]]), _show(vocab[pair[1]])))
        res.merge_counts.append(count)
        res.vocab_sizes.append(len(vocab))
        res.train_tokens.append(length)
        res.steps_done = m + 1
        if (m + 1) % every == 0:
            encode_heldout()
            ctx.progress((m + 1) / params.n_merges, _snapshot(res))
    res.steps_done = params.n_merges  # done, also when the text ran out of pairs to merge
    if res.heldout_vocab[-1] != len(vocab):
        encode_heldout()

    freq = Counter(text.lower().replace(".", "").split())
    for w, _ in freq.most_common(10):
        res.top_words.append((w, [_show(vocab[i]) for i in encode(" " + w, ranks)]))
    res.unseen = [_show(vocab[i]) for i in encode(UNSEEN, ranks)]
    res.roundtrip_ok = decode(encode(heldout, ranks), vocab) == heldout
    first = heldout.split(".")[0] + "."
    res.sample = [_show(vocab[i]) for i in encode(first, ranks)]
    ctx.progress(1.0, res)
    return res


# ------------------------------------------------------------------------------------------ reading


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {
        "merges": len(r.merges),
        "vocab_size": r.vocab_sizes[-1] if r.vocab_sizes else 256,
        "train_bytes": r.train_chars,
        "heldout_bytes": r.heldout_chars,
    }
    if r.train_tokens:
        out["train_tokens"] = r.train_tokens[-1]
        out["train_bytes_per_token"] = round(r.train_chars / r.train_tokens[-1], 3)
    if r.heldout_tokens:
        out["heldout_tokens"] = r.heldout_tokens[-1]
        out["heldout_bytes_per_token"] = round(r.heldout_chars / r.heldout_tokens[-1], 3)
    if r.unseen:
        out["unseen_words_tokens"] = len(r.unseen)
    return out


CLAIMS = {
    "every-merge-shortens-the-text": "Every merge shortens the training text.",
    "merges-have-diminishing-returns": "Returns diminish: later merges save fewer tokens than the first ones.",
    "frequent-words-become-single-tokens": "The most frequent words end up as single tokens.",
    "unseen-words-split-into-known-pieces": "Words never seen in training still encode as known pieces and decode exactly.",
    "larger-vocabulary-shorter-sequences": "A larger vocabulary means shorter sequences.",
}


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done or len(r.merges) < 10:
        return []
    saved = [a - b for a, b in zip(r.train_tokens, r.train_tokens[1:], strict=False)]
    n = len(saved)
    first, last_half = sum(saved[: max(1, n // 10)]), sum(saved[n // 2 :])
    whole = [w for w, toks in r.top_words if len(toks) == 1]
    ratio = r.heldout_tokens[-1] / r.heldout_tokens[0]
    return [
        Claim(
            "every-merge-shortens-the-text",
            f"Every one of the {n} merges shortened the training text (from {r.train_tokens[0]} byte tokens "
            f"to {r.train_tokens[-1]} tokens), because a merged pair occurs at least twice.",
            all(s >= 2 for s in saved),
        ),
        Claim(
            "merges-have-diminishing-returns",
            f"Returns diminish: the first tenth of the merges saved {first} tokens, the last half only "
            f"{sum(saved[n // 2 :])}, since later merges join rarer pairs.",
            first > last_half,
        ),
        Claim(
            "frequent-words-become-single-tokens",
            f"The most frequent words end up as single tokens ({len(whole)} of the top {len(r.top_words)}: "
            f"{', '.join(whole[:6])}).",
            len(whole) >= 8,
        ),
        Claim(
            "unseen-words-split-into-known-pieces",
            f"Words never seen in training still encode, as known pieces ({' | '.join(r.unseen)}), and "
            f"decoding gives back the held-out text exactly: byte-level BPE has no unknown token.",
            r.roundtrip_ok and len(r.unseen) >= 4,
        ),
        Claim(
            "larger-vocabulary-shorter-sequences",
            f"A larger vocabulary means shorter sequences: with {r.vocab_sizes[-1]} tokens the held-out text "
            f"takes {ratio:.0%} as many tokens as with the 256 bytes alone.",
            ratio < 0.5,
        ),
    ]


# ------------------------------------------------------------------------------------------ figures


def figures(result: Result) -> list[go.Figure]:
    r = result
    f_len = go.Figure()
    if r.train_tokens:
        f_len.add_trace(
            go.Scatter(
                x=r.vocab_sizes,
                y=[100 * t / r.train_chars for t in r.train_tokens],
                name="training text",
            )
        )
    if r.heldout_tokens:
        f_len.add_trace(
            go.Scatter(
                x=r.heldout_vocab,
                y=[100 * t / r.heldout_chars for t in r.heldout_tokens],
                name="held-out text",
                mode="lines+markers",
            )
        )
    f_len.update_layout(
        title="Vocabulary size against sequence length",
        xaxis_title="vocabulary size (256 bytes + merges)",
        yaxis_title="tokens per 100 bytes of text",
    )
    k = min(25, len(r.merges))
    f_merges = go.Figure(
        go.Table(
            header={"values": ["#", "left", "right", "new token", "pair count"]},
            cells={
                "values": [
                    list(range(1, k + 1)),
                    [a for a, _ in r.merges[:k]],
                    [b for _, b in r.merges[:k]],
                    [a + b for a, b in r.merges[:k]],
                    r.merge_counts[:k],
                ]
            },
        )
    )
    f_merges.update_layout(title=f"The first {k} merges (\u2423 is a space)")
    if not r.done:
        return [f_len, f_merges]
    rows = [(w, " | ".join(t)) for w, t in r.top_words]
    rows += [("(unseen)" + UNSEEN, " | ".join(r.unseen)), ("held-out sentence", " | ".join(r.sample))]
    f_tok = go.Figure(
        go.Table(
            header={"values": ["text", "tokens"]},
            cells={"values": [[a for a, _ in rows], [b for _, b in rows]], "align": "left"},
            columnwidth=[1, 3],
        )
    )
    f_tok.update_layout(title="How the final vocabulary splits words")
    return [f_len, f_merges, f_tok]
