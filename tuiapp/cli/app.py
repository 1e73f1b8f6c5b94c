"""The `tuiapp` command: typer app, error handling and exit codes (0 ok, 1 run failed, 2 usage)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tuiapp import __version__
from tuiapp.errors import UserError

app = typer.Typer(
    name="tuiapp",
    help="A terminal experiment explorer for neural networks: pick a network, edit it, train it, watch it learn.",
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tuiapp {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool | None, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
    no_mouse: Annotated[bool, typer.Option("--no-mouse", help="UI: do not capture the mouse.")] = False,
) -> None:
    """Open the terminal UI when no command is given."""
    if ctx.invoked_subcommand is None:
        from tuiapp.cli.ui import open_ui

        open_ui(mouse=not no_mouse)


def _register() -> None:
    from tuiapp.cli import data, generate, lessons, runs, sweep, train, zoo

    zoo.register(app)
    train.register(app)
    train.register_step(app)
    runs.register(app)
    generate.register(app)
    sweep.register(app)
    lessons.register(app)
    app.add_typer(data.data_app, name="data")


_register()


def fail(message: str) -> None:
    """Print one clear error line to stderr."""
    typer.secho(f"error: {message}", err=True, fg="red")


def main() -> None:
    """Console-script entry point: user errors become one line and exit code 2, never a traceback."""
    from tuiapp.errors import ConfigError

    try:
        code = app(standalone_mode=False)  # click returns typer.Exit's code here rather than raising
    except ConfigError as exc:
        for problem in exc.problems:
            fail(problem)
        sys.exit(2)
    except UserError as exc:
        fail(str(exc))
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:  # a path the user gave cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")
        sys.exit(2)
    except Exception as exc:
        # Usage errors (unknown option or command, missing argument): click's, or the copy
        # vendored in newer typer; both carry show() and exit_code.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(2 if exc.exit_code == 1 else exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
