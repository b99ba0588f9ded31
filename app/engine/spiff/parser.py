"""Our SpiffWorkflow parser: parked service tasks, resource owners, decision references.

We extend the library by subclassing and configuration, never by patching: the parser
classes registered here are the only place where BPMN elements get our behaviour.
"""

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import (
    BusinessRuleTaskParser,
    ServiceTaskParser,
    SpiffTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, ManualTask, ServiceTask, UserTask


class ParkedServiceTask(ServiceTask):
    """A service task that does not call anything: it evaluates its parameters and parks.

    The task stays STARTED; the engine turns it into a `job` row, a worker runs the handler
    after commit, and `complete_job` writes the result into the task and moves on.
    `retry_attributes` holds the attributes of its `spiffworkflow:retry` as written
    (`spiff/retry.policy_of` reads them).
    """

    retry_attributes: dict | None = None

    def _execute(self, task):
        task.internal_data["job_params"] = {
            name: value["value"] for name, value in self.evaluate_params(task).items()
        }
        return None


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _retry_attributes(node) -> dict:
    """The attributes of a service task's `spiffworkflow:retry` (the library keeps only two)."""
    operator = node.find(f"{full_tag('extensionElements')}/{{{SPIFF_NS}}}serviceTaskOperator")
    retry = operator.find(f".//{{{SPIFF_NS}}}retry") if operator is not None else None
    return dict(retry.attrib) if retry is not None else {}


class _ParkedServiceTaskParser(ServiceTaskParser):
    """The library's service task parser, keeping every attribute of `spiffworkflow:retry`."""

    def create_task(self):
        task = super().create_task()
        task.retry_attributes = _retry_attributes(self.node)
        return task


def _resource_owner(node) -> dict | None:
    """{"kind", "expression"} of a task's potentialOwner or humanPerformer, or None."""
    for kind in ("humanPerformer", "potentialOwner", "performer"):
        for role in node.findall(full_tag(kind)):
            expression = role.find(
                f"{full_tag('resourceAssignmentExpression')}/{full_tag('formalExpression')}"
            )
            if expression is not None and (expression.text or "").strip():
                return {"kind": kind, "expression": expression.text.strip()}
            ref = role.find(full_tag("resourceRef"))
            if ref is not None and (ref.text or "").strip():
                return {"kind": kind, "expression": ref.text.strip()}
    return None


class _OwnedTaskParser(SpiffTaskParser):
    """Reads `potentialOwner` / `humanPerformer` into the task's extensions as `resourceOwner`."""

    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        owner = _resource_owner(self.node if node is None else node)
        if owner:
            extensions["resourceOwner"] = owner
        return extensions


class _OwnedUserTaskParser(_OwnedTaskParser, UserTaskParser):
    pass


CAMUNDA_DECISION_REF = "{http://camunda.org/schema/1.0/bpmn}decisionRef"


class _DecisionTaskParser(BusinessRuleTaskParser):
    """Business-rule tasks name their decision with `spiffworkflow:calledDecisionId`, or (as
    Camunda Modeler writes it) with `camunda:decisionRef`."""

    @staticmethod
    def get_decision_ref(node):
        return BusinessRuleTaskParser.get_decision_ref(node) or node.get(CAMUNDA_DECISION_REF)


class TicketflowParser(SpiffBpmnParser):
    """The Spiff parser (it reads spiffworkflow: extensions) with parked service tasks, and
    user and manual tasks that keep their resource assignment (potentialOwner, humanPerformer)."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (_ParkedServiceTaskParser, ParkedServiceTask),
        full_tag("userTask"): (_OwnedUserTaskParser, UserTask),
        full_tag("manualTask"): (_OwnedTaskParser, ManualTask),
        full_tag("businessRuleTask"): (_DecisionTaskParser, BusinessRuleTask),
    }
