"""Which checklist a site is inspected with, and under which profile: one rule for the
tablet's checklist picker, the console's plan form and the server's checks.

A site's sub-type (``SiteType``) names the templates that fit it, the first being the default,
each with the profiles that fit (the first the default): a non-coal open pit gets the non-coal
mine checklist with its open-pit items, not the coal one; a mall the crowded-venue checklist
with its mall items (or, in a high-rise, the high-rise one). A template this table does not
name (a newer one, or a test's) fits the sites of its own industry, under any profile.

Anything else is a mismatch: refused with the reason, unless the inspector or officer gives an
override reason, which is then recorded on the inspection or plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.errors import Refusal
from shared.taxonomy import name_of

if TYPE_CHECKING:
    from shared.checklist import Template


@dataclass(frozen=True)
class Fit:
    """A template that fits a site type; ``profiles`` None means any of the template's."""

    template_id: str
    profiles: tuple[str | None, ...] | None = None

    @property
    def profile(self) -> str | None:
        """The default profile."""
        return self.profiles[0] if self.profiles else None

    def takes(self, profile: str | None) -> bool:
        return self.profiles is None or profile in self.profiles


_MALL_IN_HIGH_RISE = Fit("high_rise_fire", ("public_crowded",))
SITE_CHECKLISTS: dict[str, tuple[Fit, ...]] = {
    "coal_mine": (Fit("coal_mine"),),
    "noncoal_underground": (Fit("noncoal_mine", ("underground",)),),
    "open_pit": (Fit("noncoal_mine", ("open_pit",)),),
    "tailings": (Fit("noncoal_mine", ("tailings",)),),
    "chemical_plant": (Fit("hazardous_chemicals"),),
    "chemical_storage": (Fit("hazardous_chemicals"),),
    "gas_station": (Fit("hazardous_chemicals"),),
    "lpg_filling": (Fit("hazardous_chemicals"),),
    "logistics": (Fit("hazardous_chemicals"),),
    "residential_high_rise": (Fit("high_rise_fire", ("residential",)),),
    "office_high_rise": (Fit("high_rise_fire", ("public", "public_crowded")),),
    "school": (Fit("crowded_venue", ("school",)),),
    "hospital": (Fit("crowded_venue", ("hospital",)),),
    "mall": (Fit("crowded_venue", ("mall",)), _MALL_IN_HIGH_RISE),
    "supermarket": (Fit("crowded_venue", ("supermarket",)), _MALL_IN_HIGH_RISE),
    "elderly_care": (Fit("crowded_venue", ("elderly_care",)),),
    "restaurant": (  # the venue items that apply to every type; its gas if it uses any
        Fit("crowded_venue", (None,)),
        Fit("town_gas", ("restaurant",)),
    ),
    # 城镇燃气 and 电动自行车 "一件事": each site type is the template's profile of that name
    **{
        t: (Fit("town_gas", (t,)),)
        for t in (
            "gas_operator",
            "lpg_storage",
            "lpg_delivery",
            "lpg_shop",
            "cylinder_testing",
            "canteen",
            "market",
            "piped_user",
            "gas_network",
            "gas_works",
            "gas_repair",
        )
    },  # fmt: skip
    **{
        t: (Fit("ebike", (t,)),)
        for t in (
            "ebike_producer",
            "ebike_shop",
            "ebike_repair",
            "residential_compound",
            "public_building",
            "charging_site",
        )
    },  # fmt: skip
}
SITE_CHECKLISTS["lpg_filling"] += (Fit("town_gas", ("lpg_filling",)),)
# 危险货物道路运输, 房屋市政工程 and 工贸: each site type is the template's profile of that name
SITE_CHECKLISTS.update(
    {
        t: (Fit("hazmat_road_transport", (t,)),)
        for t in ("hazmat_carrier", "hazmat_loader", "hazmat_parking")
    }
)
SITE_CHECKLISTS.update(
    {t: (Fit("construction", (t,)),) for t in ("building_site", "municipal_site")}
)
SITE_CHECKLISTS.update(
    {
        t: (Fit("industry_trade", (t,)),)
        for t in (
            "metallurgy",
            "nonferrous",
            "building_materials",
            "machinery",
            "light_industry",
            "textiles",
            "tobacco",
            "trade",
            "dust_plant",
            "ammonia_refrigeration",
        )
    }
)
# a chemical plant or depot that fills road tankers is also inspected as a dangerous-goods loader
for _t in ("chemical_plant", "chemical_storage", "lpg_filling"):
    SITE_CHECKLISTS[_t] += (Fit("hazmat_road_transport", ("hazmat_loader",)),)
