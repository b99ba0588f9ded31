"""The JSON Schema form renderer (forms/macros.html) and the submission parser (app/web/forms.py)."""

import io
import json

import lxml.html
import pytest
from flask import render_template_string
from flask_login import login_user
from werkzeug.datastructures import FileStorage, MultiDict

from app.engine import InvalidData
from app.engine.diagrams.forms import validate, with_field_order
from app.extensions import db
from app.models import Attachment
from app.web.forms import (
    REQUIRED,
    attachment_saver,
    initial_values,
    parse_submission,
    store_attachment,
    submission_errors,
    wants_more_rows,
)
from tests.factories import ROOT, make_user

MACRO = '{% from "forms/macros.html" import form_fields %}{{ form_fields(schema, values, errors) }}'


def render(app, schema: dict, values: dict | None = None, errors: dict | None = None):
    with app.test_request_context():
        html = render_template_string(MACRO, schema=schema, values=values, errors=errors)
    return lxml.html.fromstring(f"<div>{html}</div>")


def one(page, xpath: str):
    found = page.xpath(xpath)
    assert len(found) == 1, f"{xpath}: found {len(found)}"
    return found[0]


def form(**fields) -> dict:
    return {"type": "object", "properties": fields}


RETURN_START = json.loads((ROOT / "forms" / "return_start.json").read_text())


# --- rendering: one widget each ------------------------------------------------------------


def test_the_form_script_is_a_static_file_so_a_strict_csp_allows_it(app, client):
    page = render(
        app, {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}}}}
    )
    scripts = page.xpath("//script")
    assert [(s.get("src"), (s.text or "").strip()) for s in scripts] == [("/static/form-rows.js", "")]
    assert b"fieldset[data-array]" in client.get("/static/form-rows.js").data


def test_string_renders_an_input_with_its_title_help_and_required_marker(app):
    page = render(app, {**form(order=RETURN_START["properties"]["order_number"]), "required": ["order"]})
    field = one(page, "//input[@name='order']")
    assert field.get("type") == "text" and field.get("maxlength") == "40"
    label = one(page, f"//label[@for='{field.get('id')}']")
    assert "Order number" in label.text_content() and label.xpath(".//span[@class='required']")
    assert "order confirmation" in one(page, "//p[@class='help']").text_content()


def test_textarea_widget_renders_a_textarea(app):
    page = render(app, form(note={"type": "string", "x-widget": "textarea"}), {"note": "line 1\nline 2"})
    assert one(page, "//textarea[@name='note']").text == "line 1\nline 2"


def test_money_is_a_number_input_in_cents_and_integers_step_by_one(app):
    page = render(
        app,
        form(amount={"type": "number", "x-widget": "money"}, qty={"type": "integer"}),
        {"amount": 89.9, "qty": 2},
    )
    amount = one(page, "//input[@name='amount']")
    assert (amount.get("type"), amount.get("step"), amount.get("value")) == ("number", "0.01", "89.90")
    assert one(page, "//input[@name='qty']").get("step") == "1"


def test_date_format_renders_a_date_input(app):
    page = render(app, form(day={"type": "string", "format": "date"}), {"day": "2026-11-23"})
    day = one(page, "//input[@name='day']")
    assert (day.get("type"), day.get("value")) == ("date", "2026-11-23")


def test_enum_renders_a_select_with_readable_labels_and_the_value_selected(app):
    schema = form(topic={"type": "string", "enum": ["order", "no_longer_needed"]})
    page = render(app, schema, {"topic": "no_longer_needed"})
    options = one(page, "//select[@name='topic']").xpath("./option")
    assert [o.text for o in options] == ["— choose —", "Order", "No longer needed"]
    assert [o.get("value") for o in options if o.get("selected") is not None] == ["no_longer_needed"]


def test_radio_widget_renders_one_radio_per_option(app):
    page = render(app, form(reason=RETURN_START["properties"]["reason"]), {"reason": "wrong_item"})
    radios = page.xpath("//input[@type='radio'][@name='reason']")
    assert [r.get("value") for r in radios] == [
        "damaged",
        "wrong_item",
        "not_as_described",
        "no_longer_needed",
        "other",
    ]
    assert [r.get("value") for r in radios if r.get("checked") is not None] == ["wrong_item"]
    assert "Reason for the return" in one(page, "//fieldset/legend").text_content()


def test_boolean_and_const_true_render_checkboxes(app):
    schema = {
        **form(
            done={"type": "boolean", "title": "Done"},
            received={"type": "boolean", "const": True, "title": "Items received"},
        ),
        "required": ["received"],
    }
    page = render(app, schema, {"done": True})
    done = one(page, "//input[@name='done']")
    assert (done.get("type"), done.get("value"), done.get("checked")) == ("checkbox", "true", "checked")
    received = one(page, "//input[@name='received']")
    assert received.get("type") == "checkbox" and received.get("checked") is None


