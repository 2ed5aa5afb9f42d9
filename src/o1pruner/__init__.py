"""Length-Harmonizing Fine-Tuning (O1-Pruner, arXiv 2501.12570) as a reproducible workflow."""

__version__ = "0.1.0"
