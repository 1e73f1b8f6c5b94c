"""Which Keras backend a run uses: `--backend auto` picks, per architecture, the one measured fastest here.

How the table was measured: plain `model.fit`, batch 128, full MNIST, seconds per epoch after the first,
the same script under KERAS_BACKEND=tensorflow and =jax (Keras 3.15, TensorFlow 2.21, jax 0.10 CPU), on
this project's 2-core CPU machines, November-December 2026 (DEVELOPERS.md, issue 11):

| network | TensorFlow s/epoch | JAX s/epoch | fastest |
|---|---|---|---|
| MLP 256-256 | 2.4-4.3 | 1.75-1.82 | jax |
| CNN 3x64 | 40-47 | 130-150 (XLA's CPU convolutions) | tensorflow |
| SimpleRNN 256 | 13-15 | 10-11 | jax |

softmax-regression follows the MLP; char-lstm was not measured and stays on TensorFlow. On a GPU the
backend that sees it is used (only JAX is on the lent GPU machines). TensorFlow is the choice whenever it
is the only backend installed. Found without importing any framework.
"""

from __future__ import annotations

import importlib.util

MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
FASTEST = {
    "cpu": {"mlp": "jax", "softmax-regression": "jax", "rnn": "jax", "cnn": "tensorflow", "char-lstm": "tensorflow"},
    "gpu": {"mlp": "jax", "softmax-regression": "jax", "rnn": "jax", "cnn": "jax", "char-lstm": "jax"},
}
MEASURED = "plain model.fit, batch 128, full MNIST, s/epoch, Keras 3.15 / TF 2.21 / jax 0.10 CPU, 2 cores, 2026-11"


def installed() -> list[str]:
    """Keras backends whose framework can be imported here."""
    return [name for name, module in MODULES.items() if importlib.util.find_spec(module) is not None]


def choose(arch: str, device: str = "cpu", available: list[str] | None = None) -> tuple[str, str]:
    """The backend `auto` means for this architecture and device, and why."""
    available = installed() if available is None else available
    if not available:
        return "tensorflow", "no Keras backend is installed"
    if available == ["tensorflow"]:
        return "tensorflow", "the only backend installed"
    table = FASTEST["gpu" if device == "gpu" else "cpu"]
    best = table.get(arch)
    if best in available:
        return best, f"measured fastest for {arch} on {'GPU' if device == 'gpu' else 'CPU'} here"
    pick = "tensorflow" if "tensorflow" in available else available[0]
    return pick, f"{arch} was not measured on {'GPU' if device == 'gpu' else 'CPU'}; the default"


def default_backend() -> str:
    """`auto` when more than one backend is installed, else TensorFlow."""
    return "auto" if len(installed()) > 1 else "tensorflow"
