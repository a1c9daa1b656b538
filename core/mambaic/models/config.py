"""Model configurations as frozen dataclasses, named so files and weights can refer to them.

`paper` is the published MambaIC size (N=128, M=320, K=5). `lite` is what we ship and train on a
2-core CPU. `tiny` exists only so tests run in seconds. The switches (`transform_block`,
`context_block`, `use_wla`, `use_spatial_context`, `use_channel_context`) let the paper's ablations
be re-run from the same code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Literal

BlockKind = Literal["vss", "conv", "transformer"]

#: The five rate-distortion trade-offs of the paper, q = 1 … 5.
PAPER_LAMBDAS: tuple[float, ...] = (0.0035, 0.0067, 0.013, 0.025, 0.05)


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a `MambaIC` model; stored inside every weights file."""

    name: str
    N: int = 128  # channels of the hyper-latent z
    M: int = 320  # channels of the latent y
    num_slices: int = 5  # K channel slices in the context model
    widths: tuple[int, int, int] = (128, 128, 128)  # g_a widths at 1/2, 1/4, 1/8 (g_s mirrored)
    depths: tuple[int, int, int, int] = (1, 2, 2, 2)  # base blocks after each stride-2 stage of g_a
    d_state: int = 16  # SSM state size per channel
    ssm_ratio: float = 2.0  # SS2D inner width = ratio · block width
    context_width: int = 192  # width of the channel/spatial context features
    context_depth: int = 1  # base blocks inside each context network
    aggregation_width: int = 256  # width after parameter aggregation (WLA runs at this width)
    window_size: int = 8  # window of the local attention after aggregation
    attention_heads: int = 8
    transform_block: BlockKind = "vss"
    context_block: BlockKind = "vss"
    use_wla: bool = True
    use_channel_context: bool = True
    use_spatial_context: bool = True
    chroma_filter: bool = False  # fixed chroma low-pass after g_s (models/chroma.py); off in older weights
    lambdas: tuple[float, ...] = field(default=PAPER_LAMBDAS)

    @property
    def slice_channels(self) -> int:
        if self.M % self.num_slices:
            raise ValueError(f"M={self.M} is not divisible into {self.num_slices} slices")
        return self.M // self.num_slices

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        tuples = {k: tuple(v) for k, v in data.items() if isinstance(v, list)}
        return cls(**{**data, **tuples})

    def with_(self, **changes) -> "ModelConfig":
        return replace(self, **changes)


PAPER = ModelConfig(name="paper")

LITE = ModelConfig(
    name="lite",
    N=96,
    M=160,
    num_slices=5,
    widths=(48, 96, 128),
    depths=(0, 1, 1, 1),
    d_state=8,
    ssm_ratio=1.0,
    context_width=64,
    context_depth=1,
    aggregation_width=96,
    attention_heads=4,
)

TINY = ModelConfig(
    name="tiny",
    N=16,
    M=40,
    num_slices=5,
    widths=(16, 16, 24),
    depths=(0, 1, 0, 1),
    d_state=4,
    ssm_ratio=1.0,
    context_width=16,
    context_depth=1,
    aggregation_width=16,
    attention_heads=2,
)

CONFIGS: dict[str, ModelConfig] = {c.name: c for c in (PAPER, LITE, TINY)}
