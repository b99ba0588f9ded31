"""Safe expressions, unit by unit: compile-time rules, run-time guards and semantics, timer values.

Pure module tests: no database, no Flask, no SpiffWorkflow run (see test_expressions_engine.py).
"""

from datetime import UTC, datetime

import pytest

from app.engine.expressions import (
    ExpressionError,
    ExpressionLimitError,
    check_timer_value,
    compile_safe,
    evaluate_safe,
    execute_safe,
)

# -- compile-time rules ------------------------------------------------------------------------


def test_refusal_names_problem_position_and_expression():
    with pytest.raises(ExpressionError) as refused:
        compile_safe("().__class__.__base__.__subclasses__()", "eval")

    assert str(refused.value) == (
        "method '.__subclasses__()' is not whitelisted (line 1 col 0) "
        "in expression '().__class__.__base__.__subclasses__()'"
    )


def test_refusal_is_a_value_error():
    with pytest.raises(ValueError):
        compile_safe("__import__('os')", "eval")


def test_compiled_code_is_cached_per_source_and_mode():
    assert compile_safe("amount > 100", "eval") is compile_safe("amount > 100", "eval")
    assert compile_safe("amount > 100", "eval") is not compile_safe("amount > 100", "exec")


def test_refusal_is_repeated_on_every_compile():
    for _ in range(2):
        with pytest.raises(ExpressionError, match="call to non-whitelisted callable 'open'"):
            compile_safe("open('x')", "eval")


def test_expression_indented_by_xml_layout_still_compiles():
    assert evaluate_safe("\n      amount > 100\n    ", {"amount": 150}) is True


def test_syntax_error_is_reported_with_position():
    with pytest.raises(
        ExpressionError, match=r"syntax error: .* \(line 1 col \d+\) in expression 'amount >'"
    ):
        compile_safe("amount >", "eval")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("tags.append('x')", r"method '\.append\(\)' changes data and is only allowed in scripts"),
        ("data.pop('region')", r"method '\.pop\(\)' changes data"),
        ("f'{ticket_id!r}'", r"f-string conversion '!r' is not allowed"),
        ("f'{amount:0>30}'", r"f-string format spec must be a short constant"),
        ("~amount", r"Invert is not allowed"),
        ("amount @ amount", r"MatMult is not allowed"),
        ("1j", r"complex constant is not allowed"),
        ("...", r"ellipsis constant is not allowed"),
        ("customer.name", r"attribute access '\.name' is not allowed"),
        ("sorted(tags, **options)", r"'\*\*' arguments are not allowed in calls"),
        ("_tick()", r"call to non-whitelisted callable '_tick'"),
        ("sorted(tags, key=lambda t: t)", r"key= must name a whitelisted function"),
        ("-" * 45 + "x", r"nested deeper than 40 levels"),
        ("[" + "1," * 500 + "]", r"more than 400 syntax nodes"),
    ],
)
def test_expression_outside_the_whitelist_is_refused(source, problem):
    with pytest.raises(ExpressionError, match=problem):
        compile_safe(source, "eval")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("global x\nx = 1", r"Global is not allowed"),
        ("a, *rest = items", r"starred assignment targets are not allowed"),
        ("items[0:1] = []", r"slice assignment is not allowed"),
        ("for round in items:\n    pass", r"cannot assign to built-in 'round'"),
        ("with open('x') as f:\n    pass", r"With is not allowed"),
        ("x: int = 1", r"AnnAssign is not allowed"),
        ("amount <<= 2", r"LShift is not allowed"),
        ("_aug_obj = 1", r"name '_aug_obj' is not allowed"),
    ],
)
def test_script_outside_the_whitelist_is_refused(source, problem):
    with pytest.raises(ExpressionError, match=problem):
        compile_safe(source, "exec")


def test_error_only_the_python_compiler_detects_is_reported_as_expression_error():
    with pytest.raises(ExpressionError, match="syntax error: 'break' outside loop"):
        compile_safe("break", "exec")


def test_script_longer_than_20000_characters_is_refused():
    with pytest.raises(ExpressionError, match="script longer than 20000 characters"):
        compile_safe("x = 1\n" * 4000, "exec")


