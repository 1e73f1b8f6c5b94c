"""LaunchScreen: pick an architecture and preset, edit hyperparameters, data and device, start."""

from __future__ import annotations

import textwrap
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

import models
from tuiapp.config import PRECISIONS, ConfigError, RunConfig
from tuiapp.errors import UserError
from tuiapp.ui.widgets.field import FieldInput
from tuiapp.ui.widgets.form import HyperparamForm

FAMILY_TITLES = {"toy": "Toys", "scratch": "From scratch (NumPy)", "mlp": "Multilayer perceptrons",
                 "cnn": "Convolutional", "rnn": "Recurrent", "text": "Text"}


class LaunchScreen(Screen[None]):
    """The form that becomes a RunConfig, and the Start button that launches it."""

    BINDINGS = [Binding("ctrl+s", "start", "Start run"), Binding("ctrl+l", "find_lr", "Find learning rate"),
                Binding("escape", "app.back", "Back", show=False)]

    def __init__(self, config: RunConfig | None = None):
        super().__init__()
        self.initial = config
        self.arch_id = config.arch if config else "mlp"
        self.previous_arch = self.arch_id  # whose data set choice the form holds
        self.preset = config.preset if config else None
        self.values: dict[str, Any] = dict(config.hp) if config else {}
        self.field_errors: dict[str, str] = {}
        self.data = config.data if config else ""
        self.device = config.device if config else "cpu"
        self.text_path = config.text if config else None
        self.backend = config.backend if config else "auto"
        self.precision = config.precision if config else "auto"
        self.alternatives: dict[str, list[str]] = {}
        self.config: RunConfig | None = None
        self.finder: tuple[str, Any] | None = None  # the learning-rate finder's run id and poll timer

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(*self._arch_options(), id="archs")
            with VerticalScroll(id="launch-form"):
                yield Static("", id="arch-title")
                yield Label("preset")
                arch = models.get(self.arch_id)
                self.preset = self.preset if self.preset in [p.name for p in arch.presets] else arch.presets[0].name
                self.data = self.data if self.data in arch.datasets else arch.datasets[0]
                yield Select(self._preset_options(arch), value=f"{arch.id}/{self.preset}", id="preset",
                             allow_blank=False)
                yield Vertical(id="form-holder")
                yield Label("data set")
                yield Select([(d, d) for d in arch.datasets], value=self.data, id="dataset", allow_blank=False)
                yield Static("", id="data-source")
                yield FieldInput("", id="text-path", placeholder="text file (empty: the bundled sample)")
                yield Label("device")
                yield Select([("cpu", "cpu"), ("auto", "auto")] + ([("gpu", "gpu")] if self._gpu() else []),
                             value=self.device if self.device != "gpu" or self._gpu() else "cpu",
                             id="device", allow_blank=False)
                yield Static("" if self._gpu() else "gpu: no GPU found on this machine", id="device-note")
                yield Label("backend")
                backends = self._backends()
                self.backend = self.backend if self.backend in backends else backends[0]
                yield Select([(b, b) for b in backends], value=self.backend, id="backend", allow_blank=False)
                yield Static(f"installed Keras backends: {', '.join(backends)}", id="backend-note")
                yield Label("precision")
                yield Select([(p, p) for p in PRECISIONS], value=self.precision, id="precision", allow_blank=False)
                yield Static("", id="precision-note")
                yield Static("", id="config-error", classes="field-error")
                yield Label("model summary (computed without TensorFlow)")
                yield DataTable(id="summary", cursor_type="none", zebra_stripes=True)
                yield Button("Start", id="start", variant="success")
        yield Footer()

    # -- set-up ----------------------------------------------------------------------
    @staticmethod
    def _preset_options(arch: models.Architecture) -> list[tuple[str, str]]:
        return [(f"{p.name}: {p.title}", f"{arch.id}/{p.name}") for p in arch.presets]

    @staticmethod
    def _backends() -> list[str]:
        from tuiapp.runs.launch import installed_backends

        found = installed_backends() or ["tensorflow"]
        return ["auto", *found] if len(found) > 1 else found

    @staticmethod
    def _gpu() -> bool:
        from tuiapp.runs.launch import gpu_available

        return gpu_available()

    def _arch_options(self) -> list[Option | None]:
        options: list[Option | None] = []
        for family in models.FAMILIES:
            archs = [a for a in models.REGISTRY.values() if a.family == family]
            if options:
                options.append(None)
            options.append(Option(f"[b]{FAMILY_TITLES[family]}[/]", disabled=True, id=f"family-{family}"))
            for a in archs:
                count = RunConfig.create(a.id).summary()
                total = sum(r[2] for r in count)
                short = textwrap.shorten(a.description, 40, placeholder="…")  # whole words only
                options.append(Option(f"{a.id}  [dim]{total:,}[/]\n  [dim]{short}[/]", id=a.id))
        return options

    def on_screen_resume(self) -> None:
        """Back from another screen: the focus goes to the list of networks, never into a text field, so the
        keys that follow (r, w, l) do what they say instead of typing into the last edited field."""
        if self.is_mounted:
            self.query_one("#archs", OptionList).focus()

    def on_mount(self) -> None:
        archs = self.query_one("#archs", OptionList)
        archs.highlighted = archs.get_option_index(self.arch_id)
        archs.focus()
        # Paint the list first; the generated form (a few dozen widgets) is built right after.
        self.call_after_refresh(self._populate)

    async def _populate(self) -> None:
        await self.select_arch(self.arch_id, keep_values=self.initial is not None)

    async def select_arch(self, arch_id: str, keep_values: bool = False) -> None:
        """Show an architecture's presets and form."""
        arch = models.get(arch_id)
        self.arch_id = arch_id
        self.query_one("#arch-title", Static).update(f"[b]{arch.title}[/]  ({arch.family}, {arch.engine})\n"
                                                     f"{arch.description}")
        preset = self.query_one("#preset", Select)
        names = [p.name for p in arch.presets]
        if self.preset not in names:
            self.preset = names[0]
        with preset.prevent(Select.Changed):
            preset.set_options(self._preset_options(arch))
            preset.value = f"{arch.id}/{self.preset}"
        if not keep_values:
            self.values = arch.defaults(self.preset)
        dataset = self.query_one("#dataset", Select)
        chosen = self.data and self.data != models.get(self.previous_arch).datasets[0]  # not just the default
        if self.data not in arch.datasets or (not chosen and self.previous_arch != arch.id):
            if chosen:
                self.notify(f"{arch.id} does not train on {self.data}; data set {arch.datasets[0]} instead",
                            severity="warning", timeout=4)
            self.data = arch.datasets[0]
        self.previous_arch = arch.id
        with dataset.prevent(Select.Changed):
            dataset.set_options([(d, d) for d in arch.datasets])
            dataset.value = self.data
        self.query_one("#text-path", Input).display = self.data == "text"
        await self._rebuild_form()

    async def _rebuild_form(self) -> None:
        holder = self.query_one("#form-holder", Vertical)
        await holder.remove_children()
        self.field_errors, self.alternatives = {}, {}
        await holder.mount(HyperparamForm(models.get(self.arch_id), self.values))
        self.refresh_config()

    # -- events ----------------------------------------------------------------------
    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.highlighted != event.option_index:
            return  # stale: the highlight has moved on (e.g. the list's own first highlight on mount)
        if event.option.id and event.option.id != self.arch_id and event.option.id in models.REGISTRY:
            # Another network: its own defaults and preset; the data set stays where it accepts it (else it is said)
            self.preset, self.text_path = None, None
            self.query_one("#text-path", Input).value = ""
            await self.select_arch(event.option.id)

    async def on_select_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        arch = models.get(self.arch_id)
        if event.select.id == "preset":
            owner, _, name = str(event.value).partition("/")
            if owner != self.arch_id or name not in [p.name for p in arch.presets] or name == self.preset:
                return  # a late event from the previous architecture's list
            self.preset = name
            self.values = models.get(self.arch_id).defaults(self.preset)
            await self._rebuild_form()
        elif event.select.id == "dataset":
            if event.value not in arch.datasets:
                return
            self.data = str(event.value)
            self.query_one("#text-path", Input).display = self.data == "text"
            self.refresh_config()
        elif event.select.id == "device":
            self.device = str(event.value)
            self.refresh_config()
        elif event.select.id == "backend":
            self.backend = str(event.value)
            self.refresh_config()
        elif event.select.id == "precision":
            self.precision = str(event.value)
            self.refresh_config()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "text-path":
            self.text_path = event.value.strip() or None
            self.refresh_config()

    def on_hyperparam_form_changed(self, event: HyperparamForm.Changed) -> None:
        self.values = event.values
        self.field_errors = event.errors
        self.alternatives = event.alternatives
        self.refresh_config()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()

    # -- validation and launch -------------------------------------------------------
    def refresh_config(self) -> None:
        """Validate the whole config; update the data source, summary and Start button."""
        error = self.query_one("#config-error", Static)
        self.config = None
        problem = ""
        if not self.field_errors:
            try:
                config = RunConfig.create(self.arch_id, self.preset, data=self.data, device=self.device,
                                          backend=self.backend, precision=self.precision,
                                          text=self.text_path if self.data == "text" else None)
                config.hp.update(self.values)
                problems = config.problems()
                if problems:
                    raise ConfigError(problems)
                self.config = config
            except UserError as exc:
                problem = str(exc)
        else:
            problem = f"fix {len(self.field_errors)} field(s) above: {', '.join(self.field_errors)}"
        error.update(problem)
        error.set_class(bool(problem), "shown")
        start = self.query_one("#start", Button)
        start.disabled = self.config is None
        runs = 1
        for parts in self.alternatives.values():
            runs *= len(parts)
        start.label = f"Start sweep ({runs} runs)" if self.alternatives else "Start"
        self._show_source()
        if self.config is not None:
            self._show_summary(self.config)
            self._show_precision(self.config)
            arch = models.get(self.arch_id)
            self.query_one("#arch-title", Static).update(
                f"[b]{arch.title}[/]  ({arch.family}, {arch.engine}), preset {self.config.preset_label()}\n"
                f"{arch.description}")

    def _show_precision(self, config: RunConfig) -> None:
        """What `auto` will run as (the run records the resolved value)."""
        from tuiapp.runs.launch import resolve_backend

        resolved = resolve_backend(config)
        text = ""
        if config.precision == "auto" and config.architecture.engine != "numpy":
            text = (f"auto = {resolved.precision} with {resolved.backend}"
                    + (" (bfloat16 maths, float32 weights: measured faster here, same accuracy)"
                       if resolved.precision == "bfloat16" else ""))
        elif config.precision == "bfloat16":
            text = "bfloat16 maths, float32 weights and outputs (Keras mixed_bfloat16)"
        self.query_one("#precision-note", Static).update(text)

    def _show_source(self) -> None:
        note = self.query_one("#data-source", Static)
        if self.data in ("mnist", "fashion-mnist"):
            from tuiapp.data import resolve

            try:
                note.update(resolve(self.data).describe())
            except UserError as exc:
                note.update(str(exc))
        elif self.data == "text":
            from tuiapp.data.text import corpus_path

            note.update(f"text: {corpus_path(self.text_path, self.config.hp if self.config else self.values)} ")
        else:
            note.update(f"built-in toy data: {self.data}")

    def _show_summary(self, config: RunConfig) -> None:
        table = self.query_one("#summary", DataTable)
        table.clear(columns=True)
        table.add_columns("layer", "output shape", "params")
        rows = config.summary()
        for name, shape, params in rows:
            table.add_row(name, shape, f"{params:,}")
        table.add_row("[b]total[/]", "", f"[b]{sum(r[2] for r in rows):,}[/]")

    def action_start(self) -> None:
        """Launch the run (its own process) and open its dashboard."""
        if self.config is None:
            self.notify("fix the fields marked in red first", severity="warning")
            return
        from tuiapp.runs import launch

        if self.alternatives:
            self._start_sweep()
            return
        try:
            record = launch.start(self.config, self.app.store)
        except UserError as exc:
            self.app.show_error("Cannot start the run", str(exc))
            return
        self.app.open_run(record.id)

    def action_find_lr(self) -> None:
        """Run the learning-rate finder on the form as it is (a run of its own); its suggestion goes into the
        learning_rate field when it ends."""
        from dataclasses import replace

        from tuiapp.runs import launch

        if self.config is None:
            self.notify("fix the fields marked in red first", severity="warning")
            return
        if self.finder is not None:
            self.notify(f"the finder {self.finder[0]} is still running", severity="warning")
            return
        config = replace(self.config, finder={"start": 1e-7, "end": 10.0}, hp=dict(self.config.hp), name="")
        problems = config.problems()
        if problems or "learning_rate" not in config.hp:
            self.notify(problems[0] if problems else f"{config.arch} has no learning rate", severity="warning")
            return
        try:
            record = launch.start(config, self.app.store)
        except UserError as exc:
            self.app.show_error("Cannot start the finder", str(exc))
            return
        self.finder = (record.id, self.set_interval(0.5, self._finder_done))
        self.notify(f"finding a learning rate ({record.id}): the suggestion goes into learning_rate", timeout=4)

    def _finder_done(self) -> None:
        from tuiapp.runs.status import ACTIVE

        if self.finder is None:
            return
        run_id, timer = self.finder
        record = self.app.store.get(run_id)
        if record.status in ACTIVE:
            return
        timer.stop()
        self.finder = None
        lr = (record.metrics or {}).get("suggested_learning_rate")
        if record.status != "finished" or lr is None:
            self.notify(f"the finder {run_id} ended {record.status}: {record.error or 'no suggestion'}",
                        severity="warning")
            return
        field = self.query_one("#hp-learning_rate", Input)
        field.value = f"{lr:.2g}"
        self.notify(f"learning rate {lr:.2g} suggested by {run_id} (`tuiapp show {run_id}` draws its curve)",
                    timeout=6)

    def _start_sweep(self) -> None:
        """Fields with a|b values become the grid; every other field, as shown, is shared."""
        from tuiapp.sweeps import engine
        from tuiapp.sweeps.spec import SweepSpec

        try:
            spec = SweepSpec.from_config(self.config, {k: list(parts) for k, parts in self.alternatives.items()})
            sweep = engine.start(spec, self.app.store)
        except UserError as exc:
            self.app.show_error("Cannot start the sweep", str(exc))
            return
        self.app.open_sweep(sweep.id)
