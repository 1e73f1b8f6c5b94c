"""Modal dialogs: confirmation, quitting with runs in flight, and the one place errors are shown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmModal(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True for yes."""

    BINDINGS = [Binding("escape", "dismiss(False)", "No"), Binding("y", "dismiss(True)", "Yes")]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No"):
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button(self.no, id="no", variant="primary")
                yield Button(self.yes, id="yes", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class QuitModal(ModalScreen[str]):
    """Quitting while runs train: leave them running (default), cancel them, or stay."""

    BINDINGS = [Binding("escape", "dismiss('stay')", "Stay"), Binding("l", "dismiss('leave')", "Leave running"),
                Binding("c", "dismiss('cancel')", "Cancel runs")]

    def __init__(self, running: list[str]):
        super().__init__()
        self.running = running

    def compose(self) -> ComposeResult:
        names = ", ".join(self.running[:6]) + (" ..." if len(self.running) > 6 else "")
        with Vertical(classes="dialog"):
            yield Static(f"{len(self.running)} run(s) still training: {names}.\n"
                         "They run in their own processes and keep going after you quit; "
                         "`tuiapp` or `tuiapp watch RUN` re-attaches.", classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Leave running and quit", id="leave", variant="primary")
                yield Button("Cancel them and quit", id="cancel", variant="error")
                yield Button("Stay", id="stay")

    def on_mount(self) -> None:
        self.query_one("#leave", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "stay")


class ErrorModal(ModalScreen[None]):
    """One dialog that says what went wrong; the app keeps running."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("enter", "dismiss", "Close")]

    def __init__(self, title: str, message: str):
        super().__init__()
        self.title_text, self.message = title, message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error-dialog"):
            yield Static(self.title_text, classes="error-title")
            yield Static(self.message, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss()
