"""Small, stable data helpers shared by the demos. Nothing here downloads anything.

- `digits_split(...)`: scikit-learn's bundled 8x8 digits as float tensors in [0, 1], split stratified,
  optionally with label noise on the training part only.
- `moons_split(...)`, `circles_split(...)`, `spirals_split(...)`: 2-D toy problems made in code.
- `split_tensors(...)`: a seeded train/test split of any (x, y) pair.

All functions are deterministic given `seed` and return a `Split` on the requested device.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "Split",
    "circles",
    "circles_split",
    "digits_arrays",
    "digits_split",
    "moons",
    "moons_split",
    "spirals",
    "spirals_split",
    "split_tensors",
]


@dataclass(frozen=True)
class Split:
    """A train/test split. x_* are float32, y_* are int64 class indices."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.x_train[0].numel())

    def to(self, device: torch.device | str) -> Split:
        return Split(
            self.x_train.to(device),
            self.y_train.to(device),
            self.x_test.to(device),
            self.y_test.to(device),
            self.n_classes,
        )


def _digits_csv() -> Path | None:
    """scikit-learn's bundled digits file, found without importing sklearn (that import is slow)."""
    spec = importlib.util.find_spec("sklearn")
    for root in (spec.submodule_search_locations or []) if spec else []:
        p = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if p.is_file():
            return p
    return None


@functools.lru_cache(maxsize=1)
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits: X float32 [1797, 64] scaled to [0, 1], y int64 [1797]. Read-only, cached."""
    path = _digits_csv()
    if path is not None:
        with gzip.open(path, "rt") as f:
            raw = np.loadtxt(f, delimiter=",", dtype=np.float64)
        data, target = raw[:, :-1], raw[:, -1]
    else:  # layout changed: use the public loader
        from sklearn.datasets import load_digits

        d = load_digits()
        data, target = d.data, d.target
    x = (data / 16.0).astype(np.float32)
    y = target.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _stratified_indices(y: np.ndarray, n_train: int, n_test: int, rng: np.random.Generator):
    """Pick n_train then n_test indices with class proportions kept (largest-remainder rounding)."""
    classes, counts = np.unique(y, return_counts=True)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in classes]

    def quota(n: int, avail: np.ndarray) -> np.ndarray:
        raw = n * avail / avail.sum()
        q = np.floor(raw).astype(int)
        for i in np.argsort(-(raw - q))[: n - q.sum()]:
            q[i] += 1
        return np.minimum(q, avail.astype(int))

    q_train = quota(n_train, counts.astype(float))
    train = np.concatenate([idx[:k] for idx, k in zip(per_class, q_train, strict=True)])
    rest = [idx[k:] for idx, k in zip(per_class, q_train, strict=True)]
    q_test = quota(n_test, np.array([len(r) for r in rest], dtype=float))
    test = np.concatenate([r[:k] for r, k in zip(rest, q_test, strict=True)])
    return rng.permutation(train), rng.permutation(test)


def digits_split(
    n_train: int | None = None,
    n_test: int | None = None,
    *,
    seed: int = 0,
    test_fraction: float = 0.3,
    label_noise: float = 0.0,
    images: bool = False,
    device: torch.device | str = "cpu",
) -> Split:
    """Digits as tensors. By default a stratified 70/30 split of all 1797 images.

    n_train / n_test pick sizes explicitly (n_test defaults to everything not used for training).
    label_noise replaces that fraction of the *training* labels with a different random class; the
    test labels stay clean. images=True gives x of shape [N, 1, 8, 8] instead of [N, 64].
    """
    x, y = digits_arrays()
    n = len(y)
    if n_train is None:
        n_train = n - round(n * test_fraction) if n_test is None else n - n_test
    if n_test is None:
        n_test = n - n_train
    if n_train < 1 or n_test < 1 or n_train + n_test > n:
        raise ValueError(f"digits: need 1 <= n_train, n_test and n_train + n_test <= {n}")
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError("digits: label_noise must be between 0 and 1")
    rng = np.random.default_rng(seed)
    tr, te = _stratified_indices(y, n_train, n_test, rng)
    y_tr = y[tr].copy()
    n_noisy = round(label_noise * len(tr))
    if n_noisy:
        which = rng.choice(len(tr), size=n_noisy, replace=False)
        y_tr[which] = (y_tr[which] + rng.integers(1, 10, size=n_noisy)) % 10  # always a different class
    shape = (-1, 1, 8, 8) if images else (-1, 64)
    return Split(
        torch.from_numpy(x[tr].reshape(shape).copy()).to(device),
        torch.from_numpy(y_tr).to(device),
        torch.from_numpy(x[te].reshape(shape).copy()).to(device),
        torch.from_numpy(y[te].copy()).to(device),
        10,
    )


def split_tensors(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
    n_classes: int | None = None,
) -> Split:
    """Seeded random train/test split of (x, y) along the first dimension."""
    n = x.shape[0]
    n_test = max(1, min(n - 1, round(n * test_fraction)))
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g).to(x.device)
    te, tr = perm[:n_test], perm[n_test:]
    k = int(y.max().item()) + 1 if n_classes is None else n_classes
    return Split(x[tr], y[tr], x[te], y[te], k)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def moons(n: int, *, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles, roughly centred and scaled to unit spread. x [n, 2], y [n]."""
    g = _gen(seed)
    n0 = n // 2
    t0 = torch.rand(n0, generator=g) * math.pi
    t1 = torch.rand(n - n0, generator=g) * math.pi
    a = torch.stack([torch.cos(t0), torch.sin(t0)], 1)
    b = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)], 1)
    x = torch.cat([a, b]) + noise * torch.randn(n, 2, generator=g)
    x = (x - torch.tensor([0.5, 0.25])) / torch.tensor([0.85, 0.5])
    y = torch.cat([torch.zeros(n0, dtype=torch.long), torch.ones(n - n0, dtype=torch.long)])
    return _shuffle(x, y, g)


