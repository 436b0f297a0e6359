"""Every demo's slug, title, one-line summary and topics, without importing torch."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoInfo:
    slug: str
    title: str
    summary: str
    topics: tuple[str, ...]
    module: str
    questions: tuple[str, ...] = field(default=())


_ENTRIES = [
    DemoInfo(
        "vanishing-gradients",
        "Vanishing gradients",
        "How gradient size changes from the last layer to the first, by activation, init, "
        "batch norm and residual connections.",
        ("backpropagation", "activation-functions", "initialization-normalization"),
        "vanishing_gradients",
    ),
    DemoInfo(
        "dropout",
        "Dropout against overfitting",
        "A wide network on a small, noisy digits set, trained with and without dropout.",
        ("regularization",),
        "dropout",
    ),
    DemoInfo(
        "pooling",
        "Pooling and shift tolerance",
        "Max, average and global pooling: feature-map sizes, parameters and accuracy under shifted inputs.",
        ("cnn",),
        "pooling",
    ),
    DemoInfo(
        "optimizer-comparison",
        "Optimizers compared",
        "SGD, momentum, Nesterov, RMSprop, Adagrad, Adam and AdamW on the same problem.",
        ("optimization",),
        "optimizer_comparison",
    ),
    DemoInfo(
        "how-models-learn",
        "How a network learns",
        "A small network fitting a 2-D dataset: the decision boundary moving, losses, and a gradient check.",
        ("fundamentals", "neural-networks", "backpropagation"),
        "how_models_learn",
    ),
    DemoInfo(
        "activation-functions",
        "Activation functions",
        "Each function and its derivative, what non-linearity buys, and ReLUs dying at a large step size.",
        ("activation-functions",),
        "activation_functions",
    ),
    DemoInfo(
        "learning-rate",
        "Learning rate and early stopping",
        "A sweep from too small to divergent, and stopping when validation loss turns.",
        ("optimization", "regularization"),
        "learning_rate",
    ),
    DemoInfo(
        "feedforward-vs-recurrent",
        "Feedforward against recurrent",
        "A task that needs memory: a windowed MLP against an RNN and an LSTM as the gap grows.",
        ("rnn", "neural-networks"),
        "feedforward_vs_recurrent",
    ),
    DemoInfo(
        "convolution",
        "Convolution, stride and padding",
        "Kernels on a real image, the output-size formula, and the feature maps of a small CNN.",
        ("cnn",),
        "convolution",
    ),
    DemoInfo(
        "softmax",
        "Softmax and cross-entropy",
        "Temperature, probabilities and cross-entropy on logits you set.",
        ("loss-functions", "activation-functions"),
        "softmax",
    ),
    DemoInfo(
        "data-scale",
        "How much data",
        "Deep models against classical ones as the training set grows.",
        ("data", "fundamentals"),
        "data_scale",
    ),
    DemoInfo(
        "transfer-learning",
        "Transfer learning",
        "Pretrain on some classes, learn new ones from k examples: fine-tuning and a linear probe against scratch.",
        ("transfer-learning",),
        "transfer_learning",
    ),
    DemoInfo(
        "gan",
        "A GAN on a 2-D distribution",
        "A generator and a discriminator learning a 2-D distribution, and the discriminator settling near chance.",
        ("generative-models",),
        "gan",
    ),
    DemoInfo(
        "why-gpus",
        "Why GPUs",
        "Matrix-multiply throughput by size: a Python loop, one CPU thread, all threads, and the GPU.",
        ("hardware-frameworks",),
        "why_gpus",
    ),
    DemoInfo(
        "limitations",
        "Limitations: adversarial examples and extrapolation",
        "FGSM against random noise of the same size, and a network failing outside its training range.",
        ("fundamentals",),
        "limitations",
    ),
    DemoInfo(
        "class-imbalance",
        "Class imbalance",
        "0.5% positives: class weights, resampling and threshold moving; precision, recall, PR curves "
        "and the accuracy paradox.",
        ("data", "loss-functions"),
        "class_imbalance",
    ),
    DemoInfo(
        "vae",
        "A variational autoencoder",
        "A small VAE on the digits: the latent space, reconstructions, samples, and the KL weight's trade-off.",
        ("generative-models",),
        "vae",
    ),
    DemoInfo(
        "tokenization",
        "Byte-pair encoding",
        "BPE trained on a small text: the merges it learns, and vocabulary size against sequence length.",
        ("nlp",),
        "tokenization",
    ),
    DemoInfo(
        "attention",
        "Attention in a tiny transformer",
        "A one-layer transformer learns to reverse, copy or sort digits: attention maps per head, and "
        "what scaling by sqrt(d_k) does.",
        ("transformers", "nlp"),
        "attention",
    ),
    DemoInfo(
        "memory",
        "Where training memory goes",
        "Activation memory measured against batch size and depth, with gradient checkpointing and bfloat16.",
        ("hardware-frameworks",),
        "memory",
    ),
    DemoInfo(
        "quantization",
        "Post-training quantization",
        "A small digits network quantized to int8 and int4 after training: per-tensor and per-channel "
        "scales, size in bytes and accuracy against bits.",
        ("quantization", "compression"),
        "quantization",
    ),
    DemoInfo(
        "initialization",
        "Weight initialisation and symmetry",
        "Zero, constant, small random, Xavier and He initial weights on the same MLP: training loss, "
        "and whether the hidden units ever become different.",
        ("initialization-normalization",),
        "initialization",
    ),
    DemoInfo(
        "distillation",
        "Knowledge distillation",
        "A large teacher and two identical small students on a few hundred digits: labels alone against "
        "the teacher's temperature-softened outputs.",
        ("compression",),
        "distillation",
    ),
]

CATALOGUE: dict[str, DemoInfo] = {d.slug: d for d in _ENTRIES}


def is_registered(slug: str) -> bool:
    return slug in CATALOGUE
