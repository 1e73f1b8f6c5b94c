"""Shared fixtures: an isolated run home per test, and helpers to run the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh TUIAPP_HOME, offline (no download attempts), no full data sets visible."""
    home = tmp_path / "home"
    monkeypatch.setenv("TUIAPP_HOME", str(home))
    monkeypatch.setenv("TUIAPP_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("TUIAPP_DATA_DIR", raising=False)
    monkeypatch.setattr("tuiapp.data.sources.DEBIAN_DIR", tmp_path / "debian")
    return home


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TUIAPP_HOME": str(home), "TUIAPP_OFFLINE": "1", "KERAS_HOME": str(home.parent / "keras"),
                "COLUMNS": "100", "PYTHONPATH": str(ROOT)})
    env.pop("TUIAPP_DATA_DIR", None)
    env.update(extra)
    return env


def run_cli(home: Path, *args: str, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
    """Run `python -m tuiapp ARGS` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True,
                          timeout=timeout, env=cli_env(home, **extra), cwd=str(home.parent))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.1):
    """Poll until predicate() is truthy; returns its value or fails."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


# Tests that take a quarter of a minute or more each on this machine, quiet (measured with --durations): marked
# slow so that the default suite stays within 10 minutes; `.ci/run` runs them after the default suite.
SLOW = {
    "tests/test_ui_form.py::test_every_ordered_pair_of_networks_starts_what_the_form_shows",
    "tests/test_ray.py::test_cancel_and_driver_death_then_resume",
    "tests/test_backends.py::test_jax_trains_records_resumes_and_is_deterministic",
    "tests/test_columns.py::test_a_pipe_is_not_wrapped_and_json_is_compact",
    "tests/test_engine.py::test_same_seed_same_metrics",
    "tests/test_lifecycle.py::test_cancel_then_resume[text]",
    "tests/faults/test_kills.py::test_keras_kill_during_final_save_resumes_to_a_real_evaluation",
    "tests/test_engine.py::test_kill_9_is_interrupted_and_resume_completes",
    "tests/faults/test_kills.py::test_kill_then_resume_completes_exactly[keras-final-save]",
    "tests/test_identity.py::test_every_run_records_the_checksum_of_what_it_read",
    "tests/test_export.py::test_tensorboard_export_has_hparams_histograms_images_and_text",
    "tests/test_backends.py::test_precision_is_recorded_shown_and_refused_when_wrong",
    "tests/test_ui.py::test_launch_validate_start_and_watch[size1]",
    "tests/test_reliability.py::test_a_busy_index_is_one_bounded_wait_and_a_resume_changes_nothing",
    "tests/faults/test_kills.py::test_kill_then_resume_completes_exactly[text-final-save]",
    "tests/test_text.py::test_short_run_learns_and_samples_from_its_vocabulary",
    "tests/test_backends.py::test_jax_text_model_and_its_sampler",
    "tests/test_columns.py::test_tui_at_80x24_and_60x18_shows_whole_ids_statuses_and_numbers",
    "tests/test_ui.py::test_cancel_a_run_from_the_dashboard",
    "tests/test_columns.py::test_cli_at_80_columns_cuts_no_id_status_or_number",
    "tests/test_ui.py::test_attach_to_a_detached_cli_run_and_quit_leaving_it_running",
    "tests/faults/test_concurrent.py::test_four_runs_a_polling_reader_and_a_resume",
    "tests/test_identity.py::test_the_right_subfolder_is_found_and_random_files_are_not_judged",
    "tests/test_engine.py::test_cancel_then_resume",
    "tests/test_ui_sweeps.py::test_form_values_with_bars_start_a_sweep_shown_live",
    "tests/test_columns.py::test_ctrl_c_while_following_detaches_with_exit_0",
    "tests/test_ui.py::test_text_timeline_and_interactive_generation",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW:
            item.add_marker(pytest.mark.slow)
