"""Training patches from any folder of photos.

Photos are decoded once, down-scaled so the short side is at most `max_side` (large JPEG sources
carry compression artefacts we do not want to learn; down-scaling hides them and puts more
content in each patch), and kept in memory as uint8. Batches are random crops with flips.

`scales` adds smaller copies of every photo (e.g. 0.75 and 0.5 of the `max_side` version): the
same scenes with denser detail. Wallpaper-style sources are smoother than typical test photos,
and a model trained on them alone learns smooth areas well and textures late.

`detail_draws` goes further: each patch is the most detailed (largest mean luma gradient) of that
many random crops. Uniform crops of wallpapers are mostly sky and blur (median gradient ~5 grey
levels/pixel, against 11-21 for the standard test photos); a model trained on them erases fine
texture such as Barbara's stripes even at its highest rate. Best-of-3 moves the median to ~14.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".ppm"}


def list_images(folder: str | Path, role: str = "training") -> list[Path]:
    """Every image file under `folder`, sorted; `role` names the folder in errors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{role} folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {folder}")
    return files


def load_photo(path: Path, max_side: int, min_side: int) -> np.ndarray | None:
    """RGB uint8 array with short side ≤ max_side, or None when smaller than a patch."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        short = min(im.size)
        if short > max_side:
            s = max_side / short
            im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)
        if min(im.size) < min_side:
            return None
        return np.asarray(im, dtype=np.uint8).copy()


def scaled_copies(photo: np.ndarray, scales: tuple[float, ...], min_side: int) -> list[np.ndarray]:
    """`photo` resized by each factor in `scales` (1 keeps it as is), skipping copies whose short
    side would fall below `min_side`."""
    copies = []
    for s in scales:
        if s == 1:
            copies.append(photo)
            continue
        h, w = round(photo.shape[0] * s), round(photo.shape[1] * s)
        if min(h, w) >= min_side:
            im = Image.fromarray(photo).resize((w, h), Image.LANCZOS)
            copies.append(np.asarray(im, dtype=np.uint8).copy())
    return copies


def detail(crop: np.ndarray) -> float:
    """Mean absolute luma gradient (grey levels per pixel) of an (H, W, 3) uint8 crop."""
    luma = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return float(np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean())


def describe_data(data: str | Path, scales: tuple[float, ...] = (1.0,), detail_draws: int = 1,
                  val_dir: str | Path | None = None) -> str:
    """What a run trained on, for model cards: photo counts, scaled copies and patch choice.

    One wording for the card a run writes and the one `scripts/export_weights.py` ships, so the
    history kept for earlier stages (`earlier_training`) reads the same as the stage itself.
    """
    folder = Path(data)
    count = len(list_images(folder)) if folder.is_dir() else "the"
    text = f"{count} photos under {folder}"
    if val_dir and Path(val_dir).is_dir():
        text += f" ({len(list_images(val_dir, 'validation'))} more held out for validation in {val_dir})"
    extra = [s for s in scales if s != 1]
    if extra:
        text += f", plus copies down-scaled by {', '.join(f'{s:g}' for s in extra)}"
    if detail_draws > 1:
        text += f"; each patch the most detailed of {detail_draws} random crops"
    return text


class PatchSampler:
    """Random crops (with flips) from photos held in memory."""

    def __init__(self, photos: list[np.ndarray], patch: int, seed: int = 0, detail_draws: int = 1) -> None:
        if not photos:
            raise ValueError("no photos large enough for the patch size")
        if detail_draws < 1:
            raise ValueError(f"detail_draws must be at least 1, got {detail_draws}")
        self.photos, self.patch, self.detail_draws = photos, patch, detail_draws
        self.rng = np.random.default_rng(seed)

    @classmethod
    def from_folder(cls, folder: str | Path, patch: int, max_side: int = 768, seed: int = 0,
                    exclude: set[str] | None = None, scales: tuple[float, ...] = (1.0,),
                    detail_draws: int = 1) -> "PatchSampler":
        photos = [a for p in list_images(folder) if not (exclude and p.name in exclude)
                  if (a := load_photo(p, max_side, patch)) is not None]
        return cls([s for a in photos for s in scaled_copies(a, scales, patch)], patch, seed, detail_draws)

    @classmethod
    def from_npy(cls, path: str | Path, patch: int, seed: int = 0, detail_draws: int = 1) -> "PatchSampler":
        """A pre-cut patch set (N, H, W, 3) uint8, e.g. carried to a GPU machine."""
        arr = np.load(path, mmap_mode="r")
        return cls([np.asarray(a) for a in arr], patch, seed, detail_draws)

    def _random_crop(self) -> np.ndarray:
        img = self.photos[self.rng.integers(len(self.photos))]
        y = self.rng.integers(img.shape[0] - self.patch + 1)
        x = self.rng.integers(img.shape[1] - self.patch + 1)
        return img[y:y + self.patch, x:x + self.patch]

    def batch(self, size: int) -> torch.Tensor:
        out = np.empty((size, self.patch, self.patch, 3), dtype=np.uint8)
        for i in range(size):
            crop = self._random_crop()
            if self.detail_draws > 1:  # uniform crops need no scoring
                crop = max([crop] + [self._random_crop() for _ in range(self.detail_draws - 1)], key=detail)
            if self.rng.random() < 0.5:
                crop = crop[:, ::-1]
            if self.rng.random() < 0.5:
                crop = crop[::-1]
            out[i] = crop
        return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous().float().div_(255.0)

    def export_npy(self, path: str | Path, count: int, size: int) -> None:
        """Cut `count` random size×size crops into one compact .npy (for carrying elsewhere)."""
        saved = self.patch
        self.patch = size
        try:
            arr = (self.batch(count) * 255).round().byte().permute(0, 2, 3, 1).numpy()
        finally:
            self.patch = saved
        np.save(path, arr)
