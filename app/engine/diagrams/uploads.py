"""The files of a deployment upload: a .zip expanded within bounds, each file told apart by kind."""

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from app.engine.diagrams import checks
from app.engine.errors import DiagramRejected, Problem

MAX_FILES = 200
TESTS_SUFFIX = ".tests.json"


@dataclass
class BundleFile:
    name: str
    data: bytes
    kind: str = ""  # bpmn | dmn | form | tests

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_uploads(uploads: list[tuple[str, bytes]], *, max_file: int, max_total: int) -> list[BundleFile]:
    """The files of an upload, a .zip expanded (bounded: count, each size, total size).

    Raises:
        DiagramRejected: a file is too large, a zip is broken or too large, too many files.
    """
    files: list[BundleFile] = []
    problems: list[Problem] = []
    total = 0
    for name, data in uploads:
        name = PurePosixPath((name or "upload").replace("\\", "/")).name or "upload"
        if name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
            members, zip_problems = _unzip(name, data, max_file=max_file, max_total=max_total - total)
            problems.extend(zip_problems)
            for member in members:
                total += len(member.data)
            files.extend(members)
            continue
        total += len(data)
        if len(data) > max_file:
            problems.append(Problem(None, f"the file is larger than {max_file} bytes", file=name))
            continue
        files.append(BundleFile(name, data))
    if total > max_total:
        problems.append(Problem(None, f"the bundle is larger than {max_total} bytes in all"))
    if len(files) > MAX_FILES:
        problems.append(Problem(None, f"a bundle holds at most {MAX_FILES} files; this one has {len(files)}"))
    if not files and not problems:
        problems.append(Problem(None, "the bundle is empty: send BPMN, DMN and JSON form files"))
    seen: dict[str, int] = {}
    for f in files:
        seen[f.name] = seen.get(f.name, 0) + 1
    problems.extend(Problem(None, f"two files are named '{n}'", file=n) for n, c in seen.items() if c > 1)
    if problems:
        raise DiagramRejected(problems)
    return files


def _unzip(
    name: str, data: bytes, *, max_file: int, max_total: int
) -> tuple[list[BundleFile], list[Problem]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        return [], [Problem(None, f"not a readable zip archive: {exc}", file=name)]
    members, problems, total = [], [], 0
    if len(infos) > MAX_FILES:
        return [], [Problem(None, f"the archive holds {len(infos)} files; at most {MAX_FILES}", file=name)]
    for info in infos:
        base = PurePosixPath(info.filename).name
        if not base or base.startswith(".") or "__MACOSX" in info.filename:
            continue
        if info.file_size > max_file:
            problems.append(Problem(None, f"{base} is larger than {max_file} bytes", file=name))
            continue
        total += info.file_size
        if total > max_total:
            return [], [Problem(None, f"the archive expands to more than {max_total} bytes", file=name)]
        with archive.open(info) as handle:  # read at most what the header promised, plus one byte
            content = handle.read(max_file + 1)
        if len(content) > max_file:
            problems.append(Problem(None, f"{base} is larger than {max_file} bytes", file=name))
            continue
        members.append(BundleFile(base, content))
    return members, problems


def classify(f: BundleFile) -> Problem | None:
    lower = f.name.lower()
    if lower.endswith(TESTS_SUFFIX):  # an analyst's process tests, beside its diagram
        f.kind = "tests"
        return None
    if lower.endswith(".json"):
        f.kind = "form"
        return None
    if lower.endswith((".bpmn", ".dmn", ".xml")):
        try:
            f.kind = checks.detect_kind(f.data)
        except DiagramRejected as exc:
            return Problem(exc.problems[0].element_id, exc.problems[0].message, file=f.name)
        return None
    return Problem(
        None, "unsupported file type: a bundle holds .bpmn, .dmn (or .xml) and .json form files", file=f.name
    )
