"""Files appear whole or not at all: the temporary sibling is moved into place, or deleted on failure."""

import pytest

from detection.atomic_files import replacing, temporaries_of, write_text


def test_a_file_appears_only_when_written_and_no_temporary_stays(tmp_path):
    target = tmp_path / "sub" / "metrics.json"
    with replacing(target) as staging:
        staging.write_text("{}")
        assert not target.exists() and staging.parent == target.parent and staging.name.startswith(".")
        assert staging.match(temporaries_of(target))
    assert target.read_text() == "{}" and sorted(p.name for p in target.parent.iterdir()) == ["metrics.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text(tmp_path / "report.md", "old")
    with pytest.raises(RuntimeError), replacing(target) as staging:
        staging.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_writer_that_needs_an_extension_gets_it(tmp_path):
    with replacing(tmp_path / "proxy.mp4", suffix=".mp4") as staging:
        assert staging.suffix == ".mp4"
        staging.write_bytes(b"x")
    assert (tmp_path / "proxy.mp4").read_bytes() == b"x"
