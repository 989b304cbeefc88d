"""Test-run defaults, set before pytest-django reads the settings: production-like, but plain HTTP."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "skerry-test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.setdefault("SKERRY_STATIC_MANIFEST", "0")
