"""Which industries a site sub-type belongs to: the table agrees with the checklists' own YAML,
and every demo site is filed under an industry its sub-type belongs to."""

from __future__ import annotations

from pathlib import Path

from server.demo import SITES
from shared.checklist import latest_versions, load_all
from shared.site_checklists import SITE_CHECKLISTS, TEMPLATE_INDUSTRY, industry_mismatch

ROOT = Path(__file__).resolve().parents[2] / "checklists"


def test_template_industries_match_the_yaml():
    files = {t.id: str(t.industry) for t in latest_versions(load_all(ROOT)).values()}
    named = {f.template_id for fits in SITE_CHECKLISTS.values() for f in fits}
    assert named <= set(TEMPLATE_INDUSTRY)
    assert {t: files[t] for t in TEMPLATE_INDUSTRY} == TEMPLATE_INDUSTRY


def test_demo_sites_fit_and_a_mall_is_not_a_mine():
    assert [s for s in SITES if industry_mismatch(s[1], s[2])] == []
    why = industry_mismatch("mine", "mall")
    assert why is not None and why.fields.keys() == {"site_type"}
    assert "商场" in why.zh and "人员密集场所" in why.zh and "crowded_venue" in why.en
    assert industry_mismatch("high_rise", "mall") is None  # a mall in a high-rise building
    assert industry_mismatch("mine", "not_a_named_type") is None
