"""The engine of the sandbox page's console: the real kubectl, run against the learner's own sandbox.

Two halves. `parse_command` turns the line the learner typed into kubectl's argv, or refuses it
with a message that says what was refused, why, and what to do instead. It reads the line as
kubectl itself would (cobra finds the command, pflag reads the flags, in every spelling:
`--flag=value`, `--flag value`, `-fVALUE`, `-f=VALUE`, `-abc` clusters, flags before the command),
using a table of kubectl 1.37's own flags, and allows only commands that make sense against a
sandbox and flags that keep kubectl inside it: no other server, credentials or kubeconfig, no files
of the server's, no plugins, no editor, no local programs.

`run_kubectl` runs the accepted argv with `asyncio.create_subprocess_exec` (never a shell), in an
environment of its own (the console's kubeconfig, a HOME per sandbox so the discovery cache is
reused, a PATH of one empty directory so no plugin can ever be found), and yields what kubectl
prints as it arrives. A time limit, an output limit and the consumer going away (a closed tab
cancels the task) all stop kubectl: SIGTERM, then SIGKILL after two seconds.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import difflib
import os
import re
import shlex
import shutil
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

MAX_LINE_CHARS = 2000
DEFAULT_TIMEOUT = 30.0
FOLLOW_TIMEOUT = 600.0
DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024
KILL_AFTER = 2.0
READ_SIZE = 64 * 1024


class CommandRefused(Exception):
    """A command line the console will not run; `message` is written for the learner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class KubectlNotFound(Exception):
    """No kubectl binary beside the running Python nor on PATH."""


# ---------------------------------------------------------------------------------------------
# kubectl's commands and flags
#
# The flags of kubectl 1.37.1, per command, as `kubectl <command> --help` and `kubectl options`
# list them (tests/kubectl/test_console_runner.py checks this table against the binary). A word is
# `name` (a boolean), `name=` (takes a value), `name?` (a value only as `--name=value`: pflag's
# NoOptDefVal), with `x:` in front when it has a one-letter form. `@print`, `@files` and `@create`
# stand for groups most commands share. Only the commands the console allows are here.

_GROUPS = {
    "@print": "allow-missing-template-keys o:output= show-managed-fields template=",
    "@files": "f:filename= k:kustomize= R:recursive",
    "@create": "dry-run? field-manager= save-config validate?",
}

