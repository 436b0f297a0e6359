"""Computed answers for numeric questions in questions/cnn.yaml, rnn.yaml, transformers.yaml, nlp.yaml
and generative-models.yaml (group C)."""

import math

import torch
from torch import nn


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _embedding(num: int, dim: int) -> nn.Embedding:
    # A real nn.Embedding whose weight lives on the meta device: same parameter shapes, no memory or
    # random initialisation, so big vocabularies stay fast to count.
    return nn.Embedding(num, dim, _weight=torch.empty(num, dim, device="meta"))


# --- cnn ---------------------------------------------------------------------------------------


def _cnn_conv_output_width():
    conv = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)
    return conv(torch.zeros(1, 3, 224, 224)).shape[-1]


def _cnn_conv_params_bias():
    return _params(nn.Conv2d(64, 128, kernel_size=3))


def _cnn_depthwise_separable_params():
    depthwise = nn.Conv2d(128, 128, kernel_size=3, groups=128, bias=False)
    pointwise = nn.Conv2d(128, 256, kernel_size=1, bias=False)
    return _params(depthwise) + _params(pointwise)


def _cnn_grouped_conv_params():
    return _params(nn.Conv2d(64, 128, kernel_size=3, groups=4))


def _cnn_maxpool_output_size():
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)(torch.zeros(1, 1, 112, 112)).shape[-2]


def _cnn_receptive_field_three_layers():
    # Measure it: backpropagate from one central output unit and count the input pixels it reaches.
    net = nn.Sequential(
        nn.Conv2d(1, 1, 3, stride=1, padding=1),
        nn.Conv2d(1, 1, 3, stride=2, padding=1),
        nn.Conv2d(1, 1, 3, stride=1, padding=1),
    )
    for layer in net:
        nn.init.constant_(layer.weight, 1.0)
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    net(x)[0, 0, 16, 16].backward()
    rows = (x.grad[0, 0] != 0).any(dim=1).nonzero().flatten()
    return int(rows.max() - rows.min() + 1)


def _cnn_dilated_conv_output():
    return nn.Conv2d(1, 1, kernel_size=3, dilation=2)(torch.zeros(1, 1, 32, 32)).shape[-1]


def _cnn_transposed_conv_output():
    up = nn.ConvTranspose2d(4, 4, kernel_size=4, stride=2, padding=1)
    return up(torch.zeros(1, 4, 16, 16)).shape[-1]


def _cnn_conv_macs():
    conv = nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False)
    out = conv(torch.zeros(1, 64, 56, 56))
    macs_per_output = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    return out.numel() * macs_per_output / 1e6


# --- rnn ---------------------------------------------------------------------------------------


def _rnn_lstm_param_count():
    return _params(nn.LSTM(input_size=100, hidden_size=256))


def _rnn_gru_param_count():
    return _params(nn.GRU(input_size=64, hidden_size=128))


def _rnn_vanilla_rnn_params():
    return _params(nn.RNN(input_size=32, hidden_size=64))


def _rnn_bidirectional_output_features():
    lstm = nn.LSTM(input_size=50, hidden_size=128, bidirectional=True, batch_first=True)
    # One short sequence keeps the check fast; the feature size depends on neither batch nor length.
    with torch.no_grad():
        output, _ = lstm(torch.zeros(1, 1, 50))
    return output.shape[-1]


def _rnn_gradient_decay_over_time():
    return 0.9**50


def _rnn_two_layer_lstm_params():
    return _params(nn.LSTM(input_size=100, hidden_size=256, num_layers=2))


# --- transformers ------------------------------------------------------------------------------


def _transformers_mha_param_count():
    return _params(nn.MultiheadAttention(embed_dim=512, num_heads=8))


def _transformers_encoder_layer_params():
    return _params(nn.TransformerEncoderLayer(d_model=512, nhead=8, dim_feedforward=2048))


def _kv_cache_bytes(layers, kv_heads, head_dim, tokens, dtype, batch=1):
    # One key and one value tensor per layer; meta tensors give the size without allocating memory.
    k = torch.empty(batch, kv_heads, tokens, head_dim, dtype=dtype, device="meta")
    return 2 * layers * k.numel() * k.element_size()


def _transformers_kv_cache_memory():
    return _kv_cache_bytes(layers=32, kv_heads=32, head_dim=128, tokens=4096, dtype=torch.float16) / 2**30


def _transformers_kv_cache_gqa_memory():
    return _kv_cache_bytes(layers=80, kv_heads=8, head_dim=128, tokens=32768, dtype=torch.bfloat16) / 2**30


def _transformers_attention_scores_memory():
    weights = torch.empty(1, 16, 2048, 2048, dtype=torch.float32, device="meta")
    return weights.numel() * weights.element_size() / 2**20


def _transformers_dot_product_std():
    # Var(q . k) = sum over d_k components of Var(q_i) Var(k_i) = d_k * 1 * 1 for independent zero-mean terms.
    d_k, var_q, var_k = 64, 1.0, 1.0
    return math.sqrt(d_k * var_q * var_k)


