"""What changed between two versions of a process: SpiffWorkflow's SpecDiff, by BPMN element id."""

from SpiffWorkflow.bpmn.util.diff import SpecDiff

from app.engine.spiff.serializer import SERIALIZER


def _bpmn_id(task_spec) -> str | None:
    return getattr(task_spec, "bpmn_id", None)


def spec_diff(old_spec, new_spec, old_subprocesses: dict, new_subprocesses: dict) -> dict:
    """{added, removed, changed}: sorted BPMN element ids (elements without an id, such as the
    library's own start and end markers, are left out). Subprocess specs present in both are
    diffed too; those only on one side count as added or removed whole."""
    added, removed, changed = set(), set(), set()
    pairs = [(old_spec, new_spec)]
    for name, spec in old_subprocesses.items():
        if name in new_subprocesses:
            pairs.append((spec, new_subprocesses[name]))
        else:
            removed.update(filter(None, map(_bpmn_id, spec.task_specs.values())))
    for name, spec in new_subprocesses.items():
        if name not in old_subprocesses:
            added.update(filter(None, map(_bpmn_id, spec.task_specs.values())))
    registry = SERIALIZER.registry
    for old, new in pairs:
        diff = SpecDiff(registry, old, new)
        added.update(filter(None, map(_bpmn_id, diff.added)))
        removed.update(filter(None, map(_bpmn_id, diff.removed)))
        changed.update(filter(None, map(_bpmn_id, diff.changed)))
    return {"added": sorted(added), "removed": sorted(removed), "changed": sorted(changed - added - removed)}
