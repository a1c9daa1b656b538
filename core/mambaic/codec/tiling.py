"""Split a padded image into independently coded tiles, so memory stays bounded for large images.

The model's activations grow with the pixel count; coding one tile at a time caps the working set
at what one ``tile_size``² tile needs, whatever the image size. Images no larger than one tile are
coded whole (no seams). Tiles are laid out in raster order on the padded image and every tile
side is a multiple of the model's padding multiple, so each tile is a valid model input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """A rectangle of the padded image, in pixels."""

    top: int
    left: int
    height: int
    width: int


def tile_grid(padded_height: int, padded_width: int, tile_size: int) -> list[Tile]:
    """Raster-order tiles of at most ``tile_size``² covering a padded image exactly."""
    if tile_size < 1:
        raise ValueError("tile_size must be positive")
    return [
        Tile(top, left, min(tile_size, padded_height - top), min(tile_size, padded_width - left))
        for top in range(0, padded_height, tile_size)
        for left in range(0, padded_width, tile_size)
    ]


def tile_count(padded_height: int, padded_width: int, tile_size: int) -> int:
    """How many tiles :func:`tile_grid` makes, without building them (for header validation)."""
    return -(-padded_height // tile_size) * -(-padded_width // tile_size)
