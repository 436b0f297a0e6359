"""Computed answers for numeric questions in the 2026 topic files: quantization, distributed-training,
alignment, decoding-serving, evaluation, diffusion, moe-scaling and peft.

Quantization answers go through torch's own quantizers and observers; the rest are computed from the
formulas the explanations teach, with the inputs written out as in the prompts.
"""

import math
from collections import Counter

import torch
from torch import nn

# ---- quantization -------------------------------------------------------------------------


def _quant_zero_point():
    observer = torch.ao.quantization.MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    observer(torch.tensor([-1.0, 0.5, 3.0]))
    _, zero_point = observer.calculate_qparams()
    return int(zero_point)


def _quant_symmetric_roundtrip():
    scale = 2.54 / 127
    x = torch.tensor([0.537], dtype=torch.float64)
    return torch.fake_quantize_per_tensor_affine(x, scale, 0, -128, 127).item()


def _quant_int4_group_gb():
    n, bits, group, scale_bits = 7e9, 4, 128, 16
    return n * (bits + scale_bits / group) / 8 / 1e9


# ---- distributed-training -----------------------------------------------------------------

_BF16 = torch.finfo(torch.bfloat16).bits // 8
_FP32 = torch.finfo(torch.float32).bits // 8


def _ring_allreduce_sent_gb():
    n_gpus, grad_bytes = 8, 1e9 * _BF16
    reduce_scatter = all_gather = (n_gpus - 1) * grad_bytes / n_gpus
    return (reduce_scatter + all_gather) / 1e9


def _adam_state_bytes(n_params):
    """Weights and grads in bf16, optimizer state (fp32 master, m, v) in fp32."""
    return n_params * (_BF16 + _BF16), n_params * 3 * _FP32


def _zero3_gb():
    replicated, optimizer = _adam_state_bytes(7e9)
    return (replicated + optimizer) / 8 / 1e9


def _zero1_gb():
    replicated, optimizer = _adam_state_bytes(7e9)
    return (replicated + optimizer / 8) / 1e9


def _pipeline_bubble():
    stages, micro = 4, 12
    slots = micro + stages - 1  # time slots of one pass; each stage is busy for `micro` of them
    return (slots - micro) / slots


# ---- alignment ----------------------------------------------------------------------------


def _pairwise_logistic_loss(margin: float) -> float:
    """-log sigmoid(margin), the Bradley-Terry loss shared by reward models and DPO."""
    return torch.nn.functional.softplus(torch.tensor(-margin, dtype=torch.float64)).item()


def _reward_model_loss():
    return _pairwise_logistic_loss(1.5 - 0.3)


def _kl_penalized_reward():
    reward, beta, log_ratio = 2.0, 0.05, 12.0
    return reward - beta * log_ratio


def _dpo_loss():
    beta, chosen_ratio, rejected_ratio = 0.1, 2.0, -1.0
    return _pairwise_logistic_loss(beta * (chosen_ratio - rejected_ratio))


# ---- decoding-serving ---------------------------------------------------------------------


def _top_p_renormalised():
    probs, p = torch.tensor([0.45, 0.25, 0.15, 0.08, 0.04, 0.03], dtype=torch.float64), 0.8
    cumulative = probs.cumsum(0)
    keep = int((cumulative < p).sum()) + 1  # the smallest prefix whose mass reaches p
    nucleus = probs[:keep]
    return (nucleus / nucleus.sum())[0].item()


def _temperature_top_prob():
    logits = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    return torch.softmax(logits / 0.5, dim=0)[0].item()


def _speculative_tokens_per_pass():
    alpha, proposals = 0.8, 4
    # P(exactly i accepted) gives i + 1 tokens (the correction or the bonus token).
    p_exact = [alpha**i * (1 - alpha) for i in range(proposals)] + [alpha**proposals]
    return sum((i + 1) * p for i, p in enumerate(p_exact))


def _kv_cache_sequences():
    layers, kv_heads, head_dim, seq_len = 40, 8, 128, 4096
    fp16 = torch.finfo(torch.float16).bits // 8
    per_sequence = 2 * layers * kv_heads * head_dim * fp16 * seq_len
    return (40 * 2**30) // per_sequence


# ---- evaluation ---------------------------------------------------------------------------


def _perplexity_from_probs():
    probs = torch.tensor([0.5, 0.25, 0.125, 0.5], dtype=torch.float64)
    return torch.exp(-probs.log().mean()).item()


