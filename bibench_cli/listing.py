"""``bibench list``: every selectable option with its one-line description (no torch import)."""

from __future__ import annotations

from importlib.metadata import entry_points

from bibench_cli import catalog

SECTIONS = {
    "algo": "Algorithms",
    "arch": "Architectures",
    "task": "Tasks",
    "optim": "Optimizers",
    "sched": "Schedulers",
    "trainer": "Trainers",
    "logger": "Loggers",
}
PLUGIN_GROUP = "bibench.algorithms"


def plugin_algorithms() -> dict[str, str]:
    """Algorithms other packages register under the ``bibench.algorithms`` entry point."""
    return {ep.name: f"plug-in from {ep.value}" for ep in entry_points(group=PLUGIN_GROUP)}


def render() -> str:
    lines: list[str] = []
    for group, title in SECTIONS.items():
        options = catalog.list_options(group)
        if group == "algo":
            options.update(plugin_algorithms())
        lines.append(f"{title} ({group}=...):")
        width = max(map(len, options), default=0)
        lines += [f"  {name:<{width}}  {text}" for name, text in options.items()]
        lines.append("")
    return "\n".join(lines).rstrip()
