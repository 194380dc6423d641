"""A small COQL (CRM Object Query Language) parser and executor for the sandbox.

Supported: `select f1, f2 from Module [where <cond>] [order by f [asc|desc]] [limit [offset,] count
| limit count offset n]`; conditions `= != <> > >= < <=`, `is [not] null`, `[not] in (...)`,
`between a and b`, `[not] like '%x%'`, `and`/`or`, parentheses; lookup `.id`/`.name` paths.
Limits per zoho_api.md 2.5: 2,000 rows per call (default 200), offset + count <= 10,000 (R),
50 selected columns, 25 criteria.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zoho_cscart_sandbox.clock import parse_zoho_datetime
from zoho_cscart_sandbox.lazy import LazyTable, Record

MAX_ROWS = 2000
DEFAULT_ROWS = 200
MAX_REACH = 10_000
MAX_COLUMNS = 50
MAX_CRITERIA = 25

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op>>=|<=|!=|<>|=|>|<)"
    r"|(?P<punct>[(),*])|(?P<word>[A-Za-z_$][\w$.]*))"
)


class CoqlError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or {}


@dataclass
class Query:
    columns: list[str]
    module: str
    where: Callable[[Record], bool] | None
    where_fields: list[str] = field(default_factory=list)
    order_by: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int = DEFAULT_ROWS

    def referenced_fields(self) -> list[str]:
        return [*self.columns, *self.where_fields, *([self.order_by] if self.order_by else [])]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip() == "":
                break
            raise CoqlError("SYNTAX_ERROR", "error occurred while parsing the query", {"near": text[position:][:20]})
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


Related = Callable[[str, str], "Record | None"]


class _Joined(dict[str, Any]):
    """A record that can follow lookups to the related module (`Account_Name.Account_Name`)."""

    related: Related | None = None


def resolve(record: Record, path: str) -> Any:
    head, _, rest = path.partition(".")
    value = record.get(head)
    if not rest:
        return value
    if not isinstance(value, dict):
        return None
    if rest in value:
        return value[rest]
    related = getattr(record, "related", None)
    if related is not None and value.get("id"):
        target = related(head, value["id"])
        return target.get(rest) if target else None
    return None


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("id")
    if isinstance(value, str):
        parsed = parse_zoho_datetime(value) if len(value) >= 19 and value[4:5] == "-" and "T" in value else None
        return parsed if parsed is not None else value
    return value


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0
        self.criteria = 0
        self.fields: list[str] = []

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def keyword(self, *words: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.lower() in words:
            self.position += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise CoqlError("SYNTAX_ERROR", f"{word} clause is missing or misplaced", {"clause": word})

    def take(self, kind: str) -> str:
        got_kind, value = self.peek()
        if got_kind != kind:
            raise CoqlError("SYNTAX_ERROR", "error occurred while parsing the query", {"near": value})
        self.position += 1
        return value

    def literal(self) -> Any:
        kind, value = self.peek()
        self.position += 1
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value)
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise CoqlError("SYNTAX_ERROR", "error occurred while parsing the query", {"near": value})

    def expression(self) -> Callable[[Record], bool]:
        left = self.term()
        while True:
            if self.keyword("and"):
                right = self.term()
                left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
            elif self.keyword("or"):
                right = self.term()
                left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
            else:
                return left

    def term(self) -> Callable[[Record], bool]:
        kind, value = self.peek()
        if kind == "punct" and value == "(":
            self.position += 1
            inner = self.expression()
            if self.take("punct") != ")":
                raise CoqlError("SYNTAX_ERROR", "unbalanced parentheses")
            return inner
        return self.condition()

    def condition(self) -> Callable[[Record], bool]:
        self.criteria += 1
        if self.criteria > MAX_CRITERIA:
            raise CoqlError("LIMIT_EXCEEDED", "criteria limit exceeded", {"limit": MAX_CRITERIA})
        column = self.take("word")
        self.fields.append(column)
        if self.keyword("is"):
            negate = self.keyword("not")
            self.expect_keyword("null")
            return lambda r: (resolve(r, column) in (None, "", [])) != negate
        negate = self.keyword("not")
        if self.keyword("in"):
            self.take("punct")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.position += 1
                values.append(self.literal())
            self.take("punct")
            wanted = {_comparable(v) for v in values}
            return lambda r: (_comparable(resolve(r, column)) in wanted) != negate
        if self.keyword("like"):
            pattern = str(self.literal())
            regex = re.compile("^" + re.escape(pattern).replace("%", ".*") + "$", re.IGNORECASE)
            return lambda r: bool(isinstance(resolve(r, column), str) and regex.match(resolve(r, column))) != negate
        if self.keyword("between"):
            low = _comparable(self.literal())
            self.expect_keyword("and")
            high = _comparable(self.literal())

            def between(r: Record) -> bool:
                value = _comparable(resolve(r, column))
                try:
                    return value is not None and low <= value <= high
                except TypeError:
                    return False

            return between
        operator = self.take("op")
        target = _comparable(self.literal())
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "=": lambda a, b: a == b if not isinstance(a, str) else a.casefold() == str(b).casefold(),
            "!=": lambda a, b: a != b,
            "<>": lambda a, b: a != b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        check = compare[operator]

        def compared(r: Record) -> bool:
            value = _comparable(resolve(r, column))
            if value is None:
                return False
            try:
                return check(value, target)
            except TypeError:
                return False

        return compared


def parse(text: str) -> Query:
    parser = _Parser(_tokens(text))
    parser.expect_keyword("select")
    columns = [parser.take("word")]
    while parser.peek() == ("punct", ","):
        parser.position += 1
        columns.append(parser.take("word"))
    if len(columns) > MAX_COLUMNS:
        raise CoqlError("LIMIT_EXCEEDED", "select column limit exceeded", {"limit": MAX_COLUMNS})
    parser.expect_keyword("from")
    module = parser.take("word")
    where = None
    if parser.keyword("where"):
        where = parser.expression()
    query = Query(columns, module, where, where_fields=list(parser.fields))
    if parser.keyword("order"):
        parser.expect_keyword("by")
        query.order_by = parser.take("word")
        if parser.keyword("desc"):
            query.descending = True
        else:
            parser.keyword("asc")
    if parser.keyword("limit"):
        first = int(parser.take("number"))
        if parser.peek() == ("punct", ","):
            parser.position += 1
            query.offset, query.limit = first, int(parser.take("number"))
        else:
            query.limit = first
            if parser.keyword("offset"):
                query.offset = int(parser.take("number"))
    if parser.peek()[0] != "end":
        raise CoqlError("SYNTAX_ERROR", "error occurred while parsing the query", {"near": parser.peek()[1]})
    if query.limit > MAX_ROWS or query.limit < 1:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_ROWS})
    if query.offset + query.limit > MAX_REACH:
        raise CoqlError("LIMIT_EXCEEDED", "offset limit exceeded", {"limit": MAX_REACH})
    return query


def execute(query: Query, table: LazyTable, related: Related | None = None) -> tuple[list[Record], bool]:
    """Rows (selected columns + id) and whether more records match beyond this page.

    `related(lookup_field, id)` returns the record a lookup points at, for dotted paths.
    """

    def joined(records: Iterator[Record]) -> Iterator[Record]:
        for record in records:
            wrapped = _Joined(record)
            wrapped.related = related
            yield wrapped

    order = {"Modified_Time": "modified", "id": "id", "Created_Time": "id", None: "id"}.get(query.order_by)
    if order is not None:
        records = joined(table.iter_records(order=order, descending=query.descending))
        matches: Iterator[Record] = (r for r in records if query.where is None or query.where(r))
    else:
        field_name = query.order_by or "id"
        matched = [r for r in joined(table.iter_records()) if query.where is None or query.where(r)]
        matched.sort(
            key=lambda r: (resolve(r, field_name) is None, str(_comparable(resolve(r, field_name)))),
            reverse=query.descending,
        )
        matches = iter(matched)
    rows: list[Record] = []
    more = False
    for n, record in enumerate(matches):
        if n < query.offset:
            continue
        if len(rows) == query.limit:
            more = True
            break
        row: Record = {}
        for column in query.columns:
            value = resolve(record, column)
            if "." not in column and isinstance(value, dict) and "id" in value:
                value = {"id": value["id"]}  # COQL returns lookups as {"id"} unless a path is selected
            row[column] = value
        row["id"] = record["id"]
        rows.append(row)
    return rows, more