SITE_CHECKLISTS["logistics"] += (
    Fit("hazmat_road_transport", ("hazmat_carrier", "hazmat_parking")),
)


@dataclass(frozen=True)
class SelfCheck:
    """A self-inspection (自查) the rules require of a site type, and how often.

    ``rhythm``: ``every_2h_open`` (公众聚集场所 营业期间至少每二小时一次, 公安部令61号 第二十五条,
    which includes the day's patrol), ``daily``, ``weekly``, ``monthly`` (第二十六条) or
    ``quarterly`` (a seasonal check once a quarter). One template may be owed at several rhythms,
    each under its own profile (a chemical plant's daily, weekly, monthly and seasonal checks)."""

    template_id: str
    rhythm: str
    profile: str | None = None


RHYTHMS = ("every_2h_open", "daily", "weekly", "monthly", "quarterly")
_PATROL_OPEN = SelfCheck("fire_patrol_daily", "every_2h_open")
_PATROL = SelfCheck("fire_patrol_daily", "daily")
_MONTHLY = SelfCheck("fire_check_monthly", "monthly")
_EBIKE = SelfCheck("ebike_patrol", "daily")
# The self-inspections of each site type (the enterprise's own, besides the regulator's
# checklists above): crowded venues and high-rise buildings patrol and check fire safety; gas
# end users check their installation daily; property managers patrol e-bike parking.
SELF_CHECKS: dict[str, tuple[SelfCheck, ...]] = {
    "mall": (_PATROL_OPEN, _MONTHLY),
    "supermarket": (_PATROL_OPEN, _MONTHLY),
    "restaurant": (_PATROL_OPEN, _MONTHLY, SelfCheck("gas_user_daily", "daily", "restaurant")),
    "school": (_PATROL, _MONTHLY),
    "hospital": (_PATROL, _MONTHLY),
    "elderly_care": (_PATROL, _MONTHLY),
    "residential_high_rise": (_PATROL, _MONTHLY, _EBIKE),
    "office_high_rise": (_PATROL, _MONTHLY),
    "canteen": (SelfCheck("gas_user_daily", "daily", "canteen"),),
    "market": (SelfCheck("gas_user_daily", "daily", "market"),),
    "piped_user": (SelfCheck("gas_user_daily", "daily", "piped_user"),),
    "residential_compound": (_EBIKE,),
    "public_building": (_EBIKE,),
    "charging_site": (_EBIKE,),
}
# The other industries' own checks: a coal mine checks its working places every shift (瓦斯 every
# shift, 煤矿安全规程 第一百八十条), a non-coal mine its workings, slopes or dam daily; a chemical
# enterprise checks at four levels (危险化学品企业安全风险隐患排查治理导则: the unit daily, the
# workshop weekly, the plant monthly, the season once a quarter); a gas operator patrols its
# stations and network daily (CJJ 51); a contractor's safety officer checks the site daily
# (建设工程安全生产管理条例 第二十三条); a dangerous-goods carrier checks each vehicle before it
# leaves (held to daily); an industry-and-trade enterprise checks itself against MEM Order 10
# monthly (the Order sets no rhythm: monthly is this system's, as for the fire check).
_CHEM = tuple(
    SelfCheck("chemical_self_check", rhythm, profile)
    for rhythm, profile in (
        ("daily", "daily"),
        ("weekly", "weekly"),
        ("monthly", "monthly"),
        ("quarterly", "seasonal"),
    )
)
_PRETRIP = SelfCheck("hazmat_pretrip_check", "daily")
SELF_CHECKS.update(
    {
        "coal_mine": (SelfCheck("coal_shift_check", "daily"),),
        **{
            t: (SelfCheck("noncoal_shift_check", "daily", p),)
            for t, p in (
                ("noncoal_underground", "underground"),
                ("open_pit", "open_pit"),
                ("tailings", "tailings"),
            )
        },
        "chemical_plant": _CHEM,
        "chemical_storage": _CHEM,
        "gas_station": _CHEM,
        "logistics": (*_CHEM, _PRETRIP),
        "hazmat_carrier": (_PRETRIP,),
        **{
            t: (SelfCheck("gas_operator_self_check", "daily", t),)
            for t in ("gas_operator", "lpg_filling", "lpg_storage", "lpg_shop", "gas_network")
        },
        **{
            t: (SelfCheck("construction_daily_check", "daily", t),)
            for t in ("building_site", "municipal_site")
        },
        **{
            t: (SelfCheck("industry_trade_self_check", "monthly", t),)
            for t, fits in SITE_CHECKLISTS.items()
            if fits[0].template_id == "industry_trade"
        },
    }
)
NAMED = frozenset(f.template_id for fits in SITE_CHECKLISTS.values() for f in fits) | frozenset(
    c.template_id for checks in SELF_CHECKS.values() for c in checks
)


