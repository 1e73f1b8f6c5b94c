"""HyperparamForm: inputs, selects and switches generated from an architecture's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, Switch

from models.spec import Architecture, Param, ParamError
from tuiapp.ui.widgets.field import FieldInput
from tuiapp.views.printable import fmt_value


class HyperparamForm(Vertical):
    """One field per hyperparameter; each is validated as it is typed, with the reason shown below it."""

    @dataclass
    class Changed(Message):
        """A value changed; `errors` maps field names to problems (empty when all are valid)."""

        form: HyperparamForm
        values: dict[str, Any]
        errors: dict[str, str]
        alternatives: dict[str, list[str]]  # fields given several values (a|b): a sweep instead of a run

    def __init__(self, arch: Architecture, values: dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.arch = arch
        self.values = dict(values)
        self.errors: dict[str, str] = {}
        self.alternatives: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        for param in self.arch.params:
            with Vertical(classes="field"):
                yield Label(f"{param.name}  [dim]{param.help}[/]", classes="field-label")
                value = self.values.get(param.name, param.default)
                widget_id = f"hp-{param.name}"
                if param.kind == "choice":
                    yield Select([(c, c) for c in param.choices], value=value, allow_blank=False, id=widget_id)
                elif param.kind == "bool":
                    yield Switch(value=bool(value), id=widget_id)
                else:
                    yield FieldInput(fmt_value(value), id=widget_id, placeholder=param.describe_range())
                yield Static("", classes="field-error", id=f"err-{param.name}")

    def _param(self, widget_id: str | None) -> Param | None:
        if not widget_id or not widget_id.startswith("hp-"):
            return None
        return self.arch.param(widget_id[3:])

    def _set(self, param: Param, raw: Any, parse: bool) -> None:
        self.alternatives.pop(param.name, None)
        try:
            if parse and "|" in raw:  # several values: each checked, the form then starts a sweep
                parts = [part.strip() for part in raw.split("|")]
                values = [param.parse(part) for part in parts]
                if len(parts) < 2 or len({str(v) for v in values}) < len(values):
                    raise ParamError(f"{param.name}: give two or more different values separated by |")
                self.values[param.name] = values[0]
                self.alternatives[param.name] = parts
            else:
                self.values[param.name] = param.parse(raw) if parse else param.check(raw)
            self.errors.pop(param.name, None)
            message = ""
        except ParamError as exc:
            self.errors[param.name] = str(exc)
            message = str(exc)
        error = self.query_one(f"#err-{param.name}", Static)
        error.update(message)
        error.set_class(bool(message), "shown")
        self.post_message(self.Changed(self, dict(self.values), dict(self.errors), dict(self.alternatives)))

    def on_input_changed(self, event: Input.Changed) -> None:
        param = self._param(event.input.id)
        if param:
            event.stop()
            self._set(param, event.value, parse=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        param = self._param(event.select.id)
        if param and event.value is not Select.NULL:
            event.stop()
            self._set(param, event.value, parse=False)

    def on_switch_changed(self, event: Switch.Changed) -> None:
        param = self._param(event.switch.id)
        if param:
            event.stop()
            self._set(param, event.value, parse=False)
