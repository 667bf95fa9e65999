"""Time/role rules, echo-map rules, the override file and every bad-input error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from QMRIMappingLib.errors import UserInputError
from QMRIMappingLib.importers import load_input
from QMRIMappingLib.importers.roles import decide_echo_map
from QMRIMappingLib.importers.time_rules import (
    BUILTIN_PRIVATE_TAGS,
    decide_prepared,
    parse_text,
)
from QMRIMappingLib.importers.volume import Volume
from tests.dicom_fixtures import write_phantom_folder, write_series


@pytest.mark.parametrize(("text", "family", "time_ms"), [
    ("TSL10", "t1rho", 10.0),
    ("TSL_10", "t1rho", 10.0),
    ("SL_10ms", "t1rho", 10.0),
    ("SL10", "t1rho", 10.0),
    ("T1rho 10ms", "t1rho", 10.0),
    ("t1RHO_TSL40MS", "t1rho", 40.0),
    ("spin lock 20 ms", "t1rho", 20.0),
    ("T1ρ 30", "t1rho", 30.0),
    ("WIP T1rho_TSL10ms SENSE", "t1rho", 10.0),
    ("T2prep 20", "t2", 20.0),
    ("T2prep_20ms", "t2", 20.0),
    ("TP18.2", "t2", 18.2),
    ("T2p 20", "t2", 20.0),
    ("t2-PREP 40", "t2", 40.0),
    ("WIP T2prep 18.2ms SENSE", "t2", 18.2),
    ("TSL 0.02 s", "t1rho", 20.0),
])
def test_description_patterns(text: str, family: str, time_ms: float) -> None:
    found = parse_text([("SeriesDescription", text)])
    assert found.times == {family: (time_ms, found.times[family][1])}
    decision = decide_prepared(found.times, found.named, "description", text)
    assert decision.role == family and decision.time_ms == time_ms


@pytest.mark.parametrize("text", [
    "Multi_echo_10_echos_180_RFP", "Kidney_T2star_m-FFE_3x3x5_SPIR_volume_inphase",
    "STEP 1 localizer", "T2 TSE SENSE", "DWI b800", "SL",
])
def test_unrelated_descriptions_name_no_preparation(text: str) -> None:
    found = parse_text([("SeriesDescription", text)])
    assert not found.named and not found.times


@pytest.mark.parametrize(("text", "role"), [
    ("T1rho", "t1rho"), ("T1r", "t1rho"), ("T1ρ", "t1rho"), ("TSL", "t1rho"),
    ("spin-lock", "t1rho"), ("T2prep", "t2"), ("T2-prep", "t2"), ("T2p", "t2"),
])
def test_role_words_without_time(text: str, role: str) -> None:
    found = parse_text([("SeriesDescription", text)])
    decision = decide_prepared(found.times, found.named, "description", text)
    assert decision.role == role and decision.time_ms is None


def test_shared_image_text_and_one_zero_rule() -> None:
    found = parse_text([("SeriesDescription", "WIP T1rho_T2prep TSL0 TP0 SENSE")])
    decision = decide_prepared(found.times, found.named, "description", "x")
    assert decision.role == "shared" and decision.time_ms == 0.0


def test_two_times_in_one_text_is_a_problem() -> None:
    assert parse_text([("SeriesDescription", "TSL10 SL30")]).problem


def test_builtin_private_table_only_enables_certain_entries() -> None:
    enabled = {(r.group, r.element, r.meaning) for r in BUILTIN_PRIVATE_TAGS if r.enabled}
    assert (0x2005, 0x0E, "scale_slope") in enabled
    assert all(r.meaning not in ("spin_lock_time", "t2prep_time")
               for r in BUILTIN_PRIVATE_TAGS if r.enabled)


def _volume(**info) -> Volume:
    return Volume(label="v", files=[], geometry=None, load=lambda: None, info=info)


@pytest.mark.parametrize(("info", "expected"), [
    ({"scanning_sequence": "GR"}, "T2star"),
    ({"scanning_sequence": "SE"}, "T2"),
    ({"scanning_sequence": "GR\\IR"}, "T2star"),
    ({"scanning_sequence": "RM", "description": "Kidney_T2star_m-FFE_3x3x5"}, "T2star"),
    ({"scanning_sequence": "", "sequence_name": "*fl2d12"}, "T2star"),
    ({"scanning_sequence": "", "sequence_name": "*se2d1"}, "T2"),
    ({"scanning_sequence": "RM", "protocol": "ME-GRE liver"}, "T2star"),
    ({"scanning_sequence": "RM", "protocol": "MESE T2 map"}, "T2"),
    ({"scanning_sequence": "RM", "protocol": "CPMG"}, "T2"),
    ({"echo_pulse_sequence": "GRADIENT"}, "T2star"),
])
def test_echo_map_rules(info: dict, expected: str) -> None:
    name, reason, guessed = decide_echo_map([_volume(**info)], None)
    assert name == expected and not guessed and reason


def test_echo_map_undecided_is_flagged_and_argument_wins() -> None:
    name, reason, guessed = decide_echo_map([_volume(scanning_sequence="RM")], None)
    assert (name, guessed) == ("T2", True) and "echo_map" in reason
    assert decide_echo_map([_volume(scanning_sequence="SE")], "T2star")[0] == "T2star"


# --- override file ---------------------------------------------------------------------

@pytest.fixture
def phantom(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    write_phantom_folder(root, junk=False)
    return root


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("series,time_ms,role\n" + "\n".join(rows) + "\n")
    return path


def test_override_csv_always_wins(phantom: Path, tmp_path: Path) -> None:
    overrides = _csv(tmp_path / "o.csv", [
        "WIP T1rho_TSL10ms SENSE,12,t1rho",      # exact SeriesDescription
        "301,33,",                                 # SeriesNumber, role kept
        "study/series07/*,66,t2",                  # glob on files
    ])
    loaded = load_input(phantom, override_file=overrides)
    times = {im.metadata["series_number"]: im.time_ms for im in loaded.images}
    assert times[201] == 12.0 and times[301] == 33.0 and times[701] == 66.0
    assert times[401] == 50.0  # untouched rows keep the automatic time
    changed = [im for im in loaded.images if im.metadata["time_source"] == "override"]
    assert len(changed) == 3 and all("override" in im.reason for im in changed)


def test_override_by_uid_and_folder_json_and_yaml(phantom: Path, tmp_path: Path) -> None:
    import pydicom

    uid = pydicom.dcmread(next((phantom / "study" / "series02").iterdir())).SeriesInstanceUID
    json_file = tmp_path / "o.json"
    json_file.write_text(json.dumps([{"series": uid, "time_ms": 11, "role": "t1rho"},
                                     {"series": "study/series05", "time_ms": 19, "role": "t2"}]))
    loaded = load_input(phantom, override_file=json_file)
    assert {11.0, 19.0} <= {im.time_ms for im in loaded.images}
    yaml_file = tmp_path / "o.yaml"
    yaml_file.write_text("series:\n  - {series: 401, time_ms: 55, role: t1rho}\n")
    assert 55.0 in {im.time_ms for im in load_input(phantom, override_file=yaml_file).images}


def test_override_skip_role_and_shared(phantom: Path, tmp_path: Path) -> None:
    overrides = _csv(tmp_path / "o.csv", ["701,,skip"])
    loaded = load_input(phantom, override_file=overrides)
    assert 60.0 not in {im.time_ms for im in loaded.images}
    assert any("skipped by override" in note for note in loaded.notes)


def test_override_rescues_series_without_times(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for number, echo in enumerate((2.0, 2.0, 2.0), start=1):
        write_series(root / str(number), description=f"liver scan {number}", number=number,
                     echo_times=(echo,), seed=number)
    with pytest.raises(UserInputError, match="no mapping set"):
        load_input(root)
    overrides = _csv(tmp_path / "o.csv", ["1,0,t1rho", "2,10,t1rho", "3,30,t1rho"])
    loaded = load_input(root, override_file=overrides)
    assert loaded.kind == "prepared"
    assert [im.time_ms for im in loaded.map_series()["T1rho"]] == [0.0, 10.0, 30.0]


def test_unmatched_override_row_names_the_row(phantom: Path, tmp_path: Path) -> None:
    overrides = _csv(tmp_path / "o.csv", ["201,10,t1rho", "no such series,5,t2"])
    with pytest.raises(UserInputError, match=r"line 3 \(series 'no such series'\) matches no"):
        load_input(phantom, override_file=overrides)


def test_ambiguous_override_row_is_an_error(phantom: Path, tmp_path: Path) -> None:
    overrides = _csv(tmp_path / "o.csv", ["study/*,10,t1rho"])
    with pytest.raises(UserInputError, match="matches 7 images"):
        load_input(phantom, override_file=overrides)


@pytest.mark.parametrize(("content", "message"), [
    ("series,time\n1,2\n", "header"),
    ("series,time_ms,role\n201,ten,t1rho\n", "not a number"),
    ("series,time_ms,role\n201,10,t3\n", "role 't3'"),
    ("series,time_ms,role\n201,,t1rho\n", "no time_ms"),
])
def test_bad_override_files(phantom: Path, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "o.csv"
    path.write_text(content)
    with pytest.raises(UserInputError, match=message):
        load_input(phantom, override_file=path)


def test_override_file_missing(phantom: Path, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        load_input(phantom, override_file=tmp_path / "nope.csv")


def test_private_tag_rule_from_rules_file(tmp_path: Path) -> None:
    import pydicom

    root = tmp_path / "in"
    for number, prep in enumerate((0.0, 25.0, 50.0), start=1):
        written = write_series(root / str(number), description="T2prep", number=number,
                               seed=number)
        for path in written.files:
            ds = pydicom.dcmread(path)
            block = ds.private_block(0x2001, "Philips Imaging DD 001", create=True)
            block.add_new(0x1B, "FL", prep)
            ds.save_as(path, enforce_file_format=True)
    with pytest.raises(UserInputError, match="no T2-prep time found"):
        load_input(root)
    rules = tmp_path / "rules.yaml"
    rules.write_text("private_tags:\n  - {manufacturer: Philips, tag: '2001,xx1B', "
                     "creator: 'Philips Imaging DD 001', meaning: t2prep_time, unit: ms}\n")
    loaded = load_input(root, override_file=rules)
    assert [im.time_ms for im in loaded.map_series()["T2"]] == [0.0, 25.0, 50.0]
    assert "(2001,xx1B)" in loaded.images[1].reason


# --- roles -----------------------------------------------------------------------------

def test_separate_zero_images_stay_in_their_own_sets(tmp_path: Path) -> None:
    series = [("T1rho TSL0", "x"), ("T1rho TSL20", "x"), ("T2prep 0ms", "x"),
              ("T2prep 30ms", "x")]
    for number, (description, _) in enumerate(series, start=1):
        write_series(tmp_path / str(number), description=description, number=number,
                     seed=number)
    loaded = load_input(tmp_path)
    roles = {(im.role, im.time_ms) for im in loaded.images}
    assert roles == {("t1rho", 0.0), ("t1rho", 20.0), ("t2", 0.0), ("t2", 30.0)}
    assert len(loaded.map_series()["T1rho"]) == 2 and len(loaded.map_series()["T2"]) == 2


def test_single_zero_image_with_both_sets_becomes_shared(tmp_path: Path) -> None:
    for number, description in enumerate(("T1rho TSL0", "T1rho TSL20", "T2prep 30ms",
                                          "T2prep 60ms"), start=1):
        write_series(tmp_path / str(number), description=description, number=number,
                     seed=number)
    loaded = load_input(tmp_path)
    zero = next(im for im in loaded.images if im.time_ms == 0.0)
    assert zero.role == "shared" and "only zero-time image" in zero.reason
    assert [im.time_ms for im in loaded.map_series()["T2"]] == [0.0, 30.0, 60.0]


def test_trigger_time_rule(tmp_path: Path) -> None:
    for number, trigger in enumerate((0.0, 15.0, 45.0), start=1):
        write_series(tmp_path / "vary" / str(number), description="T1rho SENSE",
                     number=number, trigger_time=trigger, seed=number)
        write_series(tmp_path / "same" / str(number), description="T1rho SENSE",
                     number=number, trigger_time=300.0, seed=number)
    loaded = load_input(tmp_path / "vary")
    assert [im.time_ms for im in loaded.map_series()["T1rho"]] == [0.0, 15.0, 45.0]
    assert "TriggerTime" in loaded.images[0].reason
    with pytest.raises(UserInputError, match="no TSL time found"):
        load_input(tmp_path / "same")


# --- bad input -------------------------------------------------------------------------

def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        load_input(tmp_path / "nothing")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="empty"):
        load_input(tmp_path)


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "b.bin").write_bytes(b"\x00" * 400)
    with pytest.raises(UserInputError, match="no usable images"):
        load_input(tmp_path)


def test_single_time_point_in_a_set(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="WIP T1rho_TSL10ms SENSE", number=1)
    write_series(tmp_path / "b", description="T2prep 20ms", number=2, seed=2)
    write_series(tmp_path / "c", description="T2prep 40ms", number=3, seed=3)
    with pytest.raises(UserInputError,
                       match=r"only one time point \(TSL 10 ms.*for T1rho.*at least 2"):
        load_input(tmp_path)


def test_duplicate_times_name_both_files(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho TSL10", number=2, seed=2)
    write_series(tmp_path / "c", description="T1rho_TSL_10ms", number=3, seed=3)
    with pytest.raises(UserInputError, match=r"TSL 10 ms.*b/IM_.*c/IM_|TSL 10 ms.*c/IM_.*b/IM_"):
        load_input(tmp_path)


def test_description_times_in_seconds_are_detected(tmp_path: Path) -> None:
    for number, value in enumerate(("0", "0.01", "0.03"), start=1):
        write_series(tmp_path / str(number), description=f"T1rho TSL{value}", number=number,
                     seed=number)
    with pytest.raises(UserInputError, match="look like seconds.*descriptions"):
        load_input(tmp_path)


def test_override_times_in_seconds_are_detected(phantom: Path, tmp_path: Path) -> None:
    overrides = _csv(tmp_path / "o.csv", ["101,0,shared", "201,0.01,t1rho", "301,0.03,t1rho",
                                          "401,0.05,t1rho"])
    with pytest.raises(UserInputError, match="T1rho times .* look like seconds.*override"):
        load_input(phantom, override_file=overrides)


def test_geometry_mismatch_names_both_files(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho TSL10", number=2, seed=2)
    write_series(tmp_path / "c", description="T1rho TSL30", number=3, seed=3,
                 pixel_spacing=(1.0, 1.0))
    with pytest.raises(UserInputError, match=r"c/IM_\d+\.dcm.*not on the grid of.*a/IM_.*spacing"):
        load_input(tmp_path)


def test_geometry_position_mismatch(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho TSL10", number=2, seed=2,
                 origin=(-100.0, -80.0, 45.0))
    with pytest.raises(UserInputError, match="position"):
        load_input(tmp_path)


def test_all_zero_image_is_named(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho TSL10", number=2,
                 stored={2.3: np.zeros((4, 16, 16), np.uint16)})
    with pytest.raises(UserInputError, match=r"series 2 'T1rho TSL10' \(b/IM_.*all zero"):
        load_input(tmp_path)


def test_negative_values_are_named(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho TSL10", number=2, seed=2,
                 rescale_intercept=-5000.0)
    with pytest.raises(UserInputError, match=r"'T1rho TSL10'.*negative values"):
        load_input(tmp_path)


def test_nan_values_are_named(tmp_path: Path) -> None:
    """Float pixel data (7FE0,0008) can carry NaN; the image holding it must be named."""
    import pydicom

    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    written = write_series(tmp_path / "b", description="T1rho TSL10", number=2, seed=2)
    for path in written.files:
        ds = pydicom.dcmread(path)
        del ds.PixelData, ds.PixelRepresentation
        values = np.full((16, 16), 5.0, np.float32)
        values[0, 0] = np.nan
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
        ds.FloatPixelData = values.tobytes()
        ds.save_as(path, enforce_file_format=True)
    with pytest.raises(UserInputError, match=r"'T1rho TSL10' \(b/IM_\d+\.dcm\).*NaN"):
        load_input(tmp_path)


def test_prepared_series_without_time_asks_for_override(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho fast", number=2, seed=2)
    with pytest.raises(UserInputError, match="no TSL time found for series 2.*override"):
        load_input(tmp_path)


@pytest.mark.parametrize("value", ["T1", "t2 star", "", "R2"])
def test_bad_echo_map_argument(tmp_path: Path, value: str) -> None:
    write_series(tmp_path, description="x", number=1)
    with pytest.raises(UserInputError, match="echo_map"):
        load_input(tmp_path, echo_map=value)


def test_errors_are_one_line(tmp_path: Path) -> None:
    write_series(tmp_path / "a", description="T1rho TSL0", number=1)
    write_series(tmp_path / "b", description="T1rho TSL0 again", number=2, seed=2)
    with pytest.raises(UserInputError) as caught:
        load_input(tmp_path)
    assert "\n" not in str(caught.value)