def _transformers_vit_patch_tokens():
    patch_embed = nn.Conv2d(3, 768, kernel_size=16, stride=16)
    with torch.no_grad():
        patches = patch_embed(torch.zeros(1, 3, 224, 224)).flatten(2).transpose(1, 2)  # (1, 196, 768)
    class_token = torch.zeros(1, 1, 768)
    return torch.cat([class_token, patches], dim=1).shape[1]


def _transformers_head_dim():
    mha = nn.MultiheadAttention(embed_dim=768, num_heads=12)
    return mha.head_dim


# --- nlp ---------------------------------------------------------------------------------------


def _nlp_embedding_params():
    return _params(_embedding(50257, 768))


def _nlp_perplexity_from_loss():
    return math.exp(2.3)


def _nlp_bits_per_byte():
    tokens, nats_per_token, n_bytes = 1000, 2.0, 4000
    total_bits = tokens * nats_per_token / math.log(2)
    return total_bits / n_bytes


def _nlp_word2vec_params():
    input_vectors, output_vectors = _embedding(10000, 300), _embedding(10000, 300)
    return _params(input_vectors) + _params(output_vectors)


def _nlp_tied_embeddings_saving():
    def model(tied):
        emb = _embedding(32000, 4096)
        head = nn.Linear(4096, 32000, bias=False, device="meta")
        if tied:
            head.weight = emb.weight
        return nn.ModuleList([emb, head])

    return (_params(model(False)) - _params(model(True))) / 1e6


def _nlp_negative_sampling_probability():
    counts = torch.tensor([900.0, 100.0], dtype=torch.float64)  # "the", "cat"
    weights = counts**0.75
    return (weights / weights.sum())[1].item()


# --- generative models -------------------------------------------------------------------------


def _generative_kl_gaussian():
    q = torch.distributions.Normal(torch.tensor(0.5), torch.tensor(2.0))
    p = torch.distributions.Normal(torch.tensor(0.0), torch.tensor(1.0))
    return torch.distributions.kl_divergence(q, p).item()


def _generative_gan_optimal_discriminator():
    p_data, p_g = 0.3, 0.1
    return p_data / (p_data + p_g)


def _generative_gan_value_at_equilibrium():
    d = torch.tensor(0.5)  # D* everywhere when p_G = p_data
    return (torch.log(d) + torch.log(1 - d)).item()


def _generative_autoencoder_params():
    return _params(nn.Sequential(nn.Linear(784, 32), nn.Linear(32, 784)))


def _generative_diffusion_signal_coefficient():
    betas = torch.full((100,), 0.02, dtype=torch.float64)
    alpha_bar = torch.prod(1 - betas)
    return alpha_bar.sqrt().item()


CHECKS = {
    "cnn-conv-output-width": _cnn_conv_output_width,
    "cnn-conv-params-bias": _cnn_conv_params_bias,
    "cnn-depthwise-separable-params": _cnn_depthwise_separable_params,
    "cnn-grouped-conv-params": _cnn_grouped_conv_params,
    "cnn-maxpool-output-size": _cnn_maxpool_output_size,
    "cnn-receptive-field-three-layers": _cnn_receptive_field_three_layers,
    "cnn-dilated-conv-output": _cnn_dilated_conv_output,
    "cnn-transposed-conv-output": _cnn_transposed_conv_output,
    "cnn-conv-macs": _cnn_conv_macs,
    "rnn-lstm-param-count": _rnn_lstm_param_count,
    "rnn-gru-param-count": _rnn_gru_param_count,
    "rnn-vanilla-rnn-params": _rnn_vanilla_rnn_params,
    "rnn-bidirectional-output-features": _rnn_bidirectional_output_features,
    "rnn-gradient-decay-over-time": _rnn_gradient_decay_over_time,
    "rnn-two-layer-lstm-params": _rnn_two_layer_lstm_params,
    "transformers-mha-param-count": _transformers_mha_param_count,
    "transformers-encoder-layer-params": _transformers_encoder_layer_params,
    "transformers-kv-cache-memory": _transformers_kv_cache_memory,
    "transformers-kv-cache-gqa-memory": _transformers_kv_cache_gqa_memory,
    "transformers-attention-scores-memory": _transformers_attention_scores_memory,
    "transformers-dot-product-std": _transformers_dot_product_std,
    "transformers-head-dim": _transformers_head_dim,
    "transformers-vit-patch-tokens": _transformers_vit_patch_tokens,
    "nlp-embedding-params": _nlp_embedding_params,
    "nlp-perplexity-from-loss": _nlp_perplexity_from_loss,
    "nlp-bits-per-byte": _nlp_bits_per_byte,
    "nlp-word2vec-params": _nlp_word2vec_params,
    "nlp-tied-embeddings-saving": _nlp_tied_embeddings_saving,
    "nlp-negative-sampling-probability": _nlp_negative_sampling_probability,
    "generative-kl-gaussian": _generative_kl_gaussian,
    "generative-gan-optimal-discriminator": _generative_gan_optimal_discriminator,
    "generative-gan-value-at-equilibrium": _generative_gan_value_at_equilibrium,
    "generative-autoencoder-params": _generative_autoencoder_params,
    "generative-diffusion-signal-coefficient": _generative_diffusion_signal_coefficient,
}
