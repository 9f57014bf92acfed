"""Where: site coordinates, GPS stamps, the distance between them, and the site QR code.

One rule for the server (which stores and shows them) and the tablet (which stamps and scans).

Datums. A device's GPS reports **WGS-84**. Coordinates copied from a Chinese web map (高德,
腾讯) are **GCJ-02**, shifted a few hundred metres from WGS-84 inside China; so every site's
coordinates say which datum they are in, and distances are measured after converting to WGS-84
(the published GCJ-02 transform; its inverse by fixed-point iteration, well under a metre off).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.clock import parse_iso, to_iso
from shared.errors import Refusal


class Datum(StrEnum):
    wgs84 = "wgs84"  # GPS, 天地图
    gcj02 = "gcj02"  # 高德/腾讯 web maps ("Mars coordinates")


DATUM_LABELS: dict[str, tuple[str, str]] = {
    Datum.wgs84: ("WGS-84（GPS/天地图）", "WGS-84 (GPS, Tianditu)"),
    Datum.gcj02: ("GCJ-02（高德/腾讯地图）", "GCJ-02 (Amap, Tencent maps)"),
}

# A finding stamped further than this from its site's coordinates (beyond the fix's own
# accuracy) is flagged: large sites (an open pit) span a kilometre, a wrong site many more.
FAR_FROM_SITE_M = 1000.0
EARTH_RADIUS_M = 6_371_008.8


# ------------------------------------------------------------------ GPS stamps


class GpsStamp(BaseModel):
    """Where a device was when a finding was answered or a photo taken (WGS-84, as GPS
    reports it): position, the fix's accuracy radius in metres, and the fix's time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy: float | None = Field(None, ge=0, le=100_000, allow_inf_nan=False)
    at: str = Field(max_length=40, description="the fix's time, ISO 8601")

    @field_validator("at")
    @classmethod
    def _iso(cls, value: str) -> str:
        try:
            return to_iso(parse_iso(value))  # one spelling per instant: it is hashed in chains
        except ValueError:
            raise ValueError("must be an ISO 8601 time with a zone") from None

    @field_validator("lat", "lon", "accuracy")
    @classmethod
    def _rounded(cls, value: float | None) -> float | None:
        # ~1 cm: more digits are noise, and a float's repr must hash alike on every device
        return None if value is None else round(float(value), 7)

    @classmethod
    def of(cls, lat: float, lon: float, accuracy: float | None, at: datetime) -> GpsStamp:
        return cls(lat=lat, lon=lon, accuracy=accuracy, at=to_iso(at))

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    def label(self, metres: str = " m") -> str:
        """``39.65000, 106.83000 ±12 m``; ``metres`` is the unit as the reader writes it (米)."""
        text = f"{self.lat:.5f}, {self.lon:.5f}"
        return text + (f" ±{self.accuracy:.0f}{metres}" if self.accuracy is not None else "")


def stamp_problem(value: Any) -> str | None:
    """Why ``value`` is not a GPS stamp, briefly (``lat: Input should be ...``), or None."""
    try:
        GpsStamp.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    return None


# ------------------------------------------------------------------ site coordinates

_AXES = {"lat": ("纬度", "latitude", 90.0), "lon": ("经度", "longitude", 180.0)}


def coordinate_problems(lat: Any, lon: Any, lang: str = "zh") -> dict[str, str]:
    """Why a site's coordinates (numbers, form text or None/empty) are not a point, per field
    in ``lang``: not a number, out of range, or one given without the other (both or neither:
    a site without coordinates is fine). Empty when they are fine. The API, the console's
    forms and the import all ask this one question."""
    en = lang.startswith("en")
    out: dict[str, str] = {}
    given: dict[str, bool] = {}
    for key, value in (("lat", lat), ("lon", lon)):
        zh_name, en_name, bound = _AXES[key]
        text = "" if value is None else str(value).strip()
        given[key] = bool(text)
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            out[key] = f"{en_name} must be a number" if en else f"{zh_name}应为数字"
        elif abs(number) > bound:
            out[key] = (
                f"{en_name} must be between -{bound:g} and {bound:g}"
                if en
                else f"{zh_name}应在 -{bound:g} 到 {bound:g} 之间"
            )
    for key, other in (("lat", "lon"), ("lon", "lat")):
        if given[other] and not given[key] and key not in out:
            zh_name = _AXES[key][0]
            out[key] = (
                "give both latitude and longitude, or neither"
                if en
                else f"已填写{_AXES[other][0]}，请同时填写{zh_name}（或两项都留空）"
            )
    return out


# ------------------------------------------------------------------ datums and distances


def _outside_china(lat: float, lon: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta(lat: float, lon: float) -> tuple[float, float]:
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (a / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if _outside_china(lat, lon):
        return lat, lon
    dlat, dlon = _delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The inverse, by iteration (the forward transform has no closed-form inverse)."""
    wlat, wlon = lat, lon
    for _ in range(8):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        wlat, wlon = wlat - (glat - lat), wlon - (glon - lon)
    return wlat, wlon


def to_wgs84(lat: float, lon: float, datum: str) -> tuple[float, float]:
    return gcj02_to_wgs84(lat, lon) if datum == Datum.gcj02 else (lat, lon)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points of one datum."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def site_point(site: Any) -> tuple[float, float] | None:
    """A site's coordinates in WGS-84 (a model or a dict with ``lat``, ``lon``, ``datum``),
    or None when it has none."""
    get = site.get if isinstance(site, dict) else lambda k, d=None: getattr(site, k, d)
    lat, lon = get("lat"), get("lon")
    if lat is None or lon is None:
        return None
    return to_wgs84(float(lat), float(lon), get("datum") or Datum.wgs84)


class SiteDistance(BaseModel):
    metres: float
    far: bool


def from_site(stamp: GpsStamp | dict[str, Any] | None, site: Any) -> SiteDistance | None:
    """How far a stamp is from its site, and whether that is too far to be at the site
    (further than ``FAR_FROM_SITE_M`` beyond the fix's accuracy). None without both points."""
    if stamp is None:
        return None
    s = stamp if isinstance(stamp, GpsStamp) else GpsStamp.model_validate(stamp)
    point = site_point(site)
    if point is None:
        return None
    metres = distance_m((s.lat, s.lon), point)
    return SiteDistance(metres=metres, far=metres - (s.accuracy or 0.0) > FAR_FROM_SITE_M)


# ------------------------------------------------------------------ site QR codes

QR_PREFIX = "hazardchain:site:"
_QR_RE = re.compile(r"^hazardchain:site:([0-9A-Za-z_\-]{1,36})$")


def site_qr_payload(site_id: str) -> str:
    """What the printed QR code of a site carries."""
    return QR_PREFIX + site_id


def parse_site_qr(text: str) -> str | Refusal:
    """The site id a scanned (or typed) code names, or why it is not one of ours. A bare site
    id is accepted too, so the code printed under the QR can be typed in."""
    value = (text or "").strip()
    if not value:
        return Refusal("qr_empty", "请扫描或输入场所二维码", "scan or enter a site code")
    m = _QR_RE.match(value)
    if m:
        return m.group(1)
    if ":" not in value and re.fullmatch(r"[0-9a-fA-F\-]{36}", value):
        return value.lower()
    return Refusal(
        "qr_foreign",
        "这不是本系统的场所二维码",
        "this is not a HazardChain site code",
        {"payload": value[:80]},
    )
