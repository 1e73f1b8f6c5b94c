"""The Textual app: `make_app()` is used by `tuiapp` and by the tests."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tuiapp.runs.store import ACTIVE, RunStore
from tuiapp.ui.screens.modals import ErrorModal, QuitModal


class TuiApp(App[None]):
    """Pick a network, edit it, launch it, watch it learn, browse and compare runs."""

    CSS_PATH = "app.tcss"
    TITLE = "tuiapp"
    SUB_TITLE = "neural network experiment explorer"
    BINDINGS = [
        Binding("l", "launch", "Launch"),
        Binding("r", "runs", "Runs"),
        Binding("w", "sweeps", "Sweeps"),
        Binding("L", "lessons", "Lessons"),
        Binding("ctrl+q", "quit_app", "Quit"),
        Binding("ctrl+c", "quit_app", "Quit", show=False, priority=True),
    ]

    def __init__(self, store: RunStore | None = None, start: str = "launch"):
        super().__init__()
        self.store = store or RunStore()
        self.start = start

    def on_mount(self) -> None:
        from tuiapp.ui.screens.launch import LaunchScreen
        from tuiapp.ui.screens.runs import RunsScreen

        running = self.running_runs()
        if self.start == "runs" or running:
            self.push_screen(LaunchScreen())
            self.push_screen(RunsScreen())
            if running:  # reopening while runs train: show them first
                self.notify(f"{len(running)} run(s) training: {', '.join(running[:4])}; Enter opens one, "
                            "Esc goes to the launch form")
        else:
            self.push_screen(LaunchScreen())

    def get_system_commands(self, screen):  # type: ignore[override]
        """The palette offers every action of the current screen and the app, with its key."""
        from functools import partial

        from textual.app import SystemCommand

        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":  # replaced below by one that says where the file went
                yield command
        yield SystemCommand("Screenshot", "Save an SVG picture of this screen under TUIAPP_HOME/screenshots",
                            self.action_save_screenshot)
        seen: set[str] = {"Quit"}  # the system Quit above already routes through action_quit_app
        for description, key, action in getattr(screen, "palette_commands", list)():
            seen.add(description)
            yield SystemCommand(description, f"key: {key}", partial(self.run_action, action, screen))
        for namespace, bindings in ((screen, screen.BINDINGS), (self, self.BINDINGS)):
            for binding in bindings:
                if not isinstance(binding, Binding) or not binding.description or binding.description in seen:
                    continue
                action = binding.action.partition("(")[0]
                if hasattr(namespace, "check_action") and namespace.check_action(action, _params(binding.action)) \
                        is False:
                    continue  # does not apply now (cancel of a finished run, a tab this run has not)
                seen.add(binding.description)
                key = binding.key_display or self.get_key_display(binding)
                yield SystemCommand(binding.description, f"key: {key}",
                                    partial(self.run_action, binding.action, namespace))

    def action_save_screenshot(self) -> None:
        """Save an SVG of the screen and say where."""
        folder = self.store.home / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = self.save_screenshot(path=str(folder))
        self.notify(f"screenshot saved: {path}")

    # -- navigation ------------------------------------------------------------------
    def goto(self, kind: type, make) -> None:
        """Show the screen of this kind: back to the one already open (the screens above it close), else a new
        one; so the stack never grows with copies, and Esc never walks back through old visits."""
        for index, screen in enumerate(self.screen_stack):
            if type(screen) is kind:
                while len(self.screen_stack) > index + 1:
                    self.pop_screen()
                return
        self.push_screen(make())

    def action_launch(self) -> None:
        """Open the launch screen."""
        from tuiapp.ui.screens.launch import LaunchScreen

        self.goto(LaunchScreen, LaunchScreen)

    def action_runs(self) -> None:
        """Open the runs browser."""
        from tuiapp.ui.screens.runs import RunsScreen

        self.goto(RunsScreen, RunsScreen)

    def action_sweeps(self) -> None:
        """Open the sweeps."""
        from tuiapp.ui.screens.sweeps import SweepsScreen

        self.goto(SweepsScreen, SweepsScreen)

    def action_lessons(self) -> None:
        """Open the lessons."""
        from tuiapp.ui.screens.lessons import LessonsScreen

        self.goto(LessonsScreen, LessonsScreen)

    def action_back(self) -> None:
        """Esc: back to the screen beneath, if there is one (the first screen stays)."""
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def open_sweep(self, sweep_id: str) -> None:
        """Open one sweep's live results."""
        from tuiapp.ui.screens.sweeps import SweepScreen

        self.push_screen(SweepScreen(sweep_id))

    def open_run(self, run_id: str, tab: str | None = None) -> None:
        """Open a run's dashboard (live when it is still running), on the tab of section `tab` if it has one."""
        from tuiapp.ui.screens.run import RunScreen

        try:
            self.push_screen(RunScreen(run_id, self.store, tab))
        except Exception as exc:  # a broken run folder must not take the app down
            self.show_error(f"Cannot open run {run_id}", str(exc))

    def show_error(self, title: str, message: str) -> None:
        """The one place errors are shown."""
        self.push_screen(ErrorModal(title, message))

    # -- quitting --------------------------------------------------------------------
    def running_runs(self) -> list[str]:
        """Ids of runs that are still queued or running."""
        return [r.id for r in self.store.current() if r.status in ACTIVE]

    async def action_quit(self) -> None:
        """Every way of quitting (key, palette) asks first when runs are training."""
        self.action_quit_app()

    def action_quit_app(self) -> None:
        """Quit; ask first when runs are training (they are left running by default)."""
        running = self.running_runs()
        if not running:
            self.exit()
            return

        def decided(choice: str | None) -> None:
            if choice == "cancel":
                from tuiapp.runs import launch

                for run_id in running:
                    try:
                        launch.cancel(run_id, self.store)
                    except Exception:
                        pass
            if choice in ("leave", "cancel"):
                self.exit()

        self.push_screen(QuitModal(running), decided)


def _params(action: str) -> tuple[object, ...]:
    """The arguments written in a binding's action string: "tab('tab-live')" -> ('tab-live',)."""
    import ast

    _, _, rest = action.partition("(")
    if not rest:
        return ()
    try:
        value = ast.literal_eval(f"({rest[:-1]},)")
    except (ValueError, SyntaxError):
        return ()
    return tuple(value)


def make_app(home: str | Path | None = None, start: str = "launch") -> TuiApp:
    """The app over the run store in `home` (default: TUIAPP_HOME or the user's data dir)."""
    return TuiApp(RunStore(home) if home else None, start=start)
