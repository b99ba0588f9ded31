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


def describe(entry) -> str:
    """One element of meaning() in a line: its path, tag, attributes and text."""
    path, tag, attrs, text = entry
    name = etree.QName(tag).localname
    shown = " ".join(f'{etree.QName(k).localname}="{v}"' for k, v in attrs)
    return f"{'/'.join(path)} <{name}{' ' + shown if shown else ''}>{text[:60]}"


def first_difference(original: str | bytes, saved: str | bytes) -> str | None:
    """The first thing lost (else added) by a save, in words; None when the meaning is the same."""
    for verb, found in zip(("lost", "added"), differences(original, saved), strict=True):
        if found:
            more = found.total() - 1
            return f"{verb} {describe(sorted(found)[0])}" + (f" (+{more} more)" if more else "")
    return None
