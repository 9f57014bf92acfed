"""Where the tablet is: an injectable location provider, so findings and photos carry a GPS
stamp (``shared.geo.GpsStamp``) where the device has one. On Android it is plyer's GPS; a
desktop has none (and stamps nothing); tests hand in a fixed position. A fix older than
``MAX_AGE`` is not stamped: a finding must not claim where the tablet was ten minutes ago."""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import timedelta
from typing import Any, Protocol

from shared.clock import Clock, SystemClock, parse_iso
from shared.geo import GpsStamp

log = logging.getLogger("hazardchain.app.location")
MAX_AGE = timedelta(minutes=2)


class LocationProvider(Protocol):
    def current(self) -> GpsStamp | None:
        """The latest fresh fix, or None."""
        ...


class NoLocation:
    """A device without GPS (a desktop, or permission refused): nothing is stamped."""

    def current(self) -> GpsStamp | None:
        return None


class FixedLocation:
    """A fixed position (tests, a demo tour); ``move`` sets another, ``None`` loses the fix."""

    def __init__(self, stamp: GpsStamp | None) -> None:
        self.stamp = stamp

    def move(self, stamp: GpsStamp | None) -> None:
        self.stamp = stamp

    def current(self) -> GpsStamp | None:
        return self.stamp


class PlyerLocation:
    """Android's GPS through plyer: ``start`` asks for updates; each fix is kept with the time
    it arrived, and offered while fresh."""

    def __init__(self, clock: Clock | None = None, gps: Any = None) -> None:
        self.clock = clock or SystemClock()
        self._gps = gps
        self._last: GpsStamp | None = None
        self._lock = threading.Lock()

    def start(self) -> bool:
        """True when updates were requested; False (and nothing stamped) where plyer has no
        GPS for this platform or the permission is missing."""
        try:
            if self._gps is None:
                from plyer import gps

                self._gps = gps
            self._gps.configure(on_location=self.on_location)
            self._gps.start(minTime=5000, minDistance=0)
        except Exception as exc:  # ImportError, NotImplementedError, no permission: per platform
            log.info("no GPS on this device: %s", exc)
            return False
        return True

    def stop(self) -> None:
        if self._gps is not None:
            try:
                self._gps.stop()
            except Exception as exc:  # pragma: no cover - platform-dependent
                log.info("GPS stop failed: %s", exc)

    def on_location(self, **kwargs: Any) -> None:
        """plyer's callback (``lat``, ``lon``, ``accuracy``, …), on its own thread."""
        try:
            stamp = GpsStamp.of(
                float(kwargs["lat"]), float(kwargs["lon"]), kwargs.get("accuracy"), self.clock.now()
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignored a GPS fix: %s", exc)
            return
        with self._lock:
            self._last = stamp

    def current(self) -> GpsStamp | None:
        with self._lock:
            last = self._last
        if last is None:
            return None
        return last if self.clock.now() - parse_iso(last.at) <= MAX_AGE else None


def this_platform() -> str:
    """``android`` on a tablet (as ``kivy.utils.platform`` tells it, without importing Kivy)."""
    return "android" if "ANDROID_ARGUMENT" in os.environ else sys.platform


def device_location(platform: str | None = None, clock: Clock | None = None) -> LocationProvider:
    """The provider for this platform: GPS on Android, none elsewhere."""
    if (platform or this_platform()) == "android":
        provider = PlyerLocation(clock)
        if provider.start():
            return provider
    return NoLocation()
