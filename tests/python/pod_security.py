"""Pod Security Standards, "restricted" profile (which includes "baseline"), as checks on a pod
spec. Follows https://kubernetes.io/docs/concepts/security/pod-security-standards/ (latest policy
version). Linux pods only; returns the list of violations (empty: the pod is admitted).

No library implements these checks offline in Python (the reference is the Go code of the
PodSecurity admission plugin), hence this small transcription.
"""

from __future__ import annotations

from typing import Any

ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
ALLOWED_SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *pod.get("initContainers", []),
        *pod.get("containers", []),
        *pod.get("ephemeralContainers", []),
    ]


def violations(pod: dict[str, Any]) -> list[str]:
    found: list[str] = []
    psc = pod.get("securityContext") or {}
    containers = _containers(pod)

    # baseline
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            found.append(f"{field} is true")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        found.append("pod windowsOptions.hostProcess is true")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if "hostPath" in kinds:
            found.append(f"volume {volume['name']} is a hostPath")
        if not kinds <= ALLOWED_VOLUME_TYPES:
            found.append(f"volume {volume['name']} has a type outside {sorted(ALLOWED_VOLUME_TYPES)}: {sorted(kinds)}")
    for sysctl in psc.get("sysctls", []):
        if sysctl.get("name") not in SAFE_SYSCTLS:
            found.append(f"unsafe sysctl {sysctl.get('name')}")

    def check_selinux(where: str, options: dict[str, Any] | None) -> None:
        if not options:
            return
        if options.get("type", "") not in ALLOWED_SELINUX_TYPES:
            found.append(f"{where}: seLinuxOptions.type {options.get('type')!r} not allowed")
        for field in ("user", "role"):
            if options.get(field):
                found.append(f"{where}: seLinuxOptions.{field} must not be set")

    def check_apparmor(where: str, profile: dict[str, Any] | None) -> None:
        if profile and profile.get("type") not in ALLOWED_SECCOMP:
            found.append(f"{where}: appArmorProfile.type {profile.get('type')!r} not allowed")

    check_selinux("pod", psc.get("seLinuxOptions"))
    check_apparmor("pod", psc.get("appArmorProfile"))

    # restricted, pod level
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in ALLOWED_SECCOMP:
        found.append(f"pod seccompProfile.type {pod_seccomp!r} not allowed")
    if psc.get("runAsUser") == 0:
        found.append("pod runAsUser is 0")
    if psc.get("runAsNonRoot") is False:
        found.append("pod runAsNonRoot is false")

    for container in containers:
        where = f"container {container.get('name')}"
        csc = container.get("securityContext") or {}
        if csc.get("privileged"):
            found.append(f"{where}: privileged")
        if (csc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where}: windowsOptions.hostProcess is true")
        for port in container.get("ports", []):
            if port.get("hostPort"):
                found.append(f"{where}: hostPort {port['hostPort']}")
        if csc.get("procMount", "Default") != "Default":
            found.append(f"{where}: procMount {csc['procMount']}")
        check_selinux(where, csc.get("seLinuxOptions"))
        check_apparmor(where, csc.get("appArmorProfile"))

        if csc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation must be false")
        if csc.get("runAsNonRoot") is False or (
            csc.get("runAsNonRoot") is None and psc.get("runAsNonRoot") is not True
        ):
            found.append(f"{where}: runAsNonRoot must be true (pod or container)")
        if csc.get("runAsUser") == 0:
            found.append(f"{where}: runAsUser is 0")
        seccomp = (csc.get("seccompProfile") or {}).get("type")
        if seccomp is not None and seccomp not in ALLOWED_SECCOMP:
            found.append(f"{where}: seccompProfile.type {seccomp!r} not allowed")
        if seccomp is None and pod_seccomp is None:
            found.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost (pod or container)")
        caps = csc.get("capabilities") or {}
        if "ALL" not in caps.get("drop", []):
            found.append(f"{where}: capabilities must drop ALL")
        extra = set(caps.get("add", [])) - {"NET_BIND_SERVICE"}
        if extra:
            found.append(f"{where}: capabilities add {sorted(extra)} not allowed")
    return found
