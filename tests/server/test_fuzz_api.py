"""Random JSON at every endpoint of the OpenAPI spec, as admin and as an enterprise user:
nothing may answer 5xx. (Our own small fuzzer: hypothesis JSON values over real HTTP.)"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.demo import did

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
REAL_IDS = [
    did("hazard", "地下车库电动自行车违规充电"),
    did("site", "万达广场乌海店"),
    "lpg",
    "a" * 64,
]
path_values = st.sampled_from(REAL_IDS) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#%"),
    min_size=1,
    max_size=40,
)
FIELDS = [
    "type",
    "payload",
    "site_id",
    "title",
    "severity",
    "username",
    "role",
    "password",
    "id",
    "district_ids",
    "name",
    "answers",
    "refresh_token",
    "responsible_unit",
    "text",
]
bodies = json_values | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)


def operations(spec):
    for path, methods in spec["paths"].items():
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete", "head"):
                yield method.upper(), path


def test_no_endpoint_answers_5xx(live_demo):
    spec = live_demo.app.openapi()
    ops = list(operations(spec))
    assert len(ops) > 20
    clients = [live_demo.login("admin"), live_demo.login("enterprise")]

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        op=st.sampled_from(ops),
        body=bodies,
        params=st.dictionaries(
            st.sampled_from(
                ["limit", "cursor", "state", "severity", "district", "q", "date", "all", "offset"]
            ),
            st.text(max_size=20),
            max_size=3,
        ),
        who=st.integers(0, 1),
        data=st.data(),
    )
    def check(op, body, params, who, data):
        method, path = op
        concrete = re.sub(r"\{[^}]+\}", lambda _: data.draw(path_values), path)
        kwargs = {"params": params}
        if method in ("POST", "PUT", "PATCH"):
            kwargs["content"] = json.dumps(body)
            kwargs["headers"] = {"content-type": "application/json"}
        r = clients[who].request(method, concrete.removeprefix("/api/v1"), **kwargs)
        assert r.status_code < 500, (method, concrete, body, r.status_code, r.text[:300])

    check()
