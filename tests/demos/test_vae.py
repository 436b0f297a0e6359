"""The VAE demo: claims at the defaults, the loss terms, partial results, knobs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import vae
from demos._nn import cpu_generator
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "vae"


def small(**kw) -> vae.Params:
    return vae.Params(**{**dict(steps=20, n_train=300, hidden=16), **kw})


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert ids == {
        "latent-space-groups-digits",
        "kl-term-pulls-codes-to-prior",
        "kl-term-costs-reconstruction",
        "no-kl-term-collapses-the-noise",
    }
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["beta1_test_kl"] < m["beta0_test_kl"] and m["beta1_test_recon"] > m["beta0_test_recon"]
    json.dumps(m, allow_nan=False)


def test_kl_term_is_zero_at_the_prior():
    model = vae._VAE(1, 2, 8, cpu_generator(0), torch.device("cpu"))
    for layer in (model.e1, model.e2):
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    _, kl = vae._terms(model, torch.rand(5, 64), torch.zeros(1, 5, 2))
    assert kl.abs().max() < 1e-6


def test_only_the_latent_claim_without_a_zero_beta():
    r = vae.run(small(kl_weights=[1.0]), RunContext(device=torch.device("cpu"), seed=0))
    assert [c.id for c in vae.claims(r)] == ["latent-space-groups-digits"]
    assert len(vae.figures(r)) == 4


def test_partials_draw_and_wait_for_claims():
    partials: list = []
    vae.run(
        small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append(p))
    )
    assert len(partials) >= 10 and vae.claims(partials[1]) == [] and vae.figures(partials[1])


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        vae.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad", [{"kl_weights": []}, {"kl_weights": [1.0, 1.0]}, {"kl_weights": [3.0]}, {"latent_dim": 0}]
)
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        vae.Params(**bad)
