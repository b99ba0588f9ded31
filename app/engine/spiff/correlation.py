"""Message correlation: which waiting catch event a message is for, by its correlation keys.

A message may carry correlation properties (`bpmn:correlationProperty` with a retrieval
expression per `bpmn:message`, grouped by `bpmn:correlationKey`); a catch event may say what
its instance expects (`spiffworkflow:processVariableCorrelation`: a property id and an
expression over the process data). Both sides have SpiffWorkflow's shape
`{key name: {property id: value}}`.

- **Expected** (instance side, `expected`): for every key the catch event knows, the values
  the workflow already holds (`workflow.correlations`: set by the catch event itself, or by an
  earlier message) or else computed from the process variables. A key whose values cannot be
  computed yet is left out; a catch event with no key known expects nothing ("matches any").
  The projection stores it in `message_subscription.correlations` and, as canonical JSON,
  in `correlation_key` (NULL when it expects nothing).
- **Carried** (message side, `carried`): the message's correlation properties computed from
  the payload through the safe script engine, plus keys given explicitly by the caller.
- A catch event matches a message routed without a ticket id when every key it expects is
  carried with the same values, i.e. its `correlation_key` is the canonical text of the
  message's correlations restricted to some of its keys (`candidate_keys`), or NULL. That is
  one indexed lookup on `(name, correlation_key)`.
"""

import json
from hashlib import sha256
from itertools import combinations
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

from app.engine.errors import InvalidData
from app.engine.spiff import specs
from app.engine.spiff.catches import spec_catches
from app.engine.spiff.script_engine import SCRIPT_ENGINE
from app.models import ProcessDefinition

MAX_KEY_LENGTH = 512  # message_subscription.correlation_key; longer texts are stored hashed
MAX_SUBSET_KEYS = 4  # every subset of up to this many keys is a candidate; beyond, whole + single keys


