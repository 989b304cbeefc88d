"""The mission zip's located events: events.geojson against RFC 7946 (as a JSON Schema) and events.kml against
the OGC KML 2.2 XML Schema (tests/data/kml, validated offline with xmlschema)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from django.conf import settings

from tests.support.maps import attach_poses, straight_flight
from tests.support.seed import make_mission, seed_scored_video
from webapp.detectors.models import Event
from webapp.jobs import services
from webapp.maps.locate import locate_events
from webapp.reports.geo_exports import events_kml
from workers.claim import run_job
from workers.export import run_export

pytestmark = pytest.mark.django_db
KML_SCHEMA = Path(__file__).parents[1] / "data" / "kml" / "ogckml22.xsd"
KML = "{http://www.opengis.net/kml/2.2}"

# RFC 7946 for what the export writes: a FeatureCollection of Features with Point geometries; a position is
# [longitude, latitude(, altitude)] in WGS 84 degrees (section 3.1.1); no "crs" member (section 4).
POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"},
            "prefixItems": [{"type": "number", "minimum": -180, "maximum": 180},
                            {"type": "number", "minimum": -90, "maximum": 90}]}
GEOJSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["type", "features"], "not": {"required": ["crs"]},
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {
            "type": "object", "required": ["type", "geometry", "properties"], "not": {"required": ["crs"]},
            "properties": {
                "type": {"const": "Feature"}, "id": {"type": ["string", "number"]},
                "properties": {"type": ["object", "null"]},
                "geometry": {"type": "object", "required": ["type", "coordinates"],
                             "properties": {"type": {"const": "Point"}, "coordinates": POSITION}},
            }}},
    },
}


@pytest.fixture
def exported():
    """A mission of two videos, one with telemetry (its events located), exported: the zip's members."""
    mission = make_mission()
    flown = seed_scored_video(mission, name="flown <&> .mp4", anomalies=((10.0, 14.0, "boat"),), seed=1)
    attach_poses(flown.video, straight_flight(60.0))
    seed_scored_video(mission, name="blind.mp4", anomalies=((30.0, 34.0, "boat"),), seed=2)
    Event.objects.filter(score_run__video=flown.video).update(note='a "boat" & <oars>')
    locate_events(Event.objects.filter(score_run__video=flown.video).select_related("score_run__video__mission__area"))
    job = services.start_export(mission)
    assert run_job(job.pk, run_export, worker="test") == "succeeded"
    job.refresh_from_db()
    prefix = f"mission-{mission.pk}/"
    with zipfile.ZipFile(Path(settings.MEDIA_ROOT) / job.result["zip"]) as archive:
        members = {name[len(prefix):]: archive.read(name) for name in archive.namelist()}
    return mission, flown.video, members


def test_the_geojson_is_an_rfc_7946_feature_collection_of_the_located_events(exported):
    mission, flown, members = exported
    document = json.loads(members["events.geojson"])
    jsonschema.validate(document, GEOJSON_SCHEMA)
    located = Event.objects.filter(score_run__video__mission=mission, latitude__isnull=False)
    assert located.count() >= 1 and located.count() < Event.objects.filter(score_run__video__mission=mission).count()
    assert sorted(f["id"] for f in document["features"]) == sorted(located.values_list("pk", flat=True))
    feature = next(f for f in document["features"])
    event = located.get(pk=feature["id"])
    assert feature["geometry"]["coordinates"] == pytest.approx([event.longitude, event.latitude], abs=1e-7)
    assert feature["properties"]["video"] == flown.original_name and feature["properties"]["review"] == "unreviewed"
    csv_header = members["events.csv"].decode().splitlines()[0].split(",")
    assert csv_header[-2:] == ["latitude", "longitude"] and "level" in csv_header


def test_the_schema_check_rejects_latitude_first_positions():
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [59.4, 218.9]}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, GEOJSON_SCHEMA)


def test_the_kml_validates_against_the_ogc_schema_and_holds_each_located_event(exported):
    mission, flown, members = exported
    schema = xmlschema.XMLSchema(str(KML_SCHEMA))
    schema.validate(members["events.kml"].decode())
    root = ET.fromstring(members["events.kml"])
    placemarks = root.findall(f"{KML}Document/{KML}Placemark")
    located = Event.objects.filter(score_run__video__mission=mission, latitude__isnull=False)
    assert sorted(p.get("id") for p in placemarks) == sorted(f"event-{pk}" for pk in located.values_list("pk", flat=True))
    placemark = placemarks[0]
    event = located.get(pk=int(placemark.get("id").split("-")[1]))
    longitude, latitude, height = map(float, placemark.find(f"{KML}Point/{KML}coordinates").text.split(","))
    assert (longitude, latitude, height) == pytest.approx((event.longitude, event.latitude, 0.0), abs=1e-7)
    data = {d.get("name"): d.find(f"{KML}value").text for d in placemark.findall(f"{KML}ExtendedData/{KML}Data")}
    assert data["note"] == 'a "boat" & <oars>' and data["video"] == flown.original_name
    style = root.find(f"{KML}Document/{KML}Style[@id='{placemark.find(f'{KML}styleUrl').text[1:]}']")
    assert style is not None and len(style.find(f"{KML}IconStyle/{KML}color").text) == 8


def test_the_schema_rejects_a_kml_with_elements_out_of_order():
    text = events_kml([{"id": 1, "detector": "d", "video": "v", "peak_time": 1.0, "review": "unreviewed",
                        "level": 1.2, "peak_score": 0.5, "latitude": 59.4, "longitude": 18.9}], {"name": "m"})
    schema = xmlschema.XMLSchema(str(KML_SCHEMA))
    schema.validate(text)
    swapped = text.replace("<name>d · v at 1.0 s</name>", "").replace("</description>",
                                                                     "</description><name>late</name>")
    assert not schema.is_valid(swapped)
