"""Demo data modelled on Wuhai (乌海市): districts, 40+ sites, one user per role (and a second
officer and inspector elsewhere so scope is visible), the LPG and e-bike matters, and hazards in
every state. Loaded through the same services as real use, so every chain verifies."""

from __future__ import annotations

import hashlib
import io
import logging
import math
import struct
import uuid
import zlib
from datetime import datetime, timedelta

from sqlmodel import Session, select

from server.auth.scope import scope_of
from server.blobs import service as blobs
from server.blobs.store import BlobStore, digest
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Attachment
from server.hazards.scheduled import flag_overdue
from server.matters.service import seed_catalogue
from server.sites.models import District, Site
from server.users import service as users
from server.users.models import User

log = logging.getLogger("hazardchain.demo")
NS = uuid.UUID("5b0c6f0e-3f7e-4c55-9d59-6a3f0f1c2a11")

CITY = "150300"
HAIBOWAN, HAINAN, WUDA = "150302", "150303", "150304"
DISTRICTS = [
    (CITY, "乌海市", "Wuhai", "city", None),
    (HAIBOWAN, "海勃湾区", "Haibowan", "district", CITY),
    (HAINAN, "海南区", "Hainan", "district", CITY),
    (WUDA, "乌达区", "Wuda", "district", CITY),
]

# where each district's sites lie (WGS-84): 海勃湾 north-east of the Yellow River, 乌达 on its
# west bank, 海南 to the south; each demo site sits at a fixed spot near its district's centre
DISTRICT_CENTRES = {HAIBOWAN: (39.690, 106.825), HAINAN: (39.445, 106.890), WUDA: (39.505, 106.725)}


def demo_point(name: str, district: str) -> tuple[float, float]:
    """A plausible, stable position for a demo site (within ~6 km of its district's centre)."""
    digest = hashlib.sha256(name.encode()).digest()
    lat, lon = DISTRICT_CENTRES[district]
    return (
        round(lat + (digest[0] / 255 - 0.5) * 0.10, 5),
        round(lon + (digest[1] / 255 - 0.5) * 0.12, 5),
    )


