"""Forms for areas, missions and detector training, validated on the server with messages a person can act on."""

from __future__ import annotations

from django import forms

from webapp.accounts.models import Team
from webapp.catalog.models import Area, Mission
from webapp.catalog.references import DEFAULT_REFERENCE_COUNT, MAX_REFERENCE_COUNT
from webapp.detectors.models import Detector


class AreaForm(forms.ModelForm):
    """A new area, in one of `teams` (the ids of the teams where its creator is admin; None: any team)."""

    class Meta:
        model = Area
        fields = ["name", "team", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, teams: list[int] | None = None, **kwargs):
        kwargs.setdefault("instance", Area(team_id=None))  # never the default team by omission
        super().__init__(*args, **kwargs)
        choices = Team.objects.all() if teams is None else Team.objects.filter(pk__in=teams)
        self.fields["team"].queryset = choices
        self.fields["team"].help_text = "Only its members will see the area."
        if len(choices) == 1:
            self.initial["team"] = choices[0].pk

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Area.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"An area called “{name}” already exists.")
        return name


class MissionForm(forms.ModelForm):
    """A new mission, in one of `areas` (those where its creator may work)."""

    class Meta:
        model = Mission
        fields = ["area", "name", "date", "drone", "operator", "notes"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if areas is not None:
            self.fields["area"].queryset = areas

    def clean(self):
        cleaned = super().clean()
        area, name = cleaned.get("area"), (cleaned.get("name") or "").strip()
        if area and name and Mission.objects.filter(area=area, name__iexact=name).exclude(pk=self.instance.pk).exists():
            self.add_error("name", f"{area.name} already has a mission called “{name}”.")
        return cleaned


class TrainDetectorForm(forms.Form):
    kind = forms.ChoiceField(choices=Detector.Kind.choices, initial=Detector.Kind.CHANGE)
    name = forms.CharField(max_length=120, required=False, help_text="Defaults to the kind and the date.")
    epochs = forms.IntegerField(min_value=1, max_value=1000, required=False,
                                help_text="Passes over the training data (CAE, MIL); empty for the detector's default.")
    references = forms.IntegerField(
        min_value=1, max_value=MAX_REFERENCE_COUNT, required=False, label="Reference flights",
        help_text=f"CHANGE: how many of the area's most recent normal flights to compare with, besides the pinned "
                  f"ones; empty for {DEFAULT_REFERENCE_COUNT}.")
    activate = forms.BooleanField(required=False, initial=True,
                                  help_text="Score new videos with it once trained, replacing the area's "
                                            "previous detector of this kind.")

    def detector_config(self) -> dict:
        """The Detector's config: epochs for the trained networks, the reference count for CHANGE (which
        trains no network, so has no epochs)."""
        if self.cleaned_data["kind"] == Detector.Kind.CHANGE:
            references = self.cleaned_data.get("references")
            return {Detector.REFERENCES_KEY: references} if references else {}
        epochs = self.cleaned_data.get("epochs")
        return {"epochs": epochs} if epochs else {}



class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError("Choose the videos the manifest lists.")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ManifestImportForm(forms.Form):
    manifest = forms.FileField(help_text="CSV with the columns video,label,split,intervals,classes and, optionally, "
                                         "telemetry.")
    videos = MultipleFileField(help_text="Every video the manifest lists, and the telemetry sidecars of its "
                                         "telemetry column; matched to its rows by file name.")
    mission_per_folder = forms.BooleanField(
        required=False, initial=True, label="One mission per folder of the manifest (day01/, day02/, …)"
    )
