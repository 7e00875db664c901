"""Training engine: LightningModules, ``train(cfg) -> RunRecord``, FP32 reuse, run records."""
