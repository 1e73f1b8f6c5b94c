"""`tuiapp data list` and `tuiapp data show NAME`."""

from __future__ import annotations

from typing import Annotated

import typer

from tuiapp.errors import UserError

data_app = typer.Typer(help="Data sets: where they come from, their shapes and samples.", no_args_is_help=True)


@data_app.command("list")
def data_list(
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Folder with full IDX files.")] = None,
) -> None:
    """Every data set, with the source a run would use now."""
    from rich.table import Table

    from tuiapp.cli.console import console as make_console
    from tuiapp.data import IMAGE_SETS, TOY_SETS, resolve
    from tuiapp.data.sources import local_sources, sample_manifest

    table = Table(header_style="bold", box=None)
    for col in ("name", "kind", "source a run uses", "also found"):
        table.add_column(col)
    for name in IMAGE_SETS:
        source = resolve(name, data_dir)
        others = [s.path for s in local_sources(name, data_dir) if s.path != source.path]
        table.add_row(name, "28x28 images, 10 classes", source.describe(), ", ".join(others) or "-")
    text, second = sample_manifest()["text"], sample_manifest()["text-shakespeare"]
    table.add_row("text", "UTF-8 text (--text FILE)", f"bundled: lyrics, {text['chars']:,} characters ({text['origin']})",
                  f"--set corpus=shakespeare: {second['chars']:,} characters ({second['origin']})")
    for name in TOY_SETS:
        table.add_row(name, "toy", "built in" + (": y = 2x at x = 1..4" if name == "linear" else " truth table"), "-")
    make_console().print(table)


@data_app.command("show")
def data_show(
    name: Annotated[str, typer.Argument(help="mnist, fashion-mnist, text, and, or, xor, linear.")],
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Folder with full IDX files.")] = None,
    source: Annotated[str, typer.Option("--source", help="auto, full or sample.")] = "auto",
    text: Annotated[str | None, typer.Option("--text", help="Text file (for name text).")] = None,
) -> None:
    """Source, shapes, per-class counts and a 5x5 grid of sample images with labels."""
    from rich.table import Table

    from tuiapp.cli.console import console as make_console
    from tuiapp.data import DATASETS, IMAGE_SETS, check_source, class_counts, load_images, resolve
    from tuiapp.views import render

    console = make_console()
    if name not in DATASETS:
        raise UserError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    if name in IMAGE_SETS:
        found = resolve(name, data_dir, source)
        check_source(found)  # headers, sizes, labels, and that it is this data set and not the other
        data = load_images(found)
        console.print(f"[bold]{name}[/]: {data.source.describe()}")
        console.print(f"train {data.x_train.shape} {data.x_train.dtype}, test {data.x_test.shape}; "
                      f"pixels 0-255, labels 0-9")
        table = Table(header_style="bold", box=None)
        table.add_column("class")
        table.add_column("name")
        table.add_column("train", justify="right")
        table.add_column("test", justify="right")
        for cls, (a, b) in enumerate(zip(class_counts(data.y_train), class_counts(data.y_test))):
            table.add_row(str(cls), data.class_names[cls], f"{a:,}", f"{b:,}")
        console.print(table)
        console.print(render.image_grid(list(data.x_train[:25]), [data.class_names[y] for y in data.y_train[:25]],
                                        color=console.color_system is not None))
    elif name == "text":
        from tuiapp.data.text import load_corpus

        corpus = load_corpus(text, lowercase=False, keep_newlines=True)
        console.print(f"[bold]text[/]: {corpus.path}: {len(corpus.text):,} characters, {len(corpus.vocab)} distinct")
        console.print(repr("".join(corpus.vocab)))
        console.print(corpus.text[:400])
    else:
        import numpy as np

        from tuiapp.data.toys import linear, truth_table

        x, y = linear() if name == "linear" else truth_table(name)
        table = Table(header_style="bold", box=None)
        for col in [f"x{i + 1}" for i in range(x.shape[1])] + ["y"]:
            table.add_column(col, justify="right")
        for xs, target in zip(x, y):
            table.add_row(*[f"{v:g}" for v in xs], f"{float(np.ravel(target)[0]):g}")
        console.print(table)
