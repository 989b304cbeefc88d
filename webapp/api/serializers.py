"""REST representations of areas, missions, videos, labels, jobs, score runs and events."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from webapp.accounts.models import Team
from webapp.accounts.roles import ADMIN, teams_where
from webapp.api.fields import StrictModelSerializer
from webapp.catalog import labelling
from webapp.catalog.access import areas_where
from webapp.catalog.models import Area, LabelInterval, Mission, Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job


def requester(serializer):
    request = serializer.context.get("request")
    return request.user if request is not None else None


class AreaSerializer(StrictModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "name", "team", "description", "created"]
        extra_kwargs = {"team": {"required": True}}  # never the default team by omission

    def get_fields(self):
        fields = super().get_fields()
        if (user := requester(self)) is not None:  # a new area goes to a team its creator is admin of
            teams = teams_where(user, ADMIN)
            fields["team"].queryset = Team.objects.all() if teams is None else Team.objects.filter(pk__in=teams)
        return fields


class MissionSerializer(StrictModelSerializer):
    class Meta:
        model = Mission
        fields = ["id", "area", "name", "date", "drone", "operator", "notes", "created"]

    def get_fields(self):
        fields = super().get_fields()
        if (user := requester(self)) is not None:  # another team's area is "not found", like a missing one
            fields["area"].queryset = areas_where(user)
        return fields

    def validate(self, attrs):
        area = attrs.get("area", getattr(self.instance, "area", None))
        name = attrs.get("name", getattr(self.instance, "name", ""))
        clash = Mission.objects.filter(area=area, name__iexact=name)
        if self.instance:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"name": f"{area.name} already has a mission called “{name}”."})
        return attrs


class VideoSerializer(StrictModelSerializer):
    labelled_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Video
        fields = [
            "id", "mission", "original_name", "size_bytes", "sha256", "container", "codec", "duration", "fps",
            "width", "height", "rotation", "status", "error", "warning", "frame_count", "has_proxy", "proxy_method", "label",
            "split", "labelled_by", "labelled_at", "created", "has_telemetry", "telemetry_name", "telemetry_error",
            "pose_count", "start_latitude", "start_longitude", "end_latitude", "end_longitude",
        ]
        read_only_fields = [f for f in fields if f != "label"]

    def validate_label(self, value):
        if value not in Video.Label.values:
            raise serializers.ValidationError(f"choose one of {', '.join(Video.Label.values)}")
        return value

    def update(self, instance, validated_data):
        if "label" in validated_data:
            try:  # a video's intervals are deleted first (DELETE them), never as a side effect of a PATCH
                labelling.set_video_label(instance, validated_data["label"], self.context["request"].user)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"label": " ".join(exc.messages)}) from None
        return instance


class SidecarUploadSerializer(serializers.Serializer):
    """A telemetry sidecar sent as multipart form data."""

    file = serializers.FileField(help_text="DJI .SRT, GPX track or CSV flight log (time,lat,lon,alt[,yaw])")


class TelemetrySerializer(serializers.Serializer):
    """A video's telemetry: the sidecar's name, whether its poses were read, where the flight starts and ends,
    and why the last sidecar sent could not be read (with its line number). `poses` (GET only) holds every
    column of the pose table, null where the sidecar does not record a value."""

    video = serializers.IntegerField()
    telemetry_name = serializers.CharField()
    telemetry_error = serializers.CharField()
    has_telemetry = serializers.BooleanField()
    pose_count = serializers.IntegerField()
    start_latitude = serializers.FloatField(allow_null=True)
    start_longitude = serializers.FloatField(allow_null=True)
    end_latitude = serializers.FloatField(allow_null=True)
    end_longitude = serializers.FloatField(allow_null=True)
    poses = serializers.DictField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
                                  required=False, allow_null=True)


class IntervalSerializer(StrictModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = LabelInterval
        fields = ["id", "video", "start", "end", "anomaly_class", "created_by", "created"]
        read_only_fields = ["video", "created_by", "created"]
        extra_kwargs = {"start": {"min_value": 0}, "end": {"min_value": 0}}

    def validate(self, attrs):
        video = self.context.get("video") or self.instance.video
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        try:
            attrs["start"], attrs["end"], attrs["anomaly_class"] = labelling.clean_interval(
                video, start, end, attrs.get("anomaly_class", getattr(self.instance, "anomaly_class", ""))
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(" ".join(exc.messages)) from None
        return attrs


class DetectorSerializer(StrictModelSerializer):
    class Meta:
        model = Detector
        fields = [
            "id", "area", "kind", "name", "status", "is_active", "threshold", "validation_metrics", "error",
            "created", "trained",
        ]
        read_only_fields = [f for f in fields if f not in ("kind", "name")]


class JobSerializer(StrictModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id", "kind", "state", "video", "mission", "detector", "progress", "stage", "eta_seconds",
            "attempts", "error", "created", "started", "finished",
        ]


class TrainingStartedSerializer(serializers.Serializer):
    """The answer to POST /api/areas/<id>/detectors/: the new detector and its queued training job."""

    detector = DetectorSerializer()
    job = JobSerializer()


class EventSerializer(StrictModelSerializer):
    video = serializers.IntegerField(source="score_run.video_id", read_only=True)
    detector = serializers.IntegerField(source="score_run.detector_id", read_only=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id", "score_run", "video", "detector", "start", "end", "peak_time", "level", "peak_score", "peak_x",
            "peak_y", "review", "anomaly_class", "reviewer", "reviewed_at", "note", "change", "reference_video",
            "reference_time", "latitude", "longitude",
        ]
        # CHANGE events: "new" or "vanished", and the reference flight (a video id) and the time into it that
        # today's frame was compared with; empty and null for the other kinds.
        read_only_fields = ["change", "reference_video", "reference_time", "level", "latitude", "longitude"]
        # level: the peak on the scale every detector kind shares (1 = its detector's threshold; null when the
        # run had no threshold); peak_score: the detector's raw score, comparable only within one detector.
        # latitude/longitude: where on the ground (webapp.maps.locate), null without telemetry.


class ScoreRunSerializer(StrictModelSerializer):
    class Meta:
        model = ScoreRun
        fields = ["id", "detector", "video", "status", "threshold", "max_score", "frame_count", "error", "finished"]


class ScoreArraysSerializer(serializers.Serializer):
    """A ready score run with its per-frame (and per-segment, for MIL) scores read from media/scores/<id>/."""

    run = ScoreRunSerializer()
    times = serializers.ListField(child=serializers.FloatField())
    frame_scores = serializers.ListField(child=serializers.FloatField())
    threshold = serializers.FloatField()
    segment_scores = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    segment_bounds = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()), allow_null=True)
