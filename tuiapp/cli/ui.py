"""Opening the terminal UI from the CLI."""

from __future__ import annotations


def open_ui(mouse: bool = True) -> None:
    """Start the Textual app (it needs a terminal; headless use goes through the commands)."""
    import sys

    from tuiapp.errors import UserError

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the terminal UI needs an interactive terminal; headless, use the commands "
                        "(`tuiapp -h` lists them, e.g. `tuiapp train mlp`)")
    try:
        from tuiapp.ui.app import make_app
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("tuiapp.ui"):
            print(
                "The terminal UI is not built yet in this version. Everything works headless meanwhile:\n"
                "  tuiapp models            list the networks\n"
                "  tuiapp train mlp         train one (see tuiapp train -h)\n"
                "  tuiapp runs / show RUN   browse and inspect runs\n"
                "  tuiapp -h                all commands"
            )
            raise SystemExit(0) from None
        raise
    make_app().run(mouse=mouse)
