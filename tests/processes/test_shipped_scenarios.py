"""The shipped workflows carry process tests (processes/<key>.tests.json) for every path, and they
pass: `make test` runs them through `flask processes test`, as an analyst would."""

import json

import pytest

from app.engine import run_process_tests
from tests.processes.shared import PROCESSES, ROOT, flows, xml


def test_every_shipped_process_carries_a_test_file():
    for process in PROCESSES:
        document = json.loads((ROOT / "processes" / f"{process}.tests.json").read_text())
        assert document["process"] == process and document["scenarios"]


def test_the_shipped_scenarios_pass_on_the_command_line(runner, clock):
    outcome = runner.invoke(args=["processes", "test"])
    assert outcome.exit_code == 0, outcome.output
    assert "0 failed" in outcome.output
    for process in PROCESSES:
        names = [
            s["name"]
            for s in json.loads((ROOT / "processes" / f"{process}.tests.json").read_text())["scenarios"]
        ]
        for name in names:
            assert f"PASS  {process}: {name} (" in outcome.output


@pytest.mark.parametrize("process", PROCESSES)
def test_the_shipped_scenarios_together_name_every_element_with_a_flow(process):
    """Scenarios for every path: each element a sequence flow leaves or enters is expected on a path."""
    document = json.loads((ROOT / "processes" / f"{process}.tests.json").read_text())
    named = {element for s in document["scenarios"] for element in s["expect"].get("path", [])}
    named |= {element for s in document["scenarios"] for element in s.get("tasks", {})}
    tree = xml(process)
    touched = {f.get("sourceRef") for f in flows(tree)} | {f.get("targetRef") for f in flows(tree)}
    gateways_and_events = {
        el.get("id")
        for el in tree.iter()
        if el.tag.split("}")[-1]
        in ("exclusiveGateway", "eventBasedGateway", "parallelGateway", "startEvent", "endEvent")
    }
    assert touched - gateways_and_events - named == set()


def test_the_example_of_the_analysts_guide_passes(app, clock):
    guide = (ROOT / "docs" / "process-tests.md").read_text()
    example = guide.split("```json\n", 1)[1].split("```", 1)[0]
    files = {
        p.name: p.read_text()
        for folder in ("processes", "forms")
        for p in sorted((ROOT / folder).iterdir())
        if p.suffix in (".bpmn", ".dmn", ".json")
    }
    files["return.tests.json"] = example
    [result] = run_process_tests(files, ["return"])
    assert result.passed, result.as_dict()
