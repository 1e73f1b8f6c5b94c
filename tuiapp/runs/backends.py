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

`--precision auto` (`precision` in RunConfig) is float32 except where bfloat16 compute was measured to be
faster at the same accuracy: the CNN under TensorFlow on a CPU with native bfloat16 instructions
(AVX512-BF16 or AMX-BF16; oneDNN runs its convolutions in bfloat16, weights and the softmax stay float32).
Measured here (`python benchmarks/overhead.py --network cnn --rounds 2 --epochs 3`, December 2026): 11.1-11.6
s/epoch against 19.2-22.5 s for the plain float32 script; full MNIST, Adam, 3 epochs, seeds 1 and 2: test
accuracy 0.9915 / 0.9891 in bfloat16 against 0.9904 / 0.9896 in float32 (within the seed-to-seed spread). JAX's XLA CPU
bfloat16 was slower than float32 (RNN 4.5 vs 2.4 s per 20k examples), so nothing else changes.
"""

from __future__ import annotations

import functools
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


PRECISION_FASTER = {("cnn", "tensorflow", "cpu")}  # where bfloat16 compute measured faster (see above)


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> str:
    """This machine's /proc/cpuinfo (read once: the launch form asks on every keystroke)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            return fh.read(1 << 16)
    except OSError:
        return ""


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has native bfloat16 arithmetic (Linux /proc/cpuinfo flags)."""
    if cpuinfo is None:
        cpuinfo = _cpuinfo()
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def choose_precision(arch: str, backend: str, device: str = "cpu",
                     bf16: bool | None = None) -> tuple[str, str]:
    """The precision `auto` means for this architecture, backend and device, and why."""
    if (arch, backend, device) not in PRECISION_FASTER:
        return "float32", "bfloat16 was not measured faster for this network, backend and device"
    if not (cpu_has_bf16() if bf16 is None else bf16):
        return "float32", "this CPU has no native bfloat16 arithmetic"
    return "bfloat16", f"measured faster for {arch} on {backend} on CPUs with native bfloat16, same accuracy"


def default_backend() -> str:
    """`auto` when more than one backend is installed, else TensorFlow."""
    return "auto" if len(installed()) > 1 else "tensorflow"
