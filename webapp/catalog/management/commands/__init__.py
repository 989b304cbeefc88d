"""`python manage.py import_dataset`: load a manifest of labelled videos."""
