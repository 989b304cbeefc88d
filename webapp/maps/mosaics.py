"""An area's mosaic: which flight it is built from, where the current one is, and when to rebuild it.

A mosaic job (workers/mosaic.py) targets one video, its area's reference flight: the first flight of the
CHANGE reference set (`catalog.references`: pinned first, then the most recent normal-labelled) that has
telemetry, else the first one (a mosaic in route coordinates). Its files live in
`areas/<area>/mosaics/<job>/` (`detection.mapping.pyramid`); the area's current mosaic is its newest
succeeded mosaic job's. When the reference set changes (a pin, a label) and names another flight than the
current mosaic's, `refresh_mosaic` starts a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from webapp.catalog import references
from webapp.catalog.models import Video
from webapp.jobs import services
from webapp.jobs.models import Job


@dataclass(frozen=True)
class AreaMosaic:
    job: Job
    info: object  # detection.mapping.pyramid.MosaicInfo

    @property
    def video(self) -> Video:
        return self.job.video


def mosaic_folder(job: Job) -> str:
    """Where a mosaic job writes, relative to MEDIA_ROOT."""
    return f"areas/{job.video.mission.area_id}/mosaics/{job.pk}"


def reference_flight(area) -> Video | None:
    """The flight the area's mosaic is built from (see the module docstring), or None without references."""
    flights = references.reference_set(area)
    with_telemetry = [v for v in flights if v.has_telemetry]
    return (with_telemetry or flights or [None])[0]


def current_mosaic(area) -> AreaMosaic | None:
    """The area's newest built mosaic whose files can be read, or None."""
    from detection.mapping.pyramid import load_info

    jobs = (Job.objects.filter(kind=Job.Kind.MOSAIC, state=Job.State.SUCCEEDED, video__mission__area=area)
            .select_related("video__mission").order_by("-finished", "-pk"))
    for job in jobs[:5]:
        folder = job.result.get("folder")
        if not folder:
            continue
        try:
            return AreaMosaic(job, load_info(Path(settings.MEDIA_ROOT) / folder))
        except ValueError:
            continue
    return None


def active_mosaic_job(area) -> Job | None:
    return Job.objects.filter(kind=Job.Kind.MOSAIC, state__in=Job.ACTIVE_STATES, cancel_requested=False,
                              video__mission__area=area).select_related("video").first()


def build_mosaic(area, user=None) -> Job:
    """Start (or reuse) a mosaic job for the area's reference flight; ValidationError when it has none."""
    video = reference_flight(area)
    if video is None:
        raise ValidationError("This area has no reference flight yet: label a ready video normal, or pin one.")
    return services.start_mosaic(video, user=user)


def refresh_mosaic(area, user=None) -> Job | None:
    """Rebuild an area's mosaic when its reference flight is no longer the one the current (or coming) mosaic
    is built from; None when nothing needs doing. An area without a mosaic gets its first on demand
    (`build_mosaic`), not from a label."""
    active = active_mosaic_job(area)
    current = current_mosaic(area)
    built_from = active.video_id if active else (current.job.video_id if current else None)
    video = reference_flight(area) if built_from is not None else None
    if video is None or built_from == video.pk:
        return None
    return services.start_mosaic(video, user=user)
