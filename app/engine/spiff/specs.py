"""Parsed specs, cached per definition version: a diagram is parsed once per process.

Specs are shared between loaded instances, except where SpiffWorkflow 3.2 changes a spec while
it runs: triggering an event subprocess or a message-started pool of a collaboration connects
the spec's start task to it. Such versions (`dependencies["mutable_spec"]`) give each loaded
instance its own copy, with the connections its history made put back.
"""

import copy
from threading import Lock

from lxml import etree

from app.engine.diagrams.xmlsafety import parse_xml
from app.engine.spiff.instances import cap_multi_instance
from app.engine.spiff.parser import TicketflowParser
from app.models import ProcessDefinition

_cache: dict[tuple[int, str], tuple] = {}
_lock = Lock()


def remember(definition: ProcessDefinition, spec, subprocess_specs: dict) -> None:
    """Keep the spec parsed at deploy so the first start does not parse again."""
    cap_multi_instance([spec, *subprocess_specs.values()])
    with _lock:
        _cache[(definition.id, definition.checksum)] = (spec, subprocess_specs)


def spec_for(definition: ProcessDefinition) -> tuple:
    """(spec, subprocess_specs) of a deployed BPMN version, parsed on first use (shared: read only)."""
    cached = _cache.get((definition.id, definition.checksum))
    if cached is not None:
        return cached
    deps = definition.dependencies or {}
    parser = TicketflowParser()  # validated at deploy; stored bytes are ours
    for dmn in deps.get("dmn", {}).values():
        parser.add_dmn_xml(etree.fromstring(dmn.encode()), filename="deployed.dmn")
    for name, xml in deps.get("bpmn", {}).items():
        parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename=name)
    parser.add_bpmn_xml(parse_xml(definition.source), filename=deps.get("file") or f"{definition.key}.bpmn")
    if deps.get("collaboration"):
        parsed = parser.get_collaboration(deps["collaboration"])
    else:
        parsed = (parser.get_spec(definition.key), parser.get_subprocess_specs(definition.key))
    remember(definition, *parsed)
    return parsed


def for_instance(definition: ProcessDefinition) -> tuple:
    """(spec, subprocess_specs) for one instance: the shared spec, or a copy where running it
    changes it."""
    spec, subprocess_specs = spec_for(definition)
    if not (definition.dependencies or {}).get("mutable_spec"):
        return spec, subprocess_specs
    return copy.deepcopy((spec, subprocess_specs))
