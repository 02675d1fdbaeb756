"""Where things live on disk: paths, configuration, the journal."""
