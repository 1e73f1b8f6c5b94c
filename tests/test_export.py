"""Exports: CSV, JSON, and TensorBoard event files that TensorFlow itself can read back."""

from __future__ import annotations

import csv
import json

from .conftest import json_lines, run_cli


def test_export_formats(home, tmp_path):
    out = run_cli(home, "train", "scratch-mlp", "--epochs", "2", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    target = tmp_path / "exports"
    csv_out = run_cli(home, "export", run_id, "--format", "csv", "--out", str(target))
    assert csv_out.returncode == 0, csv_out.stderr
    with open(target / f"{run_id}-history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and float(rows[1]["val_accuracy"]) > 0.5
    with open(target / f"{run_id}-batches.csv") as handle:
        assert len(list(csv.DictReader(handle))) >= 2
    json_out = run_cli(home, "export", run_id, "--format", "json", "--out", str(target))
    doc = json.loads((target / f"{run_id}.json").read_text())
    assert json_out.returncode == 0 and doc["status"] == "finished" and doc["config"]["arch"] == "scratch-mlp"
    assert [e["type"] for e in doc["events"]][-1] == "status"
    tb_out = run_cli(home, "export", run_id, "--format", "tensorboard", "--out", str(target))
    assert tb_out.returncode == 0, tb_out.stderr
    event_file = next((target / f"{run_id}-tensorboard").glob("events.out.tfevents.*"))

    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    scalars = {}
    for raw in tf.data.TFRecordDataset(str(event_file)):  # checks every record's CRC
        event = event_pb2.Event.FromString(raw.numpy())
        for value in event.summary.value:
            scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    assert [step for step, _ in scalars["epoch/val_accuracy"]] == [1, 2]
    assert abs(scalars["epoch/val_accuracy"][-1][1] - float(rows[1]["val_accuracy"])) < 1e-6
    assert "test/accuracy" in scalars and "batch/loss" in scalars


def test_tensorboard_export_has_hparams_histograms_images_and_text(home, tmp_path):
    """Read back with TensorBoard's own reader: what its Scalars, Histograms, Images, Text and HParams tabs show."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = run_cli(home, "train", "mlp", "--epochs", "2", "--set", "units=16", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    assert run_cli(home, "export", run_id, "--format", "tensorboard", "--out", str(tmp_path)).returncode == 0
    acc = EventAccumulator(str(tmp_path / f"{run_id}-tensorboard"), size_guidance={"images": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"epoch/val_accuracy", "test/accuracy", "batch/loss"} <= set(tags["scalars"])
    assert "weights/dense_0/kernel" in tags["histograms"]
    assert [e.step for e in acc.Histograms("weights/dense_0/kernel")] == [1, 2]
    assert {"confusion/validation", "confusion/test", "misclassified/test"} <= set(tags["images"])
    assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")
    text_out = run_cli(home, "train", "char-lstm", "--epochs", "1", "--set", "units=8", "--set", "sample_every=0",
                       "--set", "sample_length=20", "--json")
    text_id = json_lines(text_out.stdout)[-1]["run"]
    run_cli(home, "export", text_id, "--format", "tensorboard", "--out", str(tmp_path))
    text = EventAccumulator(str(tmp_path / f"{text_id}-tensorboard"))
    text.Reload()
    assert any(tag.startswith("samples/T=") for tag in text.Tags()["tensors"])


def test_sweep_export_to_tensorboard_one_run_folder_with_hparams_each(home, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    out = run_cli(home, "sweep", "scratch-mlp", "--grid", "learning_rate=0.0005|0.001", "--set", "units=16",
                  "--set", "validation_size=500", "--set", "epochs=1", timeout=300)
    assert out.returncode == 0, out.stdout[-2000:]
    done = run_cli(home, "sweep", "export", "last", "--format", "tensorboard", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    folders = sorted((tmp_path / "sweep-1-tensorboard").iterdir())
    assert [f.name.split("-")[1] for f in folders] == ["1", "2"]
    rates = []
    for folder in folders:
        acc = EventAccumulator(str(folder))
        acc.Reload()
        content = acc.PluginTagToContent("hparams")
        start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        rates.append(start.session_start_info.hparams["learning_rate"].number_value)
    assert rates == [0.0005, 0.001]


def test_without_tensorboardx_the_scalars_are_still_written(home, tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tuiapp.cli.export import export_run
    from tuiapp.runs import tensorboard

    out = run_cli(home, "train", "scratch-mlp", "--epochs", "2", "--set", "units=16", "--json")
    run_id = json_lines(out.stdout)[-1]["run"]
    monkeypatch.setattr(tensorboard, "has_tensorboardx", lambda: False)
    [folder] = export_run(run_id, "tensorboard", tmp_path)
    acc = EventAccumulator(str(folder))
    acc.Reload()
    assert [e.step for e in acc.Scalars("epoch/val_accuracy")] == [1, 2] and not acc.Tags()["histograms"]
