"""The launch form: what starts is what the form shows, for every ordered pair of networks; keys are never lost."""

from __future__ import annotations

import itertools

from textual import events
from textual.widgets import Input, OptionList, Select, Switch

import models
from tuiapp.config import RunConfig
from tuiapp.ui.app import make_app
from tuiapp.ui.widgets.form import HyperparamForm

from .test_ui import choose, until

ARCHS = list(models.REGISTRY)


def shown(screen) -> dict:
    """What the form shows: preset, data set and every field, read back from the widgets."""
    form = screen.query_one(HyperparamForm)
    values = {}
    for param in form.arch.params:
        widget = screen.query_one(f"#hp-{param.name}")
        if isinstance(widget, Input):
            values[param.name] = param.parse(widget.value)
        elif isinstance(widget, Switch):
            values[param.name] = widget.value
        else:
            values[param.name] = widget.value
    preset = screen.query_one("#preset", Select)
    label = str(preset.query_one("SelectCurrent").query_one("#label").render())
    return {"arch": form.arch.id, "preset": str(preset.value).partition("/")[2], "preset_label": label,
            "data": screen.query_one("#dataset", Select).value, "hp": values}


async def highlight(pilot, arch: str) -> None:
    archs = pilot.app.screen.query_one("#archs", OptionList)
    archs.highlighted = archs.get_option_index(arch)
    await until(pilot, lambda: pilot.app.screen.arch_id == arch and pilot.app.screen.config is not None
                and pilot.app.screen.query_one(HyperparamForm).arch.id == arch, 10)
    await pilot.pause(0.05)


async def test_every_ordered_pair_of_networks_starts_what_the_form_shows(home):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        for first, second in itertools.permutations(ARCHS, 2):
            await highlight(pilot, first)
            await highlight(pilot, second)
            screen = app.screen
            expected = RunConfig.create(second)
            form = shown(screen)
            arch = models.get(second)
            assert form["arch"] == second and form["preset"] == expected.preset, (first, second, form)
            title = arch.preset(expected.preset).title
            assert title in form["preset_label"], (first, second, form["preset_label"])
            assert form["data"] == expected.data == screen.config.data, (first, second)
            assert form["hp"] == expected.hp == screen.config.hp, (first, second)
            assert (screen.config.arch, screen.config.preset) == (second, expected.preset)


def burst(app, keys: list[str]) -> None:
    """Keys arriving together, as from fast typing: all posted before any is handled."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def test_fast_typing_and_paste_give_exactly_what_was_typed(home):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await choose(pilot, "mlp")
        field = app.screen.query_one("#hp-units", Input)
        field.focus()
        await pilot.pause(0.1)
        field.cursor_position = len(field.value)
        burst(app, [*(["backspace"] * 8), *"64,32"])
        await until(pilot, lambda: app.screen.config is not None and app.screen.config.hp["units"] == [64, 32], 5)
        assert field.value == "64,32"
        burst(app, ["home", "delete", "delete", *"128", "end", "left", "left", "left", "backspace", "ctrl+e", *"0"])
        await pilot.pause(0.5)
        assert field.value == "12,320"  # every key applied, in order
        field.value = ""
        field.post_message(events.Paste("512,256\nignored"))
        await pilot.pause(0.3)
        assert field.value == "512,256" and app.screen.config.hp["units"] == [512, 256]


async def test_letters_typed_into_fields_stay_in_the_fields(home):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await choose(pilot, "mlp")
        screen = app.screen
        field = screen.query_one("#hp-epochs", Input)
        field.focus()
        await pilot.pause(0.1)  # focusing selects the field's text; typing would replace it
        field.value = "40"
        field.cursor_position = 2
        burst(app, list("rqlce"))
        await pilot.pause(0.5)
        assert app.screen is screen and field.value == "40rqlce"


async def test_the_form_shows_and_starts_the_precision(home):
    from tuiapp.runs.backends import cpu_has_bf16

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await highlight(pilot, "cnn")
        screen = app.screen
        note = str(screen.query_one("#precision-note").render())
        assert "auto = " + ("bfloat16" if cpu_has_bf16() else "float32") in note, note
        screen.query_one("#precision", Select).value = "float32"
        await until(pilot, lambda: screen.config is not None and screen.config.precision == "float32", 5)
        await highlight(pilot, "mlp")
        assert screen.config.precision == "float32"  # a run setting, like the backend: kept across networks
