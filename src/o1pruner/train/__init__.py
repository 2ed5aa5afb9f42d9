"""Fine-tuning: the O1-Pruner objective on transformers `Trainer` (baselines via TRL)."""
