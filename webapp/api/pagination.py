"""The API's page size: ?limit= and ?offset=, checked like every other number in a query string, with bounds
published in the OpenAPI schema.

Without an upper bound, `?limit=100000000` makes the server build and serialise a whole table in one response;
DRF's own class also quietly replaces a bad `limit` with the default and passes any `offset` to the database,
where one past 64 bits fails (a 500).
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

from webapp.core.params import MAX_ID, parse_whole

MAX_LIMIT = 1000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        text = request.query_params.get(self.limit_query_param)  # empty is a 400, as the schema allows none
        return self.default_limit if text is None else parse_whole(text, self.limit_query_param, 1, self.max_limit)

    def get_offset(self, request) -> int:
        text = request.query_params.get(self.offset_query_param)
        return 0 if text is None else parse_whole(text, self.offset_query_param, 0, MAX_ID)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_ID)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (f"Number of results to return per page (default {self.default_limit}, "
                                             f"at most {self.max_limit}; a larger limit is a 400).")
        return parameters
