"""Computed answers for numeric questions in questions/fundamentals.yaml, career.yaml,
hardware-frameworks.yaml, data.yaml, neural-networks.yaml and transfer-learning.yaml.

Parameter counts and shapes are measured on real torch layers; memory, FLOP and metric
answers are computed from first principles (FLOPs from the layers' weight shapes).
"""

import itertools
import math

import torch
from torch import nn


def _n_params(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _bytes_per(dtype: torch.dtype) -> int:
    return torch.finfo(dtype).bits // 8


def _linear_macs(layer: nn.Linear, batch: int) -> int:
    """Multiply-accumulates of the weight product: batch x out outputs, each a dot product of length in."""
    out_features, in_features = layer.weight.shape
    return batch * out_features * in_features


# ---- fundamentals -------------------------------------------------------------------------


def _bias_variance_decomposition():
    # Exact expectation over a discrete world: the prediction is f + bias +/- sqrt(var) (equally
    # likely, over training sets), the target is f +/- sqrt(noise) (equally likely, independent).
    f, bias, var, noise = 1.0, 0.3, 0.05, 0.10
    preds = [f + bias + s * math.sqrt(var) for s in (-1, 1)]
    targets = [f + s * math.sqrt(noise) for s in (-1, 1)]
    return sum((p - t) ** 2 for p, t in itertools.product(preds, targets)) / 4


# ---- career -------------------------------------------------------------------------------


def _accuracy_standard_error_pp():
    p, n = 0.9, 2500
    return 100 * math.sqrt(p * (1 - p) / n)


# ---- hardware-frameworks ------------------------------------------------------------------


def _bf16_weights_13b_gb():
    return 13e9 * _bytes_per(torch.bfloat16) / 1e9


def _adam_mixed_precision_1b_gb():
    bf16, fp32 = _bytes_per(torch.bfloat16), _bytes_per(torch.float32)
    per_param = bf16 + bf16 + fp32 + 2 * fp32  # weights, grads, master copy, Adam m and v
    return 1e9 * per_param / 1e9


def _matmul_gflops():
    layer = nn.Linear(4096, 4096, bias=False, device="meta")
    return 2 * _linear_macs(layer, batch=512) / 1e9


def _training_hours():
    n_params, n_tokens, flops_per_s = 1e9, 20e9, 4e14
    return 6 * n_params * n_tokens / flops_per_s / 3600


def _activation_memory_gb():
    t = torch.empty(8, 2048, 4096, dtype=torch.bfloat16, device="meta")
    return 24 * t.numel() * t.element_size() / 1e9


def _effective_batch():
    micro_batch, accumulation_steps, n_gpus = 16, 8, 4
    return micro_batch * accumulation_steps * n_gpus


# ---- data ---------------------------------------------------------------------------------


def _f1_confusion():
    tp, fp, fn = 40, 10, 20
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)


def _roc_auc_pairs():
    pos = torch.tensor([0.9, 0.8, 0.4])
    neg = torch.tensor([0.7, 0.3, 0.2, 0.1])
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()


def _screening_recall():
    return 170 / 200


def _base_rate_precision():
    population, prevalence, sensitivity, specificity = 10_000, 0.01, 0.90, 0.95
    sick = population * prevalence
    tp = sensitivity * sick
    fp = (1 - specificity) * (population - sick)
    return tp / (tp + fp)


# ---- neural-networks ----------------------------------------------------------------------


def _mlp_mnist_params():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return _n_params(model)


def _single_neuron_output():
    lin = nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.5, 0.5, 2.0]]))
        lin.bias.fill_(-1.0)
        return torch.relu(lin(torch.tensor([2.0, -1.0, 0.5]))).item()


def _three_layer_mlp_params():
    model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    return _n_params(model)


def _linear_layer_macs():
    layer = nn.Linear(128, 64, bias=False)
    return _linear_macs(layer, batch=32)


def _two_layer_forward():
    hidden, out = nn.Linear(2, 2), nn.Linear(2, 1)
    with torch.no_grad():
        hidden.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 1.0]]))
        hidden.bias.copy_(torch.tensor([0.0, -1.0]))
        out.weight.copy_(torch.tensor([[2.0, -1.0]]))
        out.bias.fill_(0.5)
        return nn.Sequential(hidden, nn.ReLU(), out)(torch.tensor([1.0, 2.0])).item()


def _wide_minus_deep_params():
    wide = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 10))
    deep = nn.Sequential(
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )
    return _n_params(wide) - _n_params(deep)


# ---- transfer-learning --------------------------------------------------------------------


def _frozen_head_trainable():
    backbone = nn.Sequential(nn.Linear(64, 512), nn.ReLU())  # stand-in backbone with 512-d output
    backbone.requires_grad_(False)
    return _n_params(nn.Sequential(backbone, nn.Linear(512, 10)), trainable_only=True)


def _lora_params():
    d, r = 4096, 8
    base = nn.Linear(d, d, bias=False, device="meta").requires_grad_(False)
    lora_a = nn.Linear(d, r, bias=False, device="meta")  # A: r x d
    lora_b = nn.Linear(r, d, bias=False, device="meta")  # B: d x r
    return _n_params(nn.ModuleList([base, lora_a, lora_b]), trainable_only=True)


def _partial_unfreeze_trainable():
    backbone = nn.Sequential(*[nn.Linear(256, 256) for _ in range(4)])
    for layer in list(backbone)[:3]:
        layer.requires_grad_(False)
    return _n_params(nn.Sequential(backbone, nn.Linear(256, 5)), trainable_only=True)


CHECKS = {
    "fundamentals-bias-variance-decomposition": _bias_variance_decomposition,
    "career-accuracy-standard-error": _accuracy_standard_error_pp,
    "hardware-bf16-weights-memory": _bf16_weights_13b_gb,
    "hardware-adam-mixed-precision-memory": _adam_mixed_precision_1b_gb,
    "hardware-matmul-flop-count": _matmul_gflops,
    "hardware-training-compute-hours": _training_hours,
    "hardware-activation-memory-bf16": _activation_memory_gb,
    "hardware-effective-batch-size": _effective_batch,
    "data-f1-from-confusion-matrix": _f1_confusion,
    "data-roc-auc-from-scores": _roc_auc_pairs,
    "data-screening-recall": _screening_recall,
    "data-base-rate-precision": _base_rate_precision,
    "neural-networks-mlp-parameter-count": _mlp_mnist_params,
    "neural-networks-single-neuron-output": _single_neuron_output,
    "neural-networks-three-layer-mlp-params": _three_layer_mlp_params,
    "neural-networks-linear-layer-macs": _linear_layer_macs,
    "neural-networks-two-layer-forward-pass": _two_layer_forward,
    "neural-networks-wide-vs-deep-param-gap": _wide_minus_deep_params,
    "transfer-learning-frozen-head-trainable-params": _frozen_head_trainable,
    "transfer-learning-lora-parameter-count": _lora_params,
    "transfer-learning-partial-unfreeze-params": _partial_unfreeze_trainable,
}
