"""Network helpers shared by broker clients: time sync and rate limiting."""
