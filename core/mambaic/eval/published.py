"""Published Kodak rate-distortion figures, kept as data to overlay on our measured curves.

These numbers were NOT measured by us: they come from papers and from CompressAI's results folder,
on the 24-image Kodak set (768x512), while ``mambaic eval`` measures on whatever images it is given.
They are plotted dashed and labelled "published, Kodak" so nobody mistakes them for our results,
and no BD-rate is computed against them (different images, so it would mean nothing).

What could not be found as numbers is left out rather than guessed:
- MambaIC's full Kodak curve is only published as a figure (paper Fig. / official repo
  ``figures/results.png``); the paper's text gives one operating point, included as a single
  marker, and its headline BD-rate (-12.52 % vs VTM on Kodak), quoted in the report.
- TCM's MS-SSIM and ELIC's MS-SSIM for MSE-trained models are not published as numbers in the
  sources below, so those curves have PSNR only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PublishedCurve:
    """An RD curve from the literature, in CompressAI's result vocabulary."""

    name: str
    source: str  # where the numbers come from (citable)
    bpp: tuple[float, ...]
    psnr_rgb: tuple[float, ...]
    ms_ssim_rgb: tuple[float, ...] = field(default=())
    note: str = ""


# CompressAI, results/image/kodak/vtm.json (InterDigitalInc/CompressAI, file last changed in commit
# 3d3c9bb, 2023-01-31). VVC reference software; the version is not recorded in the file.
VTM = PublishedCurve(
    name="VTM (VVC)",
    source="CompressAI results/image/kodak/vtm.json",
    bpp=(0.04824490017361111, 0.11249542236328125, 0.24581654866536465, 0.4905454847547744,
         0.8748101128472224, 1.43084971110026, 2.3246070014105906, 3.6326090494791665),
    psnr_rgb=(26.14484539430146, 28.493021754424603, 31.199873720014093, 34.26153257289846,
              37.419793158067485, 40.42444421698711, 43.505766973634486, 46.59176008512777),
    ms_ssim_rgb=(0.8606081604957581, 0.9176909327507019, 0.9561077281832695, 0.9780782933036486,
                 0.988776795566082, 0.9938599988818169, 0.9969479044278463, 0.9986564020315806),
)  # fmt: skip

# CompressAI, results/image/kodak/bpg_444_x265_ycbcr.json: "BPG 8b 444 x265 ycbcr", bpgenc 0.9.8.
BPG = PublishedCurve(
    name="BPG 4:4:4 (x265)",
    source="CompressAI results/image/kodak/bpg_444_x265_ycbcr.json (BPG 0.9.8)",
    bpp=(0.06776767306857638, 0.1610234578450521, 0.35155402289496523, 0.6846966213650174,
         1.1996654934353295, 1.9297120836046002, 3.0578757392035594, 4.703142801920573),
    psnr_rgb=(26.19512806390954, 28.68154930675666, 31.5946565907943, 34.857473813062924,
              38.259886899666974, 41.47887283561703, 44.70311031066196, 47.63251604714922),
    ms_ssim_rgb=(0.8685900047421455, 0.9242047940691313, 0.9611444820960363, 0.9807986840605736,
                 0.9904666990041733, 0.9949331854780515, 0.9975460593899091, 0.9988023291031519),
)  # fmt: skip

# CompressAI, results/image/kodak/paper-elic2022_mse.json ("official results", He et al., ELIC,
# CVPR 2022, https://arxiv.org/abs/2203.10886), added to CompressAI in commit 5b4aac0.
ELIC = PublishedCurve(
    name="ELIC",
    source="He et al., CVPR 2022 (arXiv 2203.10886), via CompressAI paper-elic2022_mse.json",
    bpp=(0.1235, 0.1965, 0.3337, 0.4908, 0.7041, 0.8573),
    psnr_rgb=(29.113, 30.698, 32.784, 34.577, 36.488, 37.624),
)

# Liu, Sun, Katto, "Learned Image Compression with Mixed Transformer-CNN Architectures", CVPR 2023:
# official repository jmliu206/LIC_TCM, RD_data.md, section "Large / Kodak".
TCM = PublishedCurve(
    name="TCM (large)",
    source="Liu et al., CVPR 2023, official repo jmliu206/LIC_TCM RD_data.md (Large, Kodak)",
    bpp=(0.155, 0.194, 0.300, 0.443, 0.625, 0.880),
    psnr_rgb=(30.07, 30.85, 32.59, 34.33, 36.15, 38.07),
)

# Zeng et al., "MambaIC: State Space Models for High-Performance Learned Image Compression",
# CVPR 2025 (arXiv 2503.12461), bitstream comparison table: 0.4404 bpp for the 8x8-window model
# "at PSNR ≈ 34.2 dB" on Kodak (the table gives the PSNR only approximately). The full curve is
# only published as a figure, so this single point is all we plot.
MAMBAIC_PAPER = PublishedCurve(
    name="MambaIC (paper)",
    source="Zeng et al., CVPR 2025 (arXiv 2503.12461), bitstream-comparison table",
    bpp=(0.4404,),
    psnr_rgb=(34.2,),
    note="one operating point; PSNR stated as approximately 34.2 dB",
)

# The paper's headline claim, quoted in reports next to our own measurement.
MAMBAIC_PAPER_BD_RATE_VS_VTM_KODAK = -12.52

CURVES: tuple[PublishedCurve, ...] = (VTM, BPG, ELIC, TCM, MAMBAIC_PAPER)