_FLAG_TABLE = {
    "": (
        "as= as-group= as-uid= as-user-extra= cache-dir= certificate-authority= client-certificate= "
        "client-key= cluster= context= disable-compression insecure-skip-tls-verify kubeconfig= kuberc= "
        "log-flush-frequency= match-server-version n:namespace= password= profile= profile-output= "
        "proxy-url= request-timeout= s:server= tls-server-name= token= user= username= v:v= vmodule= "
        "warnings-as-errors"
    ),
    "create": "@print @files @create edit raw= l:selector= windows-line-endings",
    "create clusterrole": "@print @create aggregation-rule= non-resource-url= resource= resource-name= verb=",
    "create clusterrolebinding": "@print @create clusterrole= group= serviceaccount= user=",
    "create configmap": "@print @create append-hash from-env-file= from-file= from-literal=",
    "create cronjob": "@print @create image= restart= schedule=",
    "create deployment": "@print @create image= port= r:replicas=",
    "create ingress": "@print @create annotation= class= default-backend= rule=",
    "create job": "@print @create from= image=",
    "create namespace": "@print @create",
    "create poddisruptionbudget": "@print @create max-unavailable= min-available= selector=",
    "create priorityclass": "@print @create description= global-default preemption-policy= value=",
    "create quota": "@print @create hard= scopes=",
    "create role": "@print @create resource= resource-name= verb=",
    "create rolebinding": "@print @create clusterrole= group= role= serviceaccount= user=",
    "create secret": "",
    "create secret docker-registry": (
        "@print @create append-hash docker-email= docker-password= docker-server= docker-username= from-file="
    ),
    "create secret generic": "@print @create append-hash from-env-file= from-file= from-literal= type=",
    "create service": "",
    "create service clusterip": "@print @create clusterip= tcp=",
    "create service externalname": "@print @create external-name= tcp=",
    "create service loadbalancer": "@print @create tcp=",
    "create service nodeport": "@print @create node-port= tcp=",
    "create serviceaccount": "@print @create",
    "create token": "@print audience= bound-object-kind= bound-object-name= bound-object-uid= duration=",
    "expose": (
        "@print @files cluster-ip= dry-run? external-ip= field-manager= l:labels= load-balancer-ip= name= "
        "override-type= overrides= port= protocol= save-config selector= session-affinity= target-port= "
        "type="
    ),
    "run": (
        "@print annotations= attach cascade? command detach-keys= dry-run? env= expose field-manager= "
        "force grace-period= image= image-pull-policy= k:kustomize= l:labels= leave-stdin-open "
        "override-type= overrides= pod-running-timeout= port= privileged q:quiet R:recursive restart= rm "
        "save-config i:stdin timeout= t:tty wait"
    ),
    "set": "",
    "set env": (
        "@print @files all c:containers= dry-run? e:env= field-manager= from= keys= list local overwrite "
        "prefix= resolve l:selector="
    ),
    "set image": "@print @files all dry-run? field-manager= local l:selector=",
    "set resources": "@print @files all c:containers= dry-run? field-manager= limits= local requests= l:selector=",
    "set selector": "@print all dry-run? field-manager= f:filename= local R:recursive resource-version=",
    "set serviceaccount": "@print @files all dry-run? field-manager= local",
    "set subject": "@print @files all dry-run? field-manager= group= local l:selector= serviceaccount= user=",
    "explain": "api-version= max-depth= o:output= R:recursive",
    "get": (
        "@print @files A:all-namespaces chunk-size= field-selector= ignore-not-found L:label-columns= "
        "no-headers output-watch-events raw= l:selector= server-print show-kind show-labels sort-by= "
        "subresource= w:watch watch-only"
    ),
    "delete": (
        "@files all A:all-namespaces cascade? dry-run? field-selector= force grace-period= "
        "ignore-not-found i:interactive now o:output= raw= l:selector= timeout= wait"
    ),
    "rollout": "",
    "rollout history": "@print @files revision= l:selector=",
    "rollout pause": "@print @files field-manager= l:selector=",
    "rollout restart": "@print @files field-manager= l:selector=",
    "rollout resume": "@print @files field-manager= l:selector=",
    "rollout status": "@files revision= l:selector= timeout= w:watch",
    "rollout undo": "@print @files dry-run? l:selector= to-revision=",
    "scale": "@print @files all current-replicas= dry-run? replicas= resource-version= l:selector= timeout=",
    "autoscale": "@print @files cpu= dry-run? field-manager= max= memory= min= name= save-config",
    "cluster-info": "",
    "top": "",
    "top node": "no-headers l:selector= show-capacity show-swap sort-by= use-protocol-buffers",
    "top pod": (
        "A:all-namespaces containers field-selector= no-headers l:selector= show-swap sort-by= sum use-protocol-buffers"
    ),
    "cordon": "dry-run? l:selector=",
    "uncordon": "dry-run? l:selector=",
    "drain": (
        "chunk-size= delete-emptydir-data disable-eviction dry-run? force grace-period= ignore-daemonsets "
        "pod-selector= l:selector= skip-wait-for-delete-timeout= timeout="
    ),
    "taint": "@print all dry-run? field-manager= overwrite l:selector= validate?",
    "describe": "@files A:all-namespaces chunk-size= l:selector= show-events",
    "logs": (
        "all-containers all-pods c:container= f:follow ignore-errors insecure-skip-tls-verify-backend "
        "limit-bytes= max-log-requests= pod-running-timeout= prefix p:previous l:selector= since= "
        "since-time= tail= timestamps"
    ),
    "auth": "",
    "auth can-i": "A:all-namespaces list no-headers q:quiet subresource=",
    "events": "@print A:all-namespaces chunk-size= for= no-headers types= w:watch",
    "apply": (
        "@print @files all cascade? dry-run? field-manager= force force-conflicts grace-period= "
        "openapi-patch overwrite prune prune-allowlist= l:selector= server-side subresource= timeout= "
        "validate? wait"
    ),
    "apply set-last-applied": "@print create-annotation dry-run? f:filename=",
    "apply view-last-applied": "@files all o:output= l:selector=",
    "patch": "@print @files dry-run? field-manager= local p:patch= patch-file= subresource= type=",
    "replace": "@print @files @create cascade? force grace-period= raw= subresource= timeout= wait",
    "wait": "@print all A:all-namespaces field-selector= f:filename= for= local R:recursive l:selector= timeout=",
    "label": (
        "@print @files all A:all-namespaces dry-run? field-manager= field-selector= list local overwrite "
        "resource-version= l:selector="
    ),
    "annotate": (
        "@print @files all A:all-namespaces dry-run? field-manager= field-selector= list local overwrite "
        "resource-version= l:selector="
    ),
    "api-resources": (
        "api-group= cached categories= namespaced no-headers o:output= show-managed-fields sort-by= verbs="
    ),
    "api-versions": "",
    "version": "client o:output=",
    # cobra's own commands: kubectl help [command], and the list of global flags.
    "help": "",
    "options": "",
}

# Deprecated flags kubectl still accepts but no longer lists in --help.
_HIDDEN_FLAGS = {"autoscale": "cpu-percent=", "run": "f:filename="}

# Aliases cobra accepts for subcommands (kubectl has none for its top-level commands).
_ALIASES = {
    "create configmap": "cm",
    "create cronjob": "cj",
    "create deployment": "deploy",
    "create ingress": "ing",
    "create namespace": "ns",
    "create poddisruptionbudget": "pdb",
    "create priorityclass": "pc",
    "create quota": "resourcequota",
    "create service": "svc",
    "create serviceaccount": "sa",
    "set serviceaccount": "sa",
    "top node": "nodes no",
    "top pod": "pods po",
}

