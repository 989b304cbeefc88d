"""Forms for areas, missions and detector training, validated on the server with messages a person can act on."""

from __future__ import annotations

from django import forms

from webapp.catalog.models import Area, Mission
from webapp.detectors.models import Detector


class AreaForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Area.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"An area called “{name}” already exists.")
        return name


class MissionForm(forms.ModelForm):
    class Meta:
        model = Mission
        fields = ["area", "name", "date", "drone", "operator", "notes"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}), "notes": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        cleaned = super().clean()
        area, name = cleaned.get("area"), (cleaned.get("name") or "").strip()
        if area and name and Mission.objects.filter(area=area, name__iexact=name).exclude(pk=self.instance.pk).exists():
            self.add_error("name", f"{area.name} already has a mission called “{name}”.")
        return cleaned


class TrainDetectorForm(forms.Form):
    kind = forms.ChoiceField(choices=Detector.Kind.choices)
    name = forms.CharField(max_length=120, required=False, help_text="Defaults to the kind and the date.")
