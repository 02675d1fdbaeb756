"""The Volumetrica simulator: REST token endpoint + binary protobuf WebSocket on the shared engine."""

from .sim import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, SimConfig, VolumetricaSim

__all__ = ["BUILTIN_LOGIN", "BUILTIN_PASSWORD", "BUILTIN_PLATFORM_KEY", "SimConfig", "VolumetricaSim"]
