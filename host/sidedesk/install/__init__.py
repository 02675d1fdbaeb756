"""Registering the host with browsers: manifests, Windows registry keys, and `sidedesk doctor`.

Nothing here is imported on the `sidedesk native` path.
"""
