"""Skerry's Celery app and thin tasks: ids in, plain functions do the work."""
