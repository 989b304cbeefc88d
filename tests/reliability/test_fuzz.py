"""Property-based fuzzing of what strangers control: manifest files and the upload protocol's headers.

Whatever the input, the parsers either answer or raise their own clear error; never anything else.
"""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detection.datasets.manifest import read_manifest
from detection.errors import ManifestError
from webapp.uploads.protocol import UploadRejected, display_name, parse_length, parse_metadata

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cells = st.one_of(
    st.sampled_from(["", "normal", "anomalous", "train", "val", "test", "1-2", "2-1", "0.5-1.5;2-3", "boat",
                     "boat;person", "a.mp4", "../x.mp4", "/etc/passwd", "-", ";", "1e9-1e10", "nan-inf"]),
    st.text(alphabet=string.printable, max_size=20),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=7), max_size=8)


@FUZZ
@given(header=st.booleans(), body=rows, raw=st.binary(max_size=200))
def test_the_manifest_parser_answers_or_raises_a_manifest_error(tmp_path_factory, header, body, raw):
    folder = tmp_path_factory.mktemp("m")
    (folder / "a.mp4").write_bytes(b"not really a video")
    lines = (["video,label,split,intervals,classes"] if header else []) + [",".join(r) for r in body]
    manifest = folder / "manifest.csv"
    manifest.write_bytes("\n".join(lines).encode() + (b"\n" + raw if raw else b""))
    try:
        records = read_manifest(manifest, probe_durations=False)
    except ManifestError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    for record in records:
        assert Path(record.path).resolve().is_relative_to(folder.resolve())
        assert record.label in ("", "normal", "anomalous")
        assert all(i.end > i.start for i in record.intervals)


@FUZZ
@given(st.text(max_size=80))
def test_upload_metadata_parses_or_is_rejected_with_400(header):
    try:
        metadata = parse_metadata(header)
    except UploadRejected as exc:
        assert exc.status == 400
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=30), st.integers(min_value=-10**20, max_value=10**20).map(str)))
def test_length_headers_parse_or_are_rejected_with_400(value):
    try:
        length = parse_length(value, "Upload-Length")
    except UploadRejected as exc:
        assert exc.status == 400 and "Upload-Length" in str(exc)
        return
    assert isinstance(length, int) and length >= 0


@FUZZ
@given(st.text(max_size=300))
def test_display_names_never_carry_paths_or_control_characters(raw):
    name = display_name(raw)
    assert name and len(name) <= 255
    assert "/" not in name and "\\" not in name
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in name)


def test_line_separators_in_names_become_spaces():
    assert display_name("day\u2028one\u2029.mp4") == "day one .mp4"


@pytest.mark.parametrize("value", ["²", "١٢", "12a", " 12", "-1", ""])
def test_unusual_digits_in_lengths_are_rejected(value):
    with pytest.raises(UploadRejected):
        parse_length(value, "Upload-Offset")
