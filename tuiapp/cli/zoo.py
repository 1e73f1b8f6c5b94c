"""`tuiapp models`: the zoo with families, presets and parameter counts."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="One JSON document for machines.")] = False,
        arch: Annotated[str, typer.Argument(help="Show one architecture's hyperparameters.")] = "",
    ) -> None:
        """List the networks of the zoo (or one network's hyperparameters)."""
        from rich.console import Console
        from rich.table import Table

        import models
        from tuiapp.config import RunConfig

        if arch:
            a = models.get(arch) if arch in models.REGISTRY else None
            if a is None:
                from tuiapp.errors import UserError

                raise UserError(f"unknown architecture {arch!r}; known: {', '.join(models.REGISTRY)}")
            if as_json:
                typer.echo(json.dumps(_arch_json(a), indent=2))
                return
            table = Table(title=f"{a.id}: {a.title}", header_style="bold")
            for col in ("name", "default", "allowed", "help"):
                table.add_column(col)
            for p in a.params:
                table.add_row(p.name, str(p.default), p.describe_range(), p.help)
            Console().print(table)
            typer.echo(f"data sets: {', '.join(a.datasets)}; input: {a.input_kind}; engine: {a.engine}")
            for preset in a.presets:
                typer.echo(f"preset {preset.name}: {preset.title}")
            return
        rows = []
        for a in models.REGISTRY.values():
            for preset in a.presets:
                config = RunConfig.create(a.id, preset.name)
                rows.append((a, preset, sum(r[2] for r in config.summary())))
        if as_json:
            out = [_arch_json(a) for a in models.REGISTRY.values()]
            typer.echo(json.dumps(out, indent=2))
            return
        from tuiapp.views.render import plain_table

        cells = [[a.family, a.id, preset.name, f"{count:,}", "images" if "mnist" in a.datasets else ",".join(a.datasets),
                  preset.title] for a, preset, count in rows]
        Console().print(plain_table([("family", "left"), ("id", "left"), ("preset", "left"), ("params", "right"),
                                     ("data", "left"), ("description", "left")], cells, Console().width))


def _arch_json(a) -> dict:
    from tuiapp.config import RunConfig

    return {
        "id": a.id, "family": a.family, "title": a.title, "description": a.description,
        "datasets": list(a.datasets), "input": a.input_kind, "engine": a.engine,
        "presets": [
            {"name": p.name, "title": p.title, "values": p.values,
             "params": sum(r[2] for r in RunConfig.create(a.id, p.name).summary())}
            for p in a.presets
        ],
        "hyperparameters": [
            {"name": p.name, "type": p.kind, "default": p.default, "allowed": p.describe_range(),
             "choices": list(p.choices), "min": p.min, "max": p.max, "help": p.help}
            for p in a.params
        ],
    }
