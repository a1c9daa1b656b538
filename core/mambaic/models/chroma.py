"""A fixed chroma low-pass at the end of the synthesis transform: no colour at the pixel grid's
Nyquist frequency.

The last layer of g_s is a sub-pixel convolution: each of the four output phases of a 2×2 cell has
its own filters for R, G and B. Where those disagree in colour, fine luma texture (a fence, grass,
hair) comes out with a period-2 colour pattern, the magenta/green "plaid". Measured on a grey photo
coded with the 24 871-step weights, the R−G difference of the decoded image had 11× its median
spectral energy at the horizontal Nyquist frequency, where a grey image has none.

Natural images carry almost no chroma at that frequency (the premise of 4:2:0 sampling), so a
[1, 2, 1]/4 filter on Cb and Cr, which passes nothing at Nyquist, removes the pattern and leaves
luma untouched. It has no weights: any trained g_s can take it, and it is switched on per model
configuration (`ModelConfig.chroma_filter`) so weights trained without it decode as before.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: BT.601 full-range RGB → YCbCr (offsets dropped: the filter is linear and preserves the mean).
RGB_TO_YCC = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))


class ChromaLowpass(nn.Module):
    """(B, 3, H, W) RGB → the same image with Cb and Cr filtered by [1, 2, 1]/4 in both axes."""

    def __init__(self) -> None:
        super().__init__()
        forward = torch.tensor(RGB_TO_YCC)
        # Non-persistent: nothing enters the state dict, so weight files keep the same tensors.
        self.register_buffer("to_ycc", forward, persistent=False)
        self.register_buffer("to_rgb", torch.linalg.inv(forward), persistent=False)
        taps = torch.tensor([0.25, 0.5, 0.25])
        self.register_buffer("kernel", (taps[:, None] * taps[None, :]).expand(2, 1, 3, 3).clone(),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        to_ycc, to_rgb, kernel = (t.to(x.dtype) for t in (self.to_ycc, self.to_rgb, self.kernel))
        chroma = torch.einsum("cd,bdhw->bchw", to_ycc[1:], x)
        smooth = F.conv2d(F.pad(chroma, (1, 1, 1, 1), mode="replicate"), kernel, groups=2)
        # x + M⁻¹·(0, ΔCb, ΔCr): luma is left exactly as g_s made it.
        return x + torch.einsum("cd,bdhw->bchw", to_rgb[:, 1:], smooth - chroma)