# Commands with subcommands where any other word is not a command: for the top level and `create`,
# kubectl would go looking for a plugin (`kubectl-foo`, `kubectl-create-foo`) on PATH.
_GROUPS_OF_COMMANDS = ("", "create", "create secret", "create service", "rollout", "set", "top", "auth")

Arity = Literal["bool", "value", "optional"]


@dataclass(frozen=True)
class _Flag:
    name: str
    short: str | None
    arity: Arity


@dataclass(frozen=True)
class _FlagSet:
    by_name: dict[str, _Flag]
    by_short: dict[str, _Flag]

    def long(self, name: str) -> _Flag | None:
        # kubectl normalizes `_` to `-` in flag names (with a warning), so --from_file is --from-file.
        return self.by_name.get(name.replace("_", "-"))


def _parse_flag_words(words: str) -> list[_Flag]:
    flags = []
    for word in words.split():
        if word.startswith("@"):
            flags += _parse_flag_words(_GROUPS[word])
            continue
        short, _, name = word.rpartition(":")
        arity: Arity = "bool"
        if name.endswith("="):
            name, arity = name[:-1], "value"
        elif name.endswith("?"):
            name, arity = name[:-1], "optional"
        flags.append(_Flag(name=name, short=short or None, arity=arity))
    return flags


def _flag_sets() -> dict[tuple[str, ...], _FlagSet]:
    global_flags = [*_parse_flag_words(_FLAG_TABLE[""]), _Flag("help", "h", "bool")]
    sets = {}
    for command, words in _FLAG_TABLE.items():
        flags = _parse_flag_words(words) + _parse_flag_words(_HIDDEN_FLAGS.get(command, ""))
        every = global_flags if command == "" else [*global_flags, *flags]
        sets[tuple(command.split())] = _FlagSet(
            by_name={flag.name: flag for flag in every},
            by_short={flag.short: flag for flag in every if flag.short},
        )
    return sets


_FLAGS = _flag_sets()


def _children() -> dict[tuple[str, ...], dict[str, str]]:
    children: dict[tuple[str, ...], dict[str, str]] = {}
    for command in [*_FLAG_TABLE, *_REFUSED_COMMANDS, *_NOT_SERVED]:
        path = tuple(command.split())
        if not path:
            continue
        names = children.setdefault(path[:-1], {})
        names[path[-1]] = path[-1]
        for alias in _ALIASES.get(command, "").split():
            names[alias] = path[-1]
    return children


# ---------------------------------------------------------------------------------------------
# What the console refuses, and what to say


def _refused(command: str, why: str, instead: str) -> str:
    return f"`kubectl {command}` is not available in this console: {why} {instead}".rstrip()


_REFUSED_COMMANDS = {
    "config": _refused(
        "config",
        "it reads and changes kubeconfig files, and this console's connection to your sandbox is fixed.",
        "To work in another namespace, add -n <namespace> to the command (or -A for every namespace).",
    ),
    "kuberc": _refused(
        "kuberc", "it changes kubectl's preference files on the server.", "Type the flags you want in each command."
    ),
    "plugin": _refused("plugin", "kubectl plugins are programs on the server, and none can run here.", ""),
    "proxy": _refused(
        "proxy",
        "it starts a server that runs until it is stopped.",
        "To see what the API returns, use kubectl get <kind> <name> -o yaml.",
    ),
    "debug": _refused(
        "debug",
        "it starts debugging containers and attaches to them interactively.",
        "Use kubectl describe, kubectl logs and kubectl events to find out what is wrong.",
    ),
    "edit": _refused(
        "edit",
        "it opens a text editor on the server.",
        "Change the manifest in the editor and run kubectl apply -f -, or use kubectl patch, set, scale or label.",
    ),
    "completion": _refused("completion", "it prints code for your own shell, and there is no shell here.", ""),
    "kustomize": _refused(
        "kustomize",
        "it reads a kustomization folder from the server's disk.",
        "Write the manifests in the editor and run kubectl apply -f -.",
    ),
    "alpha": _refused("alpha", "alpha commands are experimental and not part of the lessons.", ""),
    "certificate": _refused(
        "certificate", "it approves certificate signing requests, and a sandbox has none to approve.", ""
    ),
    "diff": _refused(
        "diff",
        "it runs an external diff program on the server.",
        "To see what apply would change, run kubectl apply -f - --dry-run=server -o yaml.",
    ),
    "cluster-info dump": _refused(
        "cluster-info dump",
        "it writes a dump of the whole cluster, too large for the console.",
        "Use kubectl get, kubectl describe and kubectl events for what you need.",
    ),
    "apply edit-last-applied": _refused(
        "apply edit-last-applied",
        "it opens a text editor on the server.",
        "Change the manifest in the editor and run kubectl apply -f -.",
    ),
    "create secret tls": _refused(
        "create secret tls",
        "it reads the certificate and key from files on the server's disk.",
        "Write a Secret of type kubernetes.io/tls in the editor (tls.crt and tls.key, base64) and apply it.",
    ),
    "auth reconcile": _refused(
        "auth reconcile", "it is an administrator's tool.", "kubectl auth can-i <verb> <resource> says what you may do."
    ),
    "auth whoami": _refused(
        "auth whoami",
        "the sandbox does not serve it.",
        "You are the sandbox's owner; kubectl auth can-i <verb> <resource> says what you may do.",
    ),
}

