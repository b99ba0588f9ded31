"""The processes of a bundle: one Spiff parser over every BPMN file and the deployed callees it needs.

`check_processes` builds a `CheckedProcess` per executable process of the bundle (with what it
was parsed and checked with: called processes, decisions, forms) and appends every problem it
finds, each naming its file and BPMN element, to the bundle's list.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from app.engine.diagrams import checks
from app.engine.diagrams.xmlsafety import BPMN_NS
from app.engine.errors import Problem
from app.engine.expressions import lint_specs
from app.engine.spiff.parser import TicketflowParser


@dataclass
class Deployed:
    """What is already deployed, for names a bundle does not carry itself."""

    form: Callable[[str], dict | None] = lambda name: None
    dmn_sources: dict = field(default_factory=dict)  # decision id -> DMN XML
    # process key -> (file name, BPMN XML, {file name: BPMN XML} of what it calls), or None
    process: Callable[[str], tuple | None] = lambda key: None
    known_operators: set = field(default_factory=set)
    teams: set | None = None  # team keys an SLA target may name (None: not checked)


@dataclass
class CheckedProcess:
    key: str
    name: str | None
    file: str
    source: bytes
    spec: object
    subprocess_specs: dict
    forms: dict  # form name -> schema, every form the process and what it calls name
    start_form: str | None
    dmn_sources: dict  # decision id -> DMN XML it was parsed with
    bpmn_sources: dict  # file name -> BPMN XML of other files it needs (called processes)
    collaboration: str | None = None
    mutable_spec: bool = False  # the library changes this spec at run time: copy it per instance
    calls: list = field(default_factory=list)  # process ids its call activities name
    warnings: list = field(default_factory=list)  # Problems that do not stop the deployment

    @property
    def dependencies(self) -> dict:
        deps = {"dmn": self.dmn_sources}
        if self.bpmn_sources:
            deps["bpmn"] = self.bpmn_sources
        if self.collaboration:
            deps["collaboration"] = self.collaboration
        if self.mutable_spec:
            deps["mutable_spec"] = True
        if self.calls:
            deps["calls"] = self.calls
        return deps

    @property
    def checksum(self) -> str:
        """The version's identity: its file, and everything it was parsed and checked with."""
        digest = hashlib.sha256(self.source)
        if self.bpmn_sources or self.collaboration or self.forms:
            extra = {
                "bpmn": self.bpmn_sources,
                "collaboration": self.collaboration,
                "forms": self.forms,
                "dmn": self.dmn_sources,
            }
            digest.update(json.dumps(extra, sort_keys=True).encode())
        return digest.hexdigest()


def _process_files(trees: dict) -> dict[str, str]:
    """process id -> file name of the bundle's BPMN files."""
    return {
        proc.get("id"): name
        for name, tree in trees.items()
        for proc in tree.getroot().iter(f"{{{BPMN_NS}}}process")
    }


def _called_elements(tree) -> dict[str, str]:
    """calledElement -> the callActivity id naming it."""
    return {
        el.get("calledElement"): el.get("id")
        for el in tree.getroot().iter(f"{{{BPMN_NS}}}callActivity")
        if el.get("calledElement")
    }


def check_processes(files, trees, forms, dmn_sources, deployed, problems, warnings) -> list[CheckedProcess]:
    """Every executable process of the bundle's BPMN `trees`; problems and warnings are appended."""
    if not trees:
        return []
    check = _ProcessCheck(files, trees, forms, dmn_sources, deployed, problems, warnings)
    try:
        check.add_files()
        check.add_deployed_callees()
        return check.build()
    finally:
        check.warn_schema_violations()


