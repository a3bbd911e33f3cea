"""What the sandbox console lets through to kubectl, and what it says when it refuses."""

from __future__ import annotations

import pytest

from tutor.sandboxes.console import (
    DEFAULT_TIMEOUT,
    FOLLOW_TIMEOUT,
    CommandRefused,
    command_timeout,
    parse_command,
    reads_stdin,
)

ACCEPTED = [
    # The leading word: kubectl, its usual alias k, none, or a pasted prompt.
    ("kubectl get pods", ["get", "pods"]),
    ("k get po", ["get", "po"]),
    ("get pods", ["get", "pods"]),
    ("$ kubectl get pods", ["get", "pods"]),
    ("  kubectl   get   pods  ", ["get", "pods"]),
    # Flags before the command, in every spelling.
    ("kubectl -n kube-system get pods", ["-n", "kube-system", "get", "pods"]),
    ("kubectl --namespace=kube-system get pods", ["--namespace=kube-system", "get", "pods"]),
    ("kubectl --namespace kube-system get pods", ["--namespace", "kube-system", "get", "pods"]),
    ("kubectl -nkube-system get pods", ["-nkube-system", "get", "pods"]),
    ("kubectl -v=6 get nodes", ["-v=6", "get", "nodes"]),
    ("kubectl --request-timeout 5s get nodes", ["--request-timeout", "5s", "get", "nodes"]),
    # kubectl reads _ in flag names as - (with a warning).
    ("kubectl --warnings_as_errors get nodes", ["--warnings_as_errors", "get", "nodes"]),
    # Quoting, as a shell would read it (but no shell runs).
    (
        "kubectl get pods -o jsonpath='{.items[*].metadata.name}'",
        ["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"],
    ),
    ('kubectl get pods -l "app in (web, api)"', ["get", "pods", "-l", "app in (web, api)"]),
    ("kubectl get pods -l 'tier|x'", ["get", "pods", "-l", "tier|x"]),
    ("kubectl annotate pod web note=a\\ b", ["annotate", "pod", "web", "note=a b"]),
    ("kubectl get pods \\\n  -A", ["get", "pods", "-A"]),
    ("kubectl get pods --template='{{.kind}}'", ["get", "pods", "--template={{.kind}}"]),
    ("kubectl get pods -o go-template='{{.kind}}'", ["get", "pods", "-o", "go-template={{.kind}}"]),
    # -f only as -, the editor's text, in every spelling.
    ("kubectl apply -f -", ["apply", "-f", "-"]),
    ("kubectl apply -f-", ["apply", "-f-"]),
    ("kubectl apply -f=-", ["apply", "-f=-"]),
    ("kubectl apply --filename=-", ["apply", "--filename=-"]),
    ("kubectl apply --filename -", ["apply", "--filename", "-"]),
    ("kubectl create -f - --save-config", ["create", "-f", "-", "--save-config"]),
    ("kubectl delete -f -", ["delete", "-f", "-"]),
    ("kubectl apply -Rf -", ["apply", "-Rf", "-"]),
    ("kubectl apply -f - --dry-run=server -o yaml", ["apply", "-f", "-", "--dry-run=server", "-o", "yaml"]),
    # logs -f is --follow, not a file.
    ("kubectl logs -f web", ["logs", "-f", "web"]),
    ("kubectl logs web -c main --tail=20 -p", ["logs", "web", "-c", "main", "--tail=20", "-p"]),
    # The allowed commands.
    ("kubectl describe deploy web", ["describe", "deploy", "web"]),
    ("kubectl create deployment web --image=nginx --replicas=3", None),
    ("kubectl create cm settings --from-literal=colour=blue", None),
    ("kubectl create secret generic pw --from-literal=password=s3cret", None),
    ("kubectl create service clusterip web --tcp=80:8080", None),
    ("kubectl create job once --image=busybox -- echo hi", None),
    ("kubectl explain pods.spec.containers", None),
    ("kubectl api-resources --namespaced=true", None),
    ("kubectl api-versions", None),
    ("kubectl scale deploy/web --replicas=5", None),
    ("kubectl rollout undo deploy/web --to-revision=1", None),
    ("kubectl rollout history deploy web", None),
    ("kubectl set image deploy/web web=nginx:1.27", None),
    ("kubectl set env deploy/web -e MODE=debug", None),
    ("kubectl label pod web tier=front --overwrite", None),
    ("kubectl run once --image=busybox --restart=Never -- sh -c 'echo hi; exit 1'", None),
    ("kubectl run web --image=nginx --attach=false", None),
    ("kubectl expose deploy web --port=80 --target-port=8080", None),
    ('kubectl patch deploy web -p \'{"spec":{"replicas":2}}\'', None),
    ("kubectl patch deploy web --type=json -p='[]'", None),
    ("kubectl replace -f - --force", None),
    ("kubectl wait --for=condition=Ready pod/web --timeout=60s", None),
    ("kubectl events --for pod/web", None),
    ("kubectl top pods", None),
    ("kubectl version", None),
    ("kubectl cluster-info", None),
    ("kubectl autoscale deploy web --min=2 --max=5", None),
    ("kubectl cordon node-1", None),
    ("kubectl drain node-2 --ignore-daemonsets", None),
    ("kubectl taint nodes node-1 dedicated=lessons:NoSchedule", None),
    ("kubectl auth can-i create pods", None),
    ("kubectl delete pod web --grace-period=0 --force", None),
    ("kubectl delete pods --all --dry-run=client", None),
    ("kubectl apply view-last-applied deploy/web", None),
    ("kubectl help get", None),
    ("kubectl get --help", None),
    ("kubectl options", None),
    # A flag kubectl does not have is kubectl's to refuse, in its own words.
    ("kubectl get pods --no-such-flag", None),
    # After --, words belong to the container's command, not to kubectl.
    ("kubectl run x --image=busybox -- --kubeconfig=/etc/passwd -f /etc/shadow", None),
]


