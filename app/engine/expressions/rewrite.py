"""The guard rewrite of safe expressions: operators, method calls, loops and f-strings become
calls to the guards of `guards`, so every run-time step is counted and bounded."""

from __future__ import annotations

import ast

from app.engine.expressions.policy import BINOP_GUARDS


def _guard_call(name: str, args: list[ast.expr], at: ast.AST, keywords=()) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=list(keywords))
    return ast.copy_location(call, at)


def _binop(left: ast.expr, op: ast.operator, right: ast.expr, at: ast.AST) -> ast.expr:
    guard = BINOP_GUARDS.get(type(op))
    if guard is None:
        return ast.copy_location(ast.BinOp(left=left, op=op, right=right), at)
    return _guard_call(guard, [left, right], at)


class GuardRewriter(ast.NodeTransformer):
    """Routes risky operations through the guards and makes every loop iteration tick."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        return _binop(node.left, node.op, node.right, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt | list[ast.stmt]:
        self.generic_visit(node)
        target = node.target
        if isinstance(target, ast.Name):
            value = _binop(ast.Name(id=target.id, ctx=ast.Load()), node.op, node.value, node)
            store = ast.Name(id=target.id, ctx=ast.Store())
            return ast.copy_location(ast.Assign(targets=[store], value=value), node)
        # obj[key] op= value: evaluate obj and key once, like Python does.
        obj, key = "_aug_obj", "_aug_key"

        def item(ctx: ast.expr_context) -> ast.Subscript:
            return ast.Subscript(
                value=ast.Name(id=obj, ctx=ast.Load()), slice=ast.Name(id=key, ctx=ast.Load()), ctx=ctx
            )

        statements = [
            ast.Assign(targets=[ast.Name(id=obj, ctx=ast.Store())], value=target.value),
            ast.Assign(targets=[ast.Name(id=key, ctx=ast.Store())], value=target.slice),
            ast.Assign(
                targets=[item(ast.Store())], value=_binop(item(ast.Load()), node.op, node.value, node)
            ),
        ]
        return [ast.copy_location(s, node) for s in statements]

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute):
            method = ast.Constant(value=node.func.attr)
            return _guard_call("_m", [node.func.value, method, *node.args], node, node.keywords)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        # The compiler lets through `datetime.<class>` only: the guard hands out that class.
        if isinstance(node.value, ast.Name) and node.value.id == "datetime":
            return _guard_call("_dt", [ast.Constant(value=node.attr)], node)
        self.generic_visit(node)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.Starred:
        self.generic_visit(node)
        node.value = _guard_call("_star", [node.value], node)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.Dict:
        self.generic_visit(node)
        node.values = [
            _guard_call("_star", [value], value) if key is None else value
            for key, value in zip(node.keys, node.values, strict=True)
        ]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Load):
            parts = [node.slice.lower, node.slice.upper, node.slice.step]
            args = [part or ast.Constant(value=None) for part in parts]
            return _guard_call("_slice", [node.value, *args], node)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        self.generic_visit(node)
        node.value = _guard_call("_fmt", [node.value], node)
        return node

    def _tick_first(self, node: ast.For | ast.While) -> ast.stmt:
        self.generic_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(value=_guard_call("_tick", [], node)), node))
        return node

    visit_For = _tick_first
    visit_While = _tick_first

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        """A handler first re-raises the evaluator's own errors (budget, time, policy)."""
        self.generic_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(value=_guard_call("_rethrow", [], node)), node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.ifs.insert(0, _guard_call("_tick", [], node.iter))
        return node
