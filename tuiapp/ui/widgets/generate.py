"""GeneratePanel: write with a text model's latest checkpoint; text appears as it is generated."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tuiapp.ui.widgets.field import FieldInput


class GeneratePanel(Vertical):
    """Seed text, temperature and length in; streamed characters out (NumPy sampler in a thread)."""

    def __init__(self, run_dir: Path, hp: dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.run_dir, self.hp = run_dir, hp
        self.stop = threading.Event()
        self.text = ""

    def compose(self) -> ComposeResult:
        yield Label("generate from the latest checkpoint: seed text, temperature, length (Enter or the button)")
        with Horizontal(id="gen-inputs"):
            yield FieldInput("the ", id="gen-seed", placeholder="seed text")
            yield FieldInput("0.8", id="gen-temperature", placeholder="temperature")
            yield FieldInput("300", id="gen-length", placeholder="length")
            yield Button("Generate", id="gen-start", variant="primary")
        yield Static("", id="gen-output")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "gen-start":
            event.stop()
            self.start()

    def start(self) -> None:
        """Validate the inputs and start generating in a worker thread."""
        from tuiapp.data.text import clean_seed
        from tuiapp.errors import UserError
        from tuiapp.runs.rundir import RunDir

        output = self.query_one("#gen-output", Static)
        try:
            temperature = float(self.query_one("#gen-temperature", Input).value)
            length = int(self.query_one("#gen-length", Input).value)
            if not 0 < temperature <= 10 or not 1 <= length <= 20000:
                raise ValueError
        except ValueError:
            output.update("temperature: a number above 0 and at most 10; length: 1 to 20,000 characters")
            return
        try:
            sampler = RunDir(self.run_dir).load_sampler()
        except UserError as exc:
            output.update(str(exc))
            return
        self.stop.set()
        self.stop = threading.Event()
        seed = clean_seed(self.query_one("#gen-seed", Input).value, self.hp)
        self.text = seed
        output.update(self.text)
        self.run_worker(lambda: self._generate(sampler, seed, length, temperature, self.stop), thread=True,
                        exclusive=True, group="generate")

    def _generate(self, sampler: Any, seed: str, length: int, temperature: float, stop: threading.Event) -> None:
        chunk = ""
        for ch in sampler.generate(seed, length, temperature):
            if stop.is_set():
                return
            chunk += ch
            if len(chunk) >= 20:
                self.app.call_from_thread(self._append, chunk)
                chunk = ""
        if chunk:
            self.app.call_from_thread(self._append, chunk)

    def _append(self, chunk: str) -> None:
        self.text += chunk
        self.query_one("#gen-output", Static).update(self.text)

    def on_unmount(self) -> None:
        self.stop.set()
