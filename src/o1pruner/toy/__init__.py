"""The embedded toy world: synthetic problems, a tokenizer and a tiny Qwen2 model trained from scratch."""
