"""Fixtures for the web app tests: named actors and a small catalog (defined in catalog_actors.py)."""

from tests.webapp.catalog_actors import admin, analyst, area, mission, outsider, viewer  # noqa: F401
