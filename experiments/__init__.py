"""Named experiment grids (the repository's top-level experiments/)."""
