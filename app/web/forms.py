"""JSON Schema forms on pages: turn a submitted HTML form into typed data, and pre-fill forms.

The fields are rendered by the macro `form_fields(schema, values, errors)` in
`templates/forms/macros.html`. Every input is named by its dotted data path (`amount`,
`address.city`, `items.0.sku`), the same paths the engine's `InvalidData.errors` use, so a
server-side error lands next to its field. Validation against the schema is the engine's job;
this module coerces strings to the schema's types, reports what cannot be coerced, and
(`submission_errors`) joins those reports with the engine's check of the schema, so a person sees
every error of a form at once, in one wording.
"""

import copy
import re
from collections.abc import Callable
from datetime import date

from flask_login import current_user
from werkzeug.datastructures import FileStorage, MultiDict

from app.engine import form_errors
from app.extensions import db
from app.inputs import ascii_int
from app.models import MAX_ATTACHMENT_BYTES, Attachment

# The "add item" button of an array posts its path under this name (works without JavaScript).
ADD_ROW = "_add_row"
TRUE_VALUES = {"true", "on", "1", "yes"}
# The engine's wording for a missing value (app/engine/diagrams/forms.py), used for fields outside
# the schema too (a ticket's subject), so the same kind of error reads the same everywhere.
REQUIRED = "this field is required"
_ABSENT = object()

SaveFile = Callable[[FileStorage], dict]


def field_kind(schema: dict) -> str:
    """The widget family of a property: file, files, object, array, choices, enum, boolean, number,
    integer or string."""
    if not isinstance(schema, dict):
        return "string"
    if schema.get("format") == "binary" or schema.get("x-widget") == "file":
        return "file"
    kind = schema_type(schema)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if field_kind(items) == "file":
            return "files"
        if "enum" in items:
            return "choices"
        return "array"
    if "enum" in schema:
        return "enum"
    if kind == "object":
        return "object"
    if kind in ("boolean", "number", "integer"):
        return kind
    return "string"


