"""Computed answers for numeric questions in questions/activation-functions.yaml, backpropagation.yaml,
optimization.yaml, regularization.yaml, initialization-normalization.yaml and loss-functions.yaml."""

import math

import torch
import torch._dynamo  # noqa: F401  (torch.optim imports it lazily on first use, ~5 s; pay that once at import)
from torch import nn
from torch.nn import functional as F

# ---------------------------------------------------------------- activation-functions


def _sigmoid_max_derivative() -> float:
    z = torch.linspace(-10, 10, 20001, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(z).sum().backward()
    return z.grad.max().item()


# ---------------------------------------------------------------- backpropagation


def _sigmoid_gradient_bound_depth() -> float:
    # peak derivative of sigmoid (at z = 0) measured with autograd, multiplied over 10 layers
    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(z).sum().backward()
    return z.grad.item() ** 10


# ---------------------------------------------------------------- optimization


def _momentum_two_steps() -> float:
    w = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
    return w.item()


def _adam_first_step() -> float:
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    opt.zero_grad()
    (50.0 * w).sum().backward()
    opt.step()
    return w.item()


# ---------------------------------------------------------------- regularization


def _dropout_inverted_scale() -> float:
    torch.manual_seed(0)
    drop = nn.Dropout(p=0.2).train()
    out = drop(torch.ones(10_000))
    return out[out != 0].unique().item()


_D = torch.float64


def _tanh_derivative_at_one() -> float:
    z = torch.tensor(1.0, dtype=_D, requires_grad=True)
    torch.tanh(z).backward()
    return z.grad.item()


def _silu_derivative_at_one() -> float:
    z = torch.tensor(1.0, dtype=_D, requires_grad=True)
    F.silu(z).backward()
    return z.grad.item()


def _softmax_probability() -> float:
    return torch.softmax(torch.tensor([2.0, 1.0, 0.0], dtype=_D), dim=0)[0].item()


def _tiny_relu_network_gradient() -> float:
    x, t = torch.tensor(2.0, dtype=_D), torch.tensor(1.0, dtype=_D)
    w1 = torch.tensor(0.5, dtype=_D, requires_grad=True)
    w2 = torch.tensor(-3.0, dtype=_D, requires_grad=True)
    loss = (w2 * torch.relu(w1 * x) - t) ** 2
    loss.backward()
    return w1.grad.item()


def _logistic_neuron_gradient() -> float:
    x = torch.tensor([1.0, 2.0], dtype=_D)
    w = torch.tensor([0.5, -0.25], dtype=_D, requires_grad=True)
    b = torch.tensor(0.1, dtype=_D, requires_grad=True)
    p = torch.sigmoid((w * x).sum() + b)
    loss = -torch.log(p)  # label y = 1
    loss.backward()
    return w.grad[1].item()


def _clip_grad_norm_result() -> float:
    p = nn.Parameter(torch.zeros(2, dtype=_D))
    p.grad = torch.tensor([3.0, 4.0], dtype=_D)
    torch.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    return p.grad[0].item()


def _steps_per_epoch() -> int:
    data = torch.utils.data.TensorDataset(torch.zeros(50_000, 1))
    return len(torch.utils.data.DataLoader(data, batch_size=128, drop_last=False))


def _rmsprop_first_step() -> float:
    w = torch.tensor([1.0], dtype=_D, requires_grad=True)
    opt = torch.optim.RMSprop([w], lr=0.01, alpha=0.99, eps=1e-8)
    (2.0 * w).sum().backward()
    opt.step()
    return w.item()


def _cosine_schedule_value() -> float:
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100, eta_min=0.0)
    for _ in range(25):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]


def _adamw_decoupled_decay_step() -> float:
    w = torch.tensor([1.0], dtype=_D, requires_grad=True)
    opt = torch.optim.AdamW([w], lr=0.01, weight_decay=0.1)
    (0.0 * w).sum().backward()  # zero data gradient
    opt.step()
    return w.item()


def _weight_decay_sgd_step() -> float:
    w = torch.tensor([2.0], dtype=_D, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1, weight_decay=0.01)
    (0.0 * w).sum().backward()  # zero data gradient
    opt.step()
    return w.item()


def _label_smoothing_target() -> float:
    # gradient of CE w.r.t. logits is softmax - target; with zero logits softmax is uniform (1/5)
    logits = torch.zeros(1, 5, dtype=_D, requires_grad=True)
    F.cross_entropy(logits, torch.tensor([0]), label_smoothing=0.1).backward()
    return 1 / 5 - logits.grad[0, 0].item()


