"""The API does what its OpenAPI schema says, checked by schemathesis against a live server.

schemathesis reads /api/schema/ and sends requests generated from it (30 per operation and phase, valid
ones and ones the schema forbids, every method but DELETE) with an admin's token, over seeded data: an
area, a mission, a scored video with events, a detector. `--checks all` fails on any server error, on a
status code, header, content type or body the schema does not list, on a valid request refused and on a
forbidden one accepted. The seed is fixed, so a failure reproduces.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tests.support.seed import make_mission, make_user, seed_scored_video

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES_PER_OPERATION = 30
SEED = 18  # issue 18
TIME_LIMIT_S = 240
HERE = Path(__file__).parent


@pytest.fixture
def admin_token() -> str:
    """Seeded rows for the generated requests to find; the video's labelled_by and the events' reviewer are null."""
    seed_scored_video(make_mission(), kinds=("cae", "mil"))
    return Token.objects.create(user=make_user("ada", "admin")).key


def test_the_api_matches_its_openapi_schema(live_server, admin_token, tmp_path):
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "--no-color",
        "run", f"{live_server.url}/api/schema/",
        "--url", live_server.url, "--header", f"Authorization: Token {admin_token}",
        "--checks", "all", "--max-examples", str(EXAMPLES_PER_OPERATION), "--exclude-method", "DELETE",
        "--seed", str(SEED), "--generation-deterministic", "--request-timeout", "30",
        "--report-dir", str(tmp_path),
    ]
    hooks = {"SCHEMATHESIS_HOOKS": "tests.webapp.schemathesis_hooks", "PYTHONPATH": str(HERE.parents[1])}
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT_S, cwd=HERE.parents[1],
                            env={**os.environ, **hooks})
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-4000:]


@pytest.fixture
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_says_which_user_fields_can_be_null(schema):
    components = schema["components"]["schemas"]
    assert components["Event"]["properties"]["reviewer"]["nullable"] is True
    assert components["Video"]["properties"]["labelled_by"]["nullable"] is True
    assert components["Interval"]["properties"]["created_by"]["nullable"] is True


def test_the_schema_types_the_list_filters_and_bounds_the_pages(schema):
    def query(path):
        return {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    assert query("/api/missions/")["area"]["type"] == "integer"
    assert query("/api/videos/")["mission"]["maximum"] == 2**63 - 1
    assert query("/api/events/")["review"]["enum"] == ["unreviewed", "confirmed", "dismissed"]
    assert query("/api/areas/")["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000}


def test_the_schema_lists_the_error_answers(schema):
    assert set(schema["paths"]["/api/missions/{id}/"]["patch"]["responses"]) == {
        "200", "400", "401", "403", "404", "415"}
    assert {"409", "429"} <= set(schema["paths"]["/api/missions/{id}/score/"]["post"]["responses"])
    assert "202" in schema["paths"]["/api/areas/{id}/detectors/"]["post"]["responses"]
