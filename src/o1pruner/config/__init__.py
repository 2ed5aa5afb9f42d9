"""A run's config: composed from its files (`layers`), loaded, converted and checked against the
schema (`load`), and checked for what the run can do before any job (`checks`)."""
