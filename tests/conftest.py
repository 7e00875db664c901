"""Shared test setup: one torch thread (2 shared cores run 10x slower with torch's default)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