def test_binary_format_renders_a_file_input_and_keeps_an_earlier_upload(app):
    schema = form(photo={"type": "object", "format": "binary", "title": "Photo"})
    page = render(app, schema, {"photo": {"attachment_id": 7, "filename": "dent.jpg", "size": 2048}})
    assert one(page, "//input[@type='file']").get("name") == "photo"
    assert one(page, "//input[@type='hidden'][@name='photo']").get("value") == "7"
    assert "dent.jpg" in one(page, "//p[@class='attached']").text_content()


def test_array_of_objects_renders_its_minimum_rows_and_an_add_button(app):
    page = render(app, form(items=RETURN_START["properties"]["items"]))
    rows = page.xpath("//fieldset[@data-array='items']/div[@class='array-rows']/div[@class='array-item']")
    assert [r.get("data-index") for r in rows] == ["0"]  # one item is required: one row, not two
    assert one(page, "//input[@name='items.0.sku']").get("value") == ""
    assert one(page, "//input[@name='items.0.qty']").get("value") == "1"  # the item's default
    button = one(page, "//button[@name='_add_row']")
    assert (button.get("type"), button.get("value")) == ("submit", "items")


def test_an_optional_array_shows_one_empty_row(app):
    page = render(app, form(tags={"type": "array", "items": {"type": "string"}}))
    assert [i.get("name") for i in page.xpath("//div[@class='array-rows']//input")] == ["tags.0"]


def test_array_rows_follow_the_values(app):
    values = {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}, {"sku": "C", "qty": 3}]}
    page = render(app, form(items=RETURN_START["properties"]["items"]), values)
    assert [
        i.get("value") for i in page.xpath("//div[@class='array-rows']//input[contains(@name, '.sku')]")
    ] == ["A", "B", "C"]


def test_the_add_item_button_without_javascript_brings_one_empty_row_more(app):
    values = {"items": [{"sku": "A", "qty": 1}]}
    with app.test_request_context(method="POST", data={"_add_row": "items"}):
        html = render_template_string(
            MACRO, schema=form(items=RETURN_START["properties"]["items"]), values=values
        )
    page = lxml.html.fromstring(f"<div>{html}</div>")
    assert [
        i.get("value") for i in page.xpath("//div[@class='array-rows']//input[contains(@name, '.sku')]")
    ] == ["A", ""]


def test_array_of_strings_renders_one_input_per_row(app):
    page = render(app, form(tags={"type": "array", "items": {"type": "string"}}), {"tags": ["a", "b"]})
    assert [i.get("name") for i in page.xpath("//div[@class='array-rows']//input")] == ["tags.0", "tags.1"]


def test_nested_objects_render_dotted_names(app):
    schema = form(
        address={
            "type": "object",
            "title": "Address",
            "properties": {"city": {"type": "string", "title": "City"}},
        }
    )
    page = render(app, schema, {"address": {"city": "Ghent"}})
    assert one(page, "//input[@name='address.city']").get("value") == "Ghent"
    assert one(page, "//fieldset/legend").text_content().strip() == "Address"


def test_defaults_fill_a_fresh_form_but_not_one_that_failed(app):
    schema = form(
        severity={"type": "string", "enum": ["low", "high"], "default": "low"}, note={"type": "string"}
    )
    fresh = render(app, schema, {})
    assert one(fresh, "//option[@selected]").get("value") == "low"
    failed = render(app, schema, {}, {"note": "this field is required"})
    assert not failed.xpath("//option[@selected]")


def test_errors_show_next_to_their_field_and_typed_values_stay(app):
    values = {"order_number": "SO-1", "amount": "twelve", "items": [{"sku": "A", "qty": 1}]}
    errors = {"amount": "must be a number", "items.0.sku": "must be at most 40 characters"}
    page = render(app, RETURN_START, values, errors)
    amount = one(page, "//input[@name='amount']")
    assert amount.get("value") == "twelve" and amount.get("aria-invalid") == "true"
    assert one(page, f"//p[@id='{amount.get('id')}-error']").text == "must be a number"
    assert (
        one(page, "//input[@name='items.0.sku']/following-sibling::p[@class='error']").text
        == "must be at most 40 characters"
    )
    assert one(page, "//input[@name='order_number']").get("value") == "SO-1"


