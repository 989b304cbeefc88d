from django.apps import AppConfig


class MapsConfig(AppConfig):
    """The maps of an area and its missions: mosaics built from the area's own flights, event positions."""

    name = "webapp.maps"
    label = "maps"
