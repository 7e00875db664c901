"""Task metrics: pure functional cores and thin torchmetrics wrappers (torchmetrics itself
wherever it has the metric)."""
