"""Issue 19, part 1: lessons as data, run as a comparison that checks its own claim on the runs just made."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tuiapp.lessons import all_lessons, load

SHIPPED = {"xor", "vanishing-gradients", "dead-relu", "learning-rate", "overfitting", "optimizers", "cnn-vs-mlp",
           "gradient-descent", "activations", "rnn-memory"}


def test_every_shipped_lesson_loads_and_is_listed(home):
    assert {lesson.name for lesson in all_lessons()} >= SHIPPED
    out = run_cli(home, "lessons", "--json")
    assert out.returncode == 0, out.stderr
    listed = {x["name"]: x for x in json.loads(out.stdout)}
    assert set(listed) >= SHIPPED and all(x["idea"] and x["cpu"] for x in listed.values())
    table = run_cli(home, "lessons", COLUMNS="80").stdout
    assert all(len(line) <= 80 for line in table.splitlines()) and "vanishing-gradients" in table


def test_gradient_descent_walks_the_chapters_curves(home):
    out = run_cli(home, "lesson", "gradient-descent", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout)
    assert result["holds"] and not result["runs"]
    first = next(c for c in result["checks"] if c["metric"] == "first_step")
    assert first["value"] == pytest.approx(-0.48)  # -0.5 - 0.01 * (2 * -0.5 - 1)
    end = next(c for c in result["checks"] if c["metric"] == "end_value")
    assert end["value"] == pytest.approx(-1.25, abs=1e-4)
    ends = {c["case"]: c["value"] for c in result["checks"] if c["metric"] == "end"}
    assert ends["local"] == pytest.approx(-1.51, abs=1e-3) and ends["across the hump"] == pytest.approx(1.66, abs=1e-3)
    drawn = run_cli(home, "lesson", "gradient-descent", COLUMNS="80")
    assert "y = x^2 - x - 1" in drawn.stdout and "the claim held" in drawn.stdout


def test_activations_lesson_marks_each_derivatives_largest_value(home):
    result = json.loads(run_cli(home, "lesson", "activations", "--json").stdout)
    assert result["holds"]
    values = {(c["case"], c["metric"]): c["value"] for c in result["checks"]}
    assert values[("sigmoid", "max_derivative")] == pytest.approx(0.25)
    assert values[("tanh", "max_derivative")] == pytest.approx(1.0)


def test_the_xor_lesson_runs_its_sweep_and_checks_the_claim(home):
    out = run_cli(home, "lesson", "xor", "--json")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["holds"] and result["sweep"] == "sweep-1"
    assert set(result["runs"]) == {"perceptron", "hidden layer"}
    assert all((home / "runs" / run).is_dir() for run in result["runs"].values())
    checks = {c["case"]: c for c in result["checks"]}
    assert checks["perceptron"]["value"] <= 0.75 and checks["hidden layer"]["value"] == 1.0


LESSON = """[lesson]
name = "doomed"
idea = "a claim that cannot hold"
kind = "sweep"
about = "The perceptron on XOR, claimed perfect."
look = "the Regions tab"
hint = "it never will: that is the lesson of xor"

[base]
arch = "perceptron"
data = "xor"
epochs = 20

[[case]]
note = "perceptron"