def _pass_at_k():
    n, c, k = 10, 3, 5
    return 1 - math.comb(n - c, k) / math.comb(n, k)


def _clipped_unigram_precision():
    candidate, reference = ["the", "the", "the", "cat"], ["the", "cat", "sat", "on", "the", "mat"]
    ref_counts = Counter(reference)
    matches = sum(min(n, ref_counts[w]) for w, n in Counter(candidate).items())
    return matches / len(candidate)


# ---- diffusion ----------------------------------------------------------------------------


def _forward_noised():
    x0, eps, alpha_bar = 0.8, -0.5, 0.64
    return math.sqrt(alpha_bar) * x0 + math.sqrt(1 - alpha_bar) * eps


def _x0_from_eps():
    xt, eps_hat, alpha_bar = 0.5, 0.25, 0.36
    return (xt - math.sqrt(1 - alpha_bar) * eps_hat) / math.sqrt(alpha_bar)


def _cfg_combined():
    eps_uncond, eps_cond, w = 0.2, 0.5, 7.5
    return eps_uncond + w * (eps_cond - eps_uncond)


def _latent_compression():
    image = torch.empty(3, 512, 512, device="meta")
    latent = torch.empty(4, 64, 64, device="meta")
    return image.numel() / latent.numel()


# ---- moe-scaling --------------------------------------------------------------------------


def _moe_active_billions():
    total, shared, experts, top_k = 47.0, 1.6, 8, 2
    return shared + (total - shared) * top_k / experts


def _load_balance_loss():
    f = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64)
    p = torch.tensor([0.35, 0.3, 0.2, 0.15], dtype=torch.float64)
    return (len(f) * (f * p).sum()).item()


def _compute_optimal_tokens_billions():
    return 7 * 20


def _compute_optimal_params_billions():
    flops, tokens_per_param = 1.2e23, 20
    return math.sqrt(flops / (6 * tokens_per_param)) / 1e9


# ---- peft ---------------------------------------------------------------------------------


def _lora_qv_params():
    rank, width, layers = 16, 4096, 32
    per_matrix = sum(
        p.numel()
        for p in (
            nn.Linear(width, rank, bias=False, device="meta").weight,  # A
            nn.Linear(rank, width, bias=False, device="meta").weight,  # B
        )
    )
    return per_matrix * 2 * layers  # query and value in every layer


def _lora_scale():
    alpha, rank = 16, 64
    return alpha / rank


def _qlora_base_gb():
    n, bits, block, scale_bits = 65e9, 4, 64, 32
    return n * (bits + scale_bits / block) / 8 / 1e9


CHECKS = {
    "quant-int8-scale-zero-point": _quant_zero_point,
    "quant-symmetric-int8-roundtrip": _quant_symmetric_roundtrip,
    "quant-int4-group-memory": _quant_int4_group_gb,
    "dist-ring-allreduce-traffic": _ring_allreduce_sent_gb,
    "dist-zero3-memory-per-gpu": _zero3_gb,
    "dist-zero1-memory-per-gpu": _zero1_gb,
    "dist-pipeline-bubble-fraction": _pipeline_bubble,
    "align-reward-model-loss": _reward_model_loss,
    "align-kl-penalized-reward": _kl_penalized_reward,
    "align-dpo-loss-value": _dpo_loss,
    "decode-top-p-renormalised": _top_p_renormalised,
    "decode-temperature-top-prob": _temperature_top_prob,
    "decode-speculative-expected-tokens": _speculative_tokens_per_pass,
    "decode-kv-cache-capacity": _kv_cache_sequences,
    "eval-perplexity-from-token-probs": _perplexity_from_probs,
    "eval-pass-at-k": _pass_at_k,
    "eval-bleu-clipped-precision": _clipped_unigram_precision,
    "diffusion-forward-noised-value": _forward_noised,
    "diffusion-x0-from-predicted-noise": _x0_from_eps,
    "diffusion-cfg-combined-prediction": _cfg_combined,
    "diffusion-latent-compression": _latent_compression,
    "moe-active-parameters": _moe_active_billions,
    "moe-load-balance-loss-value": _load_balance_loss,
    "moe-compute-optimal-tokens": _compute_optimal_tokens_billions,
    "moe-compute-optimal-size": _compute_optimal_params_billions,
    "peft-lora-qv-parameter-count": _lora_qv_params,
    "peft-lora-scaling-factor": _lora_scale,
    "peft-qlora-base-memory": _qlora_base_gb,
}
