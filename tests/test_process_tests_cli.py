"""`flask processes test [KEY|DIR]`: runs the process tests, readable output, exit 1 on a failure."""

import json

from app.engine import deploy_bundle
from tests.engine.test_process_tests import APPROVED, REFUND, bundle


def write(folder, files: dict[str, str]):
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return str(folder)


def test_a_folder_whose_scenarios_pass_exits_0(runner, tmp_path):
    outcome = runner.invoke(
        args=["processes", "test", write(tmp_path / "b", bundle(REFUND, "refund_flow", APPROVED))]
    )
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.splitlines() == [
        "PASS  refund_flow: approved and paid (5 elements passed)",
        "1 passed, 0 failed",
    ]


def test_a_failing_scenario_exits_1_naming_the_element_and_the_path(runner, tmp_path):
    declined = {**APPROVED, "name": "declined", "tasks": {"decide": {"approve": False}}}
    folder = write(tmp_path / "b", bundle(REFUND, "refund_flow", APPROVED, declined))
    outcome = runner.invoke(args=["processes", "test", folder])
    assert outcome.exit_code == 1
    lines = outcome.output.splitlines()
    assert lines[1] == (
        "FAIL  refund_flow: declined at 'pay': the path was to pass 'pay' after 'approved', "
        "but it went declined"
    )
    assert lines[2] == "      path: start > decide > approved > declined"
    assert lines[-1] == "1 passed, 1 failed"
    only = runner.invoke(args=["processes", "test", folder, "--scenario", "approved and paid"])
    assert only.exit_code == 0 and only.output.splitlines()[-1] == "1 passed, 0 failed"


def test_a_deployed_type_is_tested_by_its_key(runner, app):
    files = bundle(REFUND, "refund_flow", APPROVED)
    deploy_bundle([(name, text.encode()) for name, text in files.items()])
    outcome = runner.invoke(args=["processes", "test", "refund_flow"])
    assert outcome.exit_code == 0, outcome.output
    assert "PASS  refund_flow: approved and paid" in outcome.output


def test_an_unknown_key_or_a_folder_without_tests_exits_non_zero(runner, tmp_path):
    unknown = runner.invoke(args=["processes", "test", "no_such_type"])
    assert unknown.exit_code != 0
    assert "'no_such_type' is neither a folder nor a deployed ticket type" in unknown.output
    folder = write(tmp_path / "b", {"refund_flow.bpmn": REFUND.decode()})
    empty = runner.invoke(args=["processes", "test", folder])
    assert empty.exit_code != 0 and "no process test file (<key>.tests.json) found" in empty.output


def test_a_broken_test_file_exits_1_naming_the_scenario_and_field(runner, tmp_path):
    files = bundle(REFUND, "refund_flow")
    files["refund_flow.tests.json"] = json.dumps({"scenarios": [{"name": "x", "tasks": {"decide": 1}}]})
    outcome = runner.invoke(args=["processes", "test", write(tmp_path / "b", files)])
    assert outcome.exit_code == 1
    assert (
        "ERROR refund_flow: refund_flow.tests.json: scenario 'x' field tasks.decide: 1 must be an object"
        in (outcome.output)
    )
