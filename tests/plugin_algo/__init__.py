"""An out-of-tree binarization algorithm, used to test the plug-in point."""
