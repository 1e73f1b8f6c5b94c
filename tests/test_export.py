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
