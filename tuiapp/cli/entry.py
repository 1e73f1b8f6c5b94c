"""The `tuiapp` entry point: the bare command opens the UI without loading the command-line layer.

`tuiapp` (optionally `--no-mouse`) goes straight to the Textual app, so its first screen does not wait for
typer and the modules of every command; anything else goes to the typer app (`tuiapp.cli.app`).
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args in ([], ["--no-mouse"]):
        from tuiapp.errors import UserError

        try:
            from tuiapp.cli.ui import open_ui

            open_ui(mouse=not args)
        except UserError as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(2)
        except KeyboardInterrupt:
            sys.exit(130)
        return
    from tuiapp.cli.app import main as cli_main

    cli_main()
