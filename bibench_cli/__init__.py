"""bibench: benchmark network binarization algorithms."""

__version__ = "0.1.0"