_NOT_SERVED = {
    "exec": "open a stream into a running container",
    "attach": "attach to a running container",
    "port-forward": "forward a port to a pod",
    "cp": "copy files into or out of a container",
}


def _not_served(command: str) -> str:
    return (
        f"`kubectl {command}` is not served yet: the sandbox cannot {_NOT_SERVED[command]} for now. "
        "kubectl logs <pod> shows what a container prints, and kubectl describe pod <pod> shows its state."
    )


_CHILDREN = _children()

_CONNECTION_FLAGS = {
    "kubeconfig",
    "context",
    "cluster",
    "user",
    "server",
    "token",
    "username",
    "password",
    "certificate-authority",
    "client-certificate",
    "client-key",
    "insecure-skip-tls-verify",
    "tls-server-name",
    "proxy-url",
    "kuberc",
}
_IMPERSONATION_FLAGS = {"as", "as-group", "as-uid", "as-user-extra"}
_SERVER_FILE_FLAGS = {"cache-dir", "profile", "profile-output"}
_LOCAL_FILE_FLAGS = {"kustomize", "from-file", "from-env-file", "patch-file"}
_FILE_OUTPUTS = {"go-template-file", "templatefile", "jsonpath-file", "custom-columns-file"}
_SHELL_OPERATORS = {
    "|": "pipes (|)",
    ";": "several commands (;)",
    "&": "&& and background jobs (&)",
    ">": "redirection (>)",
    "<": "redirection (<)",
    "`": "command substitution (`…`)",
    "$(": "command substitution ($(…))",
}
# Flags that need a terminal or an editor (refused when on).
_INTERACTIVE_FLAGS = {
    ("run", "stdin"),
    ("run", "tty"),
    ("run", "attach"),
    ("create", "edit"),
    ("delete", "interactive"),
}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # what pflag reads as true


# ---------------------------------------------------------------------------------------------
# Reading a command line as kubectl does


@dataclass
class _Scan:
    path: tuple[str, ...] = ()
    unknown: str | None = None  # a word where a command was expected
    misplaced: str | None = None  # a command's own flag written before the command
    flags: list[tuple[_Flag, str | None, str]] = field(default_factory=list)  # (flag, value, as typed)
    positionals: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[str | None]:
        return [value for flag, value, _ in self.flags if flag.name == name]

    def is_on(self, name: str, *, default: bool = False) -> bool:
        """A boolean flag's last setting (pflag: the last one wins)."""
        values = self.values(name)
        if not values:
            return default
        return values[-1] is None or values[-1] in _TRUE


def _words(args: Sequence[str], flags: _FlagSet) -> list[int]:
    """Where the non-flag words are, skipping flag values: cobra's stripFlags, which finds commands.
    A flag cobra does not know (for this command) is taken to have a value, as cobra takes it."""
    found, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("--") and "=" not in arg:
            flag = flags.long(arg[2:])
            i += 1 if flag and flag.arity != "value" else 2
            continue
        if arg.startswith("-") and "=" not in arg and len(arg) == 2:
            flag = flags.by_short.get(arg[1])
            i += 1 if flag and flag.arity != "value" else 2
            continue
        if arg and not arg.startswith("-"):
            found.append(i)
        i += 1
    return found


