"""Closed vocabularies of the domain, with their Chinese and English names."""

from __future__ import annotations

from enum import StrEnum


class Industry(StrEnum):
    mine = "mine"
    chemical = "chemical"
    high_rise = "high_rise"
    crowded_venue = "crowded_venue"
    town_gas = "town_gas"
    ebike = "ebike"
    transport = "transport"
    construction = "construction"
    industry_trade = "industry_trade"


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
    # 城镇燃气: each is a profile of the town_gas template
    gas_operator = "gas_operator"
    lpg_storage = "lpg_storage"
    lpg_delivery = "lpg_delivery"
    lpg_shop = "lpg_shop"
    cylinder_testing = "cylinder_testing"
    canteen = "canteen"
    market = "market"
    piped_user = "piped_user"
    gas_network = "gas_network"
    gas_works = "gas_works"
    gas_repair = "gas_repair"
    # 电动自行车: each is a profile of the ebike template
    ebike_producer = "ebike_producer"
    ebike_shop = "ebike_shop"
    ebike_repair = "ebike_repair"
    residential_compound = "residential_compound"
    public_building = "public_building"
    charging_site = "charging_site"
    # 危险货物道路运输, 房屋市政工程, 工贸: each is a profile of its template
    hazmat_carrier = "hazmat_carrier"
    hazmat_loader = "hazmat_loader"
    hazmat_parking = "hazmat_parking"
    building_site = "building_site"
    municipal_site = "municipal_site"
    metallurgy = "metallurgy"
    nonferrous = "nonferrous"
    building_materials = "building_materials"
    machinery = "machinery"
    light_industry = "light_industry"
    textiles = "textiles"
    tobacco = "tobacco"
    trade = "trade"
    dust_plant = "dust_plant"
    ammonia_refrigeration = "ammonia_refrigeration"


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
    "town_gas": ("城镇燃气", "Town gas"),
    "ebike": ("电动自行车", "E-bikes"),
    "transport": ("危险货物道路运输", "Dangerous-goods road transport"),
    "construction": ("房屋市政工程", "Building and municipal construction"),
    "industry_trade": ("工贸", "Industry and trade"),
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
    "gas_operator": ("管道燃气经营企业", "Piped-gas operator"),
    "lpg_storage": ("液化石油气储配站", "LPG storage depot"),
    "lpg_delivery": ("瓶装液化气配送", "Bottled-LPG delivery"),
    "lpg_shop": ("瓶装液化气供应站", "Bottled-LPG shop"),
    "cylinder_testing": ("气瓶检验站", "Cylinder testing station"),
    "canteen": ("单位食堂", "Canteen"),
    "market": ("农贸市场及商铺", "Market and shops"),
    "piped_user": ("管道燃气商业用户", "Piped-gas commercial user"),
    "gas_network": ("燃气管网", "Gas network"),
    "gas_works": ("燃气设施旁施工", "Works near gas facilities"),
    "gas_repair": ("燃气抢修", "Gas emergency repair"),
    "ebike_producer": ("电动自行车生产企业", "E-bike producer"),
    "ebike_shop": ("电动自行车销售门店", "E-bike shop"),
    "ebike_repair": ("电动自行车维修点", "E-bike repair shop"),
    "residential_compound": ("住宅小区", "Residential compound"),
    "public_building": ("公共建筑", "Public building"),
    "charging_site": ("电动自行车集中充电场所", "E-bike charging site"),
    "hazmat_carrier": ("危险货物道路运输企业", "Dangerous-goods road carrier"),
    "hazmat_loader": ("危险货物充装装载单位", "Dangerous-goods filling and loading site"),
    "hazmat_parking": ("危险货物运输车辆停车场", "Dangerous-goods vehicle car park"),
    "building_site": ("房屋建筑工地", "Building construction site"),
    "municipal_site": ("市政工程工地", "Municipal works site"),
    "metallurgy": ("冶金企业", "Metallurgy plant"),
    "nonferrous": ("有色企业", "Non-ferrous metals plant"),
    "building_materials": ("建材企业", "Building materials plant"),
    "machinery": ("机械企业", "Machinery plant"),
    "light_industry": ("轻工企业", "Light industry plant"),
    "textiles": ("纺织企业", "Textile mill"),
    "tobacco": ("烟草企业", "Tobacco plant"),
    "trade": ("商贸企业", "Trade enterprise"),
    "dust_plant": ("粉尘涉爆企业", "Combustible-dust plant"),
    "ammonia_refrigeration": ("涉氨制冷企业", "Ammonia refrigeration plant"),
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
