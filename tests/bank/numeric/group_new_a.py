"""Computed answers for numeric questions in the 2026 topic files: quantization, distributed-training,
alignment, decoding-serving, evaluation, diffusion, moe-scaling and peft.

Quantization answers go through torch's own quantizers and observers; the rest are computed from the
formulas the explanations teach, with the inputs written out as in the prompts.
"""

import torch

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


CHECKS = {
    "quant-int8-scale-zero-point": _quant_zero_point,
    "quant-symmetric-int8-roundtrip": _quant_symmetric_roundtrip,
    "quant-int4-group-memory": _quant_int4_group_gb,
}
