"""The "一件事" catalogue: each matter and the ordered links of its chain, with the department
that owns each link.

Kept here, beside the templates' schema, because a checklist template or profile names the
matter and link it inspects (``chain: {matter: lpg, link: use}``) and the validator must be able
to refuse a link that does not exist; the server seeds its ``matter``/``matter_link`` tables
from the same list (``db upgrade`` and the demo), so a tag raised from a template always
resolves. Departments are the city's defaults; a deployment may change them in the database
(seeding never overwrites a row that is already there).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MATTERS", "LinkDef", "MatterDef", "link_id", "matter_def"]


@dataclass(frozen=True, slots=True)
class LinkDef:
    """One link of a chain; its id is ``<matter>.<stage>``."""

    stage: str
    zh: str
    en: str
    department: str


@dataclass(frozen=True, slots=True)
class MatterDef:
    id: str
    zh: str
    en: str
    lead_department: str
    links: tuple[LinkDef, ...]

    def link_ids(self) -> list[str]:
        return [link_id(self.id, link.stage) for link in self.links]


def link_id(matter: str, stage: str) -> str:
    """The stored id of a link: ``lpg.use``."""
    return f"{matter}.{stage}"


MATTERS: tuple[MatterDef, ...] = (
    MatterDef(
        "lpg",
        "瓶装液化石油气",
        "Bottled LPG",
        "住房和城乡建设局",
        (
            LinkDef("filling", "充装", "Filling", "住房和城乡建设局"),
            LinkDef("storage", "储存", "Storage", "应急管理局"),
            LinkDef("transport", "运输配送", "Transport and delivery", "交通运输局"),
            LinkDef("sale", "销售", "Sale", "市场监督管理局"),
            LinkDef("use", "使用（餐饮）", "Use (catering)", "商务局"),
            LinkDef("disposal", "钢瓶检验报废", "Cylinder testing and scrapping", "市场监督管理局"),
        ),
    ),
    MatterDef(
        "piped_gas",
        "管道燃气",
        "Piped gas",
        "住房和城乡建设局",
        (
            LinkDef("operation", "经营（门站、储配站）", "Operation (gate and storage stations)", "住房和城乡建设局"),
            LinkDef("network", "输配管网", "Distribution network", "住房和城乡建设局"),
            LinkDef("protection", "设施保护（第三方施工）", "Facility protection (third-party works)", "住房和城乡建设局"),
            LinkDef("repair", "抢修", "Emergency repair", "住房和城乡建设局"),
            LinkDef("use", "用户使用", "Use", "住房和城乡建设局"),
        ),
    ),
    MatterDef(
        "ebike",
        "电动自行车",
        "E-bikes",
        "消防救援支队",
        (
            LinkDef("production", "生产", "Production", "工业和信息化局"),
            LinkDef("sale", "销售", "Sale", "市场监督管理局"),
            LinkDef("repair", "维修", "Repair", "市场监督管理局"),
            LinkDef("use", "使用登记", "Registration and use", "公安局"),
            LinkDef("parking", "停放", "Parking", "住房和城乡建设局"),
            LinkDef("charging", "充电", "Charging", "消防救援支队"),
            LinkDef("recycling", "报废回收", "Scrapping and recycling", "商务局"),
        ),
    ),
    MatterDef(
        "hazardous_chemicals",
        "危险化学品",
        "Hazardous chemicals",
        "应急管理局",
        (
            LinkDef("production", "生产", "Production", "应急管理局"),
            LinkDef("storage", "储存经营", "Storage and trade", "应急管理局"),
            LinkDef("loading", "充装装卸", "Filling and loading", "交通运输局"),
            LinkDef("transport", "道路运输", "Road transport", "交通运输局"),
            LinkDef("use", "使用", "Use", "应急管理局"),
            LinkDef("disposal", "废弃处置", "Disposal", "生态环境局"),
        ),
    ),
)  # fmt: skip


def matter_def(matter: str) -> MatterDef | None:
    """The catalogue entry of ``matter``, or None."""
    return next((m for m in MATTERS if m.id == matter), None)
