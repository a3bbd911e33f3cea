"""The tutor's own REST API for sandboxes (Django REST Framework), used by the browser.

Small APIViews with an input and an output serializer each, one service call per method.
The Kubernetes API itself is served elsewhere (clusters.kube.views), in its own protocol.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clusters import idle
from clusters.manifests import manifest_apply
from clusters.models import Sandbox
from clusters.sandboxes import kubeconfig_render, sandbox_create, sandbox_delete, sandbox_reset


class SandboxOutput(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    api_prefix = serializers.SerializerMethodField()

    class Meta:
        model = Sandbox
        fields = ["name", "owner", "uid", "runtime", "engine", "created_at", "api_prefix"]

    def get_api_prefix(self, sandbox: Sandbox) -> str:
        return f"/k8s/{sandbox.uid.hex}/"


class SandboxInput(serializers.Serializer):
    name = serializers.SlugField(max_length=63, default="default")
    runtime = serializers.ChoiceField(choices=["auto", "docker", "simulated"], default="auto")


def _own_sandbox(request, name: str) -> Sandbox:
    """The caller's sandbox of that name; asking for it is using it (clusters.idle)."""
    sandbox = get_object_or_404(Sandbox, owner=request.user, name=name)
    idle.sandbox_seen(sandbox=sandbox)
    return sandbox


class SandboxListApi(APIView):
    @extend_schema(responses=SandboxOutput(many=True))
    def get(self, request):
        sandboxes = Sandbox.objects.filter(owner=request.user).select_related("owner")
        return Response(SandboxOutput(sandboxes, many=True).data)

    @extend_schema(request=SandboxInput, responses={201: SandboxOutput})
    def post(self, request):
        data = SandboxInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            sandbox = sandbox_create(owner=request.user, **data.validated_data)
        except IntegrityError:
            raise serializers.ValidationError(
                {"name": [f'you already have a sandbox named "{data.validated_data["name"]}"']}
            ) from None
        return Response(SandboxOutput(sandbox).data, status=status.HTTP_201_CREATED)


class SandboxDetailApi(APIView):
    @extend_schema(responses=SandboxOutput)
    def get(self, request, name: str):
        return Response(SandboxOutput(_own_sandbox(request, name)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, name: str):
        sandbox_delete(sandbox=_own_sandbox(request, name))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SandboxResetApi(APIView):
    @extend_schema(request=None, responses=SandboxOutput)
    def post(self, request, name: str):
        return Response(SandboxOutput(sandbox_reset(sandbox=_own_sandbox(request, name))).data)


class SandboxKubeconfigApi(APIView):
    @extend_schema(responses={(200, "application/yaml"): OpenApiResponse(description="a kubeconfig file")})
    def get(self, request, name: str):
        sandbox = _own_sandbox(request, name)
        text = kubeconfig_render(sandbox=sandbox, server=request.build_absolute_uri("/"))
        response = HttpResponse(text, content_type="application/yaml")
        response["Content-Disposition"] = f'attachment; filename="kubeconfig-{sandbox.name}.yaml"'
        return response


class ManifestInput(serializers.Serializer):
    manifest = serializers.CharField(help_text="one or more YAML documents separated by ---", trim_whitespace=False)


class DocumentResultOutput(serializers.Serializer):
    index = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    namespace = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "configured", "unchanged", "error", "not applied"])
    error = serializers.DictField(allow_null=True, help_text="a Kubernetes Status object")


class ApplyOutput(serializers.Serializer):
    stored = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)
    results = DocumentResultOutput(many=True)


class SandboxApplyApi(APIView):
    @extend_schema(request=ManifestInput, responses={200: ApplyOutput, 422: ApplyOutput})
    def post(self, request, name: str):
        data = ManifestInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = manifest_apply(sandbox=_own_sandbox(request, name), text=data.validated_data["manifest"])
        body = ApplyOutput({"stored": report.stored, "error": report.error, "results": report.results}).data
        return Response(body, status=status.HTTP_200_OK if report.stored else status.HTTP_422_UNPROCESSABLE_ENTITY)
