"""A field's complaint in the caller's language: pydantic says it in English only, and a Chinese
user (the default) should read 必填, not "Field required". One table for the API's 422s, the
console's forms and the spreadsheet import."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_Ctx = Mapping[str, Any]


def _choices(ctx: _Ctx) -> str:
    """pydantic's ``'a', 'b' or 'c'`` as a Chinese list: a、b、c."""
    return str(ctx.get("expected", "")).replace("'", "").replace(" or ", "、").replace(", ", "、")


_ZH: dict[str, Callable[[_Ctx], str]] = {
    "missing": lambda c: "必填",
    "string_too_short": lambda c: (
        "不能为空" if int(c.get("min_length", 1)) <= 1 else f"至少{c['min_length']}个字符"
    ),
    "string_too_long": lambda c: f"不能超过{c.get('max_length')}个字符",
    "string_pattern_mismatch": lambda c: "格式不正确",
    "string_type": lambda c: "应为文本",
    "enum": lambda c: f"取值无效，可选：{_choices(c)}",
    "literal_error": lambda c: f"取值无效，可选：{_choices(c)}",
    "int_parsing": lambda c: "应为整数",
    "int_type": lambda c: "应为整数",
    "int_from_float": lambda c: "应为整数",
    "float_parsing": lambda c: "应为数字",
    "float_type": lambda c: "应为数字",
    "bool_parsing": lambda c: "应为是或否（true/false）",
    "bool_type": lambda c: "应为是或否（true/false）",
    "greater_than_equal": lambda c: f"不能小于{c.get('ge')}",
    "greater_than": lambda c: f"应大于{c.get('gt')}",
    "less_than_equal": lambda c: f"不能大于{c.get('le')}",
    "less_than": lambda c: f"应小于{c.get('lt')}",
    "too_long": lambda c: f"最多{c.get('max_length')}项",
    "too_short": lambda c: f"至少{c.get('min_length')}项",
    "date_parsing": lambda c: "日期格式不正确（YYYY-MM-DD）",
    "date_from_datetime_parsing": lambda c: "日期格式不正确（YYYY-MM-DD）",
    "datetime_parsing": lambda c: "时间格式不正确（ISO 8601）",
    "datetime_from_date_parsing": lambda c: "时间格式不正确（ISO 8601）",
    "timezone_aware": lambda c: "时间须带时区",
    "uuid_parsing": lambda c: "应为UUID",
    "list_type": lambda c: "应为列表",
    "dict_type": lambda c: "应为对象",
    "model_attributes_type": lambda c: "应为对象",
    "model_type": lambda c: "应为对象",
    "extra_forbidden": lambda c: "不允许此字段",
    "json_invalid": lambda c: "JSON格式不正确",
    "json_type": lambda c: "JSON格式不正确",
}


def field_message(error: Mapping[str, Any], lang: str = "zh") -> str:
    """One pydantic error (an item of ``errors()``) in ``lang``: English as pydantic words it,
    Chinese from the table (a custom validator's text is kept after 取值无效)."""
    en = str(error.get("msg", ""))
    if lang.startswith("en"):
        return en
    said = _ZH.get(str(error.get("type", "")))
    if said is not None:
        return said(error.get("ctx") or {})
    return "取值无效：" + en.removeprefix("Value error, ")
