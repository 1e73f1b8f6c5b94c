"""Small Keras helpers shared by the image and text trainers (imports Keras lazily)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def steps_per_execution(steps_per_epoch: int) -> int:
    """Batches fused into one call: up to 20 (fast), but at least ~20 callbacks per epoch."""
    return max(1, min(20, steps_per_epoch // 20))


def layer_weights(model: Any) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """[(layer name, [(weight name, array)])] for layers that have weights."""
    out = []
    for layer in model.layers:
        weights = [(w.path.split("/")[-1], np.asarray(w.numpy())) for w in layer.weights]
        if weights:
            out.append((layer.name, weights))
    return out


def model_rows(model: Any) -> list[dict[str, Any]]:
    """Layer, type, output shape and parameters, as Keras reports them."""
    rows = []
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output_shape": str(tuple(shape)) if shape is not None else "", "params": layer.count_params()})
    return rows


def has_gpu() -> bool:
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if keras.backend.backend() == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    return False


def device_name() -> str:
    return "gpu" if os.environ.get("CUDA_VISIBLE_DEVICES") != "-1" and has_gpu() else "cpu"


def configure_backend(seed: int, precision: str = "float32") -> str:
    """Seed everything, make TensorFlow deterministic, hold it to the run's thread budget (TUIAPP_THREADS), and
    set the compute precision: bfloat16 means Keras' "mixed_bfloat16" policy (float32 weights, bfloat16 maths;
    the models keep their softmax outputs in float32). Returns the precision in force."""
    import keras

    precision = "bfloat16" if precision == "bfloat16" else "float32"  # a run saved before the field: float32
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # engine code, not model code: determinism and threads are backend switches

        tf.config.experimental.enable_op_determinism()
        if os.environ.get("TUIAPP_THREADS"):  # a sweep's share of the cores
            tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["TUIAPP_THREADS"]))
            tf.config.threading.set_inter_op_parallelism_threads(1)
    return precision


def synced(model: Any) -> Any:
    """The model with its variables up to date: inside `fit`, the JAX backend keeps the state apart until a
    callback asks for it (saving or sampling in the middle of an epoch must ask)."""
    sync = getattr(model, "jax_state_sync", None)
    if callable(sync):
        sync()
    return model


def saver(model: Any) -> Any:
    """The save function a trainer attaches to its run context."""
    return lambda path: synced(model).save(path)
