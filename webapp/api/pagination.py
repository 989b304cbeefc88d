"""The API's page size: ?limit= and ?offset=, with an upper bound so one request cannot ask for every row.

Without a bound, `?limit=100000000` makes the server build and serialise a whole table in one response.
A larger limit is served as MAX_LIMIT rows (DRF clamps it); the schema states the bound.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (f"Number of results to return per page (default {self.default_limit}, "
                                             f"at most {MAX_LIMIT}; a larger limit returns {MAX_LIMIT}).")
                parameter["schema"] = {**parameter["schema"], "minimum": 1, "maximum": MAX_LIMIT}
        return parameters
