"""`tuiapp generate RUN`: stream text from a text model's latest checkpoint (NumPy, no TensorFlow)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tuiapp.errors import UserError


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        run: Annotated[str, typer.Argument(help="A char-lstm run (id, number or 'last').")],
        seed: Annotated[str, typer.Option("--seed", help="Text to start from.")] = "the ",
        length: Annotated[int, typer.Option("--length", "-n", help="Characters to generate.")] = 400,
        temperature: Annotated[float, typer.Option("--temperature", "-t", help="Below 1: safer; above 1: wilder.")] = 0.8,
        top_k: Annotated[int | None, typer.Option("--top-k", help="Sample only among the k likeliest.")] = None,
        random_seed: Annotated[int | None, typer.Option("--random-seed", help="For a repeatable sample.")] = None,
    ) -> None:
        """Generate text from a trained (or training) text model, streamed as it is produced."""
        import numpy as np

        from tuiapp.data.text import clean_seed
        from tuiapp.runs.rundir import RunDir
        from tuiapp.runs.store import RunStore

        if length < 1:
            raise UserError(f"--length {length}: give at least 1")
        if not 0 < temperature <= 10:
            raise UserError(f"--temperature {temperature}: expected a number above 0 and at most 10")
        if top_k is not None and top_k < 1:
            raise UserError(f"--top-k {top_k}: expected a whole number of at least 1")
        record = RunStore().get(run)
        sampler = RunDir(record.dir).load_sampler(record.id)
        text = clean_seed(seed, record.config.hp)
        unknown = sorted({ch for ch in text if ch not in sampler.vocab})
        if unknown and "\x00" not in sampler.vocab:
            typer.echo(f"note: {''.join(unknown)!r} not in the model's vocabulary; left out of the seed", err=True)
        out = sys.stdout
        out.write(text)
        for ch in sampler.generate(text, length, temperature, top_k or 0, np.random.default_rng(random_seed)):
            out.write(ch)
            out.flush()
        out.write("\n")
