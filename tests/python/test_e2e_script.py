"""scripts/e2e.sh needs a cluster and is not run in CI; here it is only checked: syntax
(bash -n), shellcheck (installed by scripts/install-test-deps.sh), and that the files it
applies exist."""

from __future__ import annotations

import re
import shutil
import subprocess

from support import REPO

SCRIPT = REPO / "scripts" / "e2e.sh"


def test_syntax():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_shellcheck_clean():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: run scripts/install-test-deps.sh"
    result = subprocess.run([shellcheck, "--severity=style", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_referenced_files_exist():
    text = SCRIPT.read_text()
    paths = set(re.findall(r"\b((?:examples|charts)/[\w./-]+)", text))
    assert {"examples/stripe-connection.yaml", "examples/client-job.yaml", "charts/stripe-connector/crds/"} <= paths
    for path in paths:
        assert (REPO / path).exists(), path


def test_make_e2e_runs_it():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^e2e:\n\tscripts/e2e\.sh$", makefile, re.M)