def _plain(value: Any) -> Any:
    """Values compared as JSON: an integral float is the integer (SpiffWorkflow compares with ==)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(correlations: dict | None) -> str | None:
    """The text a subscription is found by: sorted, compact JSON (hashed when long); None if empty."""
    if not correlations:
        return None
    text = json.dumps(
        _plain(correlations), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    if len(text) <= MAX_KEY_LENGTH:
        return text
    return "sha256:" + sha256(text.encode()).hexdigest()


def candidate_keys(correlations: dict) -> set[str]:
    """Every correlation_key a catch event matching these message correlations can have.

    A catch event may know only some of the keys yet, so each non-empty subset of the keys
    counts (up to MAX_SUBSET_KEYS keys; beyond that, all keys together and each key alone).
    """
    keys = sorted(correlations)
    if len(keys) <= MAX_SUBSET_KEYS:
        subsets = [s for size in range(1, len(keys) + 1) for s in combinations(keys, size)]
    else:
        subsets = [tuple(keys), *((k,) for k in keys)]
    return {canonical({k: correlations[k] for k in subset}) for subset in subsets}


def agrees(wanted: dict | None, message: dict) -> bool:
    """True when a catch event's expected correlations and a message's agree on the keys both have."""
    wanted = wanted or {}
    return all(_plain(wanted[key]) == _plain(values) for key, values in message.items() if key in wanted)


def key_properties(definition: MessageEventDefinition) -> dict[str, set[str]]:
    """{key name: property ids} the catch event knows, from the message and the process side."""
    found: dict[str, set[str]] = {}
    for prop in (*definition.correlation_properties, *getattr(definition, "process_correlations", [])):
        for key in prop.correlation_keys:
            found.setdefault(key, set()).add(prop.name)
    return found


def expected(task, definition: MessageEventDefinition, workflow=None) -> dict:
    """What a waiting catch event expects of a message: `{key: {property: value}}` (see module doc).

    With `task` None (a message start event of a running workflow: nothing waits yet), only
    the correlations `workflow` already holds count. Never raises: a process expression that
    fails leaves its key out (not known yet).
    """
    keys = key_properties(definition)
    if not keys:
        return {}
    workflow = task.workflow if task is not None else workflow
    current = getattr(workflow, "correlations", None) or {}
    process_values: dict | None = None
    found = {}
    for key, names in keys.items():
        if isinstance(current.get(key), dict) and current[key]:
            found[key] = dict(current[key])
            continue
        if task is None:
            continue
        if process_values is None:
            process_values = _process_values(task, definition)
        if all(name in process_values for name in names):
            found[key] = {name: process_values[name] for name in sorted(names)}
    return json.loads(json.dumps(found, default=str))  # stored as JSON: plain values only


def _process_values(task, definition) -> dict:
    values = {}
    for prop in getattr(definition, "process_correlations", []):
        try:
            values[prop.name] = SCRIPT_ENGINE.environment.evaluate(prop.retrieval_expression, task.data)
        except Exception:  # noqa: BLE001 - the data may not hold it yet: the key stays unknown
            continue
    return values


def carried(
    definition: MessageEventDefinition, name: str, payload: dict, explicit: dict | None = None
) -> dict:
    """The message's correlations: its properties computed from the payload, plus `explicit` keys.

    Only keys this catch event knows are kept from `explicit`.

    Raises:
        InvalidData: a retrieval expression fails on the payload, or an explicit value
            contradicts the payload's (422, naming the property and the message).
    """
    found: dict[str, dict] = {}
    for prop in definition.correlation_properties:
        try:
            # SpiffWorkflow's own computation, one property at a time to name the one that fails.
            values = definition.calculate_correlations(SCRIPT_ENGINE, [prop], payload)
        except Exception as exc:  # noqa: BLE001 - any failure of a diagram expression is the payload's
            raise InvalidData(
                {
                    "payload": f"message '{name}': correlation property '{prop.name}' (key "
                    f"{', '.join(repr(k) for k in prop.correlation_keys)}) cannot be read from the "
                    f"payload with '{prop.retrieval_expression}': {type(exc).__name__}: {exc}"
                },
                f"the correlation property '{prop.name}' of message '{name}' cannot be read from the payload",
            ) from None
        for key, props in values.items():
            found.setdefault(key, {}).update(props)
    known = key_properties(definition)
    for key, props in (explicit or {}).items():
        if key not in known:
            continue
        for prop, value in props.items():
            given = found.get(key, {})
            if prop in given and _plain(given[prop]) != _plain(value):
                raise InvalidData(
                    {
                        f"correlation_keys.{key}.{prop}": f"message '{name}': the payload gives "
                        f"{json.dumps(given[prop], default=str)} for it"
                    },
                    f"the correlation keys contradict the payload of message '{name}'",
                )
            found.setdefault(key, {})[prop] = value
    return found


def check_explicit(explicit: Any) -> dict:
    """The request's `correlation_keys`: `{key name: {property id: JSON value}}` (or None → {})."""
    if explicit is None:
        return {}
    if not isinstance(explicit, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and v and all(isinstance(p, str) for p in v)
        for k, v in explicit.items()
    ):
        raise InvalidData({"correlation_keys": "an object {key name: {property id: value}} is expected"})
    return explicit


def check_known(explicit: dict, definitions: list[MessageEventDefinition], name: str) -> None:
    """Every explicit key and property must be one some candidate catch event knows (422 else)."""
    known: dict[str, set[str]] = {}
    for definition in definitions:
        for key, props in key_properties(definition).items():
            known.setdefault(key, set()).update(props)
    for key, props in explicit.items():
        for prop in props:
            if prop not in known.get(key, ()):
                offer = "; ".join(f"{k}: {', '.join(sorted(p))}" for k, p in sorted(known.items())) or "none"
                raise InvalidData(
                    {
                        f"correlation_keys.{key}.{prop}": f"no catch event of message '{name}' has this "
                        f"correlation key and property (known: {offer})"
                    },
                    f"unknown correlation key for message '{name}'",
                )


_catches: dict[tuple, MessageEventDefinition | None] = {}
_lock = Lock()


def catch_definition(
    definition: ProcessDefinition, element_id: str, name: str
) -> MessageEventDefinition | None:
    """The message definition of catch event `element_id` (behind a gateway too), cached per version."""
    cache_key = (definition.id, definition.checksum, element_id, name)
    if cache_key in _catches:
        return _catches[cache_key]
    spec, subprocess_specs = specs.spec_for(definition)
    found = None
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            for event_definition, element in spec_catches(task_spec):
                if (
                    isinstance(event_definition, MessageEventDefinition)
                    and event_definition.name == name
                    and getattr(element, "bpmn_id", None) == element_id
                ):
                    found = event_definition
    with _lock:
        _catches[cache_key] = found
    return found


def describe(correlations: dict) -> str:
    """Correlations for an error message, shortened."""
    text = json.dumps(correlations, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