# -- run-time behaviour --------------------------------------------------------------------------


def test_expression_sees_external_context_under_task_data():
    value = evaluate_safe("[region, shared]", {"shared": "task"}, {"region": "EU", "shared": "external"})

    assert value == ["EU", "task"]


def test_form_field_named_like_a_guard_does_not_disable_it():
    with pytest.raises(ExpressionLimitError, match="operation budget"):
        execute_safe("while True:\n    pass", {"_tick": None, "_m": None})


def test_data_field_named_like_a_function_is_readable_as_data_and_kept():
    data = {"round": 3, "len": "not a function"}

    execute_safe("last_round = round\nsize = len([1, 2])", data)

    assert data == {"round": 3, "len": "not a function", "last_round": 3, "size": 2}


def test_failed_script_leaves_task_data_unchanged():
    data = {"status": "new", "items": [1, 2]}

    with pytest.raises(ZeroDivisionError):
        execute_safe("status = 'half-done'\nitems.append(3)\nboom = 1 / 0", data)

    assert data == {"status": "new", "items": [1, 2]}


def test_script_changes_task_data_in_place_including_deletions():
    data = {"keep": 1, "drop": 2}
    same_dict = data

    execute_safe("del drop\nkeep += 1\nadded = 'yes'", data)

    assert same_dict == {"keep": 2, "added": "yes"}


def test_script_never_writes_external_context_into_task_data():
    data = {"amount": 5}

    execute_safe("doubled = amount * factor", data, {"factor": 2})

    assert data == {"amount": 5, "doubled": 10}


def test_augmented_assignment_on_an_item_evaluates_target_once():
    data = {"counts": {"open": 1}, "keys": ["open"]}

    execute_safe('counts[keys[0]] += 1\ncounts["new"] = counts.get("new", 0) + 5', data)

    assert data["counts"] == {"open": 2, "new": 5}


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("range(3)", "result holds a range, which is not plain data"),
        ("(i for i in items)", "result holds a generator"),
        ("customer.keys()", "result holds a dict_keys"),
        ("zip(items, items)", "result holds a zip"),
    ],
)
def test_expression_result_must_be_plain_data(source, problem):
    with pytest.raises(ExpressionError, match=problem):
        evaluate_safe(source, {"items": [{}], "customer": {"name": "Ann"}})


def test_inert_values_already_in_task_data_pass_through_scripts():
    due = datetime(2030, 1, 1, tzinfo=UTC)
    data = {"due": due, "n": 1}

    execute_safe('n += 1\nlabel = f"due {due}"', data)

    assert data == {"due": due, "n": 2, "label": "due 2030-01-01 00:00:00+00:00"}


def test_script_leaving_a_cyclic_list_is_refused():
    with pytest.raises(ExpressionError, match="contains itself"):
        execute_safe("loop = [1]\nloop.append(loop)", {})


def test_script_leaving_data_nested_33_deep_is_refused():
    with pytest.raises(ExpressionError, match="nested deeper than 32 levels"):
        execute_safe("d = 1\nfor i in range(33):\n    d = [d]", {})


def test_function_name_outside_a_call_reads_task_data_so_no_function_ever_becomes_a_value():
    with pytest.raises(NameError):
        evaluate_safe("[len]", {})
    assert evaluate_safe("str(len)", {"len": 3}) == "3"


def test_sum_with_a_list_start_is_refused():
    with pytest.raises(ExpressionError, match="sum\\(\\) start must be a number"):
        evaluate_safe("sum(lists, [])", {"lists": [[1], [2]]})


def test_round_with_large_ndigits_from_data_is_refused():
    with pytest.raises(ExpressionLimitError, match="ndigits must be within"):
        evaluate_safe("round(1, digits)", {"digits": -(10**8)})


def test_whitelisted_key_function_is_accepted():
    assert evaluate_safe("sorted(tags, key=len, reverse=True)", {"tags": ["a", "ccc", "bb"]}) == [
        "ccc",
        "bb",
        "a",
    ]
    assert evaluate_safe("max(tags, key=len)", {"tags": ["a", "ccc"]}) == "ccc"