[[check]]
says = "the perceptron separates XOR"
case = "perceptron"
metric = "accuracy"
stat = "max"
above = 0.9
"""


def test_a_claim_that_does_not_hold_says_so_and_exits_1(home):
    path = home.parent / "doomed.toml"
    path.write_text(LESSON)
    out = run_cli(home, "lesson", str(path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "does NOT hold" in out.stdout and "the claim did NOT hold on this run. it never will" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    result = json.loads(run_cli(home, "lesson", str(path), "--json").stdout.strip().splitlines()[-1])
    assert result["holds"] is False and result["checks"][0]["holds"] is False


@pytest.mark.parametrize(("edit", "said"), [
    (lambda t: t.replace('kind = "sweep"', 'kind = "movie"'), "kind = 'movie': expected one of sweep, walk, functions"),
    (lambda t: t.replace('case = "perceptron"\nmetric', 'case = "nobody"\nmetric'), "case 'nobody' is not one of"),
    (lambda t: t.replace('metric = "accuracy"', 'metric = "happiness"'), "metric 'happiness' is unknown"),
    (lambda t: t.replace("above = 0.9", ""), "give exactly one of below = or above ="),
    (lambda t: t.replace('note = "perceptron"', ""), "needs note = "),
    (lambda t: t.replace('idea = "a claim that cannot hold"\n', ""), "[lesson] idea: missing"),
    (lambda t: t + "[[check]]\nsays = 1\n", "says = \"...\" is missing"),
    (lambda t: t.replace("[lesson]", "[lessen]"), "no [lesson] table"),
    (lambda t: t.replace("above = 0.9", "above = 0.9\nabove2 = 1"), "above2 is unknown"),
    (lambda t: t + "\nnot toml [", "not valid TOML"),
])
def test_a_malformed_lesson_file_gets_one_line_per_mistake_and_exit_2(home, edit, said):
    path = home.parent / "bad.toml"
    path.write_text(edit(LESSON))
    out = run_cli(home, "lesson", str(path))
    assert out.returncode == 2, out.stdout + out.stderr
    assert said in out.stderr and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (home / "runs").exists()  # refused before any run


def test_an_unknown_lesson_is_one_line_and_exit_2(home):
    out = run_cli(home, "lesson", "telepathy")
    assert out.returncode == 2 and "no lesson 'telepathy'; the lessons are:" in out.stderr


def test_load_reads_the_readme_example(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("<!-- lesson example -->")[1].split("```toml")[1].split("```")[0]
    path = tmp_path / "example.toml"
    path.write_text(example)
    lesson = load(path)
    assert lesson.checks and lesson.cases


@pytest.mark.slow
@pytest.mark.timeout(1200)  # rnn-memory trains four recurrent nets: minutes, more on a busy machine
@pytest.mark.parametrize("name", sorted(SHIPPED - {"xor", "gradient-descent", "activations"}))
def test_every_network_lesson_holds_on_the_sample(home, name):
    out = run_cli(home, "lesson", name, "--json", timeout=1100)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(name, [(c["case"], c["metric"], c["value"], c["bound"]) for c in result["checks"]])
    assert out.returncode == 0 and result["holds"], result


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_lessons_screen_pages_starts_and_gives_the_verdict(home, size):
    from textual.widgets import OptionList, Static

    from tests.test_ui import text_of, until
    from tuiapp.ui.app import make_app
    from tuiapp.ui.screens.lessons import LessonsScreen
    from tuiapp.ui.screens.run import RunScreen

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LessonsScreen), 10)
        screen = app.screen
        names = [screen.query_one("#lessons", OptionList).get_option_at_index(i).id
                 for i in range(screen.query_one("#lessons", OptionList).option_count)]
        assert set(names) >= SHIPPED
        option_list = screen.query_one("#lessons", OptionList)
        option_list.focus()
        option_list.highlighted = names.index("gradient-descent")
        await until(pilot, lambda: "gradient-descent" in text_of(screen.query_one("#lesson-page", Static)), 5)
        await pilot.press("s")
        await until(pilot, lambda: "the claim held" in text_of(screen.query_one("#lesson-result", Static)), 10)
        option_list.highlighted = names.index("xor")
        await until(pilot, lambda: "XOR" in text_of(screen.query_one("#lesson-page", Static)), 5)
        await pilot.press("s")
        result = screen.query_one("#lesson-result", Static)
        await until(pilot, lambda: "the claim held" in text_of(result), 120)
        assert "1: perceptron" in text_of(result)
        await pilot.press("1")  # the perceptron's run, on the panel that shows the point
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 10)
        await until(pilot, lambda: app.screen.query_one("#tabs").active == "tab-regions", 10)


async def test_the_lessons_screen_shows_the_last_verdict_of_a_lesson_run_elsewhere(home):
    """A lesson run from the CLI (or another UI) has its verdict on the lesson's page when the screen opens."""
    from textual.widgets import OptionList, Static

    from tests.test_ui import text_of, until
    from tuiapp.ui.app import make_app
    from tuiapp.ui.screens.lessons import LessonsScreen

    ran = run_cli(home, "lesson", "xor", "--json", timeout=300)
    assert ran.returncode == 0, ran.stderr
    sweep = json.loads(ran.stdout.strip().splitlines()[-1])["sweep"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LessonsScreen), 10)
        screen = app.screen
        option_list = screen.query_one("#lessons", OptionList)
        names = [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]
        option_list.focus()
        option_list.highlighted = names.index("xor")
        result = screen.query_one("#lesson-result", Static)
        await until(pilot, lambda: f"the last time it ran ({sweep}" in text_of(result), 10)
        assert "the claim held" in text_of(result) and "1: perceptron" in text_of(result)
        option_list.highlighted = names.index("optimizers")  # never run here: no verdict
        await until(pilot, lambda: "last time" not in text_of(result), 5)


def test_full_without_the_full_data_is_one_line_before_anything_runs(home):
    out = run_cli(home, "lesson", "vanishing-gradients", "--full")
    assert out.returncode == 2 and "no full copy of mnist found" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())  # refused before a run exists
    empty = home.parent / "empty"
    empty.mkdir()
    named = run_cli(home, "lesson", "vanishing-gradients", "--full", "--data-dir", str(empty))
    assert named.returncode == 2 and f"--data-dir {empty}: no mnist files there" in named.stderr, named.stderr
    walk = run_cli(home, "lesson", "gradient-descent", "--full")
    assert walk.returncode == 2 and "has no [full] settings" in walk.stderr
