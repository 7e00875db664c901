"""Compose bibench configs in tests the way ``bibench train`` does (Hydra compose API)."""

from __future__ import annotations

from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from bibench_cli.config import register_configs


def compose_config(*overrides: str) -> DictConfig:
    register_configs()
    with initialize_config_module("bibench_cli.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))
