import json
import os
import shutil
import subprocess
import sys

import pytest

from webapp.env import ImproperSetting, env_bool, parse_database_url


def test_it_parses_postgres_urls():
    db = parse_database_url("postgres://postgres:pw@127.0.0.1:5432/skerry")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == ("skerry", "postgres", "pw", "127.0.0.1", "5432")


def test_it_parses_sqlite_urls():
    assert parse_database_url("sqlite:///var/x.sqlite3")["NAME"] == "var/x.sqlite3"
    assert parse_database_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


def test_it_rejects_unknown_database_schemes():
    with pytest.raises(ImproperSetting, match="mysql"):
        parse_database_url("mysql://x/y")


def test_it_rejects_bad_booleans(monkeypatch):
    monkeypatch.setenv("SKERRY_FLAG", "maybe")
    with pytest.raises(ImproperSetting, match="SKERRY_FLAG"):
        env_bool("SKERRY_FLAG")


def test_web_processes_never_import_torch_or_scikit_learn():
    """Load settings and every URL module in a fresh interpreter; torch and scikit-learn must not be loaded
    (models run in workers; metrics are computed by the evaluate job, pages read its files)."""
    code = (
        "import django, sys, importlib; django.setup();"
        "from django.urls import get_resolver;"
        "resolver = get_resolver(); resolver.url_patterns;"
        "import webapp.wsgi;"
        "mods = [m for m in list(sys.modules) if m.startswith('webapp') and m.endswith('urls')];"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'sklearn': 'sklearn' in sys.modules, 'urls': mods}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "webapp.settings"},
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "webapp.urls" in report["urls"] and len(report["urls"]) >= 5
    assert report["torch"] is False and report["sklearn"] is False


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_disk(client, settings):
    from django.contrib.auth.models import User

    from tests.support.teams import give_role

    viewer = User.objects.create_user("hal")
    give_role(viewer, "viewer")
    client.force_login(viewer)  # anonymous callers get liveness only
    body = client.get("/healthz?workers=0").json()
    assert body["database"] == {"ok": True, "engine": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"}
    assert body["broker"] == {"ok": True, "transport": "redis" if settings.REDIS_URL else "filesystem"}
    assert body["disk"]["total_bytes"] == shutil.disk_usage(settings.MEDIA_ROOT).total
    assert body["disk"]["ok"] is (body["disk"]["free_bytes"] > 1024**3)
    assert "workers" not in body and body["ok"] is True


def test_the_database_in_use_is_the_one_database_url_names(django_db_setup, django_db_blocker):
    from django.db import connection

    print(f"test database: {connection.vendor} {connection.settings_dict['NAME']}")
    url = os.environ.get("DATABASE_URL")
    expected = parse_database_url(url)["ENGINE"] if url else "django.db.backends.sqlite3"
    assert connection.settings_dict["ENGINE"] == expected
