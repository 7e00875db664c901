"""``bibench list``: every selectable option with its one-line description (no torch import)."""

from __future__ import annotations

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


def render() -> str:
    lines: list[str] = []
    for group, title in SECTIONS.items():
        options = catalog.list_options(group)
        if group == "algo":
            options.update(catalog.plugin_algorithms())
        lines.append(f"{title} ({group}=...):")
        width = max(map(len, options), default=0)
        lines += [f"  {name:<{width}}  {text}" for name, text in options.items()]
        lines.append("")
    return "\n".join(lines).rstrip()