@pytest.mark.parametrize(("line", "argv"), ACCEPTED, ids=[line for line, _ in ACCEPTED])
def test_it_passes_an_allowed_command_to_kubectl_as_typed(line, argv):
    parsed = parse_command(line, stdin_available=True)
    assert parsed == (argv if argv is not None else parsed)
    assert parsed[0] not in ("kubectl", "k")


REFUSED = [
    # Nothing to run, or not a command line.
    ("", ["Type a kubectl command"]),
    ("   ", ["Type a kubectl command"]),
    ("kubectl", ["after the word kubectl", "kubectl get pods"]),
    ("kubectl get 'pods", ["quote is not closed"]),
    ('kubectl get "pods', ["quote is not closed"]),
    ("kubectl get pods " + "x" * 2000, ["2,0", "characters long", "up to 2,000", "apply -f -"]),
    ("kubectl get pods\x00", ["control characters"]),
    # Shell syntax: there is no shell.
    ("kubectl get pods | grep web", ["`|`", "without a shell", "pipes", "-l"]),
    ("kubectl get pods > pods.txt", ["`>`", "redirection"]),
    ("kubectl get pods && kubectl get svc", ["`&`", "without a shell"]),
    ("kubectl get pods; ls", ["`;`", "one kubectl command at a time"]),
    ("kubectl get pod $(cat name)", ["`$(`", "command substitution"]),
    ('kubectl get pod "`cat name`"', ["command substitution"]),
    # Commands that are not kubectl's, or its plugins.
    ("kubectl evil", ["`evil` is not a kubectl command", "kubectl-evil", "plugins cannot run"]),
    ("ls -la", ["`ls` is not a kubectl command", "kubectl only"]),
    ("kubectl gett pods", ["Did you mean `kubectl get`"]),
    ("kubectl -n default evil", ["`evil` is not a kubectl command"]),
    ("kubectl create evil x", ["`kubectl create evil` is not a command", "configmap"]),
    ("kubectl rollout bogus deploy/web", ["`kubectl rollout bogus` is not a command", "status"]),
    ("kubectl -A get pods", ["-A belongs after the command", "kubectl get pods -A"]),
    ("kubectl plugin list", ["`kubectl plugin`", "plugins are programs"]),
    # Commands that leave the sandbox, touch the server or need a terminal.
    ("kubectl config view", ["`kubectl config`", "kubeconfig", "-n <namespace>"]),
    ("kubectl config set-context --current --namespace=x", ["`kubectl config`"]),
    ("kubectl -n x config use-context other", ["`kubectl config`"]),
    ("kubectl kuberc view", ["`kubectl kuberc`"]),
    ("kubectl proxy --port=8001", ["`kubectl proxy`", "runs until it is stopped"]),
    ("kubectl debug pod/web -it --image=busybox", ["`kubectl debug`", "kubectl logs"]),
    ("kubectl edit deploy web", ["`kubectl edit`", "text editor", "apply -f -"]),
    ("kubectl completion bash", ["`kubectl completion`", "no shell"]),
    ("kubectl kustomize .", ["`kubectl kustomize`", "server's disk"]),
    ("kubectl alpha events", ["`kubectl alpha`", "experimental"]),
    ("kubectl certificate approve csr-1", ["`kubectl certificate`"]),
    ("kubectl diff -f -", ["`kubectl diff`", "external diff program", "--dry-run=server"]),
    ("kubectl cluster-info dump", ["`kubectl cluster-info dump`", "kubectl describe"]),
    ("kubectl apply edit-last-applied deploy/web", ["`kubectl apply edit-last-applied`", "text editor"]),
    ("kubectl create secret tls web --cert=c.pem --key=k.pem", ["`kubectl create secret tls`", "kubernetes.io/tls"]),
    ("kubectl auth whoami", ["`kubectl auth whoami`", "auth can-i"]),
    ("kubectl create -f - --edit", ["--edit", "text editor"]),
    ("kubectl delete pod web -i", ["-i", "confirmation"]),
    # Not served yet.
    ("kubectl exec -it web -- sh", ["`kubectl exec` is not served yet", "kubectl logs"]),
    ("kubectl attach web", ["`kubectl attach` is not served yet"]),
    ("kubectl port-forward pod/web 8080:80", ["`kubectl port-forward` is not served yet"]),
    ("kubectl cp web:/etc/hosts hosts", ["`kubectl cp` is not served yet"]),
    ("kubectl run shell --image=busybox -it -- sh", ["-i is not served yet", "without -i, -t and --attach"]),
    ("kubectl run shell --image=busybox --stdin", ["--stdin is not served yet"]),
    ("kubectl run shell --image=busybox --tty=true", ["--tty is not served yet"]),
    ("kubectl run shell --image=busybox --attach", ["--attach is not served yet"]),
    # Flags that point kubectl elsewhere or at other credentials, in every spelling.
    ("kubectl get pods --kubeconfig=/etc/kubernetes/admin.conf", ["--kubeconfig", "your own sandbox"]),
    ("kubectl --kubeconfig /root/.kube/config get pods", ["--kubeconfig is not available"]),
    ("kubectl get pods --context=admin", ["--context is not available"]),
    ("kubectl get pods --cluster other", ["--cluster is not available"]),
    ("kubectl get pods --user=admin", ["--user is not available"]),
    ("kubectl get pods --server=https://10.0.0.1:6443", ["--server is not available"]),
    ("kubectl get pods -s https://10.0.0.1:6443", ["-s is not available"]),
    ("kubectl -shttps://10.0.0.1 get pods", ["-s is not available"]),
    ("kubectl get pods -s=https://10.0.0.1", ["-s is not available"]),
    ("kubectl get pods --token=abc", ["--token is not available"]),
    ("kubectl get pods --username=admin --password=x", ["--username is not available"]),
    ("kubectl get pods --password x", ["--password is not available"]),
    ("kubectl get pods --certificate-authority=/etc/ca.crt", ["--certificate-authority is not available"]),
    ("kubectl get pods --client-certificate=/etc/c.crt", ["--client-certificate is not available"]),
    ("kubectl get pods --client-key=/etc/c.key", ["--client-key is not available"]),
    ("kubectl get pods --insecure-skip-tls-verify", ["--insecure-skip-tls-verify is not available"]),
    ("kubectl get pods --tls-server-name=x", ["--tls-server-name is not available"]),
    ("kubectl get pods --proxy-url=http://evil:3128", ["--proxy-url is not available"]),
    ("kubectl get pods --kuberc=/tmp/rc", ["--kuberc is not available"]),
    ("kubectl get pods --as=admin", ["--as is not available", "another user", "auth can-i"]),
    ("kubectl get pods --as-group=system:masters", ["--as-group is not available"]),
    ("kubectl get pods --as-uid=0", ["--as-uid is not available"]),
    ("kubectl get pods --as-user-extra=a=b", ["--as-user-extra is not available"]),
    # Flags that make kubectl write or read files of the server's.
    ("kubectl get pods --cache-dir=/tmp/elsewhere", ["--cache-dir is not available", "write files on the server"]),
    ("kubectl get pods --profile=cpu", ["--profile is not available"]),
    ("kubectl get pods --profile-output=/tmp/p", ["--profile-output is not available"]),
    ("kubectl apply -k .", ["-k is not available", "server's disk", "-f -"]),
    ("kubectl apply --kustomize=./overlay", ["--kustomize is not available"]),
    ("kubectl create configmap c --from-file=/etc/passwd", ["--from-file is not available", "--from-literal"]),
    ("kubectl create configmap c --from-file /etc/passwd", ["--from-file is not available"]),
    ("kubectl create cm c --from_file=/etc/passwd", ["--from_file is not available"]),
    ("kubectl create secret generic s --from-env-file=.env", ["--from-env-file is not available"]),
    ("kubectl create secret docker-registry r --from-file=/root/.docker/config.json", ["--from-file"]),
    ("kubectl patch deploy web --patch-file=/etc/p.yaml", ["--patch-file is not available", "-p '…'"]),
    ("kubectl get pods -o jsonpath-file=/etc/passwd", ["-o jsonpath-file", "template file", "-o jsonpath='…'"]),
    ("kubectl get pods -ojsonpath-file=/etc/passwd", ["-o jsonpath-file"]),
    ("kubectl get pods -o=jsonpath-file=/etc/passwd", ["-o jsonpath-file"]),
    ("kubectl get pods --output=go-template-file=/etc/t", ["-o go-template-file", "-o go-template='…'"]),
    ("kubectl get pods --output templatefile --template=/etc/t", ["-o templatefile"]),
    ("kubectl get pods -o custom-columns-file=/etc/c", ["-o custom-columns-file", "custom-columns='…'"]),
    ("kubectl get pods -o Go-Template-File=/etc/t", ["-o go-template-file"]),
    # -f names a file or URL: only - (the editor's text) is allowed, in every spelling.
    ("kubectl apply -f deploy.yaml", ["`-f deploy.yaml`", "on the server", "-f -"]),
    ("kubectl apply -fdeploy.yaml", ["`-f deploy.yaml`"]),
    ("kubectl apply -f=/etc/passwd", ["`-f /etc/passwd`"]),
    ("kubectl apply --filename=/etc/passwd", ["`--filename /etc/passwd`"]),
    ("kubectl apply --filename /etc/passwd", ["`--filename /etc/passwd`"]),
    ("kubectl apply -f https://example.com/x.yaml", ["`-f https://example.com/x.yaml`", "URL"]),
    ("kubectl apply -f -,/etc/passwd", ["`-f -,/etc/passwd`"]),
    ("kubectl apply -Rf /etc", ["`-f /etc`"]),
    ("kubectl apply -f", ["-f needs a value", "-f -"]),
    ("kubectl -f /etc/passwd apply", ["`-f /etc/passwd`"]),
    ("kubectl delete -f /etc/passwd", ["`-f /etc/passwd`"]),
    ("kubectl get -f /etc/passwd", ["`-f /etc/passwd`"]),
    ("kubectl run x --image=busybox -f /etc/passwd", ["`-f /etc/passwd`"]),
]


