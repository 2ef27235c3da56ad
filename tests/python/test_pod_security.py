"""Every pod the chart renders, and the example client Job, meets Pod Security "restricted".
The checker itself is tested on violations of each rule."""

from __future__ import annotations

import copy

import pytest

from pod_security import violations
from support import EXAMPLES, documents, load_yaml_docs, pod_specs, render
from option_sets import OPTION_SETS


def rendered_pods(values: dict) -> list[tuple[str, dict]]:
    return [pod for doc in documents(render(values)) for pod in pod_specs(doc)]


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_rendered_workloads_are_restricted(option_set):
    pods = rendered_pods(OPTION_SETS[option_set])
    names = {name for name, _ in pods}
    assert any(name.startswith("Deployment/") for name in names), "no workload rendered"
    for name, pod in pods:
        assert violations(pod) == [], name


def test_every_rendered_workload_is_checked():
    """Operator, managed Redis and the helm test Pod are all among the checked pod specs."""
    names = {name for name, _ in rendered_pods(OPTION_SETS["managed-redis-namespaced-monitoring"])}
    assert names == {"Deployment/sc-stripe", "Deployment/sc-stripe-redis", "Pod/sc-stripe-test-health"}


def test_example_workloads_are_restricted():
    pods = [pod for path in sorted(EXAMPLES.glob("*.yaml")) for doc in load_yaml_docs(path) for pod in pod_specs(doc)]
    assert [name for name, _ in pods] == ["Job/stripe-client"]
    for name, pod in pods:
        assert violations(pod) == [], name


def _operator_pod() -> dict:
    pods = dict(rendered_pods({}))
    return copy.deepcopy(pods["Deployment/sc-stripe-connector"])


def _container(pod: dict) -> dict:
    return pod["containers"][0]


MUTATIONS = {
    "hostNetwork": lambda p: p.update(hostNetwork=True),
    "hostPID": lambda p: p.update(hostPID=True),
    "hostIPC": lambda p: p.update(hostIPC=True),
    "hostPath volume": lambda p: p.setdefault("volumes", []).append({"name": "h", "hostPath": {"path": "/"}}),
    "gcePersistentDisk volume": lambda p: p.setdefault("volumes", []).append({"name": "g", "gcePersistentDisk": {"pdName": "x"}}),
    "privileged": lambda p: _container(p)["securityContext"].update(privileged=True),
    "allowPrivilegeEscalation unset": lambda p: _container(p)["securityContext"].pop("allowPrivilegeEscalation"),
    "allowPrivilegeEscalation true": lambda p: _container(p)["securityContext"].update(allowPrivilegeEscalation=True),
    "runAsNonRoot nowhere": lambda p: (p["securityContext"].pop("runAsNonRoot"), _container(p)["securityContext"].pop("runAsNonRoot")),
    "runAsNonRoot false in container": lambda p: _container(p)["securityContext"].update(runAsNonRoot=False),
    "runAsUser 0": lambda p: _container(p)["securityContext"].update(runAsUser=0),
    "capabilities keep all": lambda p: _container(p)["securityContext"].pop("capabilities"),
    "capability SYS_ADMIN": lambda p: _container(p)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    "seccomp nowhere": lambda p: (p["securityContext"].pop("seccompProfile"), _container(p)["securityContext"].pop("seccompProfile")),
    "seccomp Unconfined": lambda p: _container(p)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
    "hostPort": lambda p: _container(p)["ports"][0].update(hostPort=9090),
    "unsafe sysctl": lambda p: p["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
    "procMount Unmasked": lambda p: _container(p)["securityContext"].update(procMount="Unmasked"),
    "seLinux user": lambda p: _container(p)["securityContext"].update(seLinuxOptions={"user": "root"}),
    "init container unconfined": lambda p: p.update(initContainers=[{"name": "init", "image": "busybox"}]),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_checker_flags_each_violation(mutation):
    pod = _operator_pod()
    assert violations(pod) == []
    MUTATIONS[mutation](pod)
    assert violations(pod) != []


def test_checker_allows_net_bind_service_and_localhost_seccomp():
    pod = _operator_pod()
    _container(pod)["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    pod["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "x.json"}
    assert violations(pod) == []
