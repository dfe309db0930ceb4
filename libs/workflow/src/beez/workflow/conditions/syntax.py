"""CEL source to a small syntax tree, for estimating what evaluating it can cost.

The cel binding compiles and runs expressions but shows no syntax tree, so this module parses
the CEL grammar (the cel-spec's ``Expr``: ternary, ``||``, ``&&``, relations, ``+ -``,
``* / %``, unary ``! -``, member selection, calls, indexing, list/map/message literals) into
:class:`Node` values. It only ever sees text the binding already accepted, and it is used only
to estimate costs: a literal keeps its size, not its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Node", "SyntaxProblem", "parse"]


class SyntaxProblem(ValueError):
    """Text this parser cannot read (never expected for text the binding compiled)."""


@dataclass(frozen=True, slots=True)
class Node:
    """One node: ``kind`` says what it is, ``text`` names it, ``args`` are its operands.

    Kinds: ``literal`` (``text`` is ``string``, ``bytes`` or ``scalar``; ``size`` its length),
    ``ident``, ``select`` (``args[0].text``), ``has`` (the ``has()`` macro on a selection),
    ``index``, ``call`` (``text`` the function; ``target`` set for a method call), ``list``,
    ``map`` (args alternate key, value), ``unary``, ``binary`` (``text`` the operator; ``&&``,
    ``||`` and ``+`` chains have every operand) and ``ternary``.
    """

    kind: str
    text: str = ""
    args: tuple[Node, ...] = ()
    target: Node | None = None
    size: int = 0


_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''
        |"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|\.\?|\[\?|[<>!+\-*/%?:.,()\[\]{}])
    """,
    re.VERBOSE | re.DOTALL,
)

_CHAINS = frozenset({"&&", "||", "+"})
"""Operators whose chains become one node with every operand (``a && b && c``), so that long
chains do not nest deeply."""

_RELATIONS = frozenset({"<", "<=", ">", ">=", "==", "!=", "in"})


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise SyntaxProblem(f"unexpected {source[position]!r} at {position}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    tokens.append(("end", ""))
    return tokens


class _Parser:
    """Recursive descent over the tokens, one method per grammar rule."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0

    def peek(self) -> str:
        kind, text = self.tokens[self.at]
        return text if kind in ("op", "ident") else kind

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.at]
        if expected is not None and self.peek() != expected:
            raise SyntaxProblem(f"expected {expected!r}, found {token[1]!r}")
        self.at += 1
        return token

    def expr(self) -> Node:
        condition = self.binary(0)
        if self.peek() != "?":
            return condition
        self.take("?")
        yes = self.binary(0)
        self.take(":")
        return Node("ternary", args=(condition, yes, self.expr()))

    _LEVELS: tuple[frozenset[str], ...] = (
        frozenset({"||"}),
        frozenset({"&&"}),
        _RELATIONS,
        frozenset({"+", "-"}),
        frozenset({"*", "/", "%"}),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            operator = self.take()[1]
            right = self.binary(level + 1)
            if operator in _CHAINS and left.kind == "binary" and left.text == operator and left.size == 0:
                left = Node("binary", operator, (*left.args, right))  # a chain stays flat
            else:
                left = Node("binary", operator, (left, right))
        return left

    def unary(self) -> Node:
        if self.peek() in ("!", "-"):
            operator = self.take()[1]
            return Node("unary", operator, (self.unary(),))
        return self.member(self.primary())

    def member(self, node: Node) -> Node:
        while True:
            token = self.peek()
            if token in (".", ".?"):
                self.take()
                name = self.take()[1]
                if self.peek() == "(":
                    node = Node("call", name, self.arguments(")"), target=node)
                else:
                    node = Node("select", name, (node,))
            elif token in ("[", "[?"):
                self.take()
                index = self.expr()
                self.take("]")
                node = Node("index", args=(node, index))
            elif token == "{" and node.kind in ("ident", "select"):
                node = Node("map", node.text, self.entries())
            else:
                return node

    def arguments(self, closing: str) -> tuple[Node, ...]:
        self.take()
        items: list[Node] = []
        while self.peek() != closing:
            items.append(self.expr())
            if self.peek() != ",":
                break
            self.take(",")
        self.take(closing)
        return tuple(items)

    def entries(self) -> tuple[Node, ...]:
        self.take("{")
        items: list[Node] = []
        while self.peek() != "}":
            if self.peek() == "?":
                self.take("?")
            items.append(self.expr())
            self.take(":")
            items.append(self.expr())
            if self.peek() != ",":
                break
            self.take(",")
        self.take("}")
        return tuple(items)

    def primary(self) -> Node:
        kind, text = self.tokens[self.at]
        if kind == "string":
            self.take()
            raw = text.lstrip("rRbB")
            quote = 3 if raw[:3] in ('"""', "'''") else 1
            size = len(raw) - 2 * quote
            return Node("literal", "bytes" if "b" in text[:2].lower() else "string", size=size)
        if kind == "number":
            self.take()
            return Node("literal", "scalar")
        if text == ".":
            self.take()
            kind, text = self.tokens[self.at]
        if kind == "ident":
            self.take()
            if text in ("true", "false", "null"):
                return Node("literal", "scalar")
            if self.peek() == "(":
                args = self.arguments(")")
                if text == "has" and len(args) == 1:
                    return Node("has", args=args)
                return Node("call", text, args)
            return Node("ident", text)
        if text == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        if text == "[":
            return Node("list", args=self.arguments("]"))
        if text == "{":
            return Node("map", args=self.entries())
        raise SyntaxProblem(f"unexpected {text or 'end'!r}")


def parse(source: str) -> Node:
    """The syntax tree of a CEL expression.

    Raises:
        SyntaxProblem: when the text is not CEL this parser reads.
    """
    parser = _Parser(source)
    node = parser.expr()
    if parser.peek() != "end":
        raise SyntaxProblem(f"unexpected {parser.tokens[parser.at][1]!r} after the expression")
    return node
