"""Rate-distortion evaluation and speed benchmarks of mambaic against classic and learned codecs.

Submodules: ``metrics`` (PSNR, MS-SSIM), ``classic`` and ``hevc`` (reference codecs), ``bdrate``,
``published`` (reference curves from papers), ``report`` (JSON/CSV/Markdown/PNG writers),
``evaluate`` (the ``mambaic eval`` driver) and ``bench`` (the ``mambaic bench`` driver).
"""
