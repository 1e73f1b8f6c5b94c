"""`tuiapp train`, `resume` and `watch`."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        arch: Annotated[str, typer.Argument(help="Architecture id (see `tuiapp models`).")],
        preset: Annotated[str | None, typer.Option("--preset", "-p", help="Book preset, e.g. A.")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", "-s", help="Hyperparameter as key=value; repeat for more (e.g. --set learning_rate=0.01).")] = None,
        epochs: Annotated[str | None, typer.Option("--epochs", "-e", help="Epochs to train.")] = None,
        batch_size: Annotated[str | None, typer.Option("--batch-size", "-b", help="Batch size.")] = None,
        seed: Annotated[str | None, typer.Option("--seed", help="Random seed.")] = None,
        data: Annotated[str | None, typer.Option("--data", "-d", help="Data set: mnist, fashion-mnist, text, and, or, xor, linear.")] = None,
        data_dir: Annotated[str | None, typer.Option("--data-dir", help="Folder with the full IDX files.")] = None,
        source: Annotated[str | None, typer.Option("--source", help="auto, full or sample.")] = None,
        text: Annotated[str | None, typer.Option("--text", help="UTF-8 text file for text models.")] = None,
        device: Annotated[str | None, typer.Option("--device", help="cpu, gpu or auto.")] = None,
        backend: Annotated[str | None, typer.Option("--backend", help="Keras backend: auto (the fastest measured "
                                                                  "for the network), tensorflow, jax, torch.")] = None,
        precision: Annotated[str | None, typer.Option("--precision", help="auto (bfloat16 only where measured "
                                                                      "faster at the same accuracy), float32, bfloat16.")] = None,
        name: Annotated[str | None, typer.Option("--name", help="A name for the run.")] = None,
        detach: Annotated[bool, typer.Option("--detach", help="Start the run and return at once.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line; the last holds the final metrics.")] = False,
        weights: Annotated[bool, typer.Option("--weights", help="With --json: every weight and kernel picture too.")] = False,
        launcher: Annotated[str, typer.Option("--launcher", help="Where the run starts: local (a process here) or "
                                                                 "slurm (a SLURM job).")] = "local",
        partition: Annotated[str | None, typer.Option("--partition", help="slurm: the partition.")] = None,
        time_limit: Annotated[str | None, typer.Option("--time", help="slurm: auto or HH:MM:SS.")] = None,
        mem: Annotated[str | None, typer.Option("--mem", help="slurm: memory (e.g. 4G).")] = None,
        gpus_per_run: Annotated[float | None, typer.Option("--gpus-per-run", help="slurm: GPUs (--gres).")] = None,
        account: Annotated[str | None, typer.Option("--account", help="slurm: the account.")] = None,
        sbatch_arg: Annotated[list[str] | None, typer.Option("--sbatch-arg", help="slurm: one more sbatch "
                                                                                  "argument (repeatable).")] = None,
    ) -> None:
        """Train a network of the zoo in its own process and follow it (Ctrl-C detaches, the run goes on)."""
        from tuiapp.cli.follow import follow
        from tuiapp.config import RunConfig
        from tuiapp.runs import launch
        from tuiapp.runs.store import RunStore

        overrides = {"data": data, "data_dir": data_dir,
                     "source": source, "text": text, "device": device, "backend": backend,
                     "precision": precision, "name": name}
        # Numbers go through the same parser and checks as --set (ASCII digits, ranges).
        numbers = [f"{key}={value}" for key, value in (("epochs", epochs), ("batch_size", batch_size), ("seed", seed))
                   if value is not None]
        config = RunConfig.create(arch, preset, [*numbers, *(set_ or [])], **overrides)
        store = RunStore()
        from tuiapp.runs import launchers

        chosen = launchers.get(launcher, **launchers.check_options(launcher, {
            "partition": partition, "time": time_limit, "mem": mem, "gpus_per_run": gpus_per_run,
            "account": account, "sbatch_args": sbatch_arg or None}))
        launchers.launcher_class(launcher).preflight({"time": time_limit})
        record = launch.start(config, store, chosen)
        where = f"{launcher} job {record.task}" if record.pid is None and record.task else f"pid {record.pid}"
        if detach:
            if as_json:
                import json

                typer.echo(json.dumps({"run": record.id, "type": "started", "pid": record.pid, "dir": str(record.dir)}))
            else:
                typer.echo(f"started {record.id} ({where}); `tuiapp watch {record.id}` follows it, "
                           f"`tuiapp cancel {record.id}` stops it")
            return
        raise typer.Exit(follow(record, store, as_json, weights=weights))

    @app.command("lr-find")
    def lr_find(
        arch: Annotated[str, typer.Argument(help="A Keras image network: mlp, softmax-regression, cnn, rnn.")],
        preset: Annotated[str | None, typer.Option("--preset", "-p", help="Book preset, e.g. A.")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", "-s", help="Hyperparameter as key=value; repeat for more.")] = None,
        start: Annotated[float, typer.Option("--start", help="The first learning rate.")] = 1e-7,
        end: Annotated[float, typer.Option("--end", help="The last learning rate (never reached if the loss "
                                                         "explodes first).")] = 10.0,
        data: Annotated[str | None, typer.Option("--data", "-d", help="mnist or fashion-mnist.")] = None,
        data_dir: Annotated[str | None, typer.Option("--data-dir", help="Folder with the full IDX files.")] = None,
        source: Annotated[str | None, typer.Option("--source", help="auto, full or sample.")] = None,
        backend: Annotated[str | None, typer.Option("--backend", help="Keras backend: auto, tensorflow, jax.")] = None,
        detach: Annotated[bool, typer.Option("--detach", help="Start the finder and return at once.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line; the last holds "
                                                             "suggested_learning_rate and the curve.")] = False,
    ) -> None:
        """Learning-rate finder: at most one epoch from the configured start while the rate rises exponentially
        (1e-7 to 10 by default), stopping when the loss explodes; draws loss against the rate and suggests one."""
        from tuiapp.cli.follow import follow
        from tuiapp.config import RunConfig
        from tuiapp.runs import launch, launchers
        from tuiapp.runs.store import RunStore

        config = RunConfig.create(arch, preset, list(set_ or []), data=data, data_dir=data_dir, source=source,
                                  backend=backend, finder={"start": start, "end": end})
        store = RunStore()
        record = launch.start(config, store, launchers.get("local"))
        if detach:
            typer.echo(f"started the finder {record.id} (pid {record.pid}); `tuiapp show {record.id}` draws its curve")
            return
        code = follow(record, store, as_json)
        from tuiapp.cli.show import show_finder

        show_finder(record.id, as_json)
        raise typer.Exit(code)

    @app.command("resume")
    def resume(
        run: Annotated[str, typer.Argument(help="Run id, number or 'last'.")],
        epochs: Annotated[int | None, typer.Option("--epochs", "-e", help="Train up to this many epochs in all.")] = None,
        detach: Annotated[bool, typer.Option("--detach", help="Return at once.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
        weights: Annotated[bool, typer.Option("--weights", help="With --json: every weight and kernel picture too.")] = False,
    ) -> None:
        """Continue a cancelled, interrupted, failed or diverged run from its last completed epoch."""
        from tuiapp.cli.follow import follow
        from tuiapp.runs import launch
        from tuiapp.runs.rundir import RunDir
        from tuiapp.runs.store import RunStore

        store = RunStore()
        before = store.get(run)
        events = RunDir(before.dir).events
        size = events.stat().st_size if events.exists() else 0
        record = launch.resume(run, store, epochs)
        if detach:
            typer.echo(f"resumed {record.id} (pid {record.pid})")
            return
        raise typer.Exit(follow(record, store, as_json, offset=size, weights=weights))

    @app.command("watch")
    def watch(
        run: Annotated[str, typer.Argument(help="Run id, number or 'last'.")],
        as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
        weights: Annotated[bool, typer.Option("--weights", help="With --json: every weight and kernel picture too.")] = False,
    ) -> None:
        """Follow a run (started here, from another terminal or by the UI) until it ends."""
        from tuiapp.cli.follow import follow
        from tuiapp.runs.store import RunStore

        store = RunStore()
        raise typer.Exit(follow(store.get_current(run), store, as_json, weights=weights))


def register_step(app: typer.Typer) -> None:
    @app.command("step")
    def step(
        arch: Annotated[str, typer.Argument(help="A tiny network: neuron, perceptron, xor-mlp, fd-mlp, linear-fd.")],
        steps: Annotated[int, typer.Option("--steps", "-n", help="How many steps to show.")] = 1,
        preset: Annotated[str | None, typer.Option("--preset", "-p", help="Preset.")] = None,
        set_: Annotated[list[str] | None, typer.Option("--set", "-s", help="Hyperparameter as key=value.")] = None,
        data: Annotated[str | None, typer.Option("--data", "-d", help="Toy data set (and, or, xor, linear).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Each step as a JSON line.")] = False,
    ) -> None:
        """Backpropagation made visible: the first N training steps of a tiny network, number by number."""
        import json

        from tuiapp.backprop import step_records
        from tuiapp.cli.console import console as make_console
        from tuiapp.config import RunConfig
        from tuiapp.errors import UserError
        from tuiapp.views.steps import step_view

        if steps < 1:
            raise UserError(f"--steps {steps}: give at least 1")
        config = RunConfig.create(arch, preset, set_ or [], data=data)
        console = make_console()
        losses: list[float] = []
        for record in step_records(config, steps):
            if record.get("loss") is not None:
                losses.append(record["loss"])
            if as_json:
                typer.echo(json.dumps(record))
            else:
                console.print(step_view(record, losses))
                console.print()
