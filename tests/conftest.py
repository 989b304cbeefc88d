from pathlib import Path

import pytest

from tests.support.videos import make_video


@pytest.fixture
def tiny_video(tmp_path: Path) -> Path:
    """A 2-second 64x48 H.264 MP4 at 10 fps."""
    return make_video(tmp_path / "tiny.mp4")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
