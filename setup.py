"""Package list for setuptools: bibench_cli, its Hydra sweeper plugin (hydra_plugins is a
namespace package), and the top-level conf/ and experiments/ folders, which ship inside the
wheel as bibench_cli.conf and bibench_cli.experiments (see pyproject)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["bibench_cli", "bibench_cli.*"])
    + ["bibench_cli.conf", "bibench_cli.experiments", "hydra_plugins.bibench_sweeper"]
)