def test_fields_follow_the_recorded_order_not_the_key_order(app):
    schema = with_field_order(form(zeta={"type": "string"}, alpha={"type": "string"}))
    scrambled = {
        "type": "object",
        "x-order": schema["x-order"],
        "properties": dict(sorted(schema["properties"].items())),
    }
    names = [i.get("name") for i in render(app, scrambled).xpath("//input")]
    assert names == ["zeta", "alpha"]


@pytest.mark.parametrize("path", sorted((ROOT / "forms").glob("*.json")), ids=lambda p: p.name)
def test_every_shipped_form_renders_each_of_its_fields(app, path):
    schema = json.loads(path.read_text())
    page = render(app, schema)
    names = {e.get("name") for e in page.xpath("//input | //select | //textarea")}
    for name in schema["properties"]:
        assert name in names or any(n and n.startswith(f"{name}.") for n in names), name


# --- parsing ---------------------------------------------------------------------------------


def parse(schema, fields, files=None, save_file=None):
    return parse_submission(schema, MultiDict(fields), MultiDict(files or []), save_file)


def test_numbers_and_integers_are_coerced(app):
    data, errors = parse(
        form(amount={"type": "number"}, qty={"type": "integer"}, whole={"type": "number"}),
        [("amount", "89.90"), ("qty", "3"), ("whole", "12")],
    )
    assert (data, errors) == ({"amount": 89.9, "qty": 3, "whole": 12}, {})


def test_a_decimal_comma_is_read_as_a_decimal_point(app):
    assert parse(form(amount={"type": "number"}), [("amount", "12,50")])[0] == {"amount": 12.5}


def test_text_in_a_number_field_is_an_error_and_the_text_is_kept(app):
    data, errors = parse(form(amount={"type": "number"}), [("amount", "twelve")])
    assert errors == {"amount": "must be a number"} and data == {"amount": "twelve"}


def test_a_fraction_in_an_integer_field_is_an_error(app):
    assert parse(form(qty={"type": "integer"}), [("qty", "1.5")])[1] == {"qty": "must be a whole number"}


def test_checkboxes_become_true_or_false(app):
    schema = form(done={"type": "boolean"}, other={"type": "boolean"})
    assert parse(schema, [("done", "true")])[0] == {"done": True, "other": False}


def test_empty_fields_are_left_out(app):
    schema = form(note={"type": "string"}, amount={"type": "number"}, pick={"type": "string", "enum": ["a"]})
    assert parse(schema, [("note", "   "), ("amount", ""), ("pick", "")]) == ({}, {})


def test_enum_values_keep_their_schema_type(app):
    data, _ = parse(form(stars={"type": "integer", "enum": [1, 2, 3]}), [("stars", "2")])
    assert data == {"stars": 2}


def test_date_fields_must_be_dates(app):
    assert parse(form(day={"type": "string", "format": "date"}), [("day", "23/11/2026")])[1] == {
        "day": "must be a date (YYYY-MM-DD)"
    }


def test_array_rows_are_reassembled_in_order_and_untouched_rows_dropped(app):
    fields = [
        ("items.0.sku", "A"),
        ("items.0.qty", "1"),
        ("items.1.sku", ""),
        ("items.1.qty", "1"),
        ("items.4.sku", "B"),
        ("items.4.qty", "2"),
    ]
    data, errors = parse(form(items=RETURN_START["properties"]["items"]), fields)
    assert errors == {} and data == {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}


def test_row_errors_are_keyed_by_the_rows_place_in_the_data(app):
    fields = [("items.0.sku", ""), ("items.0.qty", "1"), ("items.3.sku", "B"), ("items.3.qty", "x")]
    data, errors = parse(form(items=RETURN_START["properties"]["items"]), fields)
    assert errors == {"items.0.qty": "must be a whole number"}
    assert data == {"items": [{"sku": "B", "qty": "x"}]}


def test_engine_errors_name_the_same_paths_as_the_inputs(app):
    fields = [
        ("order_number", "SO-1"),
        ("items.0.sku", ""),
        ("items.0.qty", "5"),
        ("reason", "damaged"),
        ("amount", "0"),
        ("preferred_resolution", "refund"),
    ]
    data, errors = parse(RETURN_START, fields)
    assert errors == {}
    with pytest.raises(InvalidData) as caught:
        validate(RETURN_START, data)
    assert caught.value.errors == {"items.0.sku": "this field is required", "amount": "must be more than 0"}


def test_an_array_of_strings_is_reassembled(app):
    data, _ = parse(
        form(tags={"type": "array", "items": {"type": "string"}}),
        [("tags.0", "a"), ("tags.1", ""), ("tags.2", "c")],
    )
    assert data == {"tags": ["a", "c"]}


