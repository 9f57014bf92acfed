"""Supervision levels have one name each, in both languages, wherever they are shown."""

from shared.supervision import CITY, DISTRICT, level_of, supervision_name


def test_each_level_has_one_name_in_each_language():
    assert supervision_name(0) == "" and level_of(0) is None
    assert supervision_name(DISTRICT) == "区县督办"
    assert supervision_name(CITY, "en") == "City supervision"
    assert supervision_name(7) == "市级督办"  # above the city is still the city
    assert level_of(DISTRICT).key == "district" and level_of(CITY).key == "city"
