"""ListedAlongside: ids by e-mail from a list read alongside the look-ups, never more list pages than look-ups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zoho_cscart_sync.pipelines.order_writers import ListedAlongside, lower_email


class _Directory:
    """A list of ``rows`` served ``page_size`` a page, and single look-ups; both counted."""

    def __init__(self, rows: list[dict[str, Any]], page_size: int) -> None:
        self.rows, self.page_size = rows, page_size
        self.pages_served = 0
        self.lookups = 0

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        for start in range(0, len(self.rows), self.page_size):
            self.pages_served += 1
            yield self.rows[start : start + self.page_size]

    def lookup(self, email: str) -> str | None:
        self.lookups += 1
        matches = [row["id"] for row in self.rows if lower_email(row) == email]
        return matches[0] if matches else None

    def finder(self) -> ListedAlongside:
        return ListedAlongside(
            list_pages=self.pages,
            lookup=self.lookup,
            key_of=lower_email,
            id_of=lambda row: str(row["id"]),
            page_size=self.page_size,
        )


def _rows(count: int) -> list[dict[str, Any]]:
    return [{"id": str(n), "email": f"User{n}@Example.org"} for n in range(1, count + 1)]


def test_a_short_list_is_read_once_and_answers_every_email_without_a_look_up():
    directory = _Directory([*_rows(5), {"id": "6", "email": "user2@example.org"}], page_size=200)
    finder = directory.finder()
    assert [finder.find(f"user{n}@example.org") for n in (1, 2, 5)] == ["1", "2", "5"]  # the oldest of user2's two
    assert finder.find("nobody@example.org") is None
    assert (directory.pages_served, directory.lookups) == (1, 0)


def test_a_long_list_costs_at_most_as_many_pages_as_look_ups():
    directory = _Directory(_rows(1000), page_size=10)
    finder = directory.finder()
    wanted = [f"user{n}@example.org" for n in (995, 990, 985, 980, 5)]
    assert [finder.find(email) for email in wanted] == ["995", "990", "985", "980", "5"]
    # The first page answers user5; the others needed a look-up each, and each look-up let one more page be read.
    assert directory.lookups == 4
    assert directory.pages_served <= directory.lookups + 1


def test_a_record_noted_after_the_list_was_read_is_found_without_a_call():
    directory = _Directory(_rows(3), page_size=200)
    finder = directory.finder()
    assert finder.find("new@example.org") is None
    finder.note("new@example.org", "42")
    assert finder.find("new@example.org") == "42"
    assert (directory.pages_served, directory.lookups) == (1, 0)