def self_checks_for(site_type: str, templates: Mapping[str, str]) -> list[SelfCheck]:
    """The self-inspections a site of this type runs, among ``templates`` (id → industry)."""
    return [c for c in SELF_CHECKS.get(site_type, ()) if c.template_id in templates]


def self_mismatch(site_type: str, template_id: str, profile: str | None) -> Refusal | None:
    """Why an enterprise may not self-inspect a site of this type with ``template_id`` (under
    ``profile``), or None when the rules require that self-inspection of it."""
    checks = [c for c in SELF_CHECKS.get(site_type, ()) if c.template_id == template_id]
    if any(c.profile is None or c.profile == profile for c in checks):
        return None
    kind = (name_of(site_type, "zh"), name_of(site_type, "en"))
    if checks:
        want = checks[0].profile
        return Refusal(
            "checklist_mismatch",
            f"{kind[0]}自查应按场所类型“{name_of(want or '通用')}”进行",
            f"self-inspection of this site type ({kind[1]}) is under profile {want!r}",
            {"profile": f"use {want!r}"},
        )
    right = ", ".join(c.template_id for c in SELF_CHECKS.get(site_type, ())) or "—"
    return Refusal(
        "checklist_mismatch",
        f"该自查表不适用于{kind[0]}，应使用：{right}",
        f"this self-inspection checklist does not fit this site type ({kind[1]}); use: {right}",
        {"template_id": f"use one of: {right}"},
    )


def fits_for(site_type: str, industry: str, templates: Mapping[str, str]) -> list[Fit]:
    """The fits among ``templates`` (id → industry, the ones at hand), default first."""
    named = [f for f in SITE_CHECKLISTS.get(site_type, ()) if f.template_id in templates]
    # a site of the template's own industry first (an LPG restaurant: its gas before its venue)
    named.sort(key=lambda f: templates[f.template_id] != industry)
    by_industry = [
        Fit(tid) for tid, ind in sorted(templates.items()) if tid not in NAMED and ind == industry
    ]
    return named + by_industry


def default_for(site_type: str, industry: str, templates: Mapping[str, str]) -> Fit | None:
    fits = fits_for(site_type, industry, templates)
    return fits[0] if fits else None


def mismatch(
    site_type: str,
    industry: str,
    template_id: str,
    profile: str | None,
    templates: Mapping[str, str],
    titles: Mapping[str, tuple[str, str]] | None = None,
    *,
    check_profile: bool = True,
) -> Refusal | None:
    """Why ``template_id`` (under ``profile``) does not fit the site, or None when it does.

    ``titles`` (id → (zh, en)) name the templates in the message; the field is
    ``template_id`` or ``profile``, and ``checklist_override`` says how to proceed anyway."""
    fits = fits_for(site_type, industry, {**templates, template_id: templates.get(template_id, "")})
    fit = next((f for f in fits if f.template_id == template_id), None)
    if fit is not None and (not check_profile or fit.takes(profile)):
        return None
    titles = titles or {}

    def title(tid: str, lang: int) -> str:
        return titles.get(tid, (tid, tid))[lang]

    kind = (name_of(site_type, "zh"), name_of(site_type, "en"))
    right = [f for f in fits if f.template_id != template_id or fit is not None]
    advice_zh = "、".join(_fit_text(f, title(f.template_id, 0), "zh") for f in right) or "—"
    advice_en = "; ".join(_fit_text(f, title(f.template_id, 1), "en") for f in right) or "—"
    if fit is None:
        zh = f"{title(template_id, 0)}不适用于{kind[0]}，应使用：{advice_zh}"
        en = f"{title(template_id, 1)} does not fit this site type ({kind[1]}); use: {advice_en}"
        field = "template_id"
    else:
        zh = f"{kind[0]}应按场所类型“{name_of(fit.profile or '通用')}”检查：{advice_zh}"
        en = f"this site type ({kind[1]}) is inspected under profile {fit.profile!r}: {advice_en}"
        field = "profile"
    return Refusal(
        "checklist_mismatch",
        zh + "。如确需使用，请填写理由。",
        en + ". To use it anyway, give a reason (checklist_override).",
        {field: en},
    )


