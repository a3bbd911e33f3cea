"""The environment a kubelet gives a container beyond its own `env`: the Service links, and the
`$(VAR)` expansion of env values.

Every container gets, for each Service of its pod's namespace that has a ClusterIP (when the pod's
`spec.enableServiceLinks` is not false), and for the `kubernetes` Service of `default` always,
`<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` (the first port), `<NAME>_SERVICE_PORT_<PORT NAME>` for
each named port and Docker's link variables (`<NAME>_PORT=tcp://10.96.0.1:443`,
`<NAME>_PORT_443_TCP`, `…_PROTO`, `…_PORT`, `…_ADDR`): upstream's
`pkg/kubelet/kubelet_pods.go` getServiceEnvVarMap and `pkg/kubelet/envvars` FromServices. The
container's own `env` and `envFrom` win over them, and its env values may refer to them with
`$(NAME)`, as `third_party/forked/golang/expansion` expands it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping

MASTER_SERVICE_NAMESPACE = "default"
MASTER_SERVICES = frozenset({"kubernetes"})


def service_ip_set(service: dict) -> bool:
    """v1helper.IsServiceIPSet: a ClusterIP that is neither "None" (headless) nor empty."""
    return (service.get("spec") or {}).get("clusterIP") not in (None, "", "None")


def env_var_name(name: str) -> str:
    """envvars.makeEnvVariableName: upper case, `-` → `_` (dots and leading digits stay, as upstream's)."""
    return name.replace("-", "_").upper()


def linked_services(services: Iterable[dict], *, namespace: str, enable_service_links: bool = True) -> list[dict]:
    """The Services whose variables a pod in `namespace` gets (getServiceEnvVarMap's selection):
    `default/kubernetes` always, the namespace's own with a ClusterIP when the links are enabled; a
    Service of the pod's namespace called `kubernetes` takes the place of the cluster's."""
    chosen: dict[str, dict] = {}
    for service in services:
        if not service_ip_set(service):
            continue
        metadata = service.get("metadata") or {}
        name, service_namespace = metadata.get("name", ""), metadata.get("namespace", "")
        if service_namespace == MASTER_SERVICE_NAMESPACE and name in MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif service_namespace == namespace and enable_service_links:
            chosen[name] = service
    return [chosen[name] for name in sorted(chosen)]


def _host_port(ip: str, port: int) -> str:
    """net.JoinHostPort: an IPv6 address in brackets."""
    try:
        return f"[{ip}]:{port}" if ipaddress.ip_address(ip).version == 6 else f"{ip}:{port}"
    except ValueError:
        return f"{ip}:{port}"


def service_env_vars(services: Iterable[dict]) -> dict[str, str]:
    """envvars.FromServices: the variables of each Service with a ClusterIP and ports, in order."""
    env: dict[str, str] = {}
    for service in services:
        spec = service.get("spec") or {}
        ports = [port for port in spec.get("ports") or [] if isinstance(port, dict)]
        if not service_ip_set(service) or not ports:
            continue
        ip = spec["clusterIP"]
        prefix = env_var_name((service.get("metadata") or {}).get("name", ""))
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port", 0))
        for port in ports:  # every named port (only the first may be unnamed)
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{env_var_name(port['name'])}"] = str(port.get("port", 0))
        for index, port in enumerate(ports):  # Docker's link variables
            protocol = port.get("protocol") or "TCP"
            number = port.get("port", 0)
            url = f"{protocol.lower()}://{_host_port(ip, number)}"
            if index == 0:
                env[f"{prefix}_PORT"] = url  # Docker special-cases the first port
            port_prefix = f"{prefix}_PORT_{number}_{protocol.upper()}"
            env[port_prefix] = url
            env[f"{port_prefix}_PROTO"] = protocol.lower()
            env[f"{port_prefix}_PORT"] = str(number)
            env[f"{port_prefix}_ADDR"] = ip
    return env


def pod_service_env(pod: dict, services: Iterable[dict]) -> dict[str, str]:
    """The Service variables every container of `pod` gets, from the sandbox's Services (those of
    the pod's namespace and `default/kubernetes`; others are ignored)."""
    spec = pod.get("spec") or {}
    links = spec.get("enableServiceLinks")
    chosen = linked_services(
        services, namespace=(pod.get("metadata") or {}).get("namespace", ""), enable_service_links=links is not False
    )
    return service_env_vars(chosen)


def mapping_for(*contexts: Mapping[str, str]) -> Callable[[str], str]:
    """expansion.MappingFuncFor: the first context that has the name answers; an unknown name
    stays as it was written, `$(NAME)`."""

    def mapping(name: str) -> str:
        for context in contexts:
            if name in context:
                return context[name]
        return f"$({name})"

    return mapping


def expand(text: str, mapping: Callable[[str], str]) -> str:
    """expansion.Expand: `$(NAME)` replaced by mapping(NAME), `$$` is a literal `$`, any other `$`
    (and an unclosed `$(`) is kept as written."""
    out: list[str] = []
    checkpoint = cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            following = text[cursor + 1]
            if following == "$":  # an escaped operator
                out.append("$")
                cursor += 1
            elif following == "(" and (closer := text.find(")", cursor + 2)) >= 0:
                out.append(mapping(text[cursor + 2 : closer]))
                cursor = closer
            else:  # not a reference: the operator and the character after it, as written
                out.append("$" + following)
                cursor += 1
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]
