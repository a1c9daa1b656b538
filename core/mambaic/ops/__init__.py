"""Compute kernels: the selective scan of Mamba with CUDA / fused CPU / reference backends."""

from mambaic.ops.scan_reference import selective_scan_reference
from mambaic.ops.selective_scan import BACKENDS, available_backends, selective_scan

__all__ = ["selective_scan", "selective_scan_reference", "available_backends", "BACKENDS"]
