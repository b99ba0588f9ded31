"""SpiffWorkflow's save-restore equality check on a stored instance: restore, serialize, compare.

SpiffWorkflow's own test suite runs `save_restore()` after each step of a scenario (serialize,
restore, serialize again, compare). Here the first serialization is the engine's own: the
`workflow` column a command wrote. Restoring it and serializing it again must give the same
document, and a second restore must describe the same task tree.
"""

import json

from app.engine import restore_round_trip


def assert_restores_unchanged(instance_id: int) -> dict:
    """Check the stored workflow of an instance survives restore and serialize unchanged.

    Returns:
        The stored workflow as a dict (for reading its tasks).
    """
    stored, again, twice = restore_round_trip(instance_id)
    assert json.loads(again) == json.loads(stored), f"instance {instance_id}: restoring changed the workflow"
    assert twice == again, f"instance {instance_id}: a second restore changed the workflow"
    return json.loads(stored)