# name, industry, site_type, district, risk colour
SITES: list[tuple[str, str, str, str, str]] = [
    ("骆驼山煤矿", "mine", "coal_mine", HAINAN, "red"),
    ("公乌素煤矿", "mine", "coal_mine", HAINAN, "orange"),
    ("五虎山煤矿", "mine", "coal_mine", WUDA, "red"),
    ("苏海图煤矿", "mine", "coal_mine", WUDA, "orange"),
    ("黄白茨露天煤矿", "mine", "open_pit", HAINAN, "orange"),
    ("老石旦露天矿", "mine", "open_pit", HAINAN, "yellow"),
    ("千里山石灰石矿", "mine", "open_pit", HAIBOWAN, "yellow"),
    ("卡布其白云岩矿", "mine", "open_pit", HAIBOWAN, "blue"),
    ("乌达硅石矿", "mine", "noncoal_underground", WUDA, "orange"),
    ("海南区尾矿库", "mine", "tailings", HAINAN, "red"),
    ("千里山工业园氯碱化工", "chemical", "chemical_plant", HAIBOWAN, "red"),
    ("海化焦化有限公司", "chemical", "chemical_plant", HAINAN, "red"),
    ("乌达工业园PVC厂", "chemical", "chemical_plant", WUDA, "orange"),
    ("低碳园区煤焦油加工厂", "chemical", "chemical_plant", HAINAN, "orange"),
    ("海勃湾危化品仓储中心", "chemical", "chemical_storage", HAIBOWAN, "orange"),
    ("乌达液化气充装站", "chemical", "lpg_filling", WUDA, "red"),
    ("海勃湾液化气充装站", "chemical", "lpg_filling", HAIBOWAN, "orange"),
    ("滨河加油加气站", "chemical", "gas_station", HAIBOWAN, "yellow"),
    ("海南区加油站", "chemical", "gas_station", HAINAN, "yellow"),
    ("乌达化工物流公司", "chemical", "logistics", WUDA, "orange"),
    ("海勃湾国际大厦", "high_rise", "office_high_rise", HAIBOWAN, "orange"),
    ("滨河新区凤凰城住宅", "high_rise", "residential_high_rise", HAIBOWAN, "yellow"),
    ("金沙湾小区高层", "high_rise", "residential_high_rise", HAIBOWAN, "yellow"),
    ("乌海市政务服务中心", "high_rise", "office_high_rise", HAIBOWAN, "blue"),
    ("乌达万达公寓", "high_rise", "residential_high_rise", WUDA, "yellow"),
    ("海南区综合楼", "high_rise", "office_high_rise", HAINAN, "blue"),
    ("乌海市第一中学", "crowded_venue", "school", HAIBOWAN, "yellow"),
    ("海勃湾区实验小学", "crowded_venue", "school", HAIBOWAN, "yellow"),
    ("乌达区第二小学", "crowded_venue", "school", WUDA, "blue"),
    ("海南区中学", "crowded_venue", "school", HAINAN, "blue"),
    ("乌海市人民医院", "crowded_venue", "hospital", HAIBOWAN, "orange"),
    ("乌海市妇幼保健院", "crowded_venue", "hospital", HAIBOWAN, "yellow"),
    ("乌达区医院", "crowded_venue", "hospital", WUDA, "yellow"),
    ("万达广场乌海店", "crowded_venue", "mall", HAIBOWAN, "orange"),
    ("乌海百货大楼", "crowded_venue", "mall", HAIBOWAN, "yellow"),
    ("乌达商业街购物中心", "crowded_venue", "mall", WUDA, "yellow"),
    ("华联超市海勃湾店", "crowded_venue", "supermarket", HAIBOWAN, "yellow"),
    ("家乐福超市乌达店", "crowded_venue", "supermarket", WUDA, "blue"),
    ("海南区惠民超市", "crowded_venue", "supermarket", HAINAN, "blue"),
    ("海勃湾区社会福利院", "crowded_venue", "elderly_care", HAIBOWAN, "orange"),
    ("乌达区颐养中心", "crowded_venue", "elderly_care", WUDA, "yellow"),
    ("海南区敬老院", "crowded_venue", "elderly_care", HAINAN, "yellow"),
    ("滨河老北京火锅店", "crowded_venue", "restaurant", HAIBOWAN, "yellow"),
    ("乌达美食城", "crowded_venue", "restaurant", WUDA, "yellow"),
    # 城镇燃气 and 电动自行车: industry picks the template, site type the profile (and link)
    ("海勃湾燃气有限公司", "town_gas", "gas_operator", HAIBOWAN, "orange"),
    ("滨河瓶装液化气供应站", "town_gas", "lpg_shop", HAIBOWAN, "yellow"),
    ("海勃湾川味小厨", "town_gas", "restaurant", HAIBOWAN, "yellow"),
    ("乌达老街羊肉馆", "town_gas", "restaurant", WUDA, "yellow"),
    ("海南区机关食堂", "town_gas", "canteen", HAINAN, "blue"),
    ("乌达液化石油气储配站", "town_gas", "lpg_storage", WUDA, "orange"),
    ("海勃湾瓶装燃气配送中心", "town_gas", "lpg_delivery", HAIBOWAN, "yellow"),
    ("海南区气瓶检验站", "town_gas", "cylinder_testing", HAINAN, "blue"),
    ("海勃湾康乐园小区", "ebike", "residential_compound", HAIBOWAN, "yellow"),
    ("乌达新华电动车行", "ebike", "ebike_shop", WUDA, "yellow"),
    ("海南区电动车维修部", "ebike", "ebike_repair", HAINAN, "blue"),
    # 危险货物道路运输, 房屋市政工程, 工贸: industry picks the template, site type the profile
    ("乌海市顺安危险货物运输有限公司", "transport", "hazmat_carrier", HAIBOWAN, "orange"),
    ("乌达危险货物运输车辆停车场", "transport", "hazmat_parking", WUDA, "yellow"),
    ("滨河新区安置房项目工地", "construction", "building_site", HAIBOWAN, "orange"),
    ("乌达区地下综合管廊工程", "construction", "municipal_site", WUDA, "yellow"),
    ("千里山铁合金厂", "industry_trade", "metallurgy", HAIBOWAN, "orange"),
    ("海南区金属镁冶炼厂", "industry_trade", "nonferrous", HAINAN, "red"),
    ("乌达碳化硅厂", "industry_trade", "building_materials", WUDA, "orange"),
]

