"""The MambaIC network, its configurations and its rate-distortion loss."""

from mambaic.models.config import CONFIGS, LITE, PAPER, TINY, ModelConfig
from mambaic.models.mambaic import MambaIC
from mambaic.models.registry import build_model, get_config
from mambaic.models.streams import LatentStreams

__all__ = ["CONFIGS", "LITE", "PAPER", "TINY", "ModelConfig", "MambaIC", "build_model", "get_config",
           "LatentStreams"]
