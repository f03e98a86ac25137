"""Neural networks the AI runners train, and saving/loading them with an architecture sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn


class MLP(nn.Module):
    """A fully connected classifier: `num_hidden_layers` ReLU layers of `hidden_dim` units."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_hidden_layers: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for _ in range(num_hidden_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU()]
            width = hidden_dim
        layers.append(nn.Linear(width, output_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits for a batch of flat feature vectors."""
        return self.net(x.flatten(1))


class DigitCNN(nn.Module):
    """A small convolutional classifier for 1x8x8 digit images."""

    def __init__(self, channels: int = 16, hidden_dim: int = 64, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * channels * 16, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits for a batch of (N, 1, 8, 8) images."""
        return self.classifier(self.features(x))


class CharTransformer(nn.Module):
    """A causal character-level language model built on nn.TransformerEncoder."""

    def __init__(self, vocab_size: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 seq_len: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(seq_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout,
                                           batch_first=True, norm_first=True)
        # Nested tensors only help with padding masks, which a language model over full windows never has.
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Next-character logits (N, T, vocab) for ids (N, T); position t sees only positions <= t."""
        length = ids.shape[1]
        positions = torch.arange(length, device=ids.device)
        h = self.embed(ids) + self.position(positions)
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=ids.device)
        h = self.encoder(h, mask=mask, is_causal=True)
        return self.head(self.norm(h))

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, length: int, temperature: float = 0.8,
                 generator: torch.Generator | None = None) -> list[int]:
        """Sample `length` ids after the 1-D `prompt`, reproducibly when `generator` is seeded."""
        ids = prompt.clone()
        out: list[int] = []
        for _ in range(length):
            logits = self(ids[-self.seq_len:].unsqueeze(0))[0, -1] / temperature
            probs = torch.softmax(logits.float(), dim=-1).cpu()
            nxt = int(torch.multinomial(probs, 1, generator=generator))
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([nxt], device=ids.device)])
        return out


ARCHITECTURES: dict[str, type[nn.Module]] = {"mlp": MLP, "cnn": DigitCNN, "char_transformer": CharTransformer}


def build_model(spec: dict[str, Any]) -> nn.Module:
    """A fresh model from a sidecar spec: {"architecture": name, "params": constructor kwargs}."""
    return ARCHITECTURES[spec["architecture"]](**spec["params"])


def preferred_device(gpu_enabled: bool) -> str:
    """Where models run: CUDA when it is present and enabled in the config, else the CPU."""
    return "cuda" if gpu_enabled and torch.cuda.is_available() else "cpu"


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def sidecar_path(model_path: Path) -> Path:
    """Where the architecture JSON of a saved model lives (next to it)."""
    return model_path.with_suffix(".json")


def save_model(model: nn.Module, spec: dict[str, Any], path: Path) -> Path:
    """Save the weights (state_dict) and a JSON sidecar with what it takes to rebuild the model."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(state, path)
    sidecar_path(path).write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return path


def load_model(path: Path, device: torch.device) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a saved model from its sidecar and load its weights (tensors only, no pickled code)."""
    spec = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    model = build_model(spec)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device).eval(), spec