def test_nested_objects_are_reassembled(app):
    schema = form(address={"type": "object", "properties": {"city": {"type": "string"}}})
    assert parse(schema, [("address.city", "Ghent")])[0] == {"address": {"city": "Ghent"}}


def upload(name="dent.jpg", data=b"jpeg bytes", mimetype="image/jpeg"):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=mimetype)


def test_uploads_are_handed_to_save_file_and_its_value_kept(app):
    saved = []

    def save(file):
        saved.append(file.read())
        return {"attachment_id": 1, "filename": file.filename, "size": 10}

    data, errors = parse(form(photo={"type": "object", "x-widget": "file"}), [], [("photo", upload())], save)
    assert errors == {} and saved == [b"jpeg bytes"]
    assert data == {"photo": {"attachment_id": 1, "filename": "dent.jpg", "size": 10}}


def test_an_upload_that_save_file_refuses_is_an_error_on_its_field(app):
    def save(file):
        raise ValueError("the file is larger than 5 MiB")

    _, errors = parse(form(photo={"x-widget": "file"}), [], [("photo", upload())], save)
    assert errors == {"photo": "the file is larger than 5 MiB"}


def test_uploads_without_a_place_to_store_them_are_refused(app):
    assert parse(form(photo={"x-widget": "file"}), [], [("photo", upload())])[1] == {
        "photo": "files cannot be attached here"
    }


def test_attachments_are_stored_with_their_bytes_and_refused_over_5_mib(app):
    user = make_user("alice")
    value = attachment_saver(user.id)(upload())
    row = db.session.get(Attachment, value["attachment_id"])
    assert (row.filename, row.size, row.data, row.uploaded_by_id) == ("dent.jpg", 10, b"jpeg bytes", user.id)
    with pytest.raises(ValueError, match="larger than 5 MiB"):
        store_attachment(upload(data=b"x" * (5 * 1024 * 1024 + 1)), user.id)


def test_a_kept_upload_is_accepted_only_from_its_uploader(app):
    alice, bob = make_user("alice"), make_user("bob")
    kept = store_attachment(upload(), alice.id)
    db.session.commit()
    schema = form(photo={"x-widget": "file"})
    with app.test_request_context():
        login_user(alice)
        assert parse(schema, [("photo", str(kept.id))])[0] == {"photo": kept.as_value()}
    with app.test_request_context():
        login_user(bob)
        assert parse(schema, [("photo", str(kept.id))])[1] == {
            "photo": "the attached file is gone; attach it again"
        }


def test_the_add_item_button_asks_for_more_rows_instead_of_submitting(app):
    assert wants_more_rows(MultiDict([("_add_row", "items")])) == "items"
    assert wants_more_rows(MultiDict([("items.0.sku", "A")])) is None


def test_initial_values_take_x_default_from_before_default(app):
    schema = form(
        resolution={"type": "string", "x-default-from": "preferred_resolution", "default": "refund"},
        amount={"type": "number", "x-default-from": "assessment.proposed_limit"},
        note={"type": "string", "default": "n/a"},
        other={"type": "string"},
    )
    data = {"preferred_resolution": "credit_note", "assessment": {"proposed_limit": 1500.0}}
    assert initial_values(schema, data) == {"resolution": "credit_note", "amount": 1500.0, "note": "n/a"}
    assert initial_values(schema, {})["resolution"] == "refund"


# --- every error at once ---------------------------------------------------------------------


def test_submission_errors_name_every_field_of_an_empty_return_form_in_one_pass(app):
    page = [("items.0.sku", ""), ("items.0.qty", "1"), ("preferred_resolution", "refund")]
    data, errors = parse(RETURN_START, page)
    assert submission_errors(RETURN_START, data, errors) == {
        "order_number": REQUIRED,
        "items": REQUIRED,
        "reason": REQUIRED,
        "amount": REQUIRED,
    }  # preferred_resolution has a default radio choice, so it is never empty on the page


def test_submission_errors_keep_the_parsers_message_and_add_the_schemas(app):
    data, errors = parse(RETURN_START, [("amount", "lots"), ("items.0.sku", "A"), ("items.0.qty", "0")])
    found = submission_errors(RETURN_START, data, errors)
    assert found["amount"] == "must be a number"
    assert found["items.0.qty"] == "must be at least 1"
    assert found["order_number"] == found["reason"] == REQUIRED


def test_the_same_kind_of_error_reads_the_same_from_the_parser_and_the_schema(app):
    schema = form(day={"type": "string", "format": "date"})
    typed = parse(schema, [("day", "23/11/2026")])[1]["day"]
    with pytest.raises(InvalidData) as caught:
        validate(schema, {"day": "2026-13-45"})
    assert typed == caught.value.errors["day"] == "must be a date (YYYY-MM-DD)"
