"""Views of what a network computes inside, for one test image: a CNN's filters and feature maps, an RNN's hidden
state over its time steps with the prediction after each, an MLP's hidden activations and their mean per class
(from the run's inside record, `tuiapp.runs.inside`). Rich renderables only; the run screen's panels and `tuiapp
show --feature-maps/--hidden-states/--activations` draw these (gradient flow: `views/gradients.py`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.text import Text

from tuiapp.errors import UserError
from tuiapp.runs.inside import InsideRecord
from tuiapp.views.chart import sparkline
from tuiapp.views.render import image_cells

SHOWN_MAPS = 8  # maps a layer in the short form (`tuiapp show RUN` without --feature-maps)
STATE_ROWS = 64  # an RNN's units are drawn in at most this many rows (block means beyond)


# -- pictures ---------------------------------------------------------------------------------------------------
def _picture(values: np.ndarray, color: bool, low: float | None = None, high: float | None = None,
             upscale: int = 1) -> list[Text]:
    """A 2-D array as a half-block grey picture scaled to [low, high] (its own range by default)."""
    v = np.asarray(values, dtype=np.float32)
    if upscale > 1:
        v = np.kron(v, np.ones((upscale, upscale), dtype=np.float32))
    low = float(v.min()) if low is None else low
    high = float(v.max()) if high is None else high
    grey = (v - low) / ((high - low) or 1.0) * 255
    if grey.shape[0] % 2:
        grey = np.vstack([grey, np.zeros((1, grey.shape[1]), dtype=np.float32)])
    return image_cells(np.clip(grey, 0, 255), scale=1, color=color)


def _tile(pictures: list[list[Text]], captions: list[str], width: int) -> list[Text]:
    """Pictures side by side, wrapped at `width`, each with its caption under it."""
    lines: list[Text] = []
    if not pictures:
        return lines
    cell = max(max(p[0].cell_len for p in pictures if p), max(len(c) for c in captions)) + 1
    per_row = max(1, width // cell)
    for start in range(0, len(pictures), per_row):
        chunk = list(zip(pictures[start:start + per_row], captions[start:start + per_row]))
        height = max(len(p) for p, _ in chunk)
        for i in range(height):
            line = Text()
            for p, _ in chunk:
                part = p[i] if i < len(p) else Text("")
                line.append_text(part)
                line.append(" " * (cell - part.cell_len))
            lines.append(line)
        lines.append(Text("".join(c[:cell - 1].ljust(cell) for _, c in chunk), style="dim"))
    return lines


def _heading(record: InsideRecord, at: int, what: str) -> Text:
    image, true = record.images[at], record.true[at]
    top = record.top(at)
    label = record.labels[true] if true < len(record.labels) else str(true)
    verdict = "right" if top[0][0] == label else "WRONG"
    others = ", ".join(f"{name} {p:.2f}" for name, p in top)
    return Text.from_markup(f"[bold]{what}, epoch {record.epoch}: test image {image}[/] (true {label}, predicted "
                            f"{top[0][0]}: {verdict}; top 3: {others}); recorded images: "
                            f"{', '.join(map(str, record.images))}")


def load_record(record_dir: Any, kind: str, flag: str, run: Any) -> InsideRecord:
    """The run's inside record of `kind`, or one line saying why there is none."""
    from tuiapp.runs.rundir import RunDir

    record = InsideRecord.load(RunDir(record_dir).inside)
    if record is not None and record.kind == kind:
        return record
    raise UserError(f"{flag}: run {run.id} has not recorded it yet (it is written at the end of each epoch; runs "
                    "made before this version have none)")


