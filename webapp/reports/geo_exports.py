"""Located events out of the app, for GIS tools: GeoJSON (RFC 7946) and KML 2.2 (OGC).

Both are built from `exports.event_rows` (the CSV's and JSON's rows), keeping only the events with a ground
position (`Event.latitude`/`longitude`, webapp.maps.locate). GeoJSON positions are [longitude, latitude] in
WGS 84, as RFC 7946 fixes (no `crs` member); every row column is a property. KML gets one Placemark per event
named by its detector and time, a style per level colour (KML writes colours aabbggrr) and the row's columns
as ExtendedData, elements in the order the KML 2.2 schema requires. XML is built with ElementTree, so user
text (video names, notes) is escaped.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from webapp.detectors.levels import level_colour

KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
COORDINATE_DECIMALS = 7  # about a centimetre: finer than any drone's position


def located(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("latitude") is not None and r.get("longitude") is not None]


def events_geojson(rows: list[dict], mission: dict) -> str:
    """A FeatureCollection of the located events: one Point feature per event, its row as properties."""
    features = [{"type": "Feature", "id": row["id"],
                 "geometry": {"type": "Point", "coordinates": [round(row["longitude"], COORDINATE_DECIMALS),
                                                               round(row["latitude"], COORDINATE_DECIMALS)]},
                 "properties": {k: v for k, v in row.items() if k not in ("latitude", "longitude")}}
                for row in located(rows)]
    return json.dumps({"type": "FeatureCollection", "name": mission.get("name", ""), "features": features},
                      indent=1) + "\n"


def _kml_colour(hex_colour: str) -> str:
    """'#rrggbb' -> KML's 'aabbggrr', opaque."""
    red, green, blue = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"ff{blue}{green}{red}"


def _style_id(colour: str) -> str:
    return "level-" + colour.lstrip("#")


def events_kml(rows: list[dict], mission: dict) -> str:
    """A KML document with one Placemark per located event (see the module docstring)."""
    ET.register_namespace("", KML_NAMESPACE)

    def element(parent, tag, text=None, **attributes):
        child = ET.SubElement(parent, f"{{{KML_NAMESPACE}}}{tag}", attributes)
        if text is not None:
            child.text = str(text)
        return child

    root = ET.Element(f"{{{KML_NAMESPACE}}}kml")
    document = element(root, "Document")
    element(document, "name", f"Skerry events: {mission.get('name', '')}")
    events = located(rows)
    for colour in sorted({level_colour(r.get("level")) for r in events}):
        style = element(document, "Style", id=_style_id(colour))
        icon_style = element(style, "IconStyle")
        element(icon_style, "color", _kml_colour(colour))
    for row in events:
        placemark = element(document, "Placemark", id=f"event-{row['id']}")
        element(placemark, "name", f"{row['detector']} · {row['video']} at {row['peak_time']:.1f} s")
        element(placemark, "description", f"review: {row['review']}; level: {row.get('level')}; "
                                          f"score: {row['peak_score']}")
        element(placemark, "styleUrl", "#" + _style_id(level_colour(row.get("level"))))
        extended = element(placemark, "ExtendedData")
        for key, value in row.items():
            if key not in ("latitude", "longitude"):
                data = element(extended, "Data", name=key)
                element(data, "value", "" if value is None else value)
        point = element(placemark, "Point")
        element(point, "coordinates", f"{row['longitude']:.{COORDINATE_DECIMALS}f},"
                                      f"{row['latitude']:.{COORDINATE_DECIMALS}f},0")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
