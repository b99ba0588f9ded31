"""Hardened XML reading for uploaded diagrams, and the list of BPMN elements we support.

Uploads are parsed by lxml with no DTD, no entities, no network and no huge trees; a document
that declares a DOCTYPE is refused outright (entity bombs and XXE both need one).
"""

import difflib

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = {
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
}

_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
)

# BPMN elements the engine runs correctly. Anything else in the BPMN namespace is refused by name.
SUPPORTED_BPMN = {
    "definitions",
    "process",
    "collaboration",
    "participant",
    "messageFlow",
    "laneSet",
    "lane",
    "childLaneSet",
    "flowNodeRef",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "userTask",
    "manualTask",
    "serviceTask",
    "task",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "scriptTask",
    "script",
    "callActivity",
    "subProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "sequenceFlow",
    "conditionExpression",
    "messageEventDefinition",
    "timerEventDefinition",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "signalEventDefinition",
    "errorEventDefinition",
    "escalationEventDefinition",
    "terminateEventDefinition",
    "message",
    "signal",
    "error",
    "escalation",
    "extensionElements",
    "documentation",
    "textAnnotation",
    "text",
    "association",
    "group",
    "category",
    "categoryValue",
    "incoming",
    "outgoing",
    "dataObject",
    "dataObjectReference",
    "dataInputAssociation",
    "dataOutputAssociation",
    "sourceRef",
    "targetRef",
    "property",
    "ioSpecification",
    "dataInput",
    "dataOutput",
    "inputSet",
    "outputSet",
    "dataInputRefs",
    "dataOutputRefs",
    "correlationKey",
    "correlationPropertyRef",
    "correlationProperty",
    "correlationPropertyRetrievalExpression",
    "messagePath",
    "formalExpression",
    "itemDefinition",
    "standardLoopCharacteristics",
    "multiInstanceLoopCharacteristics",
    "loopCardinality",
    "completionCondition",
    "loopCondition",
    "loopDataInputRef",
    "loopDataOutputRef",
    "inputDataItem",
    "outputDataItem",
    "conditionalEventDefinition",
    "condition",
    "transaction",
    "cancelEventDefinition",
    # Resource assignment: potentialOwner / humanPerformer name a team or a user.
    "potentialOwner",
    "humanPerformer",
    "performer",
    "resourceAssignmentExpression",
    "resourceRef",
    "resource",
    "resourceRole",
    # Descriptive only: the engine ignores them and that is what they mean.
    "dataStore",
    "dataStoreReference",
    "dataState",
    "interface",
    "operation",
    "inMessageRef",
    "outMessageRef",
    "endPoint",
    "participantMultiplicity",
    "import",
    "extension",
    "relationship",
    "auditing",
    "monitoring",
    "messageFlowRef",
    "supportedInterfaceRef",
}

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FLOWABLE_NS = {"http://flowable.org/bpmn", "http://activiti.org/bpmn"}
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Slots whose text the engine evaluates: JUEL (${...}) and FEEL (=...) written for other engines
# would fail there at run time, so they are refused at deploy with the Python to write instead.
EXPRESSION_SLOTS = {
    "conditionExpression",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
    "condition",
    "loopCondition",
}

# SpiffWorkflow's internal task specs use these names; a BPMN element with such an id is
# silently dropped or merged by the library, so we refuse it at deploy.
RESERVED_IDS = {"Start", "End", "Root"}


class UnsafeXml(ValueError):
    """The upload is not well-formed or tries something an XML parser must never do."""