def _he_normal_std() -> float:
    torch.manual_seed(0)
    w = torch.empty(2048, 512)
    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")
    return w.std().item()


def _xavier_uniform_bound() -> float:
    w = torch.empty(100, 300)  # (fan_out, fan_in)
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    torch.manual_seed(0)
    nn.init.xavier_uniform_(w)
    assert w.abs().max().item() <= bound
    return bound


def _batchnorm2d_parameter_count() -> int:
    return sum(p.numel() for p in nn.BatchNorm2d(64).parameters())


def _batchnorm_running_var() -> float:
    bn = nn.BatchNorm1d(1).train()
    batch = torch.tensor([[4.0], [6.0]])
    for _ in range(2):
        bn(batch)
    return bn.running_var.item()


def _batchnorm_eval_output() -> float:
    bn = nn.BatchNorm1d(1).eval()
    with torch.no_grad():
        bn.running_mean.fill_(2.0)
        bn.running_var.fill_(4.0)
        bn.weight.fill_(3.0)
        bn.bias.fill_(1.0)
        return bn(torch.tensor([[6.0]])).item()


def _cross_entropy_of_logits() -> float:
    return F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]], dtype=_D), torch.tensor([0])).item()


def _bce_with_logits_value() -> float:
    return nn.BCEWithLogitsLoss()(torch.tensor([2.0], dtype=_D), torch.tensor([0.0], dtype=_D)).item()


def _uniform_prediction_baseline() -> float:
    return F.cross_entropy(torch.zeros(1, 10, dtype=_D), torch.tensor([3])).item()


def _focal_loss_value() -> float:
    # a logit whose sigmoid is exactly p_t = 0.9, then focal loss with gamma = 2
    p_t = torch.sigmoid(torch.logit(torch.tensor(0.9, dtype=_D)))
    return (-((1 - p_t) ** 2) * torch.log(p_t)).item()


def _multiclass_hinge_value() -> float:
    scores = torch.tensor([[0.2, 1.5, 0.9]], dtype=_D)
    # nn.MultiMarginLoss averages the sum over wrong classes by the number of classes
    return (nn.MultiMarginLoss(margin=1.0)(scores, torch.tensor([2])) * scores.shape[1]).item()


def _kl_divergence_value() -> float:
    p = torch.tensor([0.5, 0.5], dtype=_D)
    q = torch.tensor([0.9, 0.1], dtype=_D)
    return F.kl_div(q.log(), p, reduction="sum").item()


CHECKS = {
    "activation-sigmoid-max-derivative": _sigmoid_max_derivative,
    "backprop-sigmoid-gradient-bound-depth": _sigmoid_gradient_bound_depth,
    "optimization-momentum-two-steps": _momentum_two_steps,
    "optimization-adam-first-step-size": _adam_first_step,
    "regularization-dropout-inverted-scale": _dropout_inverted_scale,
    "activation-tanh-derivative-at-one": _tanh_derivative_at_one,
    "activation-silu-derivative-at-one": _silu_derivative_at_one,
    "activation-softmax-probability": _softmax_probability,
    "backprop-tiny-relu-network-gradient": _tiny_relu_network_gradient,
    "backprop-logistic-neuron-gradient": _logistic_neuron_gradient,
    "backprop-clip-grad-norm-result": _clip_grad_norm_result,
    "optimization-steps-per-epoch": _steps_per_epoch,
    "optimization-rmsprop-first-step": _rmsprop_first_step,
    "optimization-cosine-schedule-value": _cosine_schedule_value,
    "optimization-adamw-decoupled-decay-step": _adamw_decoupled_decay_step,
    "regularization-weight-decay-sgd-step": _weight_decay_sgd_step,
    "regularization-label-smoothing-target": _label_smoothing_target,
    "initnorm-he-normal-std": _he_normal_std,
    "initnorm-xavier-uniform-bound": _xavier_uniform_bound,
    "initnorm-batchnorm2d-parameter-count": _batchnorm2d_parameter_count,
    "initnorm-batchnorm-running-var": _batchnorm_running_var,
    "initnorm-batchnorm-eval-output": _batchnorm_eval_output,
    "loss-cross-entropy-of-logits": _cross_entropy_of_logits,
    "loss-bce-with-logits-value": _bce_with_logits_value,
    "loss-uniform-prediction-baseline": _uniform_prediction_baseline,
    "loss-focal-loss-value": _focal_loss_value,
    "loss-multiclass-hinge-value": _multiclass_hinge_value,
    "loss-kl-divergence-value": _kl_divergence_value,
}
