"""SpiffWorkflow's save-restore equality check on a stored instance: restore, serialize, compare.

SpiffWorkflow's own test suite runs `save_restore()` after each step of a scenario (serialize,
restore, serialize again, compare). Here the first serialization is the engine's own: the
`workflow` column a command wrote. Restoring it and serializing it again must give the same
document, and a second restore must describe the same task tree.

The facade (`app.engine`) has no read-only "restore and serialize again" yet, so this is the one
place in the tests that reaches into engine internals; when the facade gains it, only
`_restore_and_dump` changes.
"""

import json

from app.extensions import db


def _restore_and_dump(instance_id: int) -> tuple[str, str, str]:
    """(stored text, that text restored and serialized again, and that restored and serialized once more);
    changes nothing."""
    from app.engine import runner, spiff  # internals: see the module docstring

    try:
        loaded = runner.load(instance_id)  # the engine's load path (spec cache, re-attached triggers)
        again = spiff.dump_workflow(loaded.wf)
        twice = spiff.dump_workflow(spiff.load_workflow(again, loaded.wf.spec, loaded.wf.subprocess_specs))
        return loaded.row.workflow, again, twice
    finally:
        db.session.rollback()  # load() row-locks on PostgreSQL; nothing was changed


def assert_restores_unchanged(instance_id: int) -> dict:
    """Check the stored workflow of an instance survives restore and serialize unchanged.

    Returns:
        The stored workflow as a dict (for reading its tasks).
    """
    stored, again, twice = _restore_and_dump(instance_id)
    assert json.loads(again) == json.loads(stored), f"instance {instance_id}: restoring changed the workflow"
    assert twice == again, f"instance {instance_id}: a second restore changed the workflow"
    return json.loads(stored)
