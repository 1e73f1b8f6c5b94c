"""ImagesPanel: training images with their labels, then the misclassified test images once the run has them."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuiapp.ui.panels.base import Panel
from tuiapp.views import render
from tuiapp.views.sections import View


class ImagesPanel(Panel):
    """The pictures are read in a thread (the data files are large): the event loop only shows them."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="images")

    def draw(self, view: View, force: bool = False) -> None:
        mis = view.state.misclassified
        key = "mis" if mis.get("items") else "sample"
        source = mis.get("source") or view.state.data.get("source")
        if not self.changed((key, bool(source)), False):
            return
        if not source:
            self.query_one("#images", Static).update(
                "no images for this run (not an image data set, or data not loaded yet)")
            return
        self.load(key, dict(source), list(mis.get("items") or []), view.color)

    @work(thread=True, exclusive=True)
    def load(self, key: str, source_info: dict, items: list, color: bool) -> None:
        from tuiapp.data import load_images
        from tuiapp.data.sources import Source

        try:
            data = load_images(Source(**source_info))
        except Exception as exc:
            self.app.call_from_thread(self.query_one("#images", Static).update, f"images unavailable: {exc}")
            return
        names = data.class_names
        if key == "mis":
            grid = render.image_grid([data.x_test[i["index"]] for i in items],
                                     [f"{names[i['true']]}->{names[i['pred']]}" for i in items], color=color)
            title = f"first {len(items)} misclassified test images (true -> predicted)"
        else:
            grid = render.image_grid(list(data.x_train[:25]), [names[y] for y in data.y_train[:25]], color=color)
            title = "25 training images with their labels (misclassified ones appear after training)"
        self.app.call_from_thread(self.query_one("#images", Static).update, Group(Text(title, style="bold"), grid))
