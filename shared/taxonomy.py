"""Closed vocabularies of the domain, with their Chinese and English names."""

from __future__ import annotations

from enum import StrEnum


class Industry(StrEnum):
    mine = "mine"
    chemical = "chemical"
    high_rise = "high_rise"
    crowded_venue = "crowded_venue"


class SiteType(StrEnum):
    coal_mine = "coal_mine"
    noncoal_underground = "noncoal_underground"
    open_pit = "open_pit"
    tailings = "tailings"
    chemical_plant = "chemical_plant"
    chemical_storage = "chemical_storage"
    gas_station = "gas_station"
    lpg_filling = "lpg_filling"
    residential_high_rise = "residential_high_rise"
    office_high_rise = "office_high_rise"
    school = "school"
    hospital = "hospital"
    mall = "mall"
    supermarket = "supermarket"
    elderly_care = "elderly_care"
    restaurant = "restaurant"
    logistics = "logistics"


class Severity(StrEnum):
    general = "general"
    major = "major"


class RiskColour(StrEnum):
    """四色: inherent risk of a site, from highest to lowest."""

    red = "red"
    orange = "orange"
    yellow = "yellow"
    blue = "blue"


NAMES: dict[str, tuple[str, str]] = {
    "mine": ("矿山", "Mine"),
    "chemical": ("危险化学品", "Hazardous chemicals"),
    "high_rise": ("高层建筑", "High-rise building"),
    "crowded_venue": ("人员密集场所", "Crowded venue"),
    "coal_mine": ("煤矿", "Coal mine"),
    "noncoal_underground": ("非煤地下矿山", "Non-coal underground mine"),
    "open_pit": ("露天矿山", "Open-pit mine"),
    "tailings": ("尾矿库", "Tailings dam"),
    "chemical_plant": ("化工企业", "Chemical plant"),
    "chemical_storage": ("危化品仓储", "Chemical storage"),
    "gas_station": ("加油加气站", "Fuel station"),
    "lpg_filling": ("液化气充装站", "LPG filling station"),
    "residential_high_rise": ("高层住宅", "High-rise residential"),
    "office_high_rise": ("高层公共建筑", "High-rise public building"),
    "school": ("学校", "School"),
    "hospital": ("医院", "Hospital"),
    "mall": ("商场", "Mall"),
    "supermarket": ("超市", "Supermarket"),
    "elderly_care": ("养老机构", "Elderly-care home"),
    "restaurant": ("餐饮场所", "Restaurant"),
    "logistics": ("物流配送", "Logistics"),
    "general": ("一般隐患", "General hazard"),
    "major": ("重大隐患", "Major hazard"),
    "red": ("红（重大风险）", "Red (major risk)"),
    "orange": ("橙（较大风险）", "Orange (high risk)"),
    "yellow": ("黄（一般风险）", "Yellow (moderate risk)"),
    "blue": ("蓝（低风险）", "Blue (low risk)"),
}


def name_of(value: str, lang: str = "zh") -> str:
    """Display name of a vocabulary value; the raw value when unknown."""
    zh, en = NAMES.get(value, (value, value))
    return en if lang.startswith("en") else zh