def _scan(argv: Sequence[str]) -> _Scan:
    scan = _Scan()
    args = list(argv)
    # The command: cobra's Find, one level at a time.
    while scan.path in _CHILDREN:
        words = _words(args, _FLAGS.get(scan.path, _FLAGS[()]))
        if not words:
            break
        word = args[words[0]]
        child = _CHILDREN[scan.path].get(word)
        if child is None:
            if " ".join(scan.path) in _GROUPS_OF_COMMANDS:
                scan.unknown = word
                scan.misplaced = _misplaced_flag(args[: words[0]], _FLAGS.get(scan.path, _FLAGS[()]))
            break
        scan.path += (child,)
        del args[words[0]]
    # The flags: pflag, with the command's flags and the global ones.
    flags = _FLAGS.get(scan.path, _FLAGS[()])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            scan.positionals += args[i:]
            break
        if arg.startswith("--"):
            name, equals, value = arg[2:].partition("=")
            flag = flags.long(name) or _Flag(name.replace("_", "-"), None, "bool")  # unknown: kubectl refuses it
            if not equals:
                value = None
                if flag.arity == "value" and i < len(args):
                    value, i = args[i], i + 1
            scan.flags.append((flag, value, arg))
            continue
        if len(arg) < 2 or not arg.startswith("-") or arg.startswith("-test."):
            scan.positionals.append(arg)
            continue
        letters = arg[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            flag = flags.by_short.get(letter) or _Flag(f"-{letter}", letter, "bool")  # unknown: kubectl refuses it
            value = None
            if letters.startswith("="):
                value, letters = letters[1:], ""
            elif flag.arity == "value":
                if letters:
                    value, letters = letters, ""
                elif i < len(args):
                    value, i = args[i], i + 1
            scan.flags.append((flag, value, f"-{letter}"))
    return scan


def _misplaced_flag(args: Sequence[str], flags: _FlagSet) -> str | None:
    """The first flag before the command that is not kubectl's (cobra then took the command for its value)."""
    for arg in args:
        if arg.startswith("--") and arg != "--" and not flags.long(arg[2:].split("=", 1)[0]):
            return arg.split("=", 1)[0]
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 1 and arg[1] not in flags.by_short:
            return arg[:2]
    return None


def _unknown_command(scan: _Scan) -> str:
    where = " ".join(scan.path)
    word = scan.unknown or ""
    if scan.misplaced:
        return (
            f"{scan.misplaced} belongs after the command (for example: kubectl get pods {scan.misplaced}). "
            "Before the command kubectl takes only its global flags, such as -n <namespace>; "
            "kubectl options lists them."
        )
    known = sorted(name for name, canonical in _CHILDREN[scan.path].items() if name == canonical)
    allowed = [name for name in known if f"{where} {name}".strip() not in _REFUSED_COMMANDS and name not in _NOT_SERVED]
    close = difflib.get_close_matches(word, allowed, n=1, cutoff=0.75)
    hint = f" Did you mean `kubectl {where} {close[0]}`?".replace("  ", " ") if close else ""
    if not where:
        return (
            f"`{word}` is not a kubectl command. This console runs kubectl only (kubectl would look for a "
            f"plugin program named kubectl-{word}, and plugins cannot run here).{hint} "
            "`kubectl help` lists the commands."
        )
    return f"`kubectl {where} {word}` is not a command. `kubectl {where}` has: {', '.join(allowed)}.{hint}"


def _shell_syntax(line: str) -> str | None:
    """The first piece of shell syntax outside quotes (or inside double quotes, for substitutions)."""
    quote = ""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
            elif quote == '"' and (char == "`" or line.startswith("$(", index)):
                return "`" if char == "`" else "$("
        elif char in "'\"":
            quote = char
        elif char in "|;&<>`":
            return char
        elif char in "\r\n":  # a line break a shell would read as the end of a command
            return "\n"
        elif line.startswith("$(", index):
            return "$("
    return None


def parse_command(line: str, *, stdin_available: bool) -> list[str]:
    """The argv for kubectl (without `kubectl` itself) of the line the learner typed, or
    CommandRefused. `stdin_available`: the editor's text can be kubectl's stdin (`-f -`)."""
    if len(line) > MAX_LINE_CHARS:
        raise CommandRefused(
            f"This command is {len(line):,} characters long; the console takes commands of up to "
            f"{MAX_LINE_CHARS:,}. Put long manifests in the editor and run kubectl apply -f -."
        )
    if any((ord(char) < 32 and char not in "\t\n\r") or ord(char) == 127 for char in line):
        raise CommandRefused("The command contains control characters; type it again as plain text.")
    line = line.replace("\\\r\n", " ").replace("\\\n", " ").strip()
    if not line.strip():
        raise CommandRefused("Type a kubectl command, for example: kubectl get pods")
    operator = _shell_syntax(line)
    if operator == "\n":
        raise CommandRefused(
            "The command is on several lines, and this console runs one kubectl command at a time, without "
            "a shell: put it on one line (or end a line with \\ to continue it on the next)."
        )
    if operator:
        raise CommandRefused(
            f"`{operator}` is shell syntax, and this console runs kubectl alone, without a shell: "
            f"{_SHELL_OPERATORS[operator]} are not available. Run one kubectl command at a time; to narrow "
            "what kubectl prints, use -l <label selector>, --field-selector or -o jsonpath=…; put characters "
            "like | or > in quotes when they belong to a value."
        )
    try:
        tokens = shlex.split(line, comments=False, posix=True)
    except ValueError:
        raise CommandRefused(
            "A quote is not closed: every ' or \" needs its partner (a quote inside a value can be escaped "
            "with a backslash)."
        ) from None
    if tokens and tokens[0] == "$":
        tokens = tokens[1:]
    if tokens and tokens[0] in ("kubectl", "k"):
        tokens = tokens[1:]
    if not tokens:
        raise CommandRefused(
            "Type what kubectl should do after the word kubectl, for example: kubectl get pods "
            "(kubectl help lists the commands)."
        )
    _check(_scan(tokens), stdin_available=stdin_available)
    return tokens


def _check(scan: _Scan, *, stdin_available: bool) -> None:
    if scan.unknown is not None:
        raise CommandRefused(_unknown_command(scan))
    if scan.path and scan.path[0] in _NOT_SERVED:
        raise CommandRefused(_not_served(scan.path[0]))
    for end in range(1, len(scan.path) + 1):
        if " ".join(scan.path[:end]) in _REFUSED_COMMANDS:
            raise CommandRefused(_REFUSED_COMMANDS[" ".join(scan.path[:end])])
    command = " ".join(scan.path)
    for flag, value, typed in scan.flags:
        _check_flag(command, flag, value, typed, stdin_available=stdin_available)


def _check_flag(command: str, flag: _Flag, value: str | None, typed: str, *, stdin_available: bool) -> None:
    written = typed.split("=", 1)[0]  # as the learner wrote it: --namespace, or -n
    name = flag.name
    if name in _CONNECTION_FLAGS:
        raise CommandRefused(
            f"{written} is not available in this console: it changes where kubectl connects or who it "
            "connects as, and the console always talks to your own sandbox as you. Leave it out."
        )
    if name in _IMPERSONATION_FLAGS:
        raise CommandRefused(
            f"{written} is not available in this console: it makes kubectl act as another user or group, "
            "and the console always acts as you. kubectl auth can-i <verb> <resource> says what you may do."
        )
    if name in _SERVER_FILE_FLAGS:
        raise CommandRefused(
            f"{written} is not available in this console: it makes kubectl write files on the server. Leave it out."
        )
    if name in _LOCAL_FILE_FLAGS:
        instead = (
            "Use --from-literal=key=value, or write the manifest in the editor and run kubectl apply -f -."
            if name.startswith("from-")
            else "Write the manifest (or the patch, with -p '…') in the editor and use -f -."
        )
        raise CommandRefused(
            f"{written} is not available in this console: it reads files from the server's disk, not "
            f"from your computer. {instead}"
        )
    if name == "filename":
        if value is None:
            raise CommandRefused(f"{written} needs a value: here it is -f - , which reads the manifest in the editor.")
        if value != "-":
            raise CommandRefused(
                f"`{written} {value}` would make kubectl read that file (or URL) on the server, not on your computer, "
                "so the console takes -f only as -f - , which reads the manifest in the editor. Paste the "
                "manifest into the editor and run the command with -f - ."
            )
        if not stdin_available:
            raise CommandRefused(
                "-f - reads the manifest from the editor, and there is none to read here. Write the "
                "manifest in the editor first, then run the command with -f -."
            )
    if name == "output" and value is not None:
        output = value.split("=", 1)[0].strip().lower()
        if output in _FILE_OUTPUTS:
            inline = output.removesuffix("-file").replace("templatefile", "go-template")
            raise CommandRefused(
                f"-o {output} is not available in this console: it reads a template file from the server's "
                f"disk. Write the template in the command instead: -o {inline}='…'."
            )
    if (command, name) in _INTERACTIVE_FLAGS and (value is None or value in _TRUE):
        if command == "run":
            raise CommandRefused(
                f"{written} is not served yet: kubectl run would attach to the new container, which the "
                "console cannot do for now. Run it without -i, -t and --attach; then kubectl logs <name> "
                "shows what it prints."
            )
        if command == "create":
            raise CommandRefused(
                "--edit is not available in this console: it opens a text editor on the server. Write the "
                "manifest in the editor and run kubectl create -f - (or apply -f -)."
            )
        raise CommandRefused(
            f"{written} is not available in this console: it asks for a confirmation the console cannot "
            "answer. Leave it out (add --dry-run=client first to see what would be deleted)."
        )


def reads_stdin(argv: Sequence[str]) -> bool:
    """Whether kubectl will read the editor's text: -f - in any spelling (-f-, -Rf -, --filename=-)."""
    return any(flag.name == "filename" and value == "-" for flag, value, _ in _scan(argv).flags)


def command_timeout(argv: Sequence[str]) -> float:
    """The time limit for an argv: FOLLOW_TIMEOUT for commands that follow or wait by nature
    (-w/--watch, --watch-only, logs -f, rollout status, wait, events -w, and delete and drain,
    which wait for pods to go), DEFAULT_TIMEOUT for the rest."""
    return FOLLOW_TIMEOUT if is_following(argv) else DEFAULT_TIMEOUT


def is_following(argv: Sequence[str]) -> bool:
    scan = _scan(argv)
    match scan.path:
        case ("get", *_):
            return scan.is_on("watch") or scan.is_on("watch-only")
        case ("events",):
            return scan.is_on("watch")
        case ("logs",):
            return scan.is_on("follow")
        case ("rollout", "status"):
            return scan.is_on("watch", default=True)
        case ("wait",) | ("drain",):
            return True
        case ("delete",):
            return scan.is_on("wait", default=True)
    return False


# ---------------------------------------------------------------------------------------------
# Running kubectl


def kubectl_path() -> Path:
    """The kubectl installed beside the running Python (requirements.txt puts it in .venv/bin),
    else the one on PATH."""
    beside = Path(sys.executable).with_name("kubectl")
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("kubectl")
    if found:
        return Path(found)
    raise KubectlNotFound(f"kubectl is not installed: pip install -r requirements.txt puts it beside {sys.executable}")


def kubectl_env(*, kubeconfig: Path, home: Path) -> dict[str, str]:
    """The whole environment kubectl runs with: nothing inherited. PATH is one empty directory of
    the console's own, so kubectl finds no plugin and no other program."""
    return {
        "KUBECONFIG": str(kubeconfig),
        "HOME": str(home),
        "PATH": str(empty_path_dir(home)),
        "LANG": "C.UTF-8",
        # No preference file (aliases, default flags) is read, wherever one may appear.
        "KUBERC": "off",
    }


def empty_path_dir(home: Path) -> Path:
    """`home`/empty-path, made if missing (read-only), and refused if anything ever appears in it."""
    path = home / "empty-path"
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o555)
    if any(path.iterdir()):
        raise RuntimeError(f"{path} must stay empty: it is kubectl's whole PATH")
    return path


