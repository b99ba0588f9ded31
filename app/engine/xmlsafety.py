"""Hardened XML reading for uploaded diagrams, and the list of BPMN elements we support.

Uploads are parsed by lxml with no DTD, no entities, no network and no huge trees; a document
that declares a DOCTYPE is refused outright (entity bombs and XXE both need one).
"""

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
    "definitions", "process", "collaboration", "participant", "messageFlow", "laneSet", "lane",
    "childLaneSet", "flowNodeRef", "startEvent", "endEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "userTask", "manualTask", "serviceTask", "task",
    "sendTask", "receiveTask", "businessRuleTask", "scriptTask", "script", "callActivity",
    "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "sequenceFlow", "conditionExpression", "messageEventDefinition", "timerEventDefinition",
    "timeDate", "timeDuration", "timeCycle", "signalEventDefinition", "errorEventDefinition",
    "escalationEventDefinition", "terminateEventDefinition", "message", "signal", "error",
    "escalation", "extensionElements", "documentation", "textAnnotation", "text", "association",
    "group", "category", "categoryValue", "incoming", "outgoing", "dataObject",
    "dataObjectReference", "dataInputAssociation", "dataOutputAssociation", "sourceRef",
    "targetRef", "property", "ioSpecification", "dataInput", "dataOutput", "inputSet",
    "outputSet", "dataInputRefs", "dataOutputRefs", "correlationKey", "correlationPropertyRef",
    "correlationProperty", "correlationPropertyRetrievalExpression", "messagePath",
    "formalExpression", "itemDefinition", "standardLoopCharacteristics",
    "multiInstanceLoopCharacteristics", "loopCardinality", "completionCondition",
    "loopCondition", "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem",
    "conditionalEventDefinition", "condition",
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
            problems.append((element_id, f"bpmn:{local} is not supported by Ticketflow"))
        elif local == "subProcess" and element.get("triggeredByEvent") == "true":
            problems.append((element_id, "event subprocesses are not supported by Ticketflow"))
        if element_id in RESERVED_IDS:
            problems.append(
                (element_id, f'the id "{element_id}" clashes with an engine-internal name; '
                             "rename the element")
            )
    return problems
