"""kill -9 at each phase of a run, for the Keras, text and NumPy trainers, then resume.

Every run must reach its configured epochs with exactly one history row per epoch, and its
curves intact. The NumPy trainer's phases and the Keras trainer's riskiest ones run by
default; the rest are marked slow (each costs two TensorFlow start-ups).
"""

from __future__ import annotations

import pytest

from ..conftest import json_lines
from .harness import assert_complete, resume, train_killed

PHASES = ("startup", "data", "batch@2", "checkpoint@2", "history@2", "final-save")
FAST = {("numpy", phase) for phase in PHASES} | {("keras", "checkpoint@2"), ("keras", "final-save"),
                                                 ("text", "final-save")}
CASES = [pytest.param(trainer, phase, marks=() if (trainer, phase) in FAST else pytest.mark.slow,
                      id=f"{trainer}-{phase}") for trainer in ("numpy", "keras", "text") for phase in PHASES]


@pytest.mark.parametrize("trainer,phase", CASES)
def test_kill_then_resume_completes_exactly(home, trainer, phase):
    run_id = train_killed(home, trainer, phase)
    resumed = resume(home, run_id)
    assert resumed.returncode == 0, (resumed.stdout[-2000:], resumed.stderr[-2000:])
    result = json_lines(resumed.stdout)[-1]
    assert result["status"] == "finished", result
    record = assert_complete(home, run_id)
    if trainer != "text":
        assert record["metrics"]["test_accuracy"] > 0.3  # the final evaluation ran on a real model


@pytest.mark.parametrize("trainer", ["numpy", pytest.param("keras", marks=pytest.mark.slow)])
def test_kill_during_the_resumes_history_rewrite(home, trainer):
    run_id = train_killed(home, trainer, "checkpoint@2")
    again = resume(home, run_id, fault="history-rewrite")
    assert again.returncode == 1 and json_lines(again.stdout)[-1]["status"] == "interrupted"
    history = (home / "runs" / run_id / "history.csv").read_text()
    assert history.startswith("epoch,") and len(history.splitlines()) >= 2  # never a 0-byte or cut file
    done = resume(home, run_id)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_complete(home, run_id)


def test_keras_kill_during_final_save_resumes_to_a_real_evaluation(home):
    """Defect: resume after a kill while model.keras was written failed with 'NoneType has no predict'."""
    run_id = train_killed(home, "keras", "final-save")
    run_dir = home / "runs" / run_id
    assert not (run_dir / "model.keras").exists()
    resumed = resume(home, run_id)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "AttributeError" not in resumed.stdout + resumed.stderr
    final = json_lines(resumed.stdout)[-1]
    assert final["status"] == "finished" and 0.3 < final["metrics"]["test_accuracy"] <= 1.0
    assert (run_dir / "model.keras").stat().st_size > 10_000
    assert_complete(home, run_id)
