"""The panel's entries for message correlation, the customer-visible status and the type's SLA
targets, in Chromium under the studio's CSP, against the stand-in endpoints (studio_fake.py):
each writes exactly the XML the engine reads, checked by parsing the saved diagram with the
engine's own parser.

With SCREENSHOTS=1 the correlation entries are saved as docs/screenshots/studio-correlation.png.
"""

from lxml import etree
from playwright.sync_api import expect

from app.engine import check_bundle_files, check_files
from app.engine.spiff.catches import spec_catches
from app.engine.spiff.correlation import key_properties
from tests.browser.test_studio import open_editor, select, shot, studio  # noqa: F401 (fixture)

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def saved_diagram(page, fake) -> str:
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#status:has-text('Saved')")
    return fake.bodies("PUT", "/types/return/draft")[-1]["files"]["return.bpmn"]


def spec_of(files: dict, key: str = "return"):
    checked = check_files([(name, text.encode()) for name, text in files.items()])
    return next(p for p in checked.processes if p.key == key).spec


def test_correlation_entries_write_spiffarenas_correlation_which_the_engine_reads(studio):  # noqa: F811
    page, fake, _ = studio
    open_editor(page)
    select(page, "wait_customer_reply")
    group = page.locator("[data-group-id='group-ticketflow']")
    group.locator("input[name=spiff-correlation-property]").fill("order_number")
    group.locator("input[name=spiff-correlation-path]").fill('order["number"]')
    group.locator("input[name=spiff-correlation-expected]").fill("data.get('order_number')")
    group.locator("input[name=spiff-correlation-key]").fill("order")
    shot(page, "studio-correlation.png")
    xml = saved_diagram(page, fake)

    root = etree.fromstring(xml.encode())
    (prop,) = root.findall("bpmn:correlationProperty", NS)
    assert prop.get("id") == "order_number"
    (retrieval,) = prop.findall("bpmn:correlationPropertyRetrievalExpression", NS)
    assert retrieval.get("messageRef") == "customer_reply"
    # bpmn-moddle writes the message path as <bpmn:formalExpression> (as SpiffArena does); the
    # engine reads the expression's first child, whatever its name.
    assert [child.text for child in retrieval] == ['order["number"]']
    (key,) = root.findall("bpmn:collaboration/bpmn:correlationKey", NS)
    assert key.get("name") == "order"
    assert key.findtext("bpmn:correlationPropertyRef", namespaces=NS) == "order_number"
    definition = root.find(
        ".//bpmn:intermediateCatchEvent[@id='wait_customer_reply']/bpmn:messageEventDefinition", NS
    )
    expected = definition.find("bpmn:extensionElements/spiffworkflow:processVariableCorrelation", NS)
    assert expected.findtext("spiffworkflow:propertyId", namespaces=NS) == "order_number"
    assert expected.findtext("spiffworkflow:expression", namespaces=NS) == "data.get('order_number')"
    assert definition.findtext(".//spiffworkflow:messageVariable", namespaces=NS) == "customer_reply"

    # The engine's parser reads it: both catch events of the message now carry the property.
    files = {**fake.files, "return.bpmn": xml}
    assert [p for p in check_bundle_files(files) if p["severity"] == "error"] == []
    (event,) = [
        definition
        for task_spec in spec_of(files).task_specs.values()
        for definition, shown_by in spec_catches(task_spec)
        if shown_by.bpmn_id == "wait_customer_reply" and hasattr(definition, "correlation_properties")
    ]  # an event-based gateway holds the definitions of the catch events behind it
    assert key_properties(event) == {"order": {"order_number"}}
    assert [(p.name, p.retrieval_expression, p.correlation_keys) for p in event.correlation_properties] == [
        ("order_number", 'order["number"]', ["order"])
    ]
    assert [(p.name, p.retrieval_expression) for p in event.process_correlations] == [
        ("order_number", "data.get('order_number')")
    ]

    # Clearing the property removes what it wrote.
    select(page, "wait_customer_reply")
    group.locator("input[name=spiff-correlation-property]").fill("")
    root = etree.fromstring(saved_diagram(page, fake).encode())
    assert root.findall("bpmn:correlationProperty", NS) == []
    assert root.findall("bpmn:collaboration/bpmn:correlationKey", NS) == []
    assert root.findall(".//spiffworkflow:processVariableCorrelation", NS) == []


def test_the_customer_visible_status_is_the_set_status_parameter(studio):  # noqa: F811
    page, fake, _ = studio
    open_editor(page)
    select(page, "set_status_new")
    status = page.locator("[data-group-id='group-ticketflow'] select[name=spiff-status]")
    assert status.input_value() == "new"
    status.select_option("in_progress")
    root = etree.fromstring(saved_diagram(page, fake).encode())
    task = root.find(".//bpmn:serviceTask[@id='set_status_new']", NS)
    (parameter,) = task.findall(".//spiffworkflow:parameter[@id='status']", NS)
    assert parameter.get("value") == '"in_progress"' and parameter.get("type") == "str"
    spec = spec_of({**fake.files, "return.bpmn": etree.tostring(root).decode()})
    assert spec.task_specs["set_status_new"].operation_params["status"]["value"] == '"in_progress"'


def test_the_sla_group_of_the_pool_writes_the_types_targets_on_the_process(studio):  # noqa: F811
    page, fake, _ = studio
    open_editor(page)
    page.evaluate(
        "window.studioModeler.get('selection').select("
        "window.studioModeler.get('elementRegistry').get('return_participant'))"
    )
    group = page.locator("[data-group-id='group-ticketflow-sla']")
    group.locator("input[name=spiff-sla-high-resolution_minutes]").wait_for()  # the group is open
    group.locator("input[name=spiff-sla-high-resolution_minutes]").fill("960")
    group.locator("input[name=spiff-sla-high-first_response_minutes]").fill("soon")
    expect(group).to_contain_text("whole number")  # refused in the panel, not written (checked debounced)
    group.locator("input[name=spiff-sla-high-first_response_minutes]").fill("120")
    group.locator("select[name=spiff-sla-team]").select_option("returns")
    root = etree.fromstring(saved_diagram(page, fake).encode())
    props = {
        p.get("name"): p.get("value")
        for p in root.findall(
            "bpmn:process[@id='return']/bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
            NS,
        )
    }
    assert props == {
        "sla.high.resolution_minutes": "960",
        "sla.high.first_response_minutes": "120",
        "sla.team": "returns",
    }
