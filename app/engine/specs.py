"""Parsed specs, cached per definition version: a diagram is parsed once per process.

Specs are shared between loaded instances. That is safe because deploy refuses event
subprocesses, the one construct whose triggering mutates a spec in SpiffWorkflow 3.2.
"""

from threading import Lock

from lxml import etree

from app.engine.spiff import TicketflowParser
from app.engine.xmlsafety import parse_xml
from app.models import ProcessDefinition

_cache: dict[tuple[int, str], tuple] = {}
_lock = Lock()


def remember(definition: ProcessDefinition, spec, subprocess_specs: dict) -> None:
    """Keep the spec parsed at deploy so the first start does not parse again."""
    with _lock:
        _cache[(definition.id, definition.checksum)] = (spec, subprocess_specs)


def spec_for(definition: ProcessDefinition) -> tuple:
    """(spec, subprocess_specs) of a deployed BPMN version, parsed on first use."""
    cached = _cache.get((definition.id, definition.checksum))
    if cached is not None:
        return cached
    parser = TicketflowParser()  # validated at deploy; stored bytes are ours
    for dmn in (definition.dependencies or {}).get("dmn", {}).values():
        parser.add_dmn_xml(etree.fromstring(dmn.encode()), filename="deployed.dmn")
    parser.add_bpmn_xml(parse_xml(definition.source), filename=f"{definition.key}.bpmn")
    parsed = (parser.get_spec(definition.key), parser.get_subprocess_specs(definition.key))
    remember(definition, *parsed)
    return parsed

