"""Console words in Chinese (the default, and the key) and English.

Templates write ``{{ t("工作台") }}``: the Chinese text is the key, so a template reads as the
page does; ``EN`` gives the English. Domain words (states, events, industries, roles, 五落实
parts) come from ``shared`` so the console, the API and the app name things alike.
``tests/console/test_i18n.py`` checks every key used in a template has its English.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from shared.chain import PLAN_PART_NAMES, STATE_NAMES, State
from shared.events import ACTION_NAMES, EVENT_NAMES, EventType
from shared.roles import ROLE_NAMES, Role
from shared.taxonomy import name_of

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

EN: dict[str, str] = {
    # frame
    "隐患一条链": "HazardChain",
    "监管工作台": "Safety console",
    "企业工作台": "Enterprise desk",
    "工作台": "Work queue",
    "风险日报": "Daily risk summary",
    "一件事": "Matters",
    "检查记录": "Inspection records",
    "检查计划": "Inspection plans",
    "用户": "Users",
    "场所": "Site",
    "场所管理": "Sites",
    "管理": "Admin",
    "退出": "Log out",
    "登录": "Log in",
    "用户名": "Username",
    "密码": "Password",
    "请登录": "Please log in",
    "登录已失效，请重新登录": "Your session has ended; please log in again",
    "English": "English",
    "中文": "中文",
    "打印": "Print",
    "导出Excel": "Export to Excel",
    "返回": "Back",
    "保存": "Save",
    "提交": "Submit",
    "查询": "Search",
    "清除": "Clear",
    "全部": "All",
    "是": "Yes",
    "否": "No",
    "无": "None",
    "上一页": "Previous",
    "下一页": "Next",
    "共": "Total",
    "条": "",
    "第": "Page",
    "页": "",
    "操作失败": "The action was refused",
    "已完成": "Done",
    "出错了": "Something went wrong",
    "页面不存在": "Page not found",
    "请求的页面不存在，或不在您的辖区范围内。": "This page does not exist or is outside your scope.",
    "您的角色无权访问此页面。": "Your role may not open this page.",
    "无权访问": "Not allowed",
    "表单已过期，请刷新页面后重试。": "This form has expired; reload the page and try again.",
    "输入有误，请检查标出的字段": "Some input is invalid; check the marked fields",
    "服务器内部错误，请稍后重试": "Internal server error; try again later",
    "回到工作台": "Back to the work queue",
    # queue
    "待办隐患": "Open hazards",
    "待我处理": "My next steps",
    "我经手的": "Handled by me",
    "逾期": "Overdue",
    "重大隐患": "Major hazards",
    "已办结": "Finished",
    "全部隐患": "All hazards",
    "排序：逾期、重大优先，再按整改期限": "Order: overdue first, then major, then by deadline",
    "搜索标题、描述、责任单位": "Search title, description, responsible unit",
    "状态": "State",
    "等级": "Grade",
    "行业": "Industry",
    "辖区": "District",
    "是否逾期": "Overdue?",
    "是否督办": "Escalated?",
    "近30天已检": "Inspected, 30 days",
    "近90天已检": "Inspected, 90 days",
    "本环节暂无登记场所": "No registered site in this link",
    "挂牌督办": "Escalated",
    "隐患": "Hazard",
    "责任单位": "Responsible unit",
    "责任人": "Responsible person",
    "整改期限": "Deadline",
    "上报时间": "Reported",
    "逾期天数": "Days overdue",
    "天": "d",
    "没有符合条件的隐患。": "No hazards match.",
    "今日待办已清空。": "The queue is clear.",
    "批量交办": "Batch assignment",
    "选中的隐患交办给同一责任单位": "Assign the selected hazards to one responsible unit",
    "选择": "Select",
    "全选": "Select all",
    "交办选中的隐患": "Assign the selected hazards",
    "请至少选择一条隐患": "Select at least one hazard",
    "留空则按行业与等级的默认期限": "Leave empty for the default deadline by industry and grade",
    "责任人账号（可选）": "Responsible user account (optional)",
    "不指定": "None",
    "已交办": "Assigned",
    "未交办": "Not assigned",
    "批量交办结果": "Batch assignment result",
    "成功": "succeeded",
    "失败": "refused",
    # hazard page
    "隐患详情": "Hazard",
    "链条完整": "Chain verified",
    "链条校验失败": "Chain broken",
    "链条校验：每个事件的哈希与前一事件相连，未被篡改": "Chain check: every event's hash links to the one before; nothing was altered",
    "第一个异常事件": "First broken event",
    "原因": "Reason",
    "基本信息": "Details",
    "现状": "Now",
    "下一步": "Next",
    "当前环节责任方": "Who acts next",
    "环节期限": "Step deadline",
    "督办级别": "Supervision level",
    "隐患编号": "Hazard No.",
    "被检查单位负责人拒签": "The inspected unit's representative refused to sign",
    "见证人": "Witness",
    "拒签情况": "Circumstances",
    "拒签现场照片": "Photo of the refusal on site",
    "选中的隐患属于不同场所": "The selected hazards belong to different sites",
    "将交办给同一责任单位": "They would all be assigned to one unit",
    "请确认该单位对这些场所都负有整改责任。": "Confirm that this unit is responsible for all of these sites.",
    "仍然交办": "Assign anyway",
    "返回修改": "Go back",
    "待编号": "Not numbered yet",
    "区县督办": "District supervision",
    "市级督办": "City supervision",
    "描述": "Description",
    "地点": "Location",
    "依据": "Basis",
    "来源检查": "From inspection",
    "查看检查记录": "Open the inspection record",
    "事项与环节": "Matter and link",
    "照片": "Photos",
    "整改前": "Before",
    "整改后": "After",
    "暂无照片": "No photos",
    "暂无整改照片": "No rectification photos yet",
    "五落实方案": "Five-assurance plan",
    "未填写": "Missing",
    "链条": "Chain",
    "事件": "Event",
    "时间": "Time",
    "操作人": "By",
    "内容": "Details",
    "哈希": "Hash",
    "设备时间": "Device time",
    "可执行的操作": "Actions",
    "当前没有您可以执行的操作。": "There is nothing you can do on this hazard now.",
    "延期申请待批准": "Extension request pending",
    "申请的新期限": "Requested deadline",
    "理由": "Reason",
    "申请人": "Requested by",
    "复查（证据核对）": "Verification (evidence check)",
    "整改照片": "Rectification photos",
    "已上传至服务器": "held by the server",
    "尚未上传完成": "not yet on the server",
    "我已逐一核对整改照片与现场情况相符": "I have checked every rectification photo against the site",
    "请先核对整改照片并勾选确认": "Check the rectification photos and tick the confirmation first",
    "有整改照片尚未上传到服务器，不能复查通过": "Some rectification photos are not on the server yet; the hazard cannot be verified",
    "复查意见": "Verification comment",
    "复查通过": "Verify",
    "复查不通过（退回整改）": "Reject (back to rectification)",
    "不通过原因": "Reason for rejection",
    "销号意见": "Closure comment",
    "销号": "Close (销号)",
    "撤销原因": "Reason for cancelling",
    "撤销（误报）": "Cancel (false report)",
    "备注内容": "Note",
    "添加备注": "Add a note",
    "批准延期": "Grant the extension",
    "批准的新期限（留空按申请）": "Granted deadline (empty: as requested)",
    "批准意见": "Comment",
    "申请延期": "Request an extension",
    "延期理由": "Reason for the extension",
    "交办": "Assign",
    "重新交办": "Reassign",
    "说明": "Comment",
    "升级督办": "Escalate",
    "督办原因": "Reason",
    "提交五落实方案": "Submit the five-assurance plan",
    "提交整改": "Submit rectification",
    "确定执行此操作？": "Do this now?",
    "操作已记录": "Recorded",
    "该隐患不在您的辖区或不存在": "This hazard does not exist or is outside your scope",
    # matters
    "事项": "Matter",
    "牵头部门": "Lead department",
    "环节": "Link",
    "主管部门": "Department",
    "在办隐患": "Open",
    "其中逾期": "Overdue",
    "其中重大": "Major",
    "未标注环节": "No link given",
    "一件事一条链：从源头到末端，每个环节的隐患并排呈现": "One matter, one chain: every link's hazards side by side, from source to end",
    "查看隐患": "Show hazards",
    # where: site coordinates, the map, site QR codes, GPS stamps
    "场所地图": "Site map",
    "示意图，非比例地图": "schematic, not to scale",
    "按场所坐标示意位置（无在线底图）；点击场所查看其隐患。": "Sites placed by their coordinates (no online map); click a site for its hazards.",
    "未标注坐标的场所": "Sites without coordinates",
    "纬度": "Latitude",
    "经度": "Longitude",
    "坐标系": "Datum",
    "坐标": "Coordinates",
    "打印场所二维码": "Print site QR code",
    "场所二维码": "Site QR code",
    "平板扫描此码，直接打开本场所及其检查表": "Scan with the tablet to open this site and its checklist",
    "无法扫描时输入": "If it will not scan, enter",
    "GPS定位": "GPS fix",
    "距场所": "from the site",
    "远离场所": "far from the site",
    "公里": "km",
    "米": "m",
    "照片定位": "Photo locations",
    "暂无事项。": "No matters yet.",
    # dashboard
    "风险日报（截至当日24时）": "Daily risk summary (as at midnight)",
    "日期": "Date",
    "今日实时": "Today so far",
    "昨日日报": "Yesterday",
    "范围": "Scope",
    "新增隐患": "New",
    "销号隐患": "Closed",
    "在办隐患总数": "Open",
    "逾期未改": "Overdue",
    "重大隐患在办": "Major open",
    "挂牌督办中": "Escalated",
    "按期销号率": "On-time closure",
    "一般隐患整改率": "Rectification rate, general",
    "重大隐患整改率": "Rectification rate, major",
    "年度累计": "year to date",
    "当日": "that day",
    "检查任务按时完成率": "Planned inspections done on time",
    "四色风险分布（按辖区）": "Four-colour risk by district",
    "红": "Red",
    "橙": "Orange",
    "黄": "Yellow",
    "蓝": "Blue",
    "场所数": "Sites",
    "近30日趋势": "Last 30 days",
    "新增": "New",
    "在办": "Open",
    "辖区 × 行业": "District × industry",
    "合计": "Total",
    "逾期最久的隐患": "Longest overdue",
    "暂无逾期隐患。": "Nothing overdue.",
    "签阅": "Sign off",
    "签阅本日日报": "Sign off this summary",
    "已签阅": "Signed off",
    "尚未签阅": "Not signed off yet",
    "签阅人": "Signed by",
    "签阅时间": "Signed at",
    "日报数据来源": "Source",
    "07:00 定时生成的存档": "stored by the 07:00 job",
    "按当日数据即时计算": "computed now from the records",
    "今日数据实时计算，次日07:00生成正式日报后方可签阅。": "Today's figures are live; the day can be signed off once its summary is built at 07:00 tomorrow.",
    "打印日报": "Print the report",
    "导出日报Excel": "Export the summary to Excel",
    "每千次检查重大隐患数": "Major hazards per 1,000 inspections",
    "升级督办次数": "Escalations that day",
    "暂无数据。": "No data.",
    "本日日报尚无数据。": "This day has no figures.",
    # print
    "安全生产隐患排查治理日报": "Daily report on hazard identification and rectification",
    "编制单位": "Prepared by",
    "生成时间": "Generated",
    "领导签阅": "Leader sign-off",
    "签阅意见": "Comment",
    "可选：对本日情况的意见或要求": "Optional: your comment or instructions on the day",
    "综述": "Summary",
    "当前": "Now",
    "暂无挂牌督办的隐患。": "No hazard is under supervision.",
    "待签收批示": "Instruction to acknowledge",
    "领导批示": "Leader's instructions",
    "批示对象": "Addressed to",
    "待签收": "Awaiting acknowledgement",
    "批示人": "Instructed by",
    "领导督办": "Leader's supervision",
    "督办要求": "Requirement",
    "督办人": "Listed by",
    "签字": "Signature",
    "现场检查记录": "On-site inspection record",
    "被检查单位": "Inspected site",
    "检查表": "Checklist",
    "版本": "version",
    "检查时间": "Inspection time",
    "检查人员": "Inspector",
    "检查地点": "Location",
    "不合格检查项": "Items failed",
    "检查项": "Item",
    "检查结果": "Result",
    "判定依据": "Basis",
    "发现的隐患及整改要求": "Hazards raised and rectification required",
    "本次检查未发现不合格项。": "No items failed in this inspection.",
    "检查人员签字": "Inspector's signature",
    "被检查单位负责人签字": "Signature of the site's responsible person",
    "检查项备注": "Item note",
    "其他检查项备注": "Notes on other items",
    "完成情况": "Completion",
    "按场所类型自动选择（推荐）": "By the sites' type (recommended)",
    "检查表须与场所类型相符：煤矿用煤矿检查表，商场、学校用人员密集场所检查表": (
        "The checklist must fit the site type: coal mines take the coal-mine checklist, malls "
        "and schools the crowded-venue one"
    ),
    "检查表与场所类型不符的理由（仅例外时填写）": (
        "Reason for a checklist that does not fit the site type (exceptions only)"
    ),
    "例外理由": "Exception",
    "检查表与场所类型不符": "Checklist does not fit the site type",
    "检查项完成率": "Checklist completion rate",
    "完成率": "Completion rate",
    "已检查": "Checked",
    "不适用": "N/A",
    "未检查": "Not checked",
    "未作答": "Unanswered",
    "签字人": "Signed by",
    "年": "/",
    "月": "/",
    "日": "",
    "备注": "Notes",
    "检查编号": "Inspection no.",
    "暂无检查记录。": "No inspection records yet.",
    "检查发现": "Findings",
    "检查人": "Inspector",
    "打印检查记录": "Print the record",
    # admin
    "新建用户": "New user",
    "显示名": "Display name",
    "角色": "Role",
    "单位": "Unit",
    "电话": "Phone",
    "邮箱": "Email",
    "辖区（多选）": "Districts",
    "绑定场所（企业用户）": "Sites (enterprise users)",
    "启用": "Active",
    "停用": "Inactive",
    "停用账号": "Deactivate",
    "启用账号": "Activate",
    "重置密码": "Reset password",
    "新密码（至少8位）": "New password (8 characters or more)",
    "编辑": "Edit",
    "已保存": "Saved",
    "新建场所": "New site",
    "名称": "Name",
    "类型": "Type",
    "风险等级": "Risk colour",
    "地址": "Address",
    "联系人": "Contact",
    "联系电话": "Contact phone",
    "按名称搜索": "Search by name",
    "新建检查计划": "New inspection plan",
    "计划名称": "Plan name",
    "检查表版本": "Checklist version",
    "周期": "Frequency",
    "每天": "Daily",
    "每周": "Weekly",
    "每月": "Monthly",
    "间隔": "Every",
    "开始日期": "Start date",
    "结束日期": "End date",
    "检查员（留空则辖区内所有检查员）": "Inspector (empty: every inspector of the district)",
    "场所（多选）": "Sites",
    "已生成至": "Tasks until",
    "停止计划": "Stop the plan",
    "恢复计划": "Resume the plan",
    "暂无检查计划。": "No inspection plans yet.",
    "按住Ctrl多选": "Hold Ctrl to select several",
    # inspection tasks
    "检查任务": "Inspection tasks",
    "逾期未检": "Missed",
    "待检": "To do",
    "已跳过": "Skipped",
    "已取消": "Cancelled",
    "迟交": "Late",
    "全部检查员": "Every inspector",
    "计划日期": "Scheduled",
    "截止": "Due",
    "至": "to",
    "按计划日期排序": "Ordered by scheduled day",
    "检查点": "Checkpoint",
    "记录检查点": "Record checkpoint",
    "条事件": "events",
    "根哈希": "Root hash",
    "扫码取得签名检查点，可用 hazardchain log verify --checkpoint 核对全部记录": (
        "Scan for the signed checkpoint; hazardchain log verify --checkpoint checks every record"
    ),
    "该条件下没有检查任务。": "No inspection tasks match.",
    "近30日": "last 30 days",
    "企业自查发现": "Found by enterprises",
    "待抽查": "To spot-check",
    "发现方": "Found by",
    "抽查": "Spot-check",
    "合格": "passed",
    "不合格，重新整改": "failed, reopened",
    "企业自查成效": "Do enterprises inspect themselves?",
    "企业自查完成率": "Self-inspections done",
    "企业自查发现隐患": "Found by the enterprise",
    "监管发现隐患": "Found by the regulator",
    "从未自报的场所": "Sites that never self-report",
    "从未自报": "Never self-reports",
    "监管常查出而企业不自报": "Regulator finds, enterprise never reports",
    "自查场所数": "Self-inspecting sites",
    "应自查": "Owed",
    "已自查": "Done",
    "自查自改销号": "Self-closed",
    "重点关注的场所": "Sites to watch",
    "提示": "Flag",
}

EN_MISSING: set[str] = set()


def translator(lang: str) -> Callable[[str], str]:
    """``t(zh)``: the words in the page's language (Chinese text is returned as is)."""
    if lang != "en":
        return lambda zh: zh

    def t(zh: str) -> str:
        en = EN.get(zh)
        if en is None:
            EN_MISSING.add(zh)
            return zh
        return en

    return t


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def state_name(state: str, lang: str) -> str:
    try:
        return pick(STATE_NAMES[State(state)], lang)
    except ValueError:
        return state