class EndReason(StrEnum):
    EXIT = "exit"  # kubectl ended by itself
    TIMEOUT = "timeout"  # the time limit passed
    OUTPUT_LIMIT = "output-limit"  # it printed more than the limit
    CANCELLED = "cancelled"  # the consumer stopped iterating or its task was cancelled


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of what a kubectl run printed, or the end of it.

    stream: "stdout" or "stderr" (kubectl's, as it arrived), "notice" (the console's own words,
    e.g. "output stopped at 1024 KB"), or "end" (the last chunk: exit_code and reason are set)."""

    stream: Literal["stdout", "stderr", "notice", "end"]
    text: str = ""
    exit_code: int | None = None
    reason: EndReason | None = None

    @property
    def final(self) -> bool:
        return self.stream == "end"


class KubectlRun:
    """One run of kubectl: iterate it (once) for Chunks. `pid` once started; `end` is the final
    chunk (also when the run was cancelled and nobody was left to receive it).

    Leaving the iteration early (break, a cancelled task, aclose(), leaving `async with`) stops
    kubectl: SIGTERM, then SIGKILL after KILL_AFTER seconds."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        kubeconfig: Path,
        home: Path,
        stdin: str | None = None,
        timeout: float | None = None,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
        kubectl: Path | None = None,
    ):
        self.argv = list(argv)
        self.kubeconfig = kubeconfig
        self.home = home
        self.stdin = stdin
        self.timeout = command_timeout(argv) if timeout is None else timeout
        self.max_output_bytes = max_output_bytes
        self.kubectl = kubectl
        self.pid: int | None = None
        self.output_bytes = 0
        self.end: Chunk | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._iterated = False
        self._discarding = False

    def __aiter__(self) -> AsyncIterator[Chunk]:
        if self._iterated:
            raise RuntimeError("a KubectlRun can be iterated once")
        self._iterated = True
        return self._chunks()

    async def __aenter__(self) -> KubectlRun:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop kubectl if it still runs; the run cannot be iterated afterwards."""
        self._iterated = True
        if self._process is not None and self._process.returncode is None:
            await self._stop(EndReason.CANCELLED)

    async def _chunks(self) -> AsyncIterator[Chunk]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        kubectl = self.kubectl or kubectl_path()
        self.home.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            str(kubectl),
            *self.argv,
            stdin=asyncio.subprocess.PIPE if self.stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=kubectl_env(kubeconfig=self.kubeconfig, home=self.home),
            cwd=self.home,
        )
        self._process, self.pid = process, process.pid
        queue: asyncio.Queue[tuple[Literal["stdout", "stderr"], bytes]] = asyncio.Queue(maxsize=8)
        pumps = [
            asyncio.create_task(self._pump("stdout", process.stdout, queue)),
            asyncio.create_task(self._pump("stderr", process.stderr, queue)),
        ]
        feeder = asyncio.create_task(_feed(process.stdin, self.stdin.encode())) if self.stdin is not None else None
        secrets = _kubeconfig_secrets(self.kubeconfig)
        texts = {name: _StreamText(secrets) for name in ("stdout", "stderr")}
        reason: EndReason | None = None
        try:
            open_streams = 2
            while open_streams:
                try:
                    async with asyncio.timeout_at(deadline):
                        name, data = await queue.get()
                except TimeoutError:
                    reason = EndReason.TIMEOUT
                    break
                if not data:
                    open_streams -= 1
                    continue
                room = self.max_output_bytes - self.output_bytes
                over = len(data) > room
                data = data[:room] if over else data
                self.output_bytes += len(data)
                if text := texts[name].feed(data):
                    yield Chunk(name, text)
                if over:
                    reason = EndReason.OUTPUT_LIMIT
                    break
            for name, stream_text in texts.items():
                if rest := stream_text.feed(b"", final=True):
                    yield Chunk(name, rest)
            if reason is None:
                try:
                    async with asyncio.timeout_at(deadline):
                        await process.wait()
                    reason = EndReason.EXIT
                except TimeoutError:
                    reason = EndReason.TIMEOUT
            await self._stop(reason)
            if reason is EndReason.TIMEOUT:
                yield Chunk(
                    "notice", f"kubectl was stopped after {_seconds(self.timeout)}, the time limit for this command."
                )
            elif reason is EndReason.OUTPUT_LIMIT:
                yield Chunk(
                    "notice",
                    f"output stopped at {self.max_output_bytes // 1024} KB: kubectl was stopped. Ask for less "
                    "(a name, -l <selector>, --tail=<lines>).",
                )
            assert self.end is not None
            yield self.end
        finally:
            # Also on GeneratorExit (the consumer left) and CancelledError (its task was cancelled).
            if process.returncode is None or self.end is None:
                await self._stop(EndReason.CANCELLED)
            await self._finish(queue, pumps, feeder)

    async def _pump(self, name: str, stream: asyncio.StreamReader | None, queue: asyncio.Queue) -> None:
        """Read a stream to its end, handing each piece to the loop, or dropping it once the run is over."""
        assert stream is not None
        while data := await stream.read(READ_SIZE):
            if not self._discarding:
                await queue.put((name, data))
        if not self._discarding:
            await queue.put((name, b""))

    async def _finish(self, queue: asyncio.Queue, pumps: list[asyncio.Task], feeder: asyncio.Task | None) -> None:
        """kubectl has ended: read its pipes to their end (so they close) without keeping anything."""
        self._discarding = True
        while not queue.empty():
            queue.get_nowait()  # unblocks a pump waiting for room
        _, pending = await asyncio.wait(pumps, timeout=1.0)
        for task in [*pending, *([feeder] if feeder else [])]:
            task.cancel()
        await asyncio.gather(*pumps, *([feeder] if feeder else []), return_exceptions=True)

    async def _stop(self, reason: EndReason) -> None:
        process = self._process
        assert process is not None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), KILL_AFTER)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            except BaseException:  # cancelled again while waiting: make sure it is gone
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                raise
        if self.end is None:
            self.end = Chunk("end", exit_code=process.returncode, reason=reason)


HIDDEN = "***"


class _StreamText:
    """One stream's bytes as text: UTF-8 across reads, with the kubeconfig's token hidden (kubectl
    prints the server URL, which holds it, in cluster-info, -v=6 and connection errors), also when
    a read splits it: a tail that could be the start of it waits for the next read."""

    def __init__(self, secrets: Sequence[str]):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._secrets = [secret for secret in secrets if secret]
        self._held = ""

    def feed(self, data: bytes, *, final: bool = False) -> str:
        text = self._held + self._decoder.decode(data, final=final)
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        held = 0 if final else max((_overlap(text, secret) for secret in self._secrets), default=0)
        self._held = text[len(text) - held :] if held else ""
        return text[: len(text) - held]


def _overlap(text: str, secret: str) -> int:
    """How long a start of `secret` ends `text`."""
    for length in range(min(len(secret) - 1, len(text)), 0, -1):
        if text.endswith(secret[:length]):
            return length
    return 0


def _kubeconfig_secrets(path: Path) -> list[str]:
    """The credentials in a kubeconfig: a token in the server URL's path (…/t/<token>) or a user's token."""
    try:
        text = path.read_text()
    except OSError:
        return []
    in_path = re.findall(r"/t/([^/\s\"']+)", text)
    tokens = re.findall(r"^\s*token:\s*[\"']?([^\s\"']+)", text, re.M)
    return in_path + tokens


def run_kubectl(
    argv: Sequence[str],
    *,
    kubeconfig: Path,
    home: Path,
    stdin: str | None = None,
    timeout: float | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    kubectl: Path | None = None,
) -> KubectlRun:
    """Run kubectl with `argv` (from parse_command) against the sandbox of `kubeconfig`:
    `async for chunk in run_kubectl(...)`, or `async with run_kubectl(...) as run: async for chunk in run`
    to be sure kubectl is stopped when the block is left. timeout=None: command_timeout(argv)."""
    return KubectlRun(
        argv,
        kubeconfig=kubeconfig,
        home=home,
        stdin=stdin,
        timeout=timeout,
        max_output_bytes=max_output_bytes,
        kubectl=kubectl,
    )


def console_run(
    line: str,
    *,
    kubeconfig: Path,
    home: Path,
    stdin: str | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
) -> KubectlRun:
    """What the console does with a line the learner typed: parse_command (CommandRefused before
    anything starts), then a run with the command's own time limit. `stdin`: the editor's text,
    read by `-f -` (an empty editor means there is nothing to read)."""
    argv = parse_command(line, stdin_available=bool(stdin and stdin.strip()))
    return run_kubectl(argv, kubeconfig=kubeconfig, home=home, stdin=stdin, max_output_bytes=max_output_bytes)


async def _feed(stream: asyncio.StreamWriter | None, data: bytes) -> None:
    assert stream is not None
    try:
        stream.write(data)
        await stream.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # kubectl ended without reading it all
    finally:
        stream.close()


def _seconds(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
