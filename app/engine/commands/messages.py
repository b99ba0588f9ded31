"""Commands for messages: deliver one to a ticket's waiting instance, or to the instance its keys name.

`deliver_correlated_message` finds the instance by the message's correlation keys
(`spiff/correlation.py`); within an instance only the oldest matching catch event catches it.
"""

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ColumnElement, true

from app.engine.diagrams.forms import check_plain_data
from app.engine.errors import AmbiguousMessage, InvalidData, NotFound
from app.engine.runtime.history import history
from app.engine.runtime.runner import run_command
from app.engine.runtime.steps import engine_step, run_engine
from app.engine.runtime.store import find_task, load, save
from app.engine.spiff.catches import catch_one, message_catch, trigger_catches
from app.engine.spiff.correlation import (
    agrees,
    candidate_keys,
    carried,
    catch_definition,
    check_explicit,
    check_known,
    describe,
)
from app.extensions import db
from app.models import MessageSubscription, ProcessDefinition, ProcessInstance, Ticket


def deliver_message(
    ticket_id: int, name: str, payload: dict, actor: str | None = None, correlation_keys: dict | None = None
) -> str:
    """Deliver a message (the customer's reply) to the instance of a ticket that waits for it.

    When the ticket waits for the message at several catch events, the oldest one whose
    correlation keys agree with the message's (on the keys both have) catches it.

    Called from inside another command (`answer_question`, `record_feedback`), it joins that
    command's transaction: what the caller wrote commits with the delivery or not at all.

    Args:
        correlation_keys: `{key name: {property id: value}}` the message carries besides
            what its payload gives (see `deliver_correlated_message`).

    Returns:
        The BPMN id of the event that caught it.

    Raises:
        NotFound: nothing of that ticket waits for a message of that name (404).
        InvalidData: the payload is not a plain JSON object, or a correlation property of
            the message cannot be read from it (422, naming the property).
    """
    explicit = _check_message(name, payload, correlation_keys)

    def body():
        rows = db.session.execute(
            db.select(MessageSubscription, ProcessInstance.definition_id)
            .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
            .where(MessageSubscription.ticket_id == ticket_id, MessageSubscription.name == name)
            .order_by(MessageSubscription.created_at, MessageSubscription.id)
        ).all()
        not_found = f"ticket {ticket_id} is not waiting for a message '{name}'"
        if not rows:
            raise NotFound(not_found)
        catches = {}  # (definition id, element id) -> (catch definition, carried correlations)
        message: dict = {}
        for row, definition_id in rows:
            if (definition_id, row.element_id) not in catches:
                catch = catch_definition(
                    db.session.get(ProcessDefinition, definition_id), row.element_id, name
                )
                catches[(definition_id, row.element_id)] = (catch, None)
        check_known(explicit, [c for c, _ in catches.values() if c is not None], name)
        for row, definition_id in rows:
            catch, message = catches[(definition_id, row.element_id)]
            if catch is None:  # the row outlived its catch event; the load below finds out
                return _deliver(row, name, payload, {}, actor, not_found)
            if message is None:
                message = carried(catch, name, payload, explicit)
                catches[(definition_id, row.element_id)] = (catch, message)
            if agrees(row.correlations, message):
                return _deliver(row, name, payload, message, actor, not_found)
        raise NotFound(f"{not_found} with these correlation keys: {describe(message)}")

    return run_command(body)


MAX_MATCHES = 50  # a 409 lists at most this many waiting instances


