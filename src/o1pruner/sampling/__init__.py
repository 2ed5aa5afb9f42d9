"""Generation backends: batched transformers `generate` (CPU or GPU) and vLLM (GPU)."""
