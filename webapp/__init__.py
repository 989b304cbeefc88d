"""Skerry's Django project: pages, API, models and job rows. Never imports torch."""
