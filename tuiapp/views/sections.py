"""The dashboard's sections, as a registry: `tuiapp show` prints them in order, the run screen makes a tab of each.

A section says what it is called, when it applies to a run and how it draws from the run's folded state (rich
renderables, no Textual). A new view is one renderer here plus one line in `SECTIONS`; the run screen shows it
in a scrolling tab by itself, or through the interactive panel named in `widget` (a `tuiapp.ui.panels` module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape
from rich.text import Text

from tuiapp.errors import UserError
from tuiapp.runs.state import RunState
from tuiapp.views import render
from tuiapp.views.printable import describe_steps, fmt_value, one_line, printable


@dataclass
class View:
    """What a section draws from: the run's record and folded state, and how it is being shown."""

    record: Any  # RunRecord
    state: RunState
    width: int = 100
    color: bool = True
    epoch: int | None = None  # a chosen epoch (`show --epoch`), else the latest
    chart: Any = None  # ChartOptions
    images: Callable[[dict[str, Any]], list | None] | None = None  # test images of the misclassified items
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """One view of a run: a dashboard tab and a part of `tuiapp show`."""

    id: str
    title: str
    applies: Callable[[Any], bool]  # given the run's record
    render: Callable[[View], list[Any]]  # rich renderables
    widget: str = "tuiapp.ui.panels.section:SectionPanel"  # the UI panel that shows it ("module:class")


IMAGE_DATASETS = ("mnist", "fashion-mnist")


def family_of(record: Any) -> str | None:
    import models

    arch = models.REGISTRY.get(record.arch)
    return arch.family if arch else None


def _input_kind(record: Any) -> str | None:
    import models

    arch = models.REGISTRY.get(record.arch)
    return arch.input_kind if arch else None


# -- renderers ---------------------------------------------------------------------------------------------
def render_plane(view: View) -> list[Any]:
    """The playground's decision regions, every hidden neuron's map and the weights (`views.regions`)."""
    from tuiapp.views.regions import render_regions

    return render_regions(view.state, view.epoch, view.width, view.color, view.extra.get("test", False))


def render_gradients(view: View) -> list[Any]:
    """Gradient flow and unit health per layer over the epochs (`views.inside`)."""
    from tuiapp.views.gradients import render_gradients as draw

    return draw(view.state, view.width, view.color, view.epoch if view.epoch in view.state.gradients else None)


def _inside(kind: str, draw: Callable[..., list[Any]], **options: Any) -> Callable[[View], list[Any]]:
    """A renderer of one image's inside view of a `kind` of network (the image in `view.extra["image"]`)."""

    def render_inside(view: View) -> list[Any]:
        if view.extra.get("brief"):  # the plain `tuiapp show`: a pointer (reading the record takes NumPy)
            return [Text(f"what the network computes for a recorded test image: `tuiapp show {view.record.id} "
                         f"{INSIDE_FLAG[kind]} [--image N]` (each epoch's, the latest kept)")]
        from tuiapp.runs.inside import InsideRecord
        from tuiapp.runs.rundir import RunDir

        record = InsideRecord.load(RunDir(view.record.dir).inside)
        if record is None or record.kind != kind:
            return [Text("recorded by the worker at the end of each epoch: nothing yet", style="dim")]
        return draw(record, view.extra.get("image"), view.width or 100, view.color, **options)

    return render_inside


def _draws(name: str) -> Callable[..., list[Any]]:
    def draw(*args: Any, **kwargs: Any) -> list[Any]:
        from tuiapp.views import inside

        return getattr(inside, name)(*args, **kwargs)

    return draw


INSIDE_FAMILIES = ("scratch", "mlp", "cnn", "rnn")
INSIDE_FLAG = {"cnn": "--feature-maps", "rnn": "--hidden-states", "mlp": "--activations"}  # the networks whose worker records gradients (and inside views)


def render_finder(view: View) -> list[Any]:
    """The learning-rate finder's curve and suggestion (`views.finder`)."""
    from tuiapp.views.finder import render_finder as draw

    return draw(view.state, view.width, view.color)


def render_live(view: View) -> list[Any]:
    """Loss and accuracy curves, then the confusion matrix (the test set's, or a chosen epoch's)."""
    from tuiapp.views.chart import run_chart

    state, out = view.state, []
    width = min(view.width or 100, 100)  # a pipe (no width): the charts as wide as in a wide terminal
    for metric in ("loss", "accuracy"):
        out.append(run_chart(state, metric, width, 14, view.chart, color=view.color))
    split_epochs = state.confusion_epochs("test")
    key = ("test", split_epochs[-1]) if split_epochs and view.epoch is None else None
    if key is None:
        val_epochs = state.confusion_epochs("validation")
        if val_epochs:
            if view.epoch is not None and view.epoch not in val_epochs:
                raise UserError(f"--epoch {view.epoch}: run {view.record.id} has epochs {val_epochs[0]}-"
                                f"{val_epochs[-1]}")
            key = ("validation", view.epoch if view.epoch in val_epochs else val_epochs[-1])
    if key:
        conf = state.confusion[key]
        out.append(render.confusion_table(conf["matrix"], conf["labels"],
                                          title=f"confusion matrix, {key[0]} set, epoch {key[1]}"))
    return out


