"""Sweeps: many runs from one spec, scheduled within the machine's cores, resumable, compared with the book."""
