"""Hydra discovers sweepers in the ``hydra_plugins`` namespace; bibench's lives here."""