def render_weights(view: View) -> list[Any]:
    """The weight statistics of the chosen (or latest) epoch; every value for tiny networks."""
    weights = view.state.weights
    if not weights:
        return []
    chosen = view.epoch if view.epoch in weights else max(weights)
    table, dropped = render.weights_table(weights[chosen], view.width)
    out: list[Any] = [Text.from_markup(f"[bold]weights after epoch {chosen}[/]"), table]
    if dropped:
        out.append(Text.from_markup(f"[dim]({', '.join(dropped)} left out at {view.width} columns)[/]"))
    if any("values" in row for row in weights[chosen]):
        out.append(render.weight_values(weights[chosen]))
    return out


def render_images(view: View) -> list[Any]:
    """The first misclassified test images with their true and predicted labels."""
    mis = view.state.misclassified
    items = mis.get("items") or []
    images = view.images(mis) if items and view.images else None
    if not images:
        return []
    labels = mis.get("labels") or view.state.class_names
    return [Text.from_markup(f"[bold]first {len(items)} misclassified test images[/] (true -> predicted)"),
            render.image_grid(images, [f"{labels[i['true']]}->{labels[i['pred']]}" for i in items], color=view.color)]


def render_text(view: View) -> list[Any]:
    """The latest generated samples, as text (line breaks and all, control characters escaped)."""
    out: list[Any] = []
    progress = render.word_progress(view.state.texts)
    if progress:
        out.append(Text(progress))
    for sample in view.state.texts[-4:]:
        share = sample.get("real_words")
        out.append(Text.from_markup(f"[bold]epoch {sample.get('epoch')}, T={sample.get('temperature')}"
                                    + (f", {share:.0%} real words" if share is not None else "") + ":[/]"))
        out.append(Text(printable(sample.get("sample", ""))))
    return out


def render_steps(view: View) -> list[Any]:
    """Which backpropagation steps were recorded (each one is `show --step N`)."""
    steps = [s["step"] for s in view.state.steps]
    if not steps:
        return []
    return [Text(f"backpropagation steps recorded: {describe_steps(steps)}; `tuiapp show {view.record.id} --step N` "
                 "shows one")]


def render_config(view: View) -> list[Any]:
    """Hyperparameters, the model summary, a twin's agreement table and the run's log lines."""
    r, state = view.record, view.state
    hp = r.config.hp
    out: list[Any] = [Text.from_markup("[bold]hyperparameters[/]: " + escape(
        "  ".join(f"{k}={fmt_value(v)}" for k, v in sorted(hp.items()))))]
    if state.model:
        from tuiapp.views.graph import model_graph

        out.append(render.summary_table(state.model["rows"], state.model.get("total")))
        out.append(Text("the graph (plot_model's figure):", style="bold"))
        out.append(model_graph(state.model["rows"], width=view.width))
    agree = state.extra.get("agree")
    if agree:
        out.append(render.agree_table(agree["rows"], f"weights agree after {agree['epochs']} epochs ({agree['twin']})"))
    out += [Text(one_line(line)) for line in state.logs[-6:]]
    return out


def _inside_recorded(record: Any) -> bool:
    """Whether the worker records what happens inside (gradients, maps, states): image networks, not finders."""
    return record.config.data in IMAGE_DATASETS and not record.config.finder


# The sections in order: the run screen's tabs and `tuiapp show`'s parts.
SECTIONS: list[Section] = [
    Section("finder", "LR finder", lambda r: bool(r.config.finder), render_finder),
    Section("live", "Live", lambda r: not r.config.finder, render_live, "tuiapp.ui.panels.live:LivePanel"),
    Section("weights", "Weights", lambda r: not r.config.finder, render_weights, "tuiapp.ui.panels.weights:WeightsPanel"),
    Section("images", "Images", lambda r: r.config.data in IMAGE_DATASETS and not r.config.finder, render_images,
            "tuiapp.ui.panels.images:ImagesPanel"),
    Section("text", "Text", lambda r: r.config.data == "text", render_text, "tuiapp.ui.panels.text:TextPanel"),
    Section("regions", "Regions", lambda r: _input_kind(r) == "plane" or (
        r.arch in ("perceptron", "xor-mlp") and r.config.data in ("and", "or", "xor")), render_plane,
            "tuiapp.ui.panels.regions:RegionsPanel"),
    Section("gradients", "Gradients", lambda r: _inside_recorded(r) and family_of(r) in INSIDE_FAMILIES,
            render_gradients),
    Section("maps", "Feature maps", lambda r: _inside_recorded(r) and family_of(r) == "cnn",
            _inside("cnn", _draws("render_feature_maps")), "tuiapp.ui.panels.inside:InsidePanel"),
    Section("states", "Hidden states", lambda r: _inside_recorded(r) and family_of(r) == "rnn",
            _inside("rnn", _draws("render_hidden_states")), "tuiapp.ui.panels.inside:InsidePanel"),
    Section("activations", "Activations", lambda r: _inside_recorded(r) and family_of(r) in ("mlp", "scratch") and bool(
        r.config.hp.get("units")), _inside("mlp", _draws("render_activations")),
            "tuiapp.ui.panels.inside:InsidePanel"),
    Section("steps", "Steps", lambda r: _input_kind(r) == "toy", render_steps, "tuiapp.ui.panels.steps:StepsPanel"),
    Section("config", "Config", lambda r: True, render_config),
]


def sections_for(record: Any) -> list[Section]:
    """The sections that apply to a run, in order."""
    return [s for s in SECTIONS if s.applies(record)]


def section(section_id: str) -> Section:
    """A section by id."""
    for s in SECTIONS:
        if s.id == section_id:
            return s
    raise KeyError(section_id)