USERS = [
    ("admin", "系统管理员", "admin", "乌海市应急管理局", [CITY], []),
    ("leader", "王局长", "leader", "乌海市应急管理局", [CITY], []),
    ("officer", "李监管", "officer", "海勃湾区应急管理局", [HAIBOWAN], []),
    ("officer2", "赵监管", "officer", "乌达区应急管理局", [WUDA], []),
    ("officer3", "孙复查", "officer", "海勃湾区应急管理局", [HAIBOWAN], []),
    ("inspector", "张检查", "inspector", "海勃湾区应急管理局", [HAIBOWAN], []),
    ("inspector2", "刘检查", "inspector", "乌达区应急管理局", [WUDA], []),
    ("enterprise", "陈安全员", "enterprise", "万达广场乌海店", [], ["万达广场乌海店"]),
]


def did(kind: str, name: str) -> str:
    """Stable ids, so demo data is the same on every machine and re-runs find it."""
    return str(uuid.uuid5(NS, f"{kind}:{name}"))


def demo_png(seed: str, rgb: tuple[int, int, int]) -> bytes:
    """A small real PNG (a coloured tile with a stripe): the stripe tells seeds apart by eye,
    and a text chunk with the seed's digest makes the bytes distinct per seed (32 stripe
    positions alone made two tests' photos collide one time in 32)."""
    w = h = 32
    stripe = int(digest(seed.encode())[:2], 16) % h
    rows = b""
    for y in range(h):
        px = (255, 255, 255) if y == stripe else rgb
        rows += b"\x00" + bytes(px) * w

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"Comment\x00" + digest(seed.encode()).encode())
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def demo_signature(name: str) -> bytes:
    """A pen stroke seeded by the name, on transparent PNG, as the tablet's signature pad
    stores it: demo records then look like signed ones."""
    from PIL import Image, ImageDraw

    seed = hashlib.sha256(name.encode()).digest()
    img = Image.new("RGBA", (360, 120), (255, 255, 255, 0))
    points = [
        (20 + 10 * i, 60 + (seed[i] - 128) / 5 * math.sin(i * 0.9 + seed[0] / 40))
        for i in range(32)
    ]
    ImageDraw.Draw(img).line(points, fill=(20, 30, 80, 255), width=4, joint="curve")
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def demo_photo(
    session: Session, store: BlobStore, seed: str, rgb, uploader: str, now: datetime
) -> str:
    return store_demo_blob(session, store, demo_png(seed, rgb), uploader, now)


def store_demo_blob(
    session: Session, store: BlobStore, data: bytes, uploader: str, now: datetime
) -> str:
    """Bytes stored and recorded as an upload already complete, by ``uploader`` (who may then
    cite it: a hash alone grants nothing)."""
    sha = digest(data)
    if session.get(Attachment, sha) is None:
        store.put(sha, data)
        session.add(
            Attachment(
                sha256=sha,
                mime="image/png",
                size=len(data),
                received=len(data),
                complete=True,
                uploaded_by=uploader,
                created_at=now,
            )
        )
    blobs.add_owner(session, sha, uploader, now)
    session.commit()
    return sha


def load_demo(session: Session, *, password: str, now: datetime, store: BlobStore) -> bool:
    """Load once; returns False when the demo data is already there."""
    if session.exec(select(User).where(User.username == "admin")).first():
        return False
    start = now - timedelta(days=30)
    for code, name, en, level, parent in DISTRICTS:
        session.add(District(id=code, name=name, name_en=en, level=level, parent_id=parent))
    session.commit()
    site_ids: dict[str, str] = {}
    for name, industry, site_type, district, colour in SITES:
        site_ids[name] = did("site", name)
        session.add(
            Site(
                id=site_ids[name],
                name=name,
                industry=industry,
                site_type=site_type,
                district_id=district,
                risk_colour=colour,
                address=f"内蒙古乌海市{name}",
                contact_name="安全负责人",
                contact_phone="0473-0000000",
                lat=demo_point(name, district)[0],
                lon=demo_point(name, district)[1],
                created_at=start,
            )
        )
    seed_catalogue(session)
    people: dict[str, User] = {}
    for username, display, role, unit, districts, sites in USERS:
        people[username] = users.create_user(
            session,
            {
                "username": username,
                "display_name": display,
                "role": role,
                "unit": unit,
                "password": password,
                "district_ids": districts,
                "site_ids": [site_ids[s] for s in sites],
            },
            start,
        )
    _demo_hazards(session, people, site_ids, now, store)
    session.commit()  # the demo loader is an edge; the job below commits event by event
    flag_overdue(session, now)
    session.commit()
    log.info("demo loaded", extra={"sites": len(SITES), "users": len(USERS)})
    return True


