from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "webapp.core"
    label = "core"

    def ready(self):
        from webapp.core.converters import IdConverter

        # Registered here, before any urls.py is imported, so that every app's patterns can use <id:...>.
        register_converter(IdConverter, "id")
