"""imgtui: explore and clean up Docker images and their layers from the keyboard."""

__version__ = "0.1.0"