def deliver_correlated_message(
    name: str,
    payload: dict,
    correlation_keys: dict | None = None,
    actor: str | None = None,
    tickets: ColumnElement[bool] | None = None,
) -> dict:
    """Deliver a message to the one waiting instance its correlation keys point to (no ticket id).

    The message's correlations are computed from the payload with each candidate catch
    event's correlation properties (`bpmn:correlationProperty` retrieval expressions, through
    the safe script engine), plus `correlation_keys`. A catch event matches when every key it
    expects (`message_subscription.correlation_key`) is carried with the same values, or when
    it expects nothing yet (NULL). Both are lookups on the index (name, correlation_key).

    Args:
        correlation_keys: `{key name: {property id: value}}`, e.g. for keys a catch event
            expects from process variables (`spiffworkflow:processVariableCorrelation`) that
            the payload does not carry; a value the payload gives as well must agree.
        tickets: a SQL condition on `Ticket`: only the instances of these tickets are
            considered (the caller's, from `app.access`); None for all. The others are not
            found, listed in a 409 or named in an error.

    Returns:
        `{ticket_id, instance_id, element_id, correlations}` of the delivery.

    Raises:
        NotFound: nothing waits for a message of that name with these keys (404).
        AmbiguousMessage: several instances match (409, listing them).
        InvalidData: bad payload or keys, or a correlation property of the message cannot be
            read from the payload (422, naming the property and the message).
    """
    explicit = _check_message(name, payload, correlation_keys)

    def body():
        sub, instance = MessageSubscription, ProcessInstance
        within = true() if tickets is None else sub.ticket_id.in_(db.select(Ticket.id).where(tickets))
        joined = (
            db.select(sub, instance.definition_id)
            .join(instance, instance.id == sub.instance_id)
            .where(within)
        )
        # The catch events (definition version, element) that expect keys: the message's keys
        # are computed with each one's retrieval expressions, which may differ between versions.
        pairs = db.session.execute(
            db.select(instance.definition_id, sub.element_id)
            .distinct()
            .join(instance, instance.id == sub.instance_id)
            .where(sub.name == name, sub.correlation_key.is_not(None), within)
        ).all()
        catches = {}
        for definition_id, element_id in pairs:
            catch = catch_definition(db.session.get(ProcessDefinition, definition_id), element_id, name)
            if catch is not None:
                catches[(definition_id, element_id)] = catch
        if explicit and catches:
            check_known(explicit, list(catches.values()), name)
        carried_by = {pair: carried(catch, name, payload, explicit) for pair, catch in catches.items()}
        candidates = {pair: candidate_keys(message) for pair, message in carried_by.items()}
        rows = []
        wanted = set().union(*candidates.values())
        if wanted:
            keyed = db.session.execute(
                joined.where(sub.name == name, sub.correlation_key.in_(sorted(wanted)))
                .order_by(sub.created_at, sub.id)
                .limit(MAX_MATCHES + 1)
            ).all()
            rows += [
                (row, d) for row, d in keyed if row.correlation_key in candidates.get((d, row.element_id), ())
            ]
        rows += db.session.execute(  # catch events expecting nothing yet match any message
            joined.where(sub.name == name, sub.correlation_key.is_(None)).limit(MAX_MATCHES + 1)
        ).all()
        first_by_instance = {}
        for row, definition_id in sorted(rows, key=lambda r: (r[0].created_at, r[0].id)):
            first_by_instance.setdefault(row.instance_id, (row, definition_id))
        if not first_by_instance:
            if not pairs:
                raise NotFound(f"nothing waits for a message '{name}'")
            described = describe(next(iter(carried_by.values()), {}))
            raise NotFound(f"no ticket waits for a message '{name}' with these correlation keys: {described}")
        if len(first_by_instance) > 1:
            raise AmbiguousMessage(
                name,
                [
                    {"ticket_id": row.ticket_id, "instance_id": row.instance_id, "element_id": row.element_id}
                    for row, _ in first_by_instance.values()
                ][:MAX_MATCHES],
            )
        row, definition_id = next(iter(first_by_instance.values()))
        message = carried_by.get((definition_id, row.element_id))
        if message is None:  # a catch event expecting nothing yet: its message keys, for Spiff
            catch = catch_definition(db.session.get(ProcessDefinition, definition_id), row.element_id, name)
            if catch is not None and explicit:
                check_known(explicit, [catch], name)
            message = carried(catch, name, payload, explicit) if catch is not None else {}
        element_id = _deliver(
            row,
            name,
            payload,
            message,
            actor,
            f"the instance matching message '{name}' no longer waits for it",
        )
        return {
            "ticket_id": row.ticket_id,
            "instance_id": row.instance_id,
            "element_id": element_id,
            "correlations": message,
        }

    return run_command(body)


def _check_message(name, payload, correlation_keys) -> dict:
    if not isinstance(name, str) or not name:
        raise InvalidData({"name": "a message name is required"})
    check_plain_data(payload, "payload")
    explicit = check_explicit(correlation_keys)
    if explicit:
        check_plain_data(explicit, "correlation_keys")
    return explicit


def _deliver(
    subscription: MessageSubscription,
    name: str,
    payload: dict,
    correlations: dict,
    actor: str | None,
    not_found: str,
) -> str:
    """Let the subscription's catch event (and only it) catch the message; run the process on."""
    loaded = load(subscription.instance_id)
    task = find_task(loaded, subscription.id)
    if task is None:
        trigger = next(
            ((d, s) for tid, d, s in trigger_catches(loaded.wf) if tid == subscription.id and d.name == name),
            None,
        )
        if trigger is not None:  # starts an event subprocess or a message-started pool
            return _deliver_trigger(loaded, subscription, trigger, name, payload, correlations, actor)
    # The catch event itself, or the one behind an event-based gateway that waits for it.
    catch = message_catch(task, name) if task is not None and task.state == TaskState.WAITING else None
    if catch is None:
        raise NotFound(not_found)
    event = BpmnEvent(catch[0], payload, correlations)

    def deliver():
        if not catch_one(task, event):  # SpiffWorkflow's own correlation check disagrees
            raise WorkflowTaskException(
                f"the process refused message '{name}': its correlation keys {describe(correlations)} do not "
                f"match the instance's {describe(task.workflow.correlations)}",
                task=task,
            )

    engine_step(loaded, deliver)
    return _ran_on(
        loaded, subscription, catch[1], name, payload, correlations, actor, task_id=subscription.id
    )


def _deliver_trigger(loaded, subscription, trigger, name, payload, correlations, actor) -> str:
    definition, start = trigger
    event = BpmnEvent(definition, payload, correlations)
    engine_step(loaded, lambda: loaded.wf.send_event(event))
    return _ran_on(loaded, subscription, start, name, payload, correlations, actor, task_id=None)


def _ran_on(loaded, subscription, element, name, payload, correlations, actor, *, task_id) -> str:
    """After a message was caught: run the process on, record the delivery, save."""
    run_engine(loaded)
    data = {"name": name, "payload": payload}
    if correlations:
        data["correlations"] = correlations
    history(
        "message_delivered",
        ticket_id=loaded.row.ticket_id,
        instance_id=loaded.row.id,
        actor=actor,
        element_id=subscription.element_id,
        element_name=element.bpmn_name,
        task_id=task_id,
        data=data,
    )
    save(loaded, actor, skip_task=task_id)
    return subscription.element_id
