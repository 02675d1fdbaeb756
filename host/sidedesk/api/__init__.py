"""The host<->extension protocol: envelope, message models, dispatch and JSON Schema export."""
