"""Kept for imports written before tests/support/: the host process client lives in
`tests.support.hostproc`."""

from tests.support.hostproc import ORIGIN, HostError, HostProcess, TopicHost

__all__ = ["ORIGIN", "HostError", "HostProcess", "TopicHost"]
