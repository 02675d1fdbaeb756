"""Pure trading logic: orders, positions, ASL, risk, and the stream's coalescing rules."""
