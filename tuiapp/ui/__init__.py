"""The terminal UI (Textual). Thin over the core; never imports TensorFlow."""
