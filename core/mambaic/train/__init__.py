"""Training: patches, the loop, checkpoints, validation with real bytes, export."""
