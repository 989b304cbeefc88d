"""The `<id:...>` path converter: a whole number that fits a 64-bit column, for every id in every urls.py.

Django's `<int:...>` matches any run of digits, so `/missions/99999999999999999999999/` reached the view and
overflowed in the database (a 500). A path with a number that cannot be an id does not match: a 404.
"""

from __future__ import annotations

from webapp.core.params import MAX_ID, MAX_ID_DIGITS


class IdConverter:
    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(f"{value} does not fit a 64-bit id")  # Django answers this with "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
