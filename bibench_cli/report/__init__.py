"""``bibench report``: collect run records and external results, render the track tables."""
