"""Hydra config groups shipped with bibench (the repository's top-level conf/)."""
