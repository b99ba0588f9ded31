"""The payload battery of docs/safe-expressions.md section 5, as executable specifications.

Every hostile payload must be refused, either when compiled (deploy time: the linter and the run
time give the same answer) or by a run-time guard, and never create the marker file. Every
legitimate payload must give the value customer-service diagrams rely on.
"""

import copy
import re

import pytest

from app.engine.expressions import (
    ExpressionError,
    ExpressionLimitError,
    compile_safe,
    evaluate_safe,
    execute_safe,
)

DEPLOY, RUN = "deploy", "run"

DATA = {
    "x": {"a": 1},
    "amount": 150,
    "fee": 3,
    "discount": 0,
    "s": "a" * 10000,
    "evil": ["__import__('os').system('touch M')"],
    "items": [{"qty": 2, "price": 10.0, "sku": "ab-1"}, {"qty": 1, "price": 15.0, "sku": "cd-2"}],
    "tags": ["urgent", "b"],
    "customer": {"tier": "gold", "email": "Ann@Example.com", "name": "Ann"},
    "priority": "high",
    "escalated": False,
    "retries": 1,
    "scores": [3, 9, 5],
    "data": {"region": "US"},
    "ticket_id": "T-42",
    "age_days": "45",
    "delta": 0.001,
}

# (id, mode, payload, expected outcome, regex the error message must contain)
HOSTILE = [
    ("H01", "eval", "__import__('os').system('touch M')", DEPLOY, r"method '\.system\(\)' is not whitelisted"),
    ("H02", "exec", "import os\nos.system('touch M')", DEPLOY, r"method '\.system\(\)' is not whitelisted"),
    ("H03", "exec", "from os import system\nsystem('touch M')", DEPLOY,
     r"call to non-whitelisted callable 'system'"),
    ("H04", "eval", "eval(\"__import__('os').system('touch M')\")", DEPLOY,
     r"call to non-whitelisted callable 'eval'"),
    ("H05", "eval", "exec(\"import os; os.system('touch M')\")", DEPLOY,
     r"call to non-whitelisted callable 'exec'"),
    ("H06", "eval", "open('/etc/passwd').read()", DEPLOY, r"method '\.read\(\)' is not whitelisted"),
    ("H07", "eval", "__builtins__['__import__']('os').system('touch M')", DEPLOY,
     r"method '\.system\(\)' is not whitelisted"),
    ("H08", "eval",
     "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
     ".__init__.__globals__['system']('touch M')", DEPLOY, r"call of a computed callable is not allowed"),
    ("H09", "eval", "().__class__.__bases__[0].__subclasses__()", DEPLOY,
     r"method '\.__subclasses__\(\)' is not whitelisted"),
    ("H10", "eval", "type(x).__mro__[-1].__subclasses__()", DEPLOY,
     r"method '\.__subclasses__\(\)' is not whitelisted"),
    ("H11", "eval", "getattr(getattr((), '__cla' + 'ss__'), '__ba' + 'se__')", DEPLOY,
     r"call to non-whitelisted callable 'getattr'"),
    ("H12", "eval", "x.__class__.__init__", DEPLOY, r"attribute access '\.__init__' is not allowed"),
    ("H13", "eval", "().__ｃlass__.__ｂase__.__subclasses__()", DEPLOY,
     r"method '\.__subclasses__\(\)' is not whitelisted"),
    ("H14", "eval", "__ｉｍｐｏｒｔ__('os').system('touch M')", DEPLOY,
     r"method '\.system\(\)' is not whitelisted"),
    ("H15", "eval", "'{0.__class__.__mro__}'.format(x)", DEPLOY, r"method '\.format\(\)' is not whitelisted"),
    ("H16", "eval", "'{a.__class__}'.format_map({'a': x})", DEPLOY,
     r"method '\.format_map\(\)' is not whitelisted"),
    ("H17", "eval", "f'{x.__class__}'", DEPLOY, r"attribute access '\.__class__' is not allowed"),
    ("H18", "exec",
     "g = (g.gi_frame.f_back.f_back for _ in [1])\nfr = [f for f in g][0]\n"
     "fr.f_globals['__builtins__']['__import__']('os').system('touch M')", DEPLOY,
     r"method '\.system\(\)' is not whitelisted"),
    ("H19", "eval", "[y for y in (z for z in [1]).gi_frame.f_globals]", DEPLOY,
     r"attribute access '\.f_globals' is not allowed"),
    ("H20", "exec",
     "try:\n    1/0\nexcept Exception as e:\n    g = e.__traceback__.tb_frame.f_back.f_globals\n"
     "    g['__builtins__']['__import__']('os').system('touch M')", DEPLOY, r"only a bare 'except:' is allowed"),
    ("H21", "exec", "try:\n    x.nothere\nexcept AttributeError as e:\n    leaked = e.obj", DEPLOY,
     r"only a bare 'except:' is allowed"),
    ("H22", "exec",
     "try:\n    raise ExceptionGroup('g', [ValueError(1)])\nexcept* ValueError as eg:\n    caught = 1",
     DEPLOY, r"TryStar is not allowed"),
    ("H23", "eval", "(lambda: __import__('os'))().system('touch M')", DEPLOY,
     r"method '\.system\(\)' is not whitelisted"),
    ("H24", "exec", "def f():\n    return __import__('os')\nf().system('touch M')", DEPLOY,
     r"method '\.system\(\)' is not whitelisted"),
    ("H25", "exec", "class A:\n    pass\nb = A.__init__", DEPLOY, r"attribute access '\.__init__' is not allowed"),
    ("H26", "eval", "sorted(evil, key=eval)", DEPLOY, r"key= must name a whitelisted function"),
    ("H27", "eval", "max(evil, key=exec)", DEPLOY, r"key= must name a whitelisted function"),
    ("H28", "eval", "str.format('{0.__class__}', x)", DEPLOY, r"method '\.format\(\)' is not whitelisted"),
    ("H29", "eval", "items.__len__()", DEPLOY, r"method '\.__len__\(\)' is not whitelisted"),
    ("H30", "eval", "globals()", DEPLOY, r"call to non-whitelisted callable 'globals'"),
    ("H31", "eval", "(f := len) and f", DEPLOY, r"NamedExpr is not allowed"),
    ("H32", "eval", "_m(x, '__class__')", DEPLOY, r"call to non-whitelisted callable '_m'"),
    ("H33", "exec", "len = 5", DEPLOY, r"cannot assign to built-in 'len'"),
    ("H34", "eval", "b'abc'.decode()", DEPLOY, r"method '\.decode\(\)' is not whitelisted"),
    ("H35", "eval", "input()", DEPLOY, r"call to non-whitelisted callable 'input'"),
    ("B01", "eval", "9**9**9", DEPLOY, r"constant dry run: integer result of ~\d+ bits exceeds 4096"),
    ("B02", "eval", "'a'*10**9", DEPLOY, r"constant dry run: result of 1000000000 elements exceeds 100000"),
    ("B03", "eval", "[0]*10**9", DEPLOY, r"constant dry run: result of 1000000000 elements exceeds 100000"),
    ("B04", "eval", "amount ** amount ** amount", RUN, r"integer result of ~more than 10\*\*12 bits exceeds 4096"),
    ("B05", "eval", "sum(range(10**12))", DEPLOY,
     r"constant dry run: result of 1000000000000 elements exceeds 100000"),
    ("B06", "eval", "sorted(range(10**9))", DEPLOY,
     r"constant dry run: result of 1000000000 elements exceeds 100000"),
    ("B07", "eval", "round(1, -10**8)", DEPLOY, r"constant dry run: round\(\) ndigits must be within \+-20"),
    ("B08", "exec", "while True:\n    pass", RUN, r"operation budget \(100000\) exceeded|time limit \(500 ms\) exceeded"),
    ("B09", "exec", "s2 = 'a'\nfor i in range(40):\n    s2 = s2 + s2", RUN,
     r"result of 131072 elements exceeds 100000"),
    ("B10", "exec", "keep = []\nfor i in range(100000):\n    keep.append([0] * 100000)", RUN,
     r"allocation budget \(2000000 elements\) exceeded"),
    ("B11", "exec", "a = [0] * 100000\nb = [a] * 100000\nc = str(b)", RUN,
     r"result of more than 100000 elements exceeds 100000"),
    ("B12", "eval", "s.replace('', s)", RUN, r"result of 100020000 elements exceeds 100000"),
    ("B13", "eval", "'%*d' % (10**9, 1)", DEPLOY,
     r"constant dry run: printf-style '%' string formatting is not allowed"),
    ("B14", "eval", "f'{1:>{10**9}}'", DEPLOY, r"f-string format spec must be a short constant like '\.2f'"),
    ("B15", "eval", "-" * 100000 + "1", DEPLOY, r"expression longer than 2000 characters"),
    ("B16", "eval", "(" * 1000 + "1" + ")" * 1000, DEPLOY, r"expression longer than 2000 characters"),
    ("B17", "exec", "d = []\nfor i in range(100000):\n    d = [d]\nt = str(d)", RUN,
     r"operation budget \(100000\) exceeded|time limit \(500 ms\) exceeded"),
    ("B18", "eval", "sum(1 for a in range(10**5) for b in range(10**5))", RUN,
     r"operation budget \(100000\) exceeded|time limit \(50 ms\) exceeded"),
    ("B19", "eval", "int('9' * 10**6)", DEPLOY, r"constant dry run: result of 1000000 elements exceeds 100000"),
    ("B20", "eval", "1 << 10**10", DEPLOY, r"LShift is not allowed"),
    ("B21", "exec",
     "big = list(range(100000))\nbig2 = list(range(100000))\nfor i in range(100000):\n    z = big == big2",
     RUN, r"time limit \(500 ms\) exceeded"),
    ("B22", "eval", "sum(1 for i in range(10**5) if s.count('b') == 0)", RUN,
     r"operation budget \(100000\) exceeded|time limit \(50 ms\) exceeded"),
]  # fmt: skip

