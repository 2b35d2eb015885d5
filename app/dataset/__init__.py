"""Synthetic datasets: seeded sharded generation, mesh and coefficient files, rendered images."""
