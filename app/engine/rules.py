"""Business rules that analysts edit as DMN decision tables (deployed like diagrams).

`decide(decision_id, inputs)` evaluates the latest deployed version of a decision.
"""


def decide(decision_id: str, inputs: dict) -> dict | None:
    """The outputs of the first matching rule, or None when nothing matches or none is deployed."""
    return None