class _ProcessCheck:
    """One Spiff parser over every BPMN file of a bundle (and the deployed callees it needs)."""

    def __init__(self, files, trees, forms, dmn_sources, deployed, problems, warnings):
        self.trees, self.forms, self.dmn_sources, self.deployed = trees, forms, dmn_sources, deployed
        self.problems, self.warnings = problems, warnings
        self.sources = {f.name: f.data for f in files if f.name in trees}
        self.parser = TicketflowParser(validator=VALIDATOR)
        self.added: dict[str, str] = {}  # file name -> BPMN XML text, as added to the parser
        self.external: dict[str, str] = {}  # deployed callee file name -> BPMN XML text
        self.schema_said: dict[str, list[Problem]] = {}  # file -> XML Schema violations read past
        self.bundle_ids = _process_files(trees)  # process id -> bundle file name

    def add_files(self) -> None:
        parser = self.parser
        for decision_id, dmn in self.dmn_sources.items():
            try:
                parser.add_dmn_xml(etree.fromstring(dmn.encode()), filename="deployed.dmn")
            except (ValidationException, etree.LxmlError) as exc:  # stored by an older release
                self.problems.append(Problem(decision_id, f"the deployed decision could not be read: {exc}"))
        for name, tree in self.trees.items():
            try:
                parser.add_bpmn_xml(tree, filename=name)
                self.added[name] = self.sources[name].decode()
            except ValidationException:
                # SpiffWorkflow runs documents the BPMN XML Schema refuses (a duplicate id, a
                # stray attribute): when the library reads one, its violations are warnings.
                said = [p.in_file(name) for p in checks.schema_problems(tree)]
                parser.validator = None
                try:
                    parser.add_bpmn_xml(tree, filename=name)
                    self.added[name] = self.sources[name].decode()
                    self.schema_said[name] = said
                except (
                    ValidationException,
                    SpiffWorkflowException,
                    etree.LxmlError,
                    ValueError,
                    KeyError,
                    AttributeError,
                    TypeError,
                ):
                    self.problems.extend(said)
                finally:
                    parser.validator = VALIDATOR

    def add_deployed_callees(self) -> None:
        """Called processes the bundle does not carry come from what is deployed, with their callees."""
        wanted = {
            called: (name, activity)
            for name, tree in self.trees.items()
            for called, activity in _called_elements(tree).items()
        }
        resolved = set()
        while True:
            missing = {
                c: w for c, w in wanted.items() if c not in self.parser.process_parsers and c not in resolved
            }
            if not missing:
                return
            for called, (name, activity) in missing.items():
                resolved.add(called)
                found = self.deployed.process(called)
                if found is None:
                    self.problems.append(
                        Problem(
                            activity,
                            f"calls process '{called}', which is neither in this "
                            "bundle nor deployed; add its BPMN file to the bundle",
                            file=name,
                        )
                    )
                    continue
                dep_name, dep_xml, dep_callees = found
                prefix = f"deployed/{called}/"  # apart from the bundle's own file names
                for callee_name, callee_xml in {**dep_callees, dep_name: dep_xml}.items():
                    if prefix + callee_name in self.external:
                        continue
                    try:
                        self.parser.add_bpmn_xml(
                            etree.fromstring(callee_xml.encode()), filename=prefix + callee_name
                        )
                    except ValidationException as exc:
                        self.problems.append(
                            checks.problem_from_validation(exc).in_file(prefix + callee_name)
                        )
                    self.external[prefix + callee_name] = callee_xml

    def build(self) -> list[CheckedProcess]:
        file_of = {
            **self.bundle_ids,
            **{pid: name for name, xml in self.external.items() for pid in _ids_in(xml)},
        }
        all_sources = {**self.added, **self.external}
        flow_ids = {}
        for tree in self.trees.values():
            flow_ids.update(checks.flow_ids(tree))
        collaborations = _collaborations(self.parser, self.trees)
        checked = []
        for pid in self.parser.get_process_ids():
            name = self.bundle_ids.get(pid)
            if name is None or name not in self.added:
                continue  # a deployed callee: not redeployed by this bundle
            built = self._spec(pid, name, collaborations.get(pid))
            if built is None:
                continue
            spec, subprocess_specs = built
            every = [spec, *subprocess_specs.values()]
            collab = collaborations.get(pid)
            process = CheckedProcess(
                key=pid,
                name=_process_name(self.trees[name], pid) or pid,
                file=name,
                source=self.sources[name],
                spec=spec,
                subprocess_specs=subprocess_specs,
                forms={},
                start_form=None,
                dmn_sources={},
                bpmn_sources={},
                collaboration=collab,
            )
            main_specs = [spec] if not collab else [s for k, s in subprocess_specs.items() if k == pid]
            own = checks.check_tasks(
                every,
                main_specs,
                self.deployed.known_operators,
                lambda form: _form_for(form, self.forms, self.deployed),
                process,
            )
            own += [Problem(flow_ids.get(eid, eid), msg) for eid, msg in lint_specs(spec, subprocess_specs)]
            said = {p.element_id for p in self.problems if p.element_id}  # already refused, with a remedy
            self.problems.extend(
                p.in_file(file_of.get(_owner(p.element_id, spec, subprocess_specs), name))
                for p in own
                if p.element_id not in said
            )
            used_files = {file_of.get(k) for k in subprocess_specs} - {name, None}
            process.bpmn_sources = {f: all_sources[f] for f in sorted(used_files) if f in all_sources}
            decision_ids = _decisions_of(every)
            process.dmn_sources = {d: x for d, x in self.dmn_sources.items() if d in decision_ids}
            process.mutable_spec = _mutable(spec, subprocess_specs)
            process.calls = sorted(
                {ts.spec for ps in every for ts in ps.task_specs.values() if isinstance(ts, CallActivity)}
            )
            self.warnings.extend(w.in_file(name) for w in process.warnings)
            checked.append(process)
        return checked

    def _spec(self, pid: str, name: str, collab: str | None) -> tuple | None:
        try:
            if collab:
                return self.parser.get_collaboration(collab)
            return self.parser.get_spec(pid), self.parser.get_subprocess_specs(pid)
        except ValidationException as exc:
            problem = checks.problem_from_validation(exc).in_file(name)
            if not any(p.element_id == problem.element_id and p.element_id for p in self.problems):
                self.problems.append(problem)  # else already said, in words that say what to do
        except (SpiffWorkflowException, KeyError, ValueError, AttributeError, TypeError) as exc:
            self.problems.append(Problem(pid, f"the process could not be built: {exc}", file=name))
        self.problems.extend(self.schema_said.pop(name, []))  # likely the reason it failed
        return None

    def warn_schema_violations(self) -> None:
        self.warnings.extend(
            Problem(
                p.element_id,
                "not valid against the BPMN 2.0 XML Schema (Ticketflow runs "
                f"it; other tools may not): {p.message}",
                file=p.file,
            )
            for said in self.schema_said.values()
            for p in said
        )


