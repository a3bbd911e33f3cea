import os
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils import timezone

from clusters import idle
from clusters.models import Sandbox
from clusters.objects import pod_security
from clusters.sandboxes import kubeconfig_render, sandbox_create, sandbox_delete, sandbox_pod_security_set


def default_server() -> str:
    """The address `make run` serves on: HOST and PORT as the Makefile reads them."""
    return f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"


class Command(BaseCommand):
    help = "Create, list and delete sandboxes, and print a kubeconfig for one."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="create a sandbox (and its owner's account if missing)")
        create.add_argument("--owner", required=True)
        create.add_argument("--name", default="default")
        create.add_argument("--runtime", choices=["auto", "docker", "simulated"], default="auto")
        create.add_argument(
            "--fast-backoff",
            action="store_true",
            default=None,
            help="back off crash loops from 1 s to 60 s (class time) instead of 10 s to 5 min",
        )
        kubeconfig = commands.add_parser("kubeconfig", help="print a kubeconfig for a sandbox on stdout")
        kubeconfig.add_argument("--owner", required=True)
        kubeconfig.add_argument("--name", default="default")
        kubeconfig.add_argument("--server", default=None, help="the API server address (default: make run's)")
        level = commands.add_parser(
            "pod-security",
            help="set the Pod Security level a sandbox's namespaces enforce (a classroom's form does it for a "
            "class): the learner may make a namespace stricter, never looser",
        )
        level.add_argument("--owner", required=True)
        level.add_argument("--name", default="default")
        level.add_argument("--level", required=True, choices=pod_security.LEVELS)
        commands.add_parser("list", help="list every sandbox")
        delete = commands.add_parser("delete", help="delete a sandbox and everything in it")
        delete.add_argument("--owner", required=True)
        delete.add_argument("--name", default="default")
        pause_idle = commands.add_parser(
            "pause-idle",
            help="pause the sandboxes unused for MINUTES (default TUTOR_IDLE_STOP_MINUTES), as beat does every "
            "minute: their containers stop, their objects stay, they start again when used",
        )
        pause_idle.add_argument("--minutes", type=float, default=None)
        commands.add_parser(
            "clean-engine",
            help="remove from the Docker engine the containers, volumes and networks of every sandbox here "
            "(with the worker stopped: its kubelets would start them again)",
        )

    def handle(self, *args, command: str, **options):
        getattr(self, f"handle_{command.replace('-', '_')}")(**options)

    def _sandbox(self, owner: str, name: str) -> Sandbox:
        sandbox = Sandbox.objects.filter(owner__username=owner, name=name).first()
        if sandbox is None:
            raise CommandError(
                f'no sandbox "{name}" owned by "{owner}"; create it with: sandbox create --owner {owner}'
            )
        return sandbox

    def handle_create(self, *, owner: str, name: str, runtime: str, fast_backoff: bool | None, **options):
        user, created = get_user_model().objects.get_or_create(username=owner)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stdout.write(f'created learner account "{owner}" (no password: set one with changepassword)')
        try:
            sandbox = sandbox_create(owner=user, name=name, runtime=runtime, fast_backoff=fast_backoff)
        except IntegrityError:
            raise CommandError(f'"{owner}" already has a sandbox named "{name}"') from None
        self.stdout.write(
            f'created sandbox "{sandbox.name}" for "{owner}" (runtime {sandbox.runtime}: {sandbox.engine})'
        )

    def handle_kubeconfig(self, *, owner: str, name: str, server: str | None, **options):
        self.stdout.write(
            kubeconfig_render(sandbox=self._sandbox(owner, name), server=server or default_server()), ending=""
        )

    def handle_pod_security(self, *, owner: str, name: str, level: str, **options):
        for warning in sandbox_pod_security_set(sandbox=self._sandbox(owner, name), level=level):
            self.stderr.write(f"Warning: {warning}")
        self.stdout.write(f'sandbox "{name}" of "{owner}" enforces Pod Security level "{level}"')

    def handle_list(self, **options):
        sandboxes = Sandbox.objects.select_related("owner").order_by("owner__username", "name")
        self.stdout.write(f"{'OWNER':<20} {'NAME':<20} {'RUNTIME':<20} {'OBJECTS':>7}  CREATED")
        for sandbox in sandboxes:
            self.stdout.write(
                f"{sandbox.owner.get_username():<20} {sandbox.name:<20} {sandbox.runtime + ': ' + sandbox.engine:<20} "
                f"{sandbox.stored_objects.count():>7}  {sandbox.created_at:%Y-%m-%d %H:%M}"
            )

    def handle_pause_idle(self, *, minutes: float | None, **options):
        limit = idle.idle_limit() if minutes is None else timedelta(minutes=max(0.0, minutes))
        if limit is None:
            raise CommandError("TUTOR_IDLE_STOP_MINUTES is 0 (never): say how long with --minutes")
        paused = Sandbox.objects.filter(pk__in=idle.sandboxes_idle_pause(now=timezone.now(), limit=limit))
        for sandbox in paused.select_related("owner").order_by("owner__username", "name"):
            self.stdout.write(f'paused sandbox "{sandbox.name}" of "{sandbox.owner.get_username()}"')
        self.stdout.write(f"{paused.count()} sandboxes paused")

    def handle_clean_engine(self, **options):
        # Imported here: the Docker SDK loads only in processes that use a Docker engine.
        from clusters.runtime.docker import DockerRuntime

        sandboxes = Sandbox.objects.filter(engine="docker")
        for sandbox in sandboxes:
            DockerRuntime(sandbox=sandbox.uid.hex).sandbox_remove()
        self.stdout.write(f"removed what the engine ran for {sandboxes.count()} Docker sandboxes")

    def handle_delete(self, *, owner: str, name: str, **options):
        sandbox_delete(sandbox=self._sandbox(owner, name))
        self.stdout.write(f'deleted sandbox "{name}" of "{owner}"')
