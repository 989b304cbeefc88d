"""docker-compose.yml cannot run here (no Docker engine), so its structure is checked against the code."""

import importlib
import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def command_of(service: str) -> list[str]:
    return SERVICES[service]["command"]


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_it_has_every_service_with_health_checks():
    assert {"postgres", "redis", "web", "worker-cpu", "worker-gpu"} <= set(SERVICES)
    for name in ("postgres", "redis", "web", "worker-cpu", "worker-gpu"):
        assert "healthcheck" in SERVICES[name], name


def test_data_services_keep_their_data_in_volumes():
    assert any(v.endswith(":/var/lib/postgresql/data") for v in SERVICES["postgres"]["volumes"])
    assert any(v.endswith(":/data") for v in SERVICES["redis"]["volumes"])
    assert "--appendonly" in SERVICES["redis"]["command"]
    assert option(SERVICES["redis"]["command"], "--appendonly") == "yes"
    assert {"pgdata", "redisdata", "media"} <= set(COMPOSE["volumes"])


def test_web_runs_gunicorn_on_the_real_wsgi_module():
    command = command_of("web")
    assert command[0] == "gunicorn"
    module, attr = command[1].split(":")
    assert hasattr(importlib.import_module(module), attr)


def test_workers_consume_the_queues_the_celery_app_declares():
    from webapp.celery import app
    from webapp.jobs.kinds import QUEUES, TASKS

    declared = {queue.name for queue in app.conf.task_queues}
    cpu, gpu, live = command_of("worker-cpu"), command_of("worker-gpu"), command_of("worker-live")
    for command in (cpu, gpu, live, command_of("beat")):
        assert command[:2] == ["celery", "-A"]
        started = importlib.import_module(option(command, "-A")).app
        assert started is app and set(TASKS) <= set(started.tasks), "the worker module must register every task"
    assert "worker" in cpu and "worker" in gpu and "beat" in command_of("beat")
    assert option(cpu, "-Q") == "cpu" and option(gpu, "-Q") == "gpu" and option(live, "-Q") == "live"
    assert declared == set(QUEUES) == {"cpu", "gpu", "live"}
    assert {spec.queue for spec in TASKS.values()} == declared
    assert option(gpu, "-P") == "solo" and option(gpu, "-c") == "1"
    devices = SERVICES["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_web_and_workers_share_the_media_volume_at_the_media_root():
    for name in ("web", "worker-cpu", "worker-gpu", "worker-live"):
        service = SERVICES[name]
        media_root = service["environment"]["SKERRY_MEDIA_ROOT"]
        assert f"media:{media_root}" in service["volumes"], name
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")


def test_the_dockerfile_copies_every_package_compose_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in ("detection", "workers", "webapp", "templates", "static"):
        assert re.search(rf"^COPY {folder} ", dockerfile, re.M), folder
    assert SERVICES["web"]["build"] == "."


def test_every_setting_read_from_the_environment_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, re.M))
    source = (ROOT / "webapp" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\("([A-Z_][A-Z0-9_]*)"', source))
    assert read, "settings read nothing from the environment?"
    assert read - listed == set(), f"missing from .env.example: {sorted(read - listed)}"
    for line in example.splitlines():
        if re.match(r"^[A-Z_]+=", line):
            index = example.splitlines().index(line)
            assert example.splitlines()[index - 1].startswith("#"), f"{line} has no comment"


def test_production_settings_refuse_a_missing_secret_key(monkeypatch):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "webapp.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
    assert settings.SECRET_KEY


def test_check_deploy_is_clean_with_production_values():
    import secrets
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
           "DJANGO_ALLOWED_HOSTS": "skerry.example.org", "SKERRY_VAR_DIR": "/tmp/skerry-check-deploy"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_worker_with_a_bad_setting_stops_with_one_line_naming_it(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SKERRY_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--help"],
                            env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["skerry: environment variable DJANGO_SECRET_KEY is required"]