def _ids_in(xml: str) -> list[str]:
    return [p.get("id") for p in etree.fromstring(xml.encode()).iter(f"{{{BPMN_NS}}}process")]


def _process_name(tree, pid: str) -> str | None:
    for proc in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if proc.get("id") == pid:
            return proc.get("name")
    return None


def _owner(element_id, spec, subprocess_specs) -> str | None:
    """The process id whose spec holds an element (for naming the file of a problem)."""
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                return process_spec.name
    return None


def _collaborations(parser, trees) -> dict[str, str]:
    """process id -> collaboration id, for processes that start a multi-pool collaboration.

    A collaboration whose pools hold two or more executable processes runs as one instance
    (SpiffWorkflow's collaboration spec). The process that starts it is one with a plain start
    event; pools that begin with a message start are started by the messages sent to them.
    """
    result = {}
    executable = set(parser.get_process_ids())
    for tree in trees.values():
        for collab in tree.getroot().iter(f"{{{BPMN_NS}}}collaboration"):
            refs = [p.get("processRef") for p in collab.iter(f"{{{BPMN_NS}}}participant")]
            pools = [r for r in refs if r in executable]
            if len(pools) < 2 or not any(True for _ in collab.iter(f"{{{BPMN_NS}}}messageFlow")):
                continue
            for pid in pools:
                if _has_plain_start(tree, pid):
                    result[pid] = collab.get("id")
    return result


def _has_plain_start(tree, pid: str) -> bool:
    for proc in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if proc.get("id") != pid:
            continue
        for start in proc.findall(f"{{{BPMN_NS}}}startEvent"):
            if not any(etree.QName(child).localname.endswith("EventDefinition") for child in start):
                return True
    return False


def _decisions_of(process_specs) -> set[str]:
    ids = set()
    for process_spec in process_specs:
        for task_spec in process_spec.task_specs.values():
            engine = getattr(task_spec, "dmnEngine", None)
            decision = getattr(engine, "decision_table", None) or getattr(engine, "decision", None)
            ref = getattr(task_spec, "extensions", {}) or {}
            if ref.get("calledDecisionId"):
                ids.add(ref["calledDecisionId"])
            elif decision is not None and getattr(decision, "id", None):
                ids.add(decision.id)
    return ids


def _mutable(spec, subprocess_specs) -> bool:
    """True when running the process changes its spec (SpiffWorkflow 3.2 connects the start task
    to an event subprocess or a message-started pool when it is first triggered)."""
    for process_spec in [spec, *subprocess_specs.values()]:
        start = getattr(process_spec, "start", None)
        if isinstance(start, BpmnStartTask) and start.trigger_specs:
            return True
        if any(
            getattr(ts, "spec", None) and type(ts).__name__ == "EventSubprocess"
            for ts in process_spec.task_specs.values()
        ):
            return True
    return False


def _form_for(name: str, forms: dict, deployed: Deployed) -> dict | None:
    if name in forms:
        return forms[name]
    return deployed.form(name)
