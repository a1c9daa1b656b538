"""Side panels and controls: quality, metrics, per-slice rates, the rate-distortion chart."""
