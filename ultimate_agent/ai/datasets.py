"""Datasets for the AI runners: scikit-learn's digits, synthetic classification data and a text corpus."""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

DIGITS_FEATURES = 64
DIGITS_CLASSES = 10
DIGITS_SAMPLES = 1797
SYNTHETIC_DEFAULT_SAMPLES = 4000
TEST_FRACTION = 0.15
VALIDATION_FRACTION = 0.15
# The character-level corpus is split into contiguous train/validation/test stretches (80/10/10).
TEXT_HELD_OUT_FRACTION = 0.1


@dataclass
class ClassificationSplit:
    """Held-out train/validation/test arrays (float32 features, int64 labels) and how to rebuild them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_features: int
    n_classes: int
    spec: dict[str, Any]

    def sizes(self) -> dict[str, int]:
        """Sample counts per split."""
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}

    def tensors(self, device: torch.device) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The three splits as (features, labels) tensors on `device`."""
        pairs = {"train": (self.x_train, self.y_train), "validation": (self.x_val, self.y_val),
                 "test": (self.x_test, self.y_test)}
        return {name: (torch.as_tensor(x, device=device), torch.as_tensor(y, device=device))
                for name, (x, y) in pairs.items()}


def _three_way_split(x: np.ndarray, y: np.ndarray, seed: int, test_fraction: float = TEST_FRACTION,
                     val_fraction: float = VALIDATION_FRACTION) -> tuple[np.ndarray, ...]:
    """Stratified train/validation/test split; the test part is set aside first (no validation at 0)."""
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed)
    if val_fraction <= 0:
        return x_rest, y_rest, x_rest[:0], y_rest[:0], x_test, y_test
    val_share = val_fraction / (1.0 - test_fraction)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_share, stratify=y_rest, random_state=seed)
    return x_train, y_train, x_val, y_val, x_test, y_test


def digits_split(seed: int = 0, dataset_size: int | None = None, images: bool = False,
                 test_fraction: float = TEST_FRACTION, val_fraction: float = VALIDATION_FRACTION
                 ) -> ClassificationSplit:
    """The 8x8 handwritten digits, scaled to [0, 1], flat (64) or as 1x8x8 images."""
    x, y = load_digits(return_X_y=True)
    if dataset_size is not None and dataset_size < len(y):
        x, _, y, _ = train_test_split(x, y, train_size=dataset_size, stratify=y, random_state=seed)
    # Pixel intensities are 0..16: a fixed scale needs no fitted statistics to reproduce at inference.
    x = (x / 16.0).astype(np.float32)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    parts = _three_way_split(x, y.astype(np.int64), seed, test_fraction, val_fraction)
    spec = {"name": "digits", "seed": seed, "dataset_size": len(y), "images": images}
    if (test_fraction, val_fraction) != (TEST_FRACTION, VALIDATION_FRACTION):
        spec.update(test_fraction=test_fraction, val_fraction=val_fraction)
    return ClassificationSplit(*parts, n_features=DIGITS_FEATURES, n_classes=DIGITS_CLASSES, spec=spec)


def informative_features(n_features: int, n_classes: int) -> int:
    """How many informative features synthetic data gets: enough hypercube corners for every class."""
    needed = math.ceil(math.log2(n_classes)) + 1
    return min(n_features, max(2, needed, min(16, n_features // 2)))


def synthetic_split(seed: int, n_samples: int, n_features: int, n_classes: int) -> ClassificationSplit:
    """scikit-learn make_classification data, standardised with statistics of the training part only."""
    informative = informative_features(n_features, n_classes)
    x, y = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=informative,
        n_redundant=min(2, n_features - informative), n_classes=n_classes, n_clusters_per_class=1,
        class_sep=2.0, random_state=seed)  # a clearer class separation than sklearn's 1.0 default
    x_train, y_train, x_val, y_val, x_test, y_test = _three_way_split(x, y.astype(np.int64), seed)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val, x_test = (scaler.transform(a).astype(np.float32) for a in (x_train, x_val, x_test))
    parts = [x_train, y_train, x_val, y_val, x_test, y_test]
    spec = {"name": "synthetic", "seed": seed, "dataset_size": n_samples, "n_features": n_features,
            "n_classes": n_classes}
    return ClassificationSplit(*parts, n_features=n_features, n_classes=n_classes, spec=spec)


def rebuild_split(spec: dict[str, Any]) -> ClassificationSplit:
    """Recreate exactly the split a model was trained on, from the spec stored with it."""
    if spec["name"] == "digits":
        return digits_split(spec["seed"], spec["dataset_size"], images=bool(spec.get("images")),
                            test_fraction=spec.get("test_fraction", TEST_FRACTION),
                            val_fraction=spec.get("val_fraction", VALIDATION_FRACTION))
    if spec["name"] == "synthetic":
        return synthetic_split(spec["seed"], spec["dataset_size"], spec["n_features"], spec["n_classes"])
    raise ValueError(f"Unknown dataset {spec['name']!r}")


# -- character-level text ---------------------------------------------------------------------------


def load_corpus(text: str | None = None) -> str:
    """The user's text, or the English prose corpus shipped with the package."""
    if text:
        return text
    return resources.files("ultimate_agent.ai").joinpath("corpus.txt").read_text(encoding="utf-8")


class CharVocab:
    """Maps characters to integer ids and back."""

    def __init__(self, chars: list[str]) -> None:
        self.chars = list(chars)
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """Every distinct character in `text`, sorted."""
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Ids for `text`; characters outside the vocabulary are dropped."""
        return [self.index[c] for c in text if c in self.index]

    def decode(self, ids: list[int]) -> str:
        """Text for a list of ids."""
        return "".join(self.chars[i] for i in ids)


def _windows(ids: torch.Tensor, seq_len: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, next-character target) windows of `seq_len` taken every `stride` characters."""
    starts = torch.arange(0, len(ids) - seq_len, stride)
    offsets = torch.arange(seq_len)
    x = ids[starts[:, None] + offsets]
    return x, ids[starts[:, None] + offsets + 1]


def char_lm_split(text: str, seq_len: int) -> tuple[CharVocab, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """Contiguous 80/10/10 split into next-character windows; held-out parts never overlap training text."""
    vocab = CharVocab.from_text(text)
    ids = torch.tensor(vocab.encode(text), dtype=torch.long)
    held_out = max(seq_len + 1, int(len(ids) * TEXT_HELD_OUT_FRACTION))
    train_ids = ids[: len(ids) - 2 * held_out]
    val_ids = ids[len(ids) - 2 * held_out: len(ids) - held_out]
    test_ids = ids[len(ids) - held_out:]
    # Training windows overlap by half for more examples; held-out windows do not overlap.
    splits = {"train": _windows(train_ids, seq_len, max(1, seq_len // 2)),
              "validation": _windows(val_ids, seq_len, seq_len),
              "test": _windows(test_ids, seq_len, seq_len)}
    return vocab, splits


def min_text_length(seq_len: int) -> int:
    """Shortest text that gives every split at least one window of `seq_len`."""
    return math.ceil((seq_len + 2) / TEXT_HELD_OUT_FRACTION)
