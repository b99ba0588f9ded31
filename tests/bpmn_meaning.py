"""What a BPMN file says, less its layout: the comparison behind the studio's round trips.

Used by tests/browser/test_studio_import.py (our diagrams in other modelers' shape) and by
bench/studio_roundtrip.py (the public corpus), so both judge "saved unchanged" the same way.
"""

from collections import Counter

from lxml import etree

DI = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
)
READ_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def meaning(xml: str | bytes) -> Counter:
    """Every element outside the diagram interchange as (path of ids, tag, attributes, text):
    compared as a multiset, so whitespace, order, comments and DI do not count."""
    found = Counter()

    def walk(node, path):
        if not isinstance(node.tag, str) or etree.QName(node).namespace in DI:
            return
        here = (*path, node.get("id") or etree.QName(node).localname)
        attrs = tuple(sorted((k, v) for k, v in node.attrib.items()))
        found[(here, node.tag, attrs, (node.text or "").strip())] += 1
        for child in node:
            walk(child, here)

    walk(etree.fromstring(xml.encode() if isinstance(xml, str) else xml, READ_XML), ())
    return found


def differences(original: str | bytes, saved: str | bytes) -> tuple[Counter, Counter]:
    """(lost, added): what the original said that the saved file does not, and the reverse."""
    before, after = meaning(original), meaning(saved)
    return before - after, after - before


PREFIXES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/modeler/1.0": "modeler",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
    "http://flowable.org/bpmn": "flowable",
    "http://activiti.org/bpmn": "activiti",
}


def _name(qualified: str) -> str:
    name = etree.QName(qualified)
    if not name.namespace:
        return name.localname
    return f"{PREFIXES.get(name.namespace, '{' + name.namespace + '}')}:{name.localname}"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(entry) -> str:
    """One element of meaning() in a line: its path, tag, attributes and text."""
    path, tag, attrs, text = entry
    shown = "".join(f' {_name(k)}="{_clip(v)}"' for k, v in attrs)
    return f"{'/'.join(path)} <{_name(tag)}{shown}>{_clip(text)}"


def _changed(before, after) -> str:
    """How one element (same path and tag) differs before and after: attributes, then text."""
    old, new = dict(before[2]), dict(after[2])
    parts = [f'{_name(k)}="{_clip(old[k])}" lost' for k in sorted(old.keys() - new.keys())]
    parts += [f'{_name(k)}="{_clip(new[k])}" added' for k in sorted(new.keys() - old.keys())]
    parts += [
        f'{_name(k)} "{_clip(old[k])}" became "{_clip(new[k])}"'
        for k in sorted(old.keys() & new.keys())
        if old[k] != new[k]
    ]
    if before[3] != after[3]:
        parts.append(f'text "{_clip(before[3])}" became "{_clip(after[3])}"')
    return f"{'/'.join(before[0])} <{_name(before[1])}>: {', '.join(parts)}"


def first_difference(original: str | bytes, saved: str | bytes) -> str | None:
    """The first element lost, changed or added by a save, in words; None when the meaning is the same."""
    lost, added = differences(original, saved)
    if not lost and not added:
        return None
    twin = None
    if lost:
        first = sorted(lost)[0]
        twin = next((a for a in sorted(added) if a[:2] == first[:2]), None)
        text = _changed(first, twin) if twin else f"lost {describe(first)}"
    else:
        text = f"added {describe(sorted(added)[0])}"
    more = lost.total() + added.total() - (2 if twin else 1)
    return text + (f" (and {more} more)" if more else "")
