"""The Dockerfile, checked statically (no Docker engine on these machines, so the images are not
built by the tests): multi-stage, base images pinned by tag, non-root numeric USER, the ports the
chart and the operator expect, and a build context that holds the whole Cargo workspace."""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest

from support import REPO

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name -> its instructions (FROM first)."""
    found: dict[str, list[tuple[str, str]]] = {}
    current = None
    for word, rest in instructions():
        if word == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest, re.I)
            assert match, f"every stage is named: FROM {rest}"
            current = match.group(2)
            found[current] = []
        assert current is not None, "instructions before the first FROM"
        found[current].append((word, rest))
    return found


def base_image(stage: list[tuple[str, str]]) -> str:
    return stage[0][1].split()[0]


def test_multi_stage_with_operator_and_node_targets():
    assert list(stages()) == ["builder", "operator", "node"]
    for target in ("operator", "node"):
        copies = [rest for word, rest in stages()[target] if word == "COPY"]
        assert copies and all(c.startswith("--from=builder ") for c in copies)


@pytest.mark.parametrize("stage", ["builder", "operator", "node"])
def test_base_images_are_pinned(stage):
    image = base_image(stages()[stage])
    name, _, tag = image.rpartition(":")
    assert "@sha256:" in image or (name and tag and tag != "latest" and "$" not in image), image


def test_runtime_base_is_small_and_nonroot():
    for target in ("operator", "node"):
        assert base_image(stages()[target]) == "gcr.io/distroless/cc-debian12:nonroot"


@pytest.mark.parametrize("target,binary,ports", [("operator", "stripe-operator", {"9090"}), ("node", "stripe-node", {"8080", "9090"})])
def test_runtime_stage(target, binary, ports):
    stage = dict(stages()[target][1:])
    user = stage["USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0))
    # The chart's and the operator's pod securityContext run as this uid.
    assert uid == "65532"
    assert set(stage["EXPOSE"].split()) == ports
    assert stage["ENTRYPOINT"] == f'["/usr/local/bin/{binary}"]'


def test_builder_builds_both_binaries_locked():
    runs = " ".join(rest for word, rest in stages()["builder"] if word == "RUN")
    assert "cargo build --release --locked -p stripe-operator -p stripe-node" in runs


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics: the last matching pattern wins; '!' re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or (
            pattern.startswith("**/") and any(fnmatch.fnmatch(prefix, pattern[3:]) for prefix in prefixes)
        ):
            ignored = not negate
    return ignored


def test_build_context_holds_the_workspace_and_nothing_heavy():
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    members = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["members"]
    needed = ["Cargo.toml", "Cargo.lock"]
    for member in members:
        needed.append(f"{member}/Cargo.toml")
        needed.extend(
            str(p.relative_to(REPO)) for p in (REPO / member).rglob("*.rs") if "target" not in p.parts
        )
    missing = [path for path in needed if _ignored(path, patterns)]
    assert missing == [], "a workspace file is left out of the Docker build context"
    for heavy in ("target/release/stripe-node", ".venv/bin/python", ".git/HEAD", "node/target/x"):
        assert _ignored(heavy, patterns), heavy