LEGITIMATE = [
    ("L01", "eval", 'priority == "high"', True),
    ("L02", "eval", 'amount > 100 and customer["tier"] in ["gold", "platinum"]', True),
    ("L03", "eval", "not escalated or retries >= 3", True),
    ("L04", "eval", "amount * 1.2 + fee - discount", 183.0),
    ("L05", "eval", "round(amount / 7, 2)", 21.43),
    ("L06", "eval", 'len(items) > 0 and all(i["qty"] > 0 for i in items)', True),
    ("L07", "eval", 'sum(i["qty"] * i["price"] for i in items)', 35.0),
    ("L08", "eval", "max(scores) - min(scores)", 6),
    ("L09", "eval", '"PT48H"', "PT48H"),
    ("L10", "eval", '"P1D" if priority == "high" else "P3D"', "P1D"),
    ("L11", "eval", 'data.get("region", "EU")', "US"),
    ("L12", "eval", 'customer["email"].lower().endswith("@example.com")', True),
    ("L13", "eval", "sorted(tags)[0]", "b"),
    ("L14", "eval", '{"ticket_id": ticket_id, "status": "closed"}', {"ticket_id": "T-42", "status": "closed"}),
    ("L15", "eval", '[i["sku"] for i in items if i["qty"] > 1]', ["ab-1"]),
    ("L16", "eval", 'str(ticket_id) + "-" + str(amount)', "T-42-150"),
    ("L17", "eval", "int(age_days) >= 30 and abs(delta) < 0.01", True),
    ("L18", "eval", 'any(t in ("urgent", "vip") for t in tags)', True),
    ("L19", "eval", "f\"Ticket {ticket_id} for {customer['name']}: {amount:.2f}\"", "Ticket T-42 for Ann: 150.00"),
    ("L20", "eval", "1 < amount <= 500 and amount is not None", True),
    ("L21", "eval", 'items[0]["sku"][:2] + str(2 ** 10)', "ab1024"),
    ("L22", "eval", '"R3/PT1H"', "R3/PT1H"),
    ("L23", "exec",
     'total = 0\nfor i in items:\n    total += i["qty"] * i["price"]\nif total > 30:\n'
     '    rebate = round(total * 0.05, 2)\nelse:\n    rebate = 0\nsummary = {"total": total, "rebate": rebate}',
     {"summary": {"total": 35.0, "rebate": 1.75}}),
    ("L24", "exec", 'tags.append("reviewed")\ncustomer["contacted"] = True\nlabels = ", ".join(sorted(tags))',
     {"labels": "b, reviewed, urgent"}),
    ("L25", "exec",
     'n = 0\nwhile n < len(items):\n    n += 1\nskus = [i["sku"].upper() for i in items]\n'
     'by_sku = {i["sku"]: i["qty"] for i in items}',
     {"n": 2, "skus": ["AB-1", "CD-2"], "by_sku": {"ab-1": 2, "cd-2": 1}}),
]  # fmt: skip