def event_name(event_type: str, lang: str) -> str:
    try:
        return pick(EVENT_NAMES[EventType(event_type)], lang)
    except ValueError:
        return event_type


def action_name(action: str, lang: str) -> str:
    """What an action's button says (the timeline names what happened: ``event_name``)."""
    return pick(ACTION_NAMES[action], lang) if action in ACTION_NAMES else action


def role_name(role: str, lang: str) -> str:
    try:
        return pick(ROLE_NAMES[Role(role)], lang)
    except ValueError:
        return role


def plan_part_name(part: str, lang: str) -> str:
    return pick(PLAN_PART_NAMES[part], lang) if part in PLAN_PART_NAMES else part


def vocab(value: str | None, lang: str) -> str:
    return name_of(value, lang) if value else ""


def escalation_words(level: int | None, lang: str) -> str:
    """A supervision level as people write it (区县督办, 市级督办), empty for none."""
    from shared.supervision import supervision_name

    return supervision_name(level or 0, lang)


def local_time(value: datetime | str | None, tz: str, with_time: bool = True) -> str:
    """A UTC instant as the local wall time people read, e.g. ``2026-03-02 09:00``."""
    from shared.clock import local_text

    return local_text(value, tz, with_time)


def long_date(day: date, lang: str) -> str:
    return day.isoformat() if lang == "en" else f"{day.year}年{day.month}月{day.day}日"
