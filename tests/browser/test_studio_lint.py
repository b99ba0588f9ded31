"""bpmnlint in the studio's editor, in a real Chromium under the app's CSP, against the stand-in for
the studio's JSON endpoints (tests/browser/studio_fake.py): the recommended set and our service-work
rules mark elements like the server's problems, with the rule's name; lint errors block Deploy,
warnings do not. (The shipped diagrams opening with no lint problem: test_studio.py.)

With SCREENSHOTS=1 the marker on a user task without a form is saved to docs/screenshots/.
"""

from tests.browser.test_studio import open_editor, select, shot, studio  # noqa: F401  (fixture)

DROP_USER_TASK_ON_FLOW = """flowId => {
  const modeler = window.studioModeler;
  const flow = modeler.get('elementRegistry').get(flowId);
  const [a, b] = flow.waypoints;
  const shape = modeler.get('elementFactory').createShape({type: 'bpmn:UserTask'});
  return modeler.get('modeling').createShape(shape, {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2}, flow).id;
}"""


def lint_problem(page, rule, element_id):
    return page.locator(f"#problems li[data-rule='{rule}'][data-element='{element_id}']")


def test_bpmnlint_marks_a_user_task_without_form_and_its_error_blocks_deploy(studio):  # noqa: F811  (the imported fixture)
    page, _, _ = studio
    open_editor(page)
    task = page.evaluate(DROP_USER_TASK_ON_FLOW, "flow_feedback_arrived_to_merge_feedback")
    problem = lint_problem(page, "ticketflow/user-task-form", task)
    problem.wait_for()
    assert "error" in problem.inner_text() and "(bpmnlint: ticketflow/user-task-form)" in problem.inner_text()
    page.locator(f".djs-element.studio-error[data-element-id={task}]").wait_for()
    assert page.locator("#deploy").is_disabled()
    assert lint_problem(page, "label-required", task).inner_text().startswith("warning")
    select(page, task)
    assert "ticketflow/user-task-form" in page.inner_text("[data-group-id='group-studio-problems']")
    page.evaluate(
        """id => { const canvas = window.studioModeler.get('canvas'); canvas.zoom(1);
        canvas.scrollToElement(window.studioModeler.get('elementRegistry').get(id),
          {top: 200, bottom: 200, left: 300, right: 300}); }""",
        task,
    )
    shot(page, "studio-lint.png")

    page.fill("textarea[name=spiff-instructions]", "Call the customer back.")
    problem.wait_for(state="detached")
    page.wait_for_selector("#deploy:not([disabled])")  # warnings (no name) do not block
    assert page.locator(f".djs-element.studio-error[data-element-id={task}]").count() == 0
    assert page.locator(f".djs-element.studio-warning[data-element-id={task}]").count() == 1


def test_bpmnlint_warns_of_a_task_in_no_lane_a_wait_without_timeout_and_no_retry_policy(studio):  # noqa: F811  (the imported fixture)
    page, _, _ = studio
    open_editor(page)
    page.evaluate(
        """() => {
      const modeler = window.studioModeler;
      const registry = modeler.get('elementRegistry');
      const modeling = modeler.get('modeling');
      const lane = registry.get('lane_returns').businessObject;
      const review = registry.get('review_request').businessObject;
      modeling.updateModdleProperties(registry.get('lane_returns'), lane,
        {flowNodeRef: lane.get('flowNodeRef').filter(node => node !== review)});
      const status = registry.get('set_status_new');
      const operator = status.businessObject.extensionElements.values[0];
      modeling.updateModdleProperties(status, operator, {retry: undefined});
      modeler.get('bpmnReplace').replaceElement(registry.get('close_rejected'), {type: 'bpmn:ReceiveTask'});
    }"""
    )
    lint_problem(page, "ticketflow/user-task-lane", "review_request").wait_for()
    lint_problem(page, "ticketflow/service-task-retry", "set_status_new").wait_for()
    lint_problem(page, "ticketflow/customer-wait-timeout", "close_rejected").wait_for()
    for rule in ("user-task-lane", "service-task-retry", "customer-wait-timeout"):
        assert page.locator(f"#problems li[data-rule='ticketflow/{rule}']").inner_text().startswith("warning")
    assert page.locator(".djs-element.studio-warning[data-element-id=set_status_new]").count() == 1
    assert page.locator("#deploy").is_enabled()
