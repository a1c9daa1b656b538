"""Name → model: the one place configurations become networks."""

from __future__ import annotations

from mambaic.models.config import CONFIGS, ModelConfig
from mambaic.models.mambaic import MambaIC


def get_config(name_or_config: str | ModelConfig) -> ModelConfig:
    if isinstance(name_or_config, ModelConfig):
        return name_or_config
    try:
        return CONFIGS[name_or_config]
    except KeyError:
        raise ValueError(f"unknown model config {name_or_config!r}; known: {', '.join(CONFIGS)}") from None


def build_model(name_or_config: str | ModelConfig) -> MambaIC:
    return MambaIC(get_config(name_or_config))
