"""The test images: the registry of public files, their checked download, and image files."""
