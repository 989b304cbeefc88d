import os

from django.core.wsgi import get_wsgi_application

from webapp.env import ImproperSetting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
try:
    application = get_wsgi_application()
except ImproperSetting as error:  # gunicorn logs this one line and stops, instead of a traceback per worker
    raise SystemExit(f"skerry: {error}") from None
