"""Compose bibench configs in tests the way ``bibench train`` does (Hydra compose API)."""

from bibench_cli.commands.compose import compose_config

__all__ = ["compose_config"]
