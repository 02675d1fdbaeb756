"""Sidedesk host: the native-messaging process behind the Sidedesk side panel."""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
