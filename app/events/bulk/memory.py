"""A projection table's rows in memory (``MemoryTable``): the changes of
``app.events.projections.changes`` applied to rows rather than by one SQL statement each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.events.projections import Change, Insert, Merge, Update, Upsert


@dataclass(frozen=True, slots=True)
class _Union:
    """A merged array (``Merge.UNION``) whose order the database gives when it is written."""

    elements: frozenset[str]


class MemoryTable:
    """A projection table's rows in memory, by primary key, each with the columns written."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.rows: dict[Any, dict[str, Any]] = {}
        self._indexes: dict[str, dict[Any, list[Any]]] = {}  # column -> value -> keys
        self.unions: set[tuple[Any, str]] = set()  # (key, column) of the merged arrays

    def apply(self, change: Change) -> None:
        match change:
            case Insert(table, row):
                if row[self.key] in self.rows:
                    raise ValueError(f"{table}: a second row with {self.key} {row[self.key]!r}")
                self._add(dict(row))
            case Update(_, column, value, values, only):
                for key in self._keys(column, value):
                    row = self.rows[key]
                    if row.get(column) == value and all(row.get(c) in a for c, a in only):
                        row.update(values)
                        self._reindex(key, values)
            case Upsert(_, key_column, row, merge):
                assert key_column == self.key
                existing = self.rows.get(row[key_column])
                if existing is None:
                    self._add(dict(row))
                    return
                merged = dict(merge)
                for column, value in row.items():
                    how = merged.get(column)
                    existing[column] = (
                        value if how is None else _merge(how, existing.get(column), value)
                    )
                    if how is Merge.UNION:
                        self.unions.add((row[key_column], column))
                self._reindex(row[key_column], row)

    def _add(self, row: dict[str, Any]) -> None:
        key = row[self.key]
        self.rows[key] = row
        self._reindex(key, row)

    def _keys(self, column: str, value: Any) -> list[Any]:
        if column == self.key:
            return [value] if value in self.rows else []
        index = self._indexes.get(column)
        if index is None:  # built on first use, kept up to date from then on
            index = self._indexes[column] = {}
            for key, row in self.rows.items():
                index.setdefault(row.get(column), []).append(key)
        return index.get(value, [])

    def _reindex(self, key: Any, values: dict[str, Any]) -> None:
        for column, index in self._indexes.items():
            if column in values:
                index.setdefault(values[column], []).append(key)


def _merge(how: Merge, old: Any, new: Any) -> Any:
    """As the live upsert's SQL (``projections._MERGED``) combines them."""
    if how is Merge.ADD:
        return None if old is None or new is None else old + new
    elements = set(old.elements if isinstance(old, _Union) else old or ())
    return _Union(frozenset(elements | set(new or ())))
