"""Menu labels for recent files: the file name, and its folder where names alone would collide.

Photos from different cameras or days are often all called IMG_0001.jpg; two identical menu
entries would make the user guess which one opens what.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def recent_labels(paths: list[str]) -> list[str]:
    """"name" for a unique file name, "name — parent folder" for names that occur twice or more.

    When even the folder names agree ("a/photos/x.png", "b/photos/x.png") the full folder path is
    shown instead, so no two labels are the same.
    """
    names = Counter(Path(p).name for p in paths)
    labels = [f"{Path(p).name} — {Path(p).parent.name}" if names[Path(p).name] > 1
              else Path(p).name for p in paths]
    repeated = Counter(labels)
    return [f"{Path(p).name} — {Path(p).parent}" if repeated[label] > 1 else label
            for p, label in zip(paths, labels)]
