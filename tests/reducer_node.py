"""Run the browser reducer (assets/js/reducer.js) under Node from Python tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require_service

HARNESS = Path(__file__).with_name("reducer_harness.js")


def run_reducer(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Feed `steps` to the harness; returns {"state": final state, "results": [...]}."""
    node = shutil.which("node")
    if node is None:
        require_service("Node.js", "`node` is not on PATH (Debian: apt-get install nodejs)")
    done = subprocess.run(
        [node, str(HARNESS)],
        input=json.dumps(steps, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the reducer harness failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