def test_method_on_an_unlisted_type_is_refused_at_run_time():
    with pytest.raises(ExpressionError, match=r"method '\.count\(\)' is not available on range"):
        evaluate_safe("range(3).count(1)", {})


def test_printf_formatting_with_data_is_stopped():
    with pytest.raises(ExpressionLimitError, match="printf-style"):
        evaluate_safe("template % amount", {"template": "%d", "amount": 1})


def test_join_that_would_be_too_large_is_stopped_before_it_runs():
    with pytest.raises(ExpressionLimitError, match="exceeds 100000"):
        evaluate_safe("s.join([s, s, s])", {"s": "a" * 30000})


# -- timer values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("duration", "PT48H"),
        ("duration", "P3D"),
        ("duration", "P10Y"),
        ("date", "2030-01-01T09:00:00+00:00"),
        ("date", "2030W011"),
        ("cycle", "R3/PT1H"),
        ("cycle", "R1000/PT60S"),
        ("cycle", "R2/2030-01-01T00:00:00+00:00/P1D"),
    ],
)
def test_sensible_timer_value_is_accepted(kind, value):
    check_timer_value(kind, value)


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("duration", "P1000000000Y", "longer than 120 months"),
        ("duration", "P121M", "longer than 120 months"),
        ("duration", "PT48", "not an ISO-8601 duration"),
        ("duration", 48, "must be an ISO-8601 string"),
        ("date", "next tuesday", "not an ISO-8601 date-time"),
        ("date", "P1D", "is a duration, not a date"),
        ("cycle", "R100000/PT1S", "repeats 100000 times"),
        ("cycle", "R5/PT1S", "repeats every 1 s; the minimum is 60 s"),
        ("cycle", "R/PT1H", "repetition count"),
        ("cycle", "R2/P1000000000Y", "longer than 120 months"),
    ],
)
def test_dangerous_or_malformed_timer_value_is_refused(kind, value, problem):
    with pytest.raises(ExpressionError, match=problem):
        check_timer_value(kind, value)


def test_a_bare_except_handles_the_scripts_own_errors():
    data = {}
    execute_safe("try:\n    a = not_in_data\n    found = True\nexcept:\n    found = False", data)
    assert data == {"found": False}


@pytest.mark.parametrize(
    "script",
    [
        "try:\n    while True:\n        pass\nexcept:\n    escaped = True",
        "try:\n    s = 'a' * n\nexcept:\n    escaped = True",
        "try:\n    try:\n        while True:\n            pass\n    except:\n        pass\nexcept:\n    escaped = True",
        "try:\n    x = 1\nexcept:\n    pass\nfinally:\n    while True:\n        pass",
    ],
)
def test_an_except_never_swallows_the_evaluators_limits(script):
    data = {"n": 10**9}
    with pytest.raises(ExpressionLimitError):
        execute_safe(script, data)
    assert "escaped" not in data


@pytest.mark.parametrize(
    "handler", ["except ValueError:", "except Exception as problem:", "except BaseException:"]
)
def test_only_a_bare_except_is_allowed(handler):
    with pytest.raises(ExpressionError, match="bare 'except:'"):
        compile_safe(f"try:\n    x = 1\n{handler}\n    pass", "exec")


def test_the_datetime_module_gives_its_classes_constructors_and_date_methods(clock):
    data = {}
    execute_safe(
        "stamp = datetime.datetime.utcnow().timestamp()\n"
        "day = datetime.date.fromisoformat('2026-01-02').isoformat()",
        data,
    )
    assert data == {"stamp": datetime(2026, 11, 23, 9, tzinfo=UTC).timestamp(), "day": "2026-01-02"}


@pytest.mark.parametrize(
    "expression",
    [
        "datetime.datetime.__class__",
        "datetime.os",
        "datetime.datetime.utcnow().replace(year=1)",
        "datetime.datetime.utcnow().strftime('%Y')",
        "datetime.timedelta(days=10**9)",
    ],
)
def test_the_datetime_module_reaches_nothing_else(expression, clock):
    with pytest.raises(ExpressionError):
        evaluate_safe(expression, {})


def test_a_datetime_class_never_lands_in_task_data():
    with pytest.raises(ExpressionError, match="not plain data"):
        execute_safe("kind = datetime.datetime", {})
