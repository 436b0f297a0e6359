"""demos.registry: lookup, knob introspection, validation from typed values and strings, describe."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Literal

import pytest
from pydantic import Field, field_validator

from demos import registry
from demos.base import DemoParams
from demos.catalogue import CATALOGUE


class P(DemoParams):
    acts: list[Literal["sigmoid", "tanh", "relu"]] = Field(["sigmoid", "relu"], min_length=1, description="a")
    rates: list[Literal[0.0, 0.25, 0.5]] = Field([0.0, 0.5], min_length=1, description="r")
    depth: int = Field(20, ge=2, le=60, description="d")
    lr: float = Field(0.1, gt=0, le=1.0, description="l")
    init: Literal["default", "xavier", "he"] = Field("he", description="i")
    bn: bool = Field(False, description="b")

    @field_validator("depth")
    @classmethod
    def _not_13(cls, v: int) -> int:
        if v == 13:
            raise ValueError("unlucky")
        return v


def parse(values):
    return registry.validate_into(P, values)


def knob_error(values) -> registry.KnobError:
    with pytest.raises(registry.KnobError) as e:
        parse(values)
    return e.value


# ------------------------------------------------------------------------------------------- lookup


def test_unknown_slug():
    with pytest.raises(registry.UnknownDemo) as e:
        registry.load("no-such-demo")
    assert isinstance(e.value, KeyError) and isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "no-such-demo" in msg and "vanishing-gradients" in msg and "dropout" in msg
    assert not registry.available("no-such-demo")
    with pytest.raises(registry.UnknownDemo):
        registry.describe("no-such-demo")


def test_available_and_load():
    assert registry.available("vanishing-gradients") and registry.available("dropout")
    m = registry.load("dropout")
    assert m.__name__ == "demos.dropout" and hasattr(m, "Params")


def test_catalogued_but_unwritten(monkeypatch):
    monkeypatch.setattr(registry, "available", lambda slug: False)
    with pytest.raises(registry.DemoUnavailable, match="does not exist yet"):
        registry.load("dropout")
    d = registry.describe("dropout")
    assert d["available"] is False and d["knobs"] == []


def test_available_does_not_import_torch():
    code = (
        "import sys; from demos import registry as r; "
        "ok = r.available('vanishing-gradients') and r.available('dropout'); "
        "assert ok and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:3]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=registry.__file__.rsplit("/demos/", 1)[0])


# -------------------------------------------------------------------------------------------- knobs


def test_knob_introspection():
    ks = {k.name: k for k in registry.knobs_of(P)}
    assert ks["acts"].kind == "multi" and ks["acts"].options == ("sigmoid", "tanh", "relu")
    assert ks["acts"].default == ["sigmoid", "relu"] and ks["acts"].min_items == 1
    assert ks["rates"].kind == "multi" and ks["rates"].options == (0.0, 0.25, 0.5)
    assert (ks["depth"].kind, ks["depth"].min, ks["depth"].max, ks["depth"].default) == ("int", 2, 60, 20)
    assert (ks["lr"].kind, ks["lr"].min, ks["lr"].max) == ("float", 0, 1.0) and ks["lr"].min_exclusive
    assert ks["init"].kind == "choice" and ks["init"].options == ("default", "xavier", "he")
    assert ks["bn"].kind == "bool" and ks["bn"].min is None and ks["bn"].options == ()
    assert ks["depth"].description == "d"


def test_real_demo_knobs():
    names = [k.name for k in registry.knobs("vanishing-gradients")]
    assert names == [
        "activations",
        "depth",
        "width",
        "init",
        "batchnorm",
        "residual",
        "lr",
        "steps",
        "n_samples",
    ]
    d = {k.name: k for k in registry.knobs("dropout")}
    assert {"rates", "n_train", "label_noise", "width", "steps"} <= set(d)
    assert d["rates"].kind == "multi" and 0.5 in d["rates"].options


# ---------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("values", "knob", "fragment"),
    [
        ({"depth": 500}, "depth", "must be between 2 and 60 (got 500)"),
        ({"depth": "500"}, "depth", "between 2 and 60"),
        ({"depth": 1}, "depth", "between 2 and 60"),
        ({"depth": "nan"}, "depth", "between 2 and 60"),
        ({"depth": 3.5}, "depth", "whole number"),
        ({"depth": True}, "depth", "whole number"),
        ({"depth": "ten"}, "depth", "between 2 and 60"),
        ({"depth": [3]}, "depth", "between 2 and 60"),
        ({"lr": float("nan")}, "lr", "> 0 and <= 1.0"),
        ({"lr": "nan"}, "lr", "NaN"),
        ({"lr": "inf"}, "lr", "> 0 and <= 1.0"),
        ({"lr": float("-inf")}, "lr", "finite"),
        ({"lr": 0}, "lr", "must be > 0 and <= 1.0 (got 0.0)"),
        ({"lr": "fast"}, "lr", "> 0 and <= 1.0"),
        ({"init": "kaiming"}, "init", "one of default, xavier, he"),
        ({"bn": "maybe"}, "bn", "true or false"),
        ({"bn": 2}, "bn", "true or false"),
        ({"acts": "sigmoid,swish"}, "acts", "one of sigmoid, tanh, relu"),
        ({"acts": ["relu", 3]}, "acts", "one of sigmoid, tanh, relu"),
        ({"acts": "relu,relu"}, "acts", "at most once"),
        ({"acts": ""}, "acts", "at least 1"),
        ({"acts": []}, "acts", "at least 1"),
        ({"rates": "0,0.3"}, "rates", "one of 0.0, 0.25, 0.5"),
        ({"rates": [0.5, "0.5"]}, "rates", "at most once"),
        ({"depth": 13}, "depth", "unlucky (must be between 2 and 60)"),  # a model validator's own message
    ],
)
def test_refusals_name_knob_and_bounds(values, knob, fragment):
    e = knob_error(values)
    assert e.knob == knob
    assert str(e).startswith(f"{knob}: ")
    assert fragment in str(e)


def test_unknown_knob_lists_known_ones():
    e = knob_error({"dropout": 0.5})
    assert (
        e.knob == "dropout" and str(e) == f"dropout: unknown knob; known knobs: {', '.join(P.model_fields)}"
    )


def test_all_problems_collected():
    e = knob_error({"depth": 500, "lr": "x", "zzz": 1})
    assert e.knob == "depth" and [k for k, _ in e.problems] == ["depth", "lr", "zzz"]
    assert "depth: must be between 2 and 60 (got 500); lr: " in str(e)


def test_no_pydantic_error_escapes_real_demo():
    for slug in ("vanishing-gradients", "dropout"):
        for bad in ({"steps": -1}, {"steps": "1e9"}, {"width": None}, {"nonsense": "1"}):
            with pytest.raises(registry.KnobError):
                registry.parse_params(slug, bad)


# ------------------------------------------------------------------------------------------- coercion


def test_string_coercion_from_url_or_cli():
    p = parse(
        {
            "depth": " 30 ",
            "lr": "1e-3",
            "acts": "tanh, relu",
            "rates": "0,0.25",
            "bn": "yes",
            "init": "XAVIER",
        }
    )
    assert p == P(depth=30, lr=0.001, acts=["tanh", "relu"], rates=[0.0, 0.25], bn=True, init="xavier")
    assert parse({"depth": "40.0"}).depth == 40
    for text, value in [
        ("true", True),
        ("1", True),
        ("YES", True),
        ("false", False),
        ("0", False),
        ("no", False),
    ]:
        assert parse({"bn": text}).bn is value


def test_typed_values_pass_through():
    p = parse({"depth": 30, "lr": 1, "acts": ("relu",), "rates": [0.25], "bn": 1, "init": "default"})
    assert p.depth == 30 and p.lr == 1.0 and isinstance(p.lr, float) and p.acts == ["relu"] and p.bn is True


def test_defaults_validate():
    assert parse({}) == P() and parse(None) == P()


def test_params_to_strings_round_trips():
    assert registry.params_to_strings(P()) == {}
    p = P(depth=30, lr=0.0005, acts=["tanh", "relu"], rates=[0.25], bn=True, init="xavier")
    s = registry.params_to_strings(p)
    assert s == {
        "acts": "tanh,relu",
        "rates": "0.25",
        "depth": "30",
        "lr": "0.0005",
        "init": "xavier",
        "bn": "true",
    }
    assert all(isinstance(v, str) for v in s.values())
    assert parse(s) == p
    assert registry.params_to_strings(P(lr=0.1, bn=False)) == {}


def test_real_demo_round_trip():
    p = registry.parse_params(
        "vanishing-gradients", {"activations": "tanh,gelu", "depth": "12", "residual": "1"}
    )
    assert registry.params_to_strings(p) == {"activations": "tanh,gelu", "depth": "12", "residual": "true"}
    assert registry.parse_params("vanishing-gradients", registry.params_to_strings(p)) == p
    q = registry.parse_params("dropout", {"rates": "0,0.2,0.5"})
    assert q.rates == [0.0, 0.2, 0.5] and registry.params_to_strings(q) == {"rates": "0.0,0.2,0.5"}


# ------------------------------------------------------------------------------------------- describe


def test_describe_shape():
    d = registry.describe("vanishing-gradients")
    assert set(d) == {"slug", "title", "summary", "topics", "available", "knobs"}
    assert d["available"] is True and d["title"] == CATALOGUE["vanishing-gradients"].title
    k = {x["name"]: x for x in d["knobs"]}
    assert set(k["depth"]) == {"name", "kind", "default", "min", "max", "options", "description", "label"}
    assert k["width"]["label"] == "Hidden width (units)" and k["steps"]["label"] == "Steps"
    assert k["activations"]["options"] == ["sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
    assert k["activations"]["default"] == ["sigmoid", "relu"]
    json.dumps(d, allow_nan=False)


def test_describe_all_lists_every_catalogued_demo(monkeypatch):
    everything = registry.describe_all()
    assert [d["slug"] for d in everything] == list(CATALOGUE)
    json.dumps(everything, allow_nan=False)
    for d in everything:
        assert d["available"] == registry.available(d["slug"]) or "error" in d
        if not d["available"]:
            assert d["knobs"] == []


def test_describe_all_survives_a_broken_module(monkeypatch):
    real = registry.load

    def load(slug):
        if slug == "dropout":
            raise SyntaxError("half-written")
        return real(slug)

    monkeypatch.setattr(registry, "load", load)
    d = {x["slug"]: x for x in registry.describe_all()}["dropout"]
    assert d["available"] is False and d["knobs"] == [] and "half-written" in d["error"]


def test_a_list_of_numbers_may_repeat_a_value_but_named_variants_may_not():
    p = registry.parse_params("softmax", {"logits": "1,1,2"})
    assert list(p.logits) == [1.0, 1.0, 2.0]
    with pytest.raises(registry.KnobError, match="appears twice"):
        registry.parse_params("vanishing-gradients", {"activations": "relu,relu"})
