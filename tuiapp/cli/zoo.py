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
        graph: Annotated[bool, typer.Option("--graph", help="ARCH: its layers as boxes with their output shapes "
                                                            "and parameter counts (plot_model's figure).")] = False,
        preset: Annotated[str | None, typer.Option("--preset", "-p", help="--graph: of this preset.")] = None,
        set_: Annotated[list[str] | None, typer.Option("--set", "-s", help="--graph: with key=value.")] = None,
    ) -> None:
        """List the networks of the zoo (or one network's hyperparameters, or its graph)."""
        import models
        from tuiapp.cli.console import console, table_width
        from tuiapp.config import RunConfig
        from tuiapp.views.printable import fmt_value
        from tuiapp.views.table import Column, fit_table

        out = console()

        if arch:
            a = models.get(arch) if arch in models.REGISTRY else None
            if a is None:
                from tuiapp.errors import UserError

                raise UserError(f"unknown architecture {arch!r}; known: {', '.join(models.REGISTRY)}")
            if graph:
                from tuiapp.views.graph import model_graph

                config = RunConfig.create(a.id, preset, set_ or [])
                info = models.IMAGE_INFO
                shapes = {"flat": f"(None, {info['input_size']})",
                          "image": "(None, " + ", ".join(map(str, info["image_shape"])) + ")",
                          "sequence": "(None, " + ", ".join(map(str, info["sequence_shape"])) + ")"}
                out.print(f"[bold]{a.id}[/], preset {config.preset_label()}")
                out.print(model_graph(config.summary(), shapes.get(a.input_kind), width=table_width(out)))
                return
            if as_json:
                typer.echo(json.dumps(_arch_json(a), separators=(",", ":")))
                return
            out.print(f"[bold]{a.id}: {a.title}[/]")
            cells = [[p.name, fmt_value(p.default) or "(none)", p.describe_range(), p.help] for p in a.params]
            table, dropped = fit_table([Column("name"), Column("default"), Column("allowed", wrap=True, min_width=14),
                                        Column("help", wrap=True, priority=1, min_width=20)], cells, table_width(out))
            out.print(table)
            if dropped:
                out.print(f"[dim](help left out at {out.width} columns: `tuiapp models {a.id} --json` has it)[/]")
            out.print(f"data sets: {', '.join(a.datasets)}; input: {a.input_kind}; engine: {a.engine}")
            if a.engine != "numpy":
                from tuiapp.runs.backends import FASTEST, MEASURED, choose, choose_precision

                chosen, why = choose(a.id)
                out.print(f"backend auto: {chosen} ({why}); fastest measured: CPU {FASTEST['cpu'].get(a.id, '-')}, "
                          f"GPU {FASTEST['gpu'].get(a.id, '-')} [dim]({MEASURED})[/]")
                precision, why = choose_precision(a.id, chosen)
                out.print(f"precision auto: {precision} ({why})")
            for preset in a.presets:
                out.print(f"preset {preset.name}: {preset.title}")
            return
        if graph or preset or set_:
            from tuiapp.errors import UserError

            raise UserError("--graph, --preset and --set draw one network: `tuiapp models ARCH --graph`")
        rows = []
        for a in models.REGISTRY.values():
            for preset in a.presets:
                config = RunConfig.create(a.id, preset.name)
                rows.append((a, preset, sum(r[2] for r in config.summary())))
        if as_json:
            docs = [_arch_json(a) for a in models.REGISTRY.values()]
            typer.echo(json.dumps(docs, separators=(",", ":")))
            return
        cells = [[a.family, a.id, preset.name, f"{count:,}", "images" if "mnist" in a.datasets else ",".join(a.datasets),
                  preset.title] for a, preset, count in rows]
        table, _ = fit_table([Column("family", priority=2), Column("id"), Column("preset"), Column("params", "right"),
                              Column("data", priority=1), Column("description", wrap=True, min_width=34)], cells,
                                    table_width(out))
        out.print(table)


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
