"""Volumetrica wire protocol: the protobuf bindings, the v5/v5.1 dialects, frames, conversions,
client ids, error wording and the token request (pure, no I/O). The simulators import these too."""