def _fit_text(fit: Fit, title: str, lang: str) -> str:
    if not fit.profiles or fit.profiles == (None,):
        return title
    shown = "/".join(name_of(p, lang) for p in fit.profiles if p)
    return f"{title}（{shown}）" if lang == "zh" else f"{title} ({shown})"


def inspector_kind(role: str) -> str:
    """Which side a user inspects for: the enterprise itself (自查), or the regulator."""
    return "enterprise" if role == "enterprise" else "regulator"


def may_use(role: str, inspectors: Sequence[str] | None) -> bool:
    """Whether a user of ``role`` may inspect with a template naming ``inspectors`` (absent:
    the regulator's, as every template before the field)."""
    return inspector_kind(role) in (inspectors or ("regulator",))


def picker_fits(
    role: str, site_type: str, industry: str, templates: Mapping[str, str]
) -> list[Fit]:
    """The checklists a user of ``role`` is offered for a site, default first: the enterprise
    its self-inspections (each under its profile), the regulator the site's checklists."""
    if inspector_kind(role) == "enterprise":
        # one offer per template, its profiles in the order owed (daily before weekly ...)
        profiles: dict[str, tuple[str | None, ...]] = {}
        for c in self_checks_for(site_type, templates):
            profiles[c.template_id] = (*profiles.get(c.template_id, ()), c.profile)
        return [Fit(tid, owed) for tid, owed in profiles.items()]
    return fits_for(site_type, industry, templates)


def picker_mismatch(
    role: str,
    site_type: str,
    industry: str,
    template_id: str,
    profile: str | None,
    templates: Mapping[str, str],
    titles: Mapping[str, tuple[str, str]] | None = None,
) -> Refusal | None:
    """``mismatch`` for the regulator, ``self_mismatch`` for the enterprise: the same refusal
    the server gives, before the inspection is started."""
    if inspector_kind(role) == "enterprise":
        return self_mismatch(site_type, template_id, profile)
    return mismatch(site_type, industry, template_id, profile, templates, titles)


def links_of(site_type: str, templates: Mapping[str, Template]) -> set[str]:
    """The 一件事 links (``lpg.use``) a site of this type belongs to: the chains its checklists
    tag findings with (``Template.chain_for``: the profile's, else each section's, else the
    template's), so the matter page counts a link's sites by the rule that tags its hazards."""
    out: set[str] = set()
    for fit in SITE_CHECKLISTS.get(site_type, ()):
        template = templates.get(fit.template_id)
        if template is None:
            continue
        for profile in fit.profiles or (None,):
            own = next((p.chain for p in template.profiles if p.id == profile), None)
            chains = (
                [own]
                if own is not None
                else [
                    s.chain or template.chain
                    for s in template.sections
                    if any(i.applies_to(profile) for i in s.items)
                ]
            )
            out |= {c.link_id() for c in chains if c is not None and c.link_id()}
    return out


# the industry of each regulator template named above (its YAML's ``industry``, checked against
# the files by tests/shared/test_site_industries.py): which industries a site type belongs to
TEMPLATE_INDUSTRY: dict[str, str] = {
    "coal_mine": "mine",
    "noncoal_mine": "mine",
    "hazardous_chemicals": "chemical",
    "high_rise_fire": "high_rise",
    "crowded_venue": "crowded_venue",
    "town_gas": "town_gas",
    "ebike": "ebike",
    "hazmat_road_transport": "transport",
    "construction": "construction",
    "industry_trade": "industry_trade",
}


def industries_of(site_type: str) -> frozenset[str]:
    """The industries a site of this sub-type may be filed under (empty: any, a sub-type this
    table does not name)."""
    return frozenset(
        TEMPLATE_INDUSTRY[f.template_id]
        for f in SITE_CHECKLISTS.get(site_type, ())
        if f.template_id in TEMPLATE_INDUSTRY
    )


def industry_mismatch(industry: str, site_type: str) -> Refusal | None:
    """Why a site of ``site_type`` cannot be filed under ``industry`` (its checklists belong to
    other industries: a mall is not a mine), or None."""
    own = industries_of(site_type)
    if not own or industry in own:
        return None
    right_zh = "、".join(name_of(i, "zh") for i in sorted(own))
    right_en = ", ".join(sorted(own))
    return Refusal(
        "industry_mismatch",
        f"场所类型“{name_of(site_type, 'zh')}”不属于行业“{name_of(industry, 'zh')}”，应为：{right_zh}",
        f"site type {site_type!r} does not belong to industry {industry!r}; use: {right_en}",
        {"site_type": f"not a sub-type of {industry!r}; use: {right_en}"},
    )
