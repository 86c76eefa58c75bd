"""PixDesk: turn a still image into a short video with pixverse/v5/image-to-video."""

__version__ = "0.1.0"
APP_NAME = "PixDesk"
