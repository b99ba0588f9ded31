"""The corpus on disk: its manifest, and the bundle each diagram is deployed with.

A bundle is the diagram, its called process from `companions/`, the DMN files whose decisions it
calls and the forms it names; a variant from `variants/` has its call activity merged in.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "foreign-bpmn"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
READ_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def read_manifest(corpus: Path) -> list[tuple[str, str]]:
    """(diagram id, source) per line of the corpus's manifest.tsv."""
    rows = []
    for line in (corpus / "manifest.tsv").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            rows.append((parts[0].strip(), parts[1].strip()))
    return rows


@dataclass
class Bundle:
    """The files one diagram is deployed with."""

    id: str
    diagram: Path
    companion: Path | None = None
    dmn: list[Path] = field(default_factory=list)
    forms: list[Path] = field(default_factory=list)
    missing_forms: list[str] = field(default_factory=list)
    missing_decisions: list[str] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every file, DMN and forms first, then the called process, then the diagram."""
        return [*self.dmn, *self.forms, *([self.companion] if self.companion else []), self.diagram]

    def bpmn_files(self) -> list[Path]:
        return [*([self.companion] if self.companion else []), self.diagram]


def read_tree(path: Path):
    try:
        return etree.parse(str(path), READ_XML)
    except etree.XMLSyntaxError:
        return None


def decisions_named(tree) -> set[str]:
    """Decision ids a diagram calls: spiffworkflow:calledDecisionId text or a decisionRef attribute."""
    found = set()
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname == "calledDecisionId" and element.text:
            found.add(element.text.strip())
        for name, value in element.attrib.items():
            if etree.QName(name).localname == "decisionRef" and value.strip():
                found.add(value.strip())
    return found


def forms_named(tree) -> set[str]:
    """Form files named by spiffworkflow:property formJsonSchemaFilename / formUiSchemaFilename."""
    return {
        el.get("value")
        for el in tree.getroot().iter("{*}property")
        if el.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename") and el.get("value")
    }


def dmn_index(corpus: Path) -> dict[str, list[Path]]:
    """decision id -> DMN files of the corpus defining it."""
    index = defaultdict(list)
    for path in sorted((corpus / "dmn").glob("*.dmn")):
        tree = read_tree(path)
        if tree is None:
            continue
        for decision in tree.getroot().iter("{*}decision"):
            index[decision.get("id")].append(path)
    return index


def build_bundle(
    corpus: Path, diagram_id: str, decisions: dict[str, list[Path]], variant: Path | None = None
) -> Bundle:
    """The bundle of a corpus diagram; a variant (its call activity merged in) comes without companion."""
    companion = corpus / "companions" / f"{diagram_id}.callee.bpmn"
    if variant is not None:
        bundle = Bundle(diagram_id, variant)
    else:
        bundle = Bundle(diagram_id, corpus / f"{diagram_id}.bpmn", companion if companion.is_file() else None)
    trees = [t for t in (read_tree(p) for p in bundle.bpmn_files()) if t is not None]
    camunda = any("camunda.org" in (ns or "") for t in trees for ns in t.getroot().nsmap.values())
    for tree in trees:
        for decision in sorted(decisions_named(tree)):
            candidates = decisions.get(decision, [])
            if not candidates:
                bundle.missing_decisions.append(decision)
                continue
            # The same decision exported by two modelers: take the one of the diagram's dialect.
            preferred = [p for p in candidates if p.name.startswith("camunda_") == camunda] or candidates
            if preferred[0] not in bundle.dmn:
                bundle.dmn.append(preferred[0])
        for name in sorted(forms_named(tree)):
            path = corpus / "forms" / name
            if path.is_file():
                if path not in bundle.forms:
                    bundle.forms.append(path)
            elif name not in bundle.missing_forms:
                bundle.missing_forms.append(name)
    return bundle


def operators_in(bundle: Bundle) -> list[str]:
    """The service operators the bundle's diagrams name."""
    trees = [t for t in (read_tree(p) for p in bundle.bpmn_files()) if t is not None]
    return sorted(
        {el.get("id") for t in trees for el in t.getroot().iter("{*}serviceTaskOperator") if el.get("id")}
    )


def top_process(trees: list, known: list[str]) -> tuple[list[str], list[str]]:
    """(top-level candidates, collaboration ids): executable processes no call activity calls."""
    called = {el.get("calledElement") for t in trees for el in t.getroot().iter(f"{BPMN}callActivity")}
    collaborations = [el.get("id") for t in trees for el in t.getroot().iter(f"{BPMN}collaboration")]
    return [pid for pid in known if pid not in called], collaborations
