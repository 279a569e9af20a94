"""`field__in_ids=[…]`: the field is one of these ids, with the ids sent as one array.

Registered for every app when Kefu's own app is ready (kefu/apps.py). A customer's timeline
filters by the few hundred tickets the viewer may open. As `__in`, that
is a list of hundreds of placeholders: Django builds and converts every item, psycopg parses
the long statement text on every call, and each list length is a new statement to the
server. On PostgreSQL this lookup writes `field = ANY(%s::bigint[])` with the list as a
single parameter instead (the same index scans); elsewhere (SQLite, the embedded mode) it is
`IN (…)` as before. Ids only: each value goes through `int()`, and the array goes as its
text (`{1,2,3}`): psycopg's list adapter checks every item for quoting, a third of the
lookup's cost for a few hundred ids.
"""

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class InIds(Lookup):
    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            array = "{" + ",".join(map(str, self.rhs)) + "}"
            return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, array)
        if not self.rhs:
            raise EmptyResultSet
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", (*lhs_params, *self.rhs)


Field.register_lookup(InIds)
ForeignObject.register_lookup(InIds)  # relations keep lookups of their own
