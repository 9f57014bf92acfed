"""Chinese renders on a fresh machine (the bundled font has the glyphs: a tofu check that can
fail), and every text the app shows has a Chinese and an English translation."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

import kivy
from kivy.core.window import Window  # noqa: F401 - textures need a GL context

from mobile_app.i18n import LANGUAGES, compile_mo, parse_po, po_path
from mobile_app.i18n.extract import used_msgids
from mobile_app.ui import theme


def _pixels(text: str, font: str) -> bytes:
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(text=text, font_name=font, font_size=48)
    label.refresh()
    return bytes(label.texture.pixels)


def test_app_font_draws_chinese_glyphs():
    theme.register_fonts()
    assert _pixels("隐", theme.FONT_NAME) != _pixels("患", theme.FONT_NAME)


def test_the_tofu_check_can_fail():
    """Kivy's own Roboto has no CJK glyphs: both characters come out as the same box."""
    roboto = str(Path(kivy.__file__).parent / "data" / "fonts" / "Roboto-Regular.ttf")
    assert _pixels("隐", roboto) == _pixels("患", roboto)


def test_font_ships_with_its_licence():
    fonts = theme.FONT_DIR
    assert theme.FONT_FILE.stat().st_size > 1_000_000
    assert "Apache" in (fonts / "COPYRIGHT-wqy-microhei.txt").read_text(encoding="utf-8")
    assert (fonts / "LICENSE-Apache-2.0.txt").exists()
    assert "apt-get download fonts-wqy-microhei" in (fonts / "README.md").read_text(
        encoding="utf-8"
    )


def test_every_msgid_used_has_both_translations():
    used = used_msgids()
    assert len(used) > 100
    for lang in LANGUAGES:
        catalogue = parse_po(po_path(lang).read_text(encoding="utf-8"))
        missing = sorted(m for m in used if not catalogue.get(m))
        assert not missing, f"{lang} lacks translations for: {missing}"
    zh = parse_po(po_path("zh_CN").read_text(encoding="utf-8"))
    untranslated = [m for m in used if zh[m] == m and any(c.isalpha() for c in m)]
    assert untranslated == [], "Chinese entries left in English"


def test_compiled_catalogue_reads_back_through_gettext():
    entries = {
        "": "Content-Type: text/plain; charset=UTF-8\n",
        "Sites": "场所",
        "{n} sites": "{n} 个场所",
    }
    t = gettext.GNUTranslations(io.BytesIO(compile_mo(entries)))
    assert t.gettext("Sites") == "场所"
    assert t.gettext("{n} sites").format(n=3) == "3 个场所"
    assert t.gettext("unknown") == "unknown"
