"""Serves every deployment in flows/prefect.yaml from this process (development: what `make run` starts)."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow, serve
from prefect.client.schemas.schedules import construct_schedule

FLOWS_DIR = Path(__file__).resolve().parents[2]
log = logging.getLogger("yutang.flows")


def load_flow(entrypoint: str) -> Flow[Any, Any]:
    """The flow object an entrypoint `path/to/file.py:function` names, relative to flows/."""
    path, _, name = entrypoint.partition(":")
    module_path = FLOWS_DIR / path
    module_name = "yutang_flows." + module_path.stem
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    flow: Flow[Any, Any] = getattr(module, name)
    return flow


def deployments(config: Path = FLOWS_DIR / "prefect.yaml") -> list[Any]:
    """In-process deployments for every entry of prefect.yaml, with its description, tags and schedules."""
    spec = yaml.safe_load(config.read_text())
    built = []
    for entry in spec["deployments"]:
        schedules = [construct_schedule(**s.get("schedule", s)) for s in entry.get("schedules", [])]
        built.append(
            load_flow(entry["entrypoint"]).to_deployment(
                name=entry["name"],
                description=entry.get("description"),
                tags=entry.get("tags", []),
                parameters=entry.get("parameters", {}),
                schedules=schedules or None,
            )
        )
    return built


def main() -> None:
    found = deployments()
    log.info("serving %d deployments: %s", len(found), ", ".join(d.name for d in found))
    serve(*found, print_starting_message=True)


if __name__ == "__main__":
    main()
