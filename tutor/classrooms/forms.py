"""The classroom forms: creating a class (with its limits), joining one, messaging a learner."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clusters.objects.quantity import QuantityError, parse_quantity
from tutor.classrooms.models import Classroom, Message


class ClassroomForm(forms.ModelForm):
    class Meta:
        model = Classroom
        fields = [
            "name",
            "max_pods",
            "max_services",
            "max_claims",
            "cpu",
            "memory",
            "stuck_minutes",
            "pod_security_level",
        ]
        labels = {
            "name": _("Name"),
            "max_pods": _("Pods per learner"),
            "max_services": _("Services per learner"),
            "max_claims": _("PersistentVolumeClaims per learner"),
            "cpu": _("CPU limit per learner (e.g. 2 or 1500m)"),
            "memory": _("Memory limit per learner (e.g. 2Gi)"),
            "stuck_minutes": _("Minutes on one failing step before a learner counts as stuck"),
            "pod_security_level": _("Pod Security level of the learners' namespaces"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pod_security_level"].required = False  # left out: the model's default, baseline

    def clean_pod_security_level(self) -> str:
        return self.cleaned_data["pod_security_level"] or Classroom._meta.get_field("pod_security_level").default

    def _quantity(self, field: str) -> str:
        value = self.cleaned_data[field].strip()
        try:
            parse_quantity(value)
        except QuantityError:
            raise forms.ValidationError(
                _("%(value)s is not a Kubernetes quantity: write it as 2, 500m, 512Mi or 4Gi."),
                params={"value": value},
            ) from None
        return value

    def clean_cpu(self) -> str:
        return self._quantity("cpu")

    def clean_memory(self) -> str:
        return self._quantity("memory")


class PodSecurityForm(forms.ModelForm):
    class Meta:
        model = Classroom
        fields = ["pod_security_level"]
        labels = {"pod_security_level": _("Pod Security level of the learners' namespaces")}


class JoinForm(forms.Form):
    code = forms.CharField(label=_("Join code"), max_length=20)


class MessageForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(Message.NOTE, _("Message")), (Message.HINT, _("Hint"))], initial=Message.NOTE
    )
    text = forms.CharField(label=_("Text"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
