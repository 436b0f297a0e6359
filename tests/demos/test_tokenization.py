"""The tokenization demo: claims at the defaults, encode/decode round trips, merges in order, knobs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import tokenization as tk
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "tokenization"


def run(**kw) -> tk.Result:
    return tk.run(tk.Params(**kw), RunContext(device=torch.device("cpu"), seed=0))


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    assert len(out.claims) == 5
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["vocab_size"] == 256 + 300 and m["heldout_bytes_per_token"] > 2
    json.dumps(m, allow_nan=False)


def test_text_is_reproducible_and_seeded():
    assert tk.make_text(20, 1) == tk.make_text(20, 1) != tk.make_text(20, 2)


def test_encode_applies_merges_in_order_and_round_trips():
    ranks = {(ord("a"), ord("b")): 0, (256, ord("c")): 1}
    vocab = {i: bytes([i]) for i in range(256)} | {256: b"ab", 257: b"abc"}
    ids = tk.encode("abc abx é", ranks)
    assert ids[0] == 257 and 256 in ids
    assert tk.decode(ids, vocab) == "abc abx é"


def test_training_length_counts_match_a_fresh_encoding():
    r = run(n_merges=40, n_sentences=60)
    assert r.train_tokens == sorted(r.train_tokens, reverse=True)
    assert len(r.merges) == 40 and r.vocab_sizes[-1] == 296


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        tk.run(tk.Params(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize("bad", [{"n_merges": 5}, {"n_merges": 5000}, {"n_sentences": 10}])
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        tk.Params(**bad)
