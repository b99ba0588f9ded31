"""The SLA targets a diagram declares for its ticket type, as process-level properties.

SpiffArena keeps arbitrary name/value pairs in `spiffworkflow:properties` on any element; the
studio's "SLA" group writes them on the `bpmn:process` (the ticket type), so the diagram carries
its targets and SpiffArena reads it unchanged:

    <bpmn:process id="warranty" ...><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="sla.high.first_response_minutes" value="240"/>
      <spiffworkflow:property name="sla.high.resolution_minutes" value="960"/>
      <spiffworkflow:property name="sla.team" value="returns"/>

Minutes are business minutes on the team's calendar (docs/sla.md). Deploying a new version
stores them as the type's `sla_policy` rows (app.sla.set_policy); a priority that names only one
of the two targets keeps the other as it was. The deploy checks refuse an unknown priority or
name, a value that is not a whole number of minutes in bounds, and a team that does not exist.
"""

from lxml import etree

from app.engine.diagrams.xmlsafety import BPMN_NS, SPIFF_NS
from app.models import PRIORITIES

PREFIX = "sla."
TARGETS = ("first_response_minutes", "resolution_minutes")
MAX_MINUTES = 366 * 24 * 60  # a year of minutes: anything longer is a typo


def declared_targets(process: etree._Element) -> dict[str, str]:
    """{property name: value} of the `sla.*` properties on a `bpmn:process` element."""
    found = {}
    extensions = process.find(f"{{{BPMN_NS}}}extensionElements")
    if extensions is None:
        return found
    for holder in extensions.findall(f"{{{SPIFF_NS}}}properties"):
        for prop in holder.findall(f"{{{SPIFF_NS}}}property"):
            name = prop.get("name") or ""
            if name.startswith(PREFIX):
                found[name] = prop.get("value") or ""
    return found


def parse_targets(declared: dict[str, str], teams: set[str] | None) -> tuple[dict, list[str]]:
    """({"team": key|None, "priorities": {priority: {target: minutes}}}, [problem messages]).

    `teams` is the set of known team keys (None: not checked)."""
    problems, priorities, team = [], {}, None
    for name, value in sorted(declared.items()):
        parts = name[len(PREFIX) :].split(".")
        if parts == ["team"]:
            team = value.strip() or None
            if team is not None and teams is not None and team not in teams:
                problems.append(f"SLA property '{name}': no team '{team}'")
            continue
        if len(parts) != 2 or parts[0] not in PRIORITIES or parts[1] not in TARGETS:
            problems.append(
                f"SLA property '{name}' is unknown: use sla.team or sla.<priority>.<target> with a "
                f"priority of {', '.join(PRIORITIES)} and a target of {', '.join(TARGETS)}"
            )
            continue
        text = value.strip()
        if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_MINUTES:
            problems.append(
                f"SLA property '{name}' must be a whole number of business minutes from 1 to "
                f"{MAX_MINUTES}, not '{value[:40]}'"
            )
            continue
        priorities.setdefault(parts[0], {})[parts[1]] = int(text)
    return {"team": team, "priorities": priorities}, problems


def sla_problems(tree: etree._ElementTree, teams: set[str] | None) -> list[tuple[str | None, str]]:
    """(process id, message) for every SLA property of the file's processes the deploy refuses."""
    return [
        (process.get("id"), message)
        for process in tree.getroot().iter(f"{{{BPMN_NS}}}process")
        for message in parse_targets(declared_targets(process), teams)[1]
    ]


def process_targets(tree: etree._ElementTree, process_id: str) -> dict:
    """The checked targets of one process of the file (see `parse_targets`)."""
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == process_id:
            return parse_targets(declared_targets(process), None)[0]
    return {"team": None, "priorities": {}}