def circles(
    n: int, *, noise: float = 0.08, factor: float = 0.5, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric circles (outer radius 1, inner `factor`), class 1 inside. x [n, 2], y [n]."""
    g = _gen(seed)
    n0 = n // 2
    t = torch.rand(n, generator=g) * 2 * math.pi
    r = torch.cat([torch.ones(n0), torch.full((n - n0,), factor)])
    x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1) + noise * torch.randn(n, 2, generator=g)
    y = torch.cat([torch.zeros(n0, dtype=torch.long), torch.ones(n - n0, dtype=torch.long)])
    return _shuffle(x, y, g)


def spirals(
    n: int, *, n_classes: int = 2, turns: float = 1.5, noise: float = 0.05, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved spiral arms, one per class, radius up to 1. x [n, 2], y [n]."""
    g = _gen(seed)
    y = torch.arange(n) % n_classes
    r = torch.rand(n, generator=g).sqrt() * 0.95 + 0.05
    theta = r * turns * 2 * math.pi + y * (2 * math.pi / n_classes)
    x = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], 1) + noise * torch.randn(n, 2, generator=g)
    return _shuffle(x, y.long(), g)


def _shuffle(x: torch.Tensor, y: torch.Tensor, g: torch.Generator):
    p = torch.randperm(x.shape[0], generator=g)
    return x[p].contiguous(), y[p].contiguous()


def _as_split(xy, test_fraction: float, seed: int, device, n_classes: int) -> Split:
    x, y = xy
    return split_tensors(x, y, test_fraction=test_fraction, seed=seed + 1, n_classes=n_classes).to(device)


def moons_split(
    n: int, *, noise: float = 0.1, test_fraction: float = 0.25, seed: int = 0, device="cpu"
) -> Split:
    return _as_split(moons(n, noise=noise, seed=seed), test_fraction, seed, device, 2)


def circles_split(
    n: int,
    *,
    noise: float = 0.08,
    factor: float = 0.5,
    test_fraction: float = 0.25,
    seed: int = 0,
    device="cpu",
) -> Split:
    return _as_split(circles(n, noise=noise, factor=factor, seed=seed), test_fraction, seed, device, 2)


def spirals_split(
    n: int,
    *,
    n_classes: int = 2,
    turns: float = 1.5,
    noise: float = 0.05,
    test_fraction: float = 0.25,
    seed: int = 0,
    device="cpu",
) -> Split:
    xy = spirals(n, n_classes=n_classes, turns=turns, noise=noise, seed=seed)
    return _as_split(xy, test_fraction, seed, device, n_classes)