def _demo_hazards(
    session: Session,
    people: dict[str, User],
    site_ids: dict[str, str],
    now: datetime,
    store: BlobStore,
) -> None:
    def caller(name: str) -> Caller:
        u = people[name]
        return Caller(u, scope_of(session, u))

    t = now - timedelta(days=28)

    def step(hours: float = 5) -> datetime:
        nonlocal t
        t = t + timedelta(hours=hours)
        return t

    def report(who, site, title, severity, desc="", matter=None, link=None):
        payload = {
            "site_id": site_ids[site],
            "title": title,
            "severity": severity,
            "description": desc,
            "photos": [demo_photo(session, store, title, (200, 60, 60), people[who].id, t)],
        }
        if matter:
            payload.update(matter_id=matter, link_id=link)
        return hazards.report(
            session, caller(who), payload=payload, now=step(), hazard_id=did("hazard", title)
        ).view.hazard_id

    def ev(who, hid, etype, **payload):
        hazards.append_by_caller(
            session, caller(who), hazard_id=hid, event_type=etype, payload=payload, now=step()
        )

    ent = people["enterprise"].id
    mall = "万达广场乌海店"

    # 1. reported only (awaiting assignment)
    report(
        "inspector",
        "乌海市第一中学",
        "教学楼二层疏散指示标志不亮",
        "general",
        "东侧楼梯口3处疏散指示标志不亮",
    )
    report(
        "inspector2",
        "乌达美食城",
        "后厨液化气钢瓶与灶具间距不足",
        "general",
        "钢瓶距灶具不足0.5米",
        "lpg",
        "lpg.use",
    )
    # 2. assigned, within deadline
    h = report(
        "inspector",
        mall,
        "地下车库电动自行车违规充电",
        "general",
        "B1层发现3处飞线充电",
        "ebike",
        "ebike.charging",
    )
    ev(
        "officer",
        h,
        "assigned",
        responsible_unit=mall,
        responsible_person="陈安全员",
        responsible_user_id=ent,
        deadline=(now + timedelta(days=5)).isoformat(),
    )
    # 3. assigned long ago: overdue
    h = report(
        "inspector", "华联超市海勃湾店", "安全出口被货物堵塞", "general", "北侧安全出口堆放货物"
    )
    ev(
        "officer",
        h,
        "assigned",
        responsible_unit="华联超市海勃湾店",
        responsible_person="周店长",
        deadline=(t + timedelta(days=3)).isoformat(),
    )
    # 4. major hazard, plan submitted (rectifying), escalated at report
    h = report(
        "inspector",
        "千里山工业园氯碱化工",
        "液氯储罐区未设置独立安全仪表系统",
        "major",
        "液氯储罐区紧急切断未接入SIS",
        "lpg",
        "lpg.storage",
    )
    ev(
        "officer",
        h,
        "assigned",
        responsible_unit="千里山工业园氯碱化工",
        responsible_person="吴厂长",
        deadline=(now + timedelta(days=20)).isoformat(),
    )
    ev(
        "officer",
        h,
        "plan_submitted",
        responsibility="吴厂长负总责，设备部执行",
        measures="增设独立SIS并联锁紧急切断阀",
        funds="专项资金85万元",
        deadline="30日内完成",
        contingency="整改期间双人巡检，备用切断阀手动操作预案",
    )
    # 5. in review (enterprise submitted evidence)
    h = report("inspector", mall, "防火卷帘门下堆放杂物", "general", "三层中庭防火卷帘下方堆放展架")
    ev(
        "officer",
        h,
        "assigned",
        responsible_unit=mall,
        responsible_person="陈安全员",
        responsible_user_id=ent,
        deadline=(now + timedelta(days=4)).isoformat(),
    )
    ev(
        "enterprise",
        h,
        "rectification_submitted",
        description="已清理卷帘下方展架并划设禁放线",
        evidence=[demo_photo(session, store, "卷帘整改后", (60, 160, 80), ent, t)],
    )
    # 6. verified, awaiting closure
    h = report("inspector", mall, "消防控制室值班人员不足", "general", "夜班仅1人值班")
    ev(
        "officer",
        h,
        "assigned",
        responsible_unit=mall,
        responsible_person="陈安全员",
        responsible_user_id=ent,
    )
    ev(
        "enterprise",
        h,
        "rectification_submitted",
        description="已安排双人24小时值班并持证上岗",
        evidence=[demo_photo(session, store, "排班表", (60, 120, 200), ent, t)],
    )
    ev("officer", h, "verified", comment="现场核查通过")
    # 7. closed (销号), with one rejection on the way
    h = report(
        "inspector",
        "海勃湾区社会福利院",
        "厨房燃气未安装泄漏报警装置",
        "general",
        "",
        "lpg",
        "lpg.use",
    )
    ev("officer", h, "assigned", responsible_unit="海勃湾区社会福利院", responsible_person="郑院长")
    ev(
        "officer3",
        h,
        "rectification_submitted",
        description="已安装可燃气体报警器",
        evidence=[demo_photo(session, store, "报警器1", (90, 90, 90), people["officer3"].id, t)],
    )
    ev("officer", h, "rejected", reason="报警器未与紧急切断阀联动")
    ev(
        "officer3",
        h,
        "rectification_submitted",
        description="已完成联动调试",
        evidence=[demo_photo(session, store, "报警器2", (90, 150, 90), people["officer3"].id, t)],
    )
    ev("officer", h, "verified", comment="联动测试正常")
    ev("officer", h, "closed", comment="同意销号")
    # 8. cancelled (误报)
    h = report("inspector", "乌海市人民医院", "氧气汇流排间门未上锁", "general")
    ev("officer", h, "cancelled", reason="误报：现场核实门锁完好，系照片角度问题")
    # 9. major, overdue, in another district (scope)
    h = report(
        "inspector2",
        "五虎山煤矿",
        "采煤工作面甲烷浓度超限仍在作业",
        "major",
        "检测甲烷1.6%未停止作业",
    )
    ev(
        "officer2",
        h,
        "assigned",
        responsible_unit="五虎山煤矿",
        responsible_person="钱矿长",
        deadline=(t + timedelta(days=2)).isoformat(),
    )
    # 10. extension requested and granted
    h = report(
        "inspector", "海勃湾国际大厦", "外墙保温材料燃烧性能不达标", "major", "外保温为B2级材料"
    )
    ev(
        "officer",
        h,
        "assigned",
        responsible_unit="海勃湾国际大厦物业",
        responsible_person="冯经理",
        deadline=(now + timedelta(days=10)).isoformat(),
    )
    ev(
        "officer",
        h,
        "extension_requested",
        new_deadline=(now + timedelta(days=40)).isoformat(),
        reason="外墙改造需报规划审批",
    )
    ev("officer", h, "extension_granted")
    ev("leader", h, "note", text="请市住建局配合审批，确保年底前完成")
    # 11. a few more open ones spread across industries and districts
    for who, site, title, sev in [
        ("inspector2", "乌达液化气充装站", "充装台未设置静电接地报警", "general"),
        ("inspector2", "乌达区颐养中心", "失能老人居室设置在四层", "major"),
        ("inspector", "滨河加油加气站", "卸油区消防沙不足", "general"),
        ("inspector", "海勃湾区实验小学", "学生宿舍私拉电线", "general"),
        ("officer", "千里山石灰石矿", "边坡角度超过设计值", "major"),
    ]:
        h = report(who, site, title, sev)
        if site == "滨河加油加气站":
            ev(
                "officer",
                h,
                "assigned",
                responsible_unit=site,
                responsible_person="站长",
                deadline=(t + timedelta(days=1)).isoformat(),
            )
