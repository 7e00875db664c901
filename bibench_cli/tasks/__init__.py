"""Learning tasks: one registered spec per task (datamodule, LightningModule kind, metrics,
input spec, capabilities, demo-data writer)."""