def _run(mode: str, source: str, data: dict):
    if mode == "eval":
        return evaluate_safe(source, data)
    execute_safe(source, data)
    return data


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "marker"
    yield path
    assert not path.exists(), "a hostile payload ran a shell command"


@pytest.mark.parametrize(
    ("mode", "payload", "outcome", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE],
)
def test_hostile_payload_is_refused_without_effect(mode, payload, outcome, message, marker):
    payload = payload.replace("touch M", f"touch {marker}")
    data = copy.deepcopy(DATA)
    data["evil"] = [e.replace("touch M", f"touch {marker}") for e in data["evil"]]
    before = copy.deepcopy(data)

    if outcome == DEPLOY:
        with pytest.raises(ExpressionError) as refused:
            compile_safe(payload, mode)
        assert re.search(message, str(refused.value))
        assert "in expression '" in str(refused.value) or "in script '" in str(refused.value)
    else:
        compile_safe(payload, mode)  # statically fine: only the data or the loop makes it a bomb

    with pytest.raises(ExpressionError) as stopped:
        _run(mode, payload, data)
    assert re.search(message, str(stopped.value))
    if outcome == RUN:
        assert isinstance(stopped.value, ExpressionLimitError)
    assert data == before, "a refused payload changed task data"


@pytest.mark.parametrize(
    ("mode", "source", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in LEGITIMATE],
)
def test_legitimate_payload_gives_expected_value(mode, source, expected):
    result = _run(mode, source, copy.deepcopy(DATA))

    if mode == "eval":
        assert result == expected
        assert type(result) is type(expected)
    else:
        assert {key: result[key] for key in expected} == expected