def parse_xml(source: bytes) -> etree._ElementTree:
    """Parse uploaded bytes with the hardened parser.

    Raises:
        UnsafeXml: malformed XML, or a DOCTYPE (DTDs and entities are never accepted).
    """
    if b"<!DOCTYPE" in source or b"<!ENTITY" in source:
        raise UnsafeXml("DOCTYPE declarations (DTDs, entities) are not allowed in diagrams")
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(source, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"the file is not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("DOCTYPE declarations (DTDs, entities) are not allowed in diagrams")
    return tree


def document_kind(tree: etree._ElementTree) -> str | None:
    """'bpmn' or 'dmn' by the namespace of the root element, else None."""
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    if namespace == BPMN_NS and etree.QName(root).localname == "definitions":
        return "bpmn"
    if namespace in DMN_NAMESPACES and etree.QName(root).localname == "definitions":
        return "dmn"
    return None


def unsupported_elements(tree: etree._ElementTree) -> list[tuple[str | None, str]]:
    """Every BPMN element the engine does not support, as (element id, message)."""
    problems = []
    for element in tree.getroot().iter(f"{{{BPMN_NS}}}*"):
        local = etree.QName(element).localname
        element_id = element.get("id")
        if local not in SUPPORTED_BPMN:
            near = difflib.get_close_matches(local, SUPPORTED_BPMN, n=1, cutoff=0.85)
            hint = (
                f"; did you mean bpmn:{near[0]}?"
                if near
                else "; remove it or model the step with supported elements (docs/compatibility.md)"
            )
            problems.append((element_id, f"bpmn:{local} is not supported by Ticketflow{hint}"))
        if element_id in RESERVED_IDS:
            problems.append(
                (
                    element_id,
                    f'the id "{element_id}" clashes with an engine-internal name; rename the element',
                )
            )
    return problems


def _operator_hint(known_operators: set) -> str:
    return (
        "give the service task a spiffworkflow:serviceTaskOperator naming one of this server's "
        f"operators ({', '.join(sorted(known_operators))})"
    )


def foreign_constructs(tree: etree._ElementTree, known_operators: set) -> list[tuple[str | None, str]]:
    """What diagrams made for Camunda, Zeebe or Flowable carry that Ticketflow cannot run.

    Each problem names the element and says what to write instead: Java delegates and job
    workers become `spiffworkflow:serviceTaskOperator`, JUEL and FEEL become Python expressions.
    """
    problems = []
    for element in tree.getroot().iter(f"{{{BPMN_NS}}}*"):
        local = etree.QName(element).localname
        element_id = element.get("id")
        for attribute in element.attrib:
            qname = etree.QName(attribute)
            if qname.namespace == CAMUNDA_NS or qname.namespace in FLOWABLE_NS:
                prefix = "camunda" if qname.namespace == CAMUNDA_NS else "flowable"
                if (
                    qname.localname in ("class", "delegateExpression", "expression")
                    and local != "messageEventDefinition"
                ):
                    problems.append(
                        (
                            element_id,
                            f"{prefix}:{qname.localname} calls Java code that Ticketflow "
                            f"cannot run; {_operator_hint(known_operators)}",
                        )
                    )
                elif qname.localname == "type" and element.get(attribute) == "external":
                    problems.append(
                        (
                            element_id,
                            f'{prefix}:type="external" waits for an external task worker; '
                            f"{_operator_hint(known_operators)}",
                        )
                    )
        if local == "serviceTask":
            extensions = element.find(f"{{{BPMN_NS}}}extensionElements")
            zeebe = extensions is not None and extensions.find(f"{{{ZEEBE_NS}}}taskDefinition") is not None
            operator = (
                extensions is not None and extensions.find(f"{{{SPIFF_NS}}}serviceTaskOperator") is not None
            )
            if zeebe and not operator:
                problems.append(
                    (
                        element_id,
                        "zeebe:taskDefinition names a Zeebe job type that no Ticketflow "
                        f"worker serves; {_operator_hint(known_operators)}",
                    )
                )
            elif not operator and not any(p[0] == element_id for p in problems):
                problems.append(
                    (element_id, f"the service task names no operator; {_operator_hint(known_operators)}")
                )
        if local == "businessRuleTask" and element.get(f"{{{CAMUNDA_NS}}}decisionRef") is None:
            extensions = element.find(f"{{{BPMN_NS}}}extensionElements")
            named = extensions is not None and extensions.find(f"{{{SPIFF_NS}}}calledDecisionId") is not None
            zeebe = extensions is not None and extensions.find(f"{{{ZEEBE_NS}}}calledDecision") is not None
            if not named:
                problems.append(
                    (
                        element_id,
                        (
                            "zeebe:calledDecision is read by Zeebe only; "
                            if zeebe
                            else "the business rule task names no decision; "
                        )
                        + "name the DMN decision with spiffworkflow:calledDecisionId (or "
                        "camunda:decisionRef) and deploy the DMN file in the same bundle",
                    )
                )
        if local in EXPRESSION_SLOTS and element.text:
            text = element.text.strip()
            if "${" in text or "#{" in text:
                problems.append(
                    (
                        _slot_owner(element),
                        f"'{text}' is a JUEL expression (Camunda/Flowable); "
                        "Ticketflow evaluates Python over the process data: "
                        "write e.g. approved == True or amount > 100",
                    )
                )
            elif text.startswith("=") and not text.startswith("=="):
                problems.append(
                    (
                        _slot_owner(element),
                        f"'{text}' is a FEEL expression (Zeebe); Ticketflow "
                        "evaluates Python over the process data: drop the "
                        "leading '=' and write Python",
                    )
                )
    return problems


def _slot_owner(element) -> str | None:
    """The id of the element an expression belongs to (the flow, the timer's event)."""
    while element is not None:
        if element.get("id") and etree.QName(element).localname not in (
            "conditionExpression",
            "timerEventDefinition",
            "multiInstanceLoopCharacteristics",
            "conditionalEventDefinition",
        ):
            return element.get("id")
        element = element.getparent()
    return None