def schema_type(schema: dict) -> str | None:
    """The schema's type; for a list of types the first that is not 'null'."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return kind


def ordered_properties(schema: dict) -> list[tuple[str, dict]]:
    """Properties in form order: `x-order` first (the deploy step records the file's order), then the rest."""
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    order = [name for name in schema.get("x-order") or [] if name in props]
    order += [name for name in props if name not in order]
    return [(name, props[name]) for name in order]


def parse_submission(
    schema: dict, form: MultiDict, files: MultiDict, save_file: SaveFile | None = None
) -> tuple[dict, dict]:
    """Coerce a submitted HTML form to the types of `schema`.

    Args:
        schema: the JSON Schema object of the form.
        form: `request.form`.
        files: `request.files`.
        save_file: stores one upload and returns the JSON value for the data (e.g.
            `{"attachment_id", "filename", "size"}`); may raise ValueError with a message for the
            person. Without it, uploads are refused with an error on their field.

    Returns:
        (data, errors): `errors` maps dotted field paths to messages ("must be a number"). When
        there are errors, `data` holds the typed text for those fields, so the form can be shown
        again with what the person entered.
    """
    errors: dict[str, str] = {}
    parser = _Parser(form, files, save_file, errors)
    return parser.object(schema or {}, "", ""), errors


def submission_errors(schema: dict, data: dict, errors: dict[str, str]) -> dict[str, str]:
    """Every error of a submitted form in one pass: what `parse_submission` could not coerce, then
    what the schema refuses in the other fields (the engine's own check and wording).

    Args:
        schema: the JSON Schema object of the form.
        data: the data `parse_submission` returned (typed text for the fields it could not coerce).
        errors: the errors `parse_submission` returned.

    Returns:
        {dotted field path: message}; empty when the data passes.
    """
    found = dict(errors)
    for path, message in form_errors(schema or {}, data).items():
        found.setdefault(path, message)
    return found


def wants_more_rows(form: MultiDict) -> str | None:
    """The path of the array whose "add item" button was pressed, or None for a real submit."""
    return form.get(ADD_ROW) or None


def initial_values(schema: dict, data: dict | None) -> dict:
    """Pre-fill a form: `x-default-from: "a.b"` takes the value at that path of `data`, else `default`."""
    values = {}
    for name, sub in ordered_properties(schema or {}):
        if not isinstance(sub, dict):
            continue
        source = sub.get("x-default-from")
        found = lookup(data or {}, source) if isinstance(source, str) else None
        if found is not None:
            values[name] = copy.deepcopy(found)
        elif "default" in sub:
            values[name] = copy.deepcopy(sub["default"])
        elif field_kind(sub) == "object":
            nested = initial_values(sub, data)
            if nested:
                values[name] = nested
    return values


def lookup(data, path: str):
    """The value at a dotted path (`assessment.proposed_limit`, `items.0.sku`) or None."""
    value = data
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def blank_value(schema: dict):
    """What an untouched row of `schema` parses to: defaults, unticked boxes; _ABSENT when nothing."""
    kind = field_kind(schema)
    if "default" in schema:
        return schema["default"]
    if kind == "boolean":
        return False
    if kind == "object":
        blank = {}
        for name, sub in ordered_properties(schema):
            value = blank_value(sub) if isinstance(sub, dict) else _ABSENT
            if value is not _ABSENT:
                blank[name] = value
        return blank or _ABSENT
    return _ABSENT


def read_attachment(upload: FileStorage) -> tuple[str, str, bytes]:
    """Read and check one uploaded file (at most 5 MiB): its clean file name, content type and content.

    Raises:
        ValueError: the file is empty or too large (the message is for the person).
    """
    data = upload.stream.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValueError(f"the file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB")
    if not data:
        raise ValueError("the file is empty")
    name = re.sub(r"[\x00-\x1f\x7f]", "", (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    return name.strip()[:255] or "upload", (upload.mimetype or "application/octet-stream")[:120], data


def store_attachment(upload: FileStorage, user_id: int | None, ticket_id: int | None = None) -> Attachment:
    """Keep one uploaded file (at most 5 MiB) as an Attachment row; the caller commits.

    Raises:
        ValueError: the file is empty or too large (the message is for the person).
    """
    name, content_type, data = read_attachment(upload)
    row = Attachment(
        ticket_id=ticket_id,
        filename=name,
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_by_id=user_id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def has_uploads(files: MultiDict) -> bool:
    """Whether a submission carries a file to store (an empty file input sends no file name)."""
    return any(upload.filename for _, upload in files.items(multi=True))


def attachment_saver(user_id: int | None, ticket_id: int | None = None) -> SaveFile:
    """A `save_file` for parse_submission that stores uploads as attachments of a ticket."""
    return lambda upload: store_attachment(upload, user_id, ticket_id).as_value()


class _Parser:
    """Walks the schema and reads each field from the form by its name (`key`).

    `key` is the input's name; `path` the field's place in the data. They differ only in array
    indices: rows left empty are dropped, so the third row typed may be the data's second item.
    """

    def __init__(self, form: MultiDict, files: MultiDict, save_file: SaveFile | None, errors: dict):
        self.form, self.uploads, self.save_file, self.errors = form, files, save_file, errors

    def value(self, schema: dict, key: str, path: str):
        return getattr(self, "read_" + field_kind(schema))(schema, key, path)

    def object(self, schema: dict, key: str, path: str):
        out = {}
        for name, sub in ordered_properties(schema):
            if not isinstance(sub, dict):
                continue
            value = self.value(sub, f"{key}.{name}" if key else name, f"{path}.{name}" if path else name)
            if value is not _ABSENT:
                out[name] = value
        return out

    def read_object(self, schema: dict, key: str, path: str):
        return self.object(schema, key, path) or _ABSENT

    def _text(self, key: str) -> str:
        return (self.form.get(key) or "").replace("\r\n", "\n")

    def read_string(self, schema: dict, key: str, path: str):
        raw = self._text(key)
        if not raw.strip():
            return _ABSENT
        if schema.get("x-widget") != "textarea":
            raw = raw.strip()
        if schema.get("format") == "date-time" and re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", raw
        ):
            raw = (raw if raw.count(":") == 2 else raw + ":00") + "Z"  # datetime-local inputs are UTC here
        if schema.get("format") == "date" and not _is_date(raw):
            self.errors[path] = "must be a date (YYYY-MM-DD)"
        return raw

    def read_number(self, schema: dict, key: str, path: str):
        raw = self._text(key).strip()
        if not raw:
            return _ABSENT
        text = raw.replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # a decimal comma
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):
            self.errors[path] = (
                "must be a whole number" if field_kind(schema) == "integer" else "must be a number"
            )
            return raw
        if number.is_integer() and "." not in text and "e" not in text.lower():
            return int(number)
        return number

    def read_integer(self, schema: dict, key: str, path: str):
        value = self.read_number(schema, key, path)
        if value is _ABSENT or path in self.errors:
            return value
        if isinstance(value, float):
            if not value.is_integer():
                self.errors[path] = "must be a whole number"
                return self._text(key).strip()
            value = int(value)
        return value

    def read_boolean(self, schema: dict, key: str, path: str):
        return (self.form.get(key) or "").strip().lower() in TRUE_VALUES

    def read_enum(self, schema: dict, key: str, path: str):
        raw = self._text(key).strip()
        if not raw:
            return _ABSENT
        return _enum_member(schema["enum"], raw)

    def read_choices(self, schema: dict, key: str, path: str):
        options = schema["items"]["enum"]
        picked = [_enum_member(options, raw.strip()) for raw in self.form.getlist(key) if raw.strip()]
        return picked if picked else _ABSENT

    def read_file(self, schema: dict, key: str, path: str):
        upload = self.uploads.get(key)
        if upload is not None and upload.filename:
            return self._save(upload, path)
        return self._kept(self.form.get(key), path)

    def read_files(self, schema: dict, key: str, path: str):
        values = []
        for raw in self.form.getlist(key):
            kept = self._kept(raw, path)
            if kept is not _ABSENT:
                values.append(kept)
        for upload in self.uploads.getlist(key):
            if upload is not None and upload.filename:
                saved = self._save(upload, path)
                if saved is not _ABSENT:
                    values.append(saved)
        return values if values else _ABSENT

    def _save(self, upload: FileStorage, path: str):
        if self.save_file is None:
            self.errors[path] = "files cannot be attached here"
            return _ABSENT
        try:
            return self.save_file(upload)
        except ValueError as exc:
            self.errors[path] = str(exc)
            return _ABSENT

    def _kept(self, raw: str | None, path: str):
        """A file attached on an earlier, failed submit: only the uploader's own may be kept."""
        if not raw or not raw.strip():
            return _ABSENT
        owner = getattr(current_user, "id", None)
        row = db.session.get(Attachment, found) if (found := ascii_int(raw)) is not None else None
        if row is None or owner is None or row.uploaded_by_id != owner:
            self.errors[path] = "the attached file is gone; attach it again"
            return _ABSENT
        return row.as_value()

    def read_array(self, schema: dict, key: str, path: str):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        blank = blank_value(items)
        found = []
        for index in self._row_indices(key):
            row_errors: dict[str, str] = {}
            saved, self.errors = self.errors, row_errors
            try:
                value = self.value(items, f"{key}.{index}", f"{path}.{len(found)}")
            finally:
                self.errors = saved
            if not row_errors and (value is _ABSENT or value == blank):
                continue  # a row left untouched
            self.errors.update(row_errors)
            found.append(
                {}
                if value is _ABSENT and field_kind(items) == "object"
                else None
                if value is _ABSENT
                else value
            )
        return found if found else _ABSENT

    def _row_indices(self, key: str) -> list[int]:
        pattern = re.compile(re.escape(key) + r"\.(\d{1,5})(?:\.|$)")
        indices = set()
        for source in (self.form, self.uploads):
            for name in source.keys():
                match = pattern.match(name)
                if match:
                    indices.add(int(match.group(1)))
        return sorted(indices)[:1000]


def _enum_member(options: list, raw: str):
    for option in options:
        if option is None:
            continue
        text = str(option).lower() if isinstance(option, bool) else str(option)
        if text == raw:
            return option
    return raw  # not an option: the engine's validation names the field


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