@pytest.mark.parametrize(("line", "words"), REFUSED, ids=[line[:60] for line, _ in REFUSED])
def test_it_refuses_with_a_message_that_says_what_and_why(line, words):
    with pytest.raises(CommandRefused) as refused:
        parse_command(line, stdin_available=True)
    for word in words:
        assert word in refused.value.message
    assert str(refused.value) == refused.value.message


@pytest.mark.parametrize("line", ["kubectl apply -f -", "kubectl create -f-", "kubectl delete --filename=-"])
def test_f_dash_needs_the_editors_text(line):
    with pytest.raises(CommandRefused, match="Write the manifest in the editor first"):
        parse_command(line, stdin_available=False)


@pytest.mark.parametrize(
    ("line", "reads"),
    [
        ("apply -f -", True),
        ("apply -f-", True),
        ("apply -Rf-", True),
        ("apply -Rf -", True),
        ("apply --filename=-", True),
        ("create -f=- --save-config", True),
        ("logs -f web", False),
        ("get pods -l -", False),
        ("run x --image=busybox -- -f -", False),
    ],
)
def test_it_knows_which_commands_read_the_editors_text(line, reads):
    assert reads_stdin(line.split()) is reads


@pytest.mark.parametrize(
    ("line", "timeout"),
    [
        ("get pods", DEFAULT_TIMEOUT),
        ("get pods -w", FOLLOW_TIMEOUT),
        ("get pods --watch", FOLLOW_TIMEOUT),
        ("get pods -Aw", FOLLOW_TIMEOUT),
        ("get pods --watch=false", DEFAULT_TIMEOUT),
        ("get pods --watch-only", FOLLOW_TIMEOUT),
        ("-n x get pods -w", FOLLOW_TIMEOUT),
        ("logs web", DEFAULT_TIMEOUT),
        ("logs -f web", FOLLOW_TIMEOUT),
        ("logs web --follow", FOLLOW_TIMEOUT),
        ("rollout status deploy/web", FOLLOW_TIMEOUT),
        ("rollout status deploy/web --watch=false", DEFAULT_TIMEOUT),
        ("rollout history deploy/web", DEFAULT_TIMEOUT),
        ("wait --for=condition=Ready pod/web", FOLLOW_TIMEOUT),
        ("events -w", FOLLOW_TIMEOUT),
        ("delete pod web", FOLLOW_TIMEOUT),
        ("delete pod web --wait=false", DEFAULT_TIMEOUT),
        ("drain node-1", FOLLOW_TIMEOUT),
        ("describe pod web", DEFAULT_TIMEOUT),
        ("explain pods -w", DEFAULT_TIMEOUT),
    ],
)
def test_following_commands_get_the_long_time_limit(line, timeout):
    assert command_timeout(line.split()) == timeout