def render_feature_maps(record: InsideRecord, image: int | None, width: int, color: bool,
                        every: bool = True) -> list[Any]:
    """The input, the first convolution's filters, and every convolution's and pooling layer's maps."""
    at = record.position(image)
    out: list[Any] = [_heading(record, at, "feature maps")]
    out += _tile([_picture(record.pictures[at], color)], ["input"], width)
    if record.filters is not None:
        f = record.filters  # (k, k, in, filters): the first input channel of each
        k = f.shape[0]
        up = max(1, 6 // k)
        low, high = float(f.min()), float(f.max())
        out.append(Text(f"first-layer filters ({f.shape[-1]}, {k}x{k}, one grey scale: white positive)", style="bold"))
        out += _tile([_picture(f[:, :, 0, i], color, low, high, up) for i in range(f.shape[-1])],
                     [str(i) for i in range(f.shape[-1])], width)
    for layer in record.layers:
        if layer["what"] != "maps":
            continue
        maps = record.maps(layer["name"], at)
        h, w, channels = maps.shape
        shown = channels if every else min(channels, SHOWN_MAPS)
        more = f"; {channels - shown} more with --feature-maps" if shown < channels else ""
        out.append(Text(f"{layer['name']} ({layer['type']}): {channels} maps of {h}x{w}{more}", style="bold"))
        out += _tile([_picture(maps[:, :, c], color) for c in range(shown)], [str(c) for c in range(shown)], width)
    return out


def render_hidden_states(record: InsideRecord, image: int | None, width: int, color: bool) -> list[Any]:
    """The hidden state over the time steps (units down, steps across) and the prediction after each step."""
    from tuiapp.views.regions import unit_map

    at = record.position(image)
    out: list[Any] = [_heading(record, at, "hidden states")]
    layer = next(layer for layer in record.layers if layer["what"] == "states")
    states = np.asarray(record.arrays[f"{layer['name']}.states"][at], dtype=np.float32)  # (steps, units)
    probs = record.arrays[f"{layer['name']}.step_probs"][at]  # (steps, classes)
    steps, units = states.shape
    groups = math.ceil(units / STATE_ROWS)
    rows = states.T if groups == 1 else np.array([states.T[i:i + groups].mean(axis=0) for i in range(0, units, groups)])
    picture = _picture(record.pictures[at], color)
    heat = unit_map(rows.tolist(), color).split("\n")
    label = f"{layer['name']}: {units} units x {steps} steps" + (f" (each row the mean of {groups} units)"
                                                                 if groups > 1 else "")
    out.append(Text(label + "; blue high, orange low" if color else label, style="bold"))
    gap = " " * 3
    for i in range(max(len(picture), len(heat))):
        line = Text()
        line.append_text(picture[i] if i < len(picture) else Text(" " * 28))
        line.append(gap)
        if i < len(heat):
            line.append_text(heat[i])
        out.append(line)
    pred = probs.argmax(axis=1)
    final = int(pred[-1])
    true = record.true[at]
    name = record.labels[final] if final < len(record.labels) else str(final)
    out.append(Text("prediction after each step (class; the true class's probability below):", style="bold"))
    out.append(Text("".join(str(p)[-1] for p in pred)))
    out.append(Text(sparkline([float(p) for p in probs[:, true]], steps, 0.0, 1.0)))
    stays = next((s for s in range(steps) if all(pred[t] == final for t in range(s, steps))), steps - 1)
    out.append(Text(f"it settles on {name} from step {stays + 1} of {steps}"
                    + (" (right)" if final == true else f" (wrong: the image is a {record.labels[true]})")))
    return out


def _strip(values: np.ndarray, color: bool) -> list[Text]:
    """A layer's activations as a near-square half-block picture (units row by row)."""
    n = len(values)
    side = math.ceil(math.sqrt(n))
    padded = np.full(side * side, np.nan, dtype=np.float32)
    padded[:n] = values
    grid = padded.reshape(side, side)
    return _picture(np.nan_to_num(grid, nan=float(np.nanmin(values)) if n else 0.0), color)


def render_activations(record: InsideRecord, image: int | None, width: int, color: bool) -> list[Any]:
    """Each hidden layer's activations for the image, and its units' mean activation per class."""
    at = record.position(image)
    out: list[Any] = [_heading(record, at, "activations")]
    layers = [layer for layer in record.layers if layer["what"] == "units"]
    pictures = [_picture(record.pictures[at], color)] + [_strip(record.arrays[f"{layer['name']}.units"][at], color)
                                                           for layer in layers]
    captions = ["input"] + [f"{layer['name']} ({layer['shape'][0]})" for layer in layers]
    out += _tile(pictures, captions, width)
    shades = " .:-=+*#%@"
    for layer in layers:
        means = np.asarray(record.arrays[f"{layer['name']}.class_means"])  # (classes, units)
        order = np.lexsort((-means.max(axis=0), means.argmax(axis=0)))  # units grouped by the class they prefer
        m = means[:, order]
        low, high = float(m.min()), float(m.max())
        span = (high - low) or 1.0
        names = [str(n)[:8] for n in record.labels]
        lab = max(len(n) for n in names) + 1
        per = max(8, width - lab - 1)
        out.append(Text(f"{layer['name']}: mean activation per class (units across, grouped by the class each "
                        f"responds to most; {low:.2f}..{high:.2f})", style="bold"))
        for start in range(0, m.shape[1], per):
            for c, name in enumerate(names):
                line = Text(name.ljust(lab))
                for v in m[c, start:start + per]:
                    t = (v - low) / span
                    if color:
                        g = int(t * 255)
                        line.append("█", style=f"rgb({g},{g},{g})")
                    else:
                        line.append(shades[min(len(shades) - 1, int(t * len(shades)))])
                out.append(line)
            if start + per < m.shape[1]:
                out.append(Text(""))
    return out


def inside_json(record: InsideRecord, image: int | None) -> dict[str, Any]:
    """One image's inside view as data (`--json` of --feature-maps, --hidden-states, --activations)."""
    at = record.position(image)
    out: dict[str, Any] = {"epoch": record.epoch, "image": record.images[at], "true": record.true[at],
                           "top3": [{"class": name, "probability": p} for name, p in record.top(at)],
                           "recorded_images": record.images, "layers": []}
    if record.filters is not None:
        out["filters"] = np.round(record.filters[:, :, 0, :].transpose(2, 0, 1), 5).tolist()
    for layer in record.layers:
        name, entry = layer["name"], {"layer": layer["name"], "type": layer["type"], "shape": layer["shape"]}
        if layer["what"] == "maps":
            entry["maps"] = np.round(record.maps(name, at).transpose(2, 0, 1), 4).tolist()
        elif layer["what"] == "units":
            entry["activations"] = np.round(record.arrays[f"{name}.units"][at], 5).tolist()
            entry["class_means"] = np.round(record.arrays[f"{name}.class_means"], 5).tolist()
        else:
            entry["states"] = np.round(np.asarray(record.arrays[f"{name}.states"][at], np.float32), 4).tolist()
            entry["step_probabilities"] = np.round(record.arrays[f"{name}.step_probs"][at], 5).tolist()
        out["layers"].append(entry)
    return out
