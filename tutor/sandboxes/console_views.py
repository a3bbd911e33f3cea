"""The sandbox console: a command line posted, then its output streamed as server-sent events.

Posting a line parses it (`tutor.sandboxes.console.parse_command`: no shell, an allow-list of
kubectl's own commands) and records it; a refused line is answered at once with the reason. An
accepted one is answered with a block that opens a stream, and the stream runs the real kubectl
against the learner's sandbox, sending its output as it comes — so `kubectl get pods -w` and
`kubectl logs -f` follow live — until kubectl ends, hits its time or output limit, or the tab
goes away (which stops kubectl). Every line and its output are kept: the learner's history, and
what the instructor sees of it.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_POST

from clusters import idle
from clusters.sandboxes import console_kubeconfig
from clusters.snapshot import sandbox_of
from tutor.sandboxes.console import CommandRefused, EndReason, parse_command, reads_stdin, run_kubectl
from tutor.sandboxes.live import sse
from tutor.sandboxes.models import ConsoleCommand

LINE_KEPT = ConsoleCommand._meta.get_field("line").max_length


@login_required
@require_POST
def console_run(request, name: str):
    sandbox = sandbox_of(owner=request.user, name=name)
    if sandbox is None:
        raise Http404("no such sandbox")
    idle.sandbox_seen(sandbox=sandbox)  # the command's kubectl would bring it back too, a moment later
    line = request.POST.get("command", "").strip()
    stdin = request.POST.get("stdin", "")
    record = {
        "sandbox": sandbox,
        "user": request.user,
        "line": line[: ConsoleCommand._meta.get_field("line").max_length],
    }
    try:
        argv = parse_command(line, stdin_available=bool(stdin.strip()))
    except CommandRefused as refused:
        command = ConsoleCommand.objects.create(
            **record, ended=ConsoleCommand.REFUSED, output=str(refused), finished_at=timezone.now()
        )
        return render(request, "sandboxes/_console_run.html", {"command": command, "sandbox": sandbox})
    command = ConsoleCommand.objects.create(**record, argv=argv, stdin=stdin if reads_stdin(argv) else "")
    return render(request, "sandboxes/_console_run.html", {"command": command, "sandbox": sandbox})


def _claim(user, name: str, command_id: int) -> tuple[ConsoleCommand | None, bool]:
    """The learner's command, and whether this stream runs it (the first to ask does; a
    reconnecting stream replays what was kept)."""
    command = (
        ConsoleCommand.objects.select_related("sandbox")
        .filter(pk=command_id, sandbox__owner=user, sandbox__name=name)
        .first()
    )
    if command is None:
        return None, False
    claimed = ConsoleCommand.objects.filter(pk=command.pk, started_at__isnull=True).update(started_at=timezone.now())
    return command, claimed == 1


def _finish(command: ConsoleCommand, *, output: str, exit_code: int | None, ended: str) -> None:
    ConsoleCommand.objects.filter(pk=command.pk).update(
        output=output[: ConsoleCommand.OUTPUT_KEPT], exit_code=exit_code, ended=ended, finished_at=timezone.now()
    )


def _server(request) -> str:
    """The address this web process serves on, as kubectl running beside it reaches it: always
    plain http, since TLS ends at the proxy in front (a request that came in over https, as
    `X-Forwarded-Proto` says, still reached this process over http)."""
    host, port = request.META.get("SERVER_NAME", "127.0.0.1"), request.META.get("SERVER_PORT", "80")
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


def _end_html(exit_code: int | None, ended: str) -> str:
    return render_to_string("sandboxes/_console_end.html", {"exit_code": exit_code, "ended": ended})


async def console_stream(request, name: str, command_id: int):
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=403)
    command, fresh = await sync_to_async(_claim)(user, name, command_id)
    if command is None:
        raise Http404("no such command")
    if not fresh:
        return _replay(command)
    folder = settings.VAR_DIR / "console" / command.sandbox.uid.hex
    kubeconfig = await sync_to_async(console_kubeconfig)(
        sandbox=command.sandbox, server=_server(request), folder=folder
    )

    async def events():
        kept: list[str] = []
        exit_code, ended = None, ConsoleCommand.CANCELLED
        run = run_kubectl(command.argv, kubeconfig=kubeconfig, home=folder / "home", stdin=command.stdin or None)
        try:
            yield "retry: 600000\n\n"  # a dropped stream is not run again: do not hurry back
            async with run:
                async for chunk in run:
                    if chunk.final:
                        exit_code, ended = chunk.exit_code, chunk.reason.value
                        break
                    kept.append(chunk.text)
                    yield sse("out", f'<span class="{chunk.stream}">{escape(chunk.text)}</span>')
            yield sse("end", _end_html(exit_code, ended))
        finally:
            await sync_to_async(_finish)(command, output="".join(kept), exit_code=exit_code, ended=ended)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _replay(command: ConsoleCommand) -> StreamingHttpResponse:
    """A command that ran (or runs) already: what was kept of it, then its end."""

    def events():
        yield sse("out", f'<span class="stdout">{escape(command.output)}</span>')
        yield sse("end", _end_html(command.exit_code, command.ended or EndReason.CANCELLED.value))

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response
