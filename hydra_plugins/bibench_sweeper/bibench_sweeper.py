"""The bibench sweeper: Hydra's basic grid sweeper plus what a benchmark needs around it.

Before anything runs it composes every grid point and rejects invalid combinations (or drops
them, for experiments that ask for "every valid combination"); while jobs run, whatever the
launcher, it reports progress from the jobs' records; at the end it prints the summary.
"""

# ruff: noqa: UP006, UP035, UP045 (OmegaConf structured configs want typing.Optional/Dict)
# No ``from __future__ import annotations``: Hydra execs plugin modules outside sys.modules,
# where dataclasses cannot resolve string annotations.
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser


@dataclass
class BibenchSweeperConf:
    _target_: str = "hydra_plugins.bibench_sweeper.bibench_sweeper.BibenchSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None
    skip_incompatible: bool = False  # drop invalid points instead of rejecting the grid
    # extra overrides for the grid points that contain a given override, e.g.
    # {"task=imagenet": ["arch=resnet18", "task.data.image_size=64"]}: per-task settings
    # in a grid over tasks whose options differ
    when: Optional[Dict[str, List[str]]] = None


ConfigStore.instance().store(group="hydra/sweeper", name="bibench", node=BibenchSweeperConf)


class BibenchSweeper(BasicSweeper):
    def __init__(
        self,
        max_batch_size: Optional[int] = None,
        params: Optional[Dict[str, str]] = None,
        skip_incompatible: bool = False,
        when: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.skip_incompatible = skip_incompatible
        self.when = {key: list(values) for key, values in (when or {}).items()}

    def sweep(self, arguments: List[str]) -> Any:
        from bibench_cli.engine import sweep
        from bibench_cli.errors import BibenchError

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        points = sweep.with_extras(self.split_arguments(overrides, None)[0], self.when)
        try:
            plan = sweep.plan(
                points,
                lambda point: self.hydra_context.config_loader.load_sweep_config(
                    self.config, point
                ),
                skip_incompatible=self.skip_incompatible,
            )
        except BibenchError as exc:  # an invalid grid: one line, nothing launched
            sweep.reject(exc)
            return []
        self.overrides = list(self.split_overrides_to_chunks(plan.points, self.max_batch_size))
        try:
            return sweep.execute(plan, self._launch_all)
        except BibenchError as exc:  # the launcher failed: one line after the summary
            sweep.reject(exc)
            return []

    def _launch_all(self) -> List[Any]:
        returns = []
        initial_job_idx = 0
        while not self.is_done():
            batch = self.get_job_batch()
            returns.append(self.launcher.launch(batch, initial_job_idx=initial_job_idx))
            initial_job_idx += len(batch)
        return returns
