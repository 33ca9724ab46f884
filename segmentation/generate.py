"""Sample data generator: a B2B SaaS world written as a raw landing directory.

The world (accounts, persons, devices, archetypes, consent, deletions) is drawn
first, at person level. Events are then drawn as a numeric "skeleton" (one
integer/float column per attribute, no strings), defects are stamped onto it,
and strings are only produced chunk by chunk while writing Parquet, by `take`
from small vocabularies. Everything comes from one seeded NumPy generator (and
seeded hashes for ids), so the output is a pure function of
(seed, end_date, n_events, rates).

World window: [end_date - 180 days, end_date 00:00 UTC). Every accepted row has
occurred_at <= received_at < end_date. received_at is always `...SS.mmmZ`;
occurred_at mixes `...SSZ`, `...SS.mmmZ`, `YYYY-MM-DD HH:MM:SS+00:00` and local
time with a non-UTC offset.

Archetypes (ground truth flags, disjoint; "last N days" = before end_date):
- high_intent: lead/free user (never CRM customer) with >= 1 Pricing_Viewed in
  the last 14 days, >= 2 Email_Opened/Email_Clicked and >= 1 Case_Study_Viewed in
  the last 30. Nobody else views pricing in the last 14 days.
- power_user: CRM customer with 60-120 App_Opened/Feature_Used/Report_Exported in
  the last 30 days (other product users: about 15 or fewer).
- upsell_candidate: free plan, 3-6 Feature_Used with feature_tier=advanced in
  the last 7 days (others rarely use advanced features).
- at_risk: customer with 20-35 product events 90-31 days ago and 0-1 in the
  last 30; every other customer opens the app 2+ times in the last 30 days.
- win_back: former_customer, Subscription_Cancelled 60-150 days ago, page /
  blog views in the last 30 days and pricing views 15-30 days ago.
- hot account (accounts truth): ICP fit, an intent signal >= 70 observed in the
  last 14 days, and >= 2 corporate persons with accepted, analytics-consented
  events in the last 30 days (not deleted).

Ground truth in `<out>/_truth/`:
- row_labels: table_name, message_id, received_at, defect, expected_reason,
  person_key, event_name (canonical; NULL if unknown), is_analytics_consented
  (events only: analytics consent held at occurred_at, ignoring deletion).
- identifiers: identifier_type, identifier_value (emails normalized),
  person_key (NULL for kiosks; the latest user for two-user laptops),
  is_shared_device. Only identifiers seen in accepted rows or the CRM.
- persons: person_key, account_id (the account the person resolves to through
  CRM or corporate email; NULL for anonymous visitors and free-mail users),
  user_id, email, contact_id, kind, country, is_opt_in_region, the five
  archetype flags, plan, lifecycle_status, analytics_withdrawn_at,
  analytics_denied, marketing_granted_in_opt_in, has_gpc, is_deleted,
  deletion_requested_at, is_hot_account_engager.
- accounts: account_id, domain, is_icp_fit, has_intent_surge,
  engaged_persons_30d, is_hot.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation import PROJECT_DIR
from segmentation.contract import RAW_TABLES

LANDING_TABLES = {table: list(columns) for table, columns in RAW_TABLES.items()}
INTEGER_COLUMNS = {"employee_count", "annual_revenue_usd", "intensity"}
TRUTH_TABLES = ("row_labels", "identifiers", "persons", "accounts")

DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000
WINDOW_DAYS = 180
CHUNK_ROWS = 250_000
# The smallest sample: fewer events leave no room for the world's groups.
MIN_EVENTS = 5_000

# --- defects -----------------------------------------------------------------

DEFECTS = [
    None,
    "legacy_alias",
    "miscased_name",
    "placeholder_id",
    "late_arrival",
    "mixed_case_email",
    "unknown_event",
    "missing_required_property",
    "no_identifier",
    "unparseable_timestamp",
    "future_timestamp",
    "bot_user_agent",
    "outside_retention",
    "duplicate_message_id",
    "invalid_value",
]
D = {name: i for i, name in enumerate(DEFECTS)}
ACCEPTED_DEFECTS = {
    "legacy_alias",
    "miscased_name",
    "placeholder_id",
    "late_arrival",
    "mixed_case_email",
}
EXPECTED_REASON = [None if (d is None or d in ACCEPTED_DEFECTS) else d for d in DEFECTS]


@dataclasses.dataclass(frozen=True)
class DefectRates:
    """Share of raw rows carrying each defect (events: of all raw event rows;
    `identifies_*` / `consent_*`: of that table's clean rows, added as extra rows)."""

    legacy_alias: float = 0.015
    miscased_name: float = 0.01
    placeholder_id: float = 0.01
    late_arrival: float = 0.01
    mixed_case_email: float = 0.005
    unknown_event: float = 0.005
    missing_required_property: float = 0.005
    no_identifier: float = 0.005
    unparseable_timestamp: float = 0.004
    future_timestamp: float = 0.003
    bot_user_agent: float = 0.005
    outside_retention: float = 0.003
    duplicate_message_id: float = 0.01
    identifies_duplicate_message_id: float = 0.01
    identifies_unparseable_timestamp: float = 0.005
    identifies_no_identifier: float = 0.005
    identifies_mixed_case_email: float = 0.03
    consent_duplicate_message_id: float = 0.01
    consent_unparseable_timestamp: float = 0.005
    consent_no_identifier: float = 0.005
    consent_invalid_value: float = 0.01

    @classmethod
    def from_overrides(cls, overrides: dict[str, float] | None) -> DefectRates:
        overrides = dict(overrides or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown defect rate(s): {sorted(unknown)}; known: {sorted(names)}")
        for name, value in overrides.items():
            if not 0.0 <= float(value) <= 0.2:
                raise ValueError(f"defect rate {name}={value} outside [0, 0.2]")
        return cls(**{k: float(v) for k, v in overrides.items()})


# --- reference vocabularies ---------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


INDUSTRIES = [
    "Software",
    "Financial Services",
    "E-commerce",
    "Healthcare",
    "Manufacturing",
    "Education",
    "Retail",
    "Media",
]
ICP_INDUSTRIES = ("Software", "Financial Services")
ICP_COUNTRIES = ("US", "GB")
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "SE", "CA", "AU", "IN", "BR", "JP", "SG"]
COUNTRY_WEIGHTS = [40, 12, 9, 5, 4, 2, 2, 6, 5, 6, 4, 3, 2]
DOMAIN_WORDS_A = _words(
    "acme blue bright clear cloud core data deep delta east fast first fluent fresh "
    "global green grid hyper iron keen kite lumen lunar meta micro mint modern nimble "
    "north nova open orbit pixel prime pulse quantum quick rapid red river rocket sage "
    "silver smart solid spark stellar summit swift terra true urban vast vector vivid "
    "west wide zen alpine amber apex arc atlas bold cedar cobalt coral crest "
)
DOMAIN_WORDS_B = _words(
    "analytics apps bank bio bits box brands capital cart commerce data devices dynamics "
    "edge energy finance foods forge freight goods grid health hub industries insights "
    "labs learning logic loop media metrics mills motors networks partners pay pharma "
    "retail robotics scale shop signal soft solutions stack studio systems tech tools "
    "trade ventures vision wave widgets works academy care clinic "
)
TLDS = ["com", "io", "co", "net", "ai"]
FIRST_NAMES = _words(
    "ann ben carla david emma felix grace hugo iris jonas kate liam maria noah olivia "
    "paul quinn rosa sam tara umar vera will xena yusuf zoe alice bruno chloe diego "
    "elena frank gina henry ines jack lena marco nina oscar petra rafael sofia tom ulla "
    "victor wendy "
)
LAST_NAMES = _words(
    "smith jones miller brown davis garcia wilson taylor anderson thomas moore martin "
    "lee walker hall young king wright lopez hill scott green adams baker nelson carter "
    "mitchell perez roberts turner phillips campbell parker evans edwards collins "
    "stewart morris murphy cook rogers morgan peterson cooper reed bailey bell kelly "
    "howard ward cox "
)
JOB_TITLES = [
    "Head of Marketing",
    "Marketing Manager",
    "Growth Lead",
    "Data Analyst",
    "Analytics Engineer",
    "VP Sales",
    "Product Manager",
    "CTO",
    "Software Engineer",
    "Operations Manager",
]
CLEAN_USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Segmently/4.2.1 (iOS 18.1; iPhone15,2)",
    "Segmently/4.2.0 (Android 14; SM-S918B)",
    "Segmently-Desktop/2.9.3 (Windows 11)",
]
BOT_USER_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Go-http-client/1.1",
    "Wget/1.21.4",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
]
PLACEHOLDERS = [
    "null",
    "anonymous",
    "0",
    "-1",
    "00000000-0000-0000-0000-000000000000",
    "undefined",
    "",
]
UNKNOWN_EVENTS = ["Button_Clicked", "test_event", "Video_Played", "Checkout_Started", "debug_ping"]
BAD_TIMESTAMPS = ["not a timestamp", "", "20/11/2026 10:15", "yesterday", "31/01/2026 07:30"]
REFERRERS = [
    "https://www.google.com/",
    "https://www.linkedin.com/",
    "https://news.ycombinator.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
]
OFFSETS = [("+01:00", 60), ("+02:00", 120), ("-05:00", -300), ("+05:30", 330), ("-08:00", -480)]
SITE = "https://www.segmently.io"
APP = "https://app.segmently.io"
TOPICS = [
    "customer data platform",
    "marketing analytics",
    "product analytics",
    "reverse etl",
    "identity resolution",
    "account based marketing",
]
PROVIDERS = ["bombora", "g2", "6sense"]
SOURCES = ["web", "app", "product", "email", "ads"]

# person kinds and archetypes
VISITOR, LEAD, FREE, PAID, FORMER = range(5)
NONE, HIGH_INTENT, POWER, UPSELL, AT_RISK, WIN_BACK = range(6)
ARCHETYPE_FLAGS = {
    HIGH_INTENT: "is_high_intent",
    POWER: "is_power_user",
    UPSELL: "is_upsell_candidate",
    AT_RISK: "is_at_risk",
    WIN_BACK: "is_win_back",
}


def _log(progress: bool, message: str) -> None:
    if progress:
        print(f"[generate] {message}", file=sys.stderr, flush=True)


# --- hashing helpers (deterministic ids without storing them) ----------------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_POS = np.array([*range(0, 8), *range(9, 13), *range(14, 18), *range(19, 23), *range(24, 36)])


def _mix(x: np.ndarray) -> np.ndarray:
    x = x + _GOLD
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _uuids(keys: np.ndarray, salt: int) -> pa.Array:
    """UUIDv4-shaped strings, a pure function of (key, salt)."""
    k = keys.astype(np.uint64) ^ _mix(np.array([salt], dtype=np.uint64))[0]
    hi = _mix(k)
    lo = _mix(hi ^ _GOLD)
    raw = np.stack([hi, lo], axis=1).view(np.uint8).reshape(-1, 16)
    nib = np.empty((raw.shape[0], 32), dtype=np.uint8)
    nib[:, 0::2] = raw >> 4
    nib[:, 1::2] = raw & 15
    nib[:, 12] = 4
    nib[:, 16] = 8 | (nib[:, 16] & 3)
    out = np.full((raw.shape[0], 36), ord("-"), dtype=np.uint8)
    out[:, _UUID_POS] = _HEX[nib]
    return pa.array(out.view("S36").ravel()).cast(pa.string())


# --- timestamp rendering -------------------------------------------------------


def _iso_utc(ms: np.ndarray) -> pa.Array:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` (the collector's form)."""
    text = pa.array(ms, type=pa.timestamp("ms")).cast(pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), "Z", "")


def _iso_mixed(ms: np.ndarray, fmt: np.ndarray, offset: np.ndarray) -> pa.Array:
    """Client timestamps in the four accepted forms: fmt 0 `...SSZ`, 1 `...SS.mmmZ`,
    2 `... SS+00:00` (space separator), 3 local time with a non-UTC offset."""
    minutes = np.array([m for _, m in OFFSETS], dtype=np.int64)
    local = ms + np.where(fmt == 3, minutes[offset] * MINUTE, 0)
    text = pa.array(local, type=pa.timestamp("ms")).cast(pa.string())
    tee = pc.replace_substring(text, " ", "T")
    sec_t = pc.utf8_slice_codeunits(tee, 0, 19)
    sec_space = pc.utf8_slice_codeunits(text, 0, 19)
    body = pc.choose(pa.array(fmt.astype(np.int8)), sec_t, tee, sec_space, sec_t)
    suffixes = pa.array(["Z", "Z", "+00:00", *[s for s, _ in OFFSETS]])
    suffix_idx = np.where(fmt == 3, 3 + offset, fmt).astype(np.int32)
    return pc.binary_join_element_wise(body, suffixes.take(pa.array(suffix_idx)), "")


def _iso_date_utc(ms: np.ndarray) -> list[str]:
    return [
        dt.datetime.fromtimestamp(v / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for v in ms.tolist()
    ]


def _take(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    idx = np.asarray(idx)
    return vocab.take(pa.array(idx.astype(np.int64), mask=idx < 0))


# --- seeds ------------------------------------------------------------------------


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(PROJECT_DIR / "seeds" / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Taxonomy:
    """Event names, codes, aliases and property templates."""

    def __init__(self) -> None:
        rows = _read_csv("event_taxonomy")
        self.names = [r["event_name"] for r in rows]
        self.code = {n: i for i, n in enumerate(self.names)}
        self.required = [[k for k in r["required_properties"].split("|") if k] for r in rows]
        self.aliases = [[a for a in r["aliases"].split("|") if a] for r in rows]
        self.bot_patterns = [r["pattern"].lower() for r in _read_csv("bot_user_agent_patterns")]
        self.opt_in = {
            r["country_code"]
            for r in _read_csv("consent_region_defaults")
            if r["is_opt_in"].strip().lower() == "true"
        }
        for ua in CLEAN_USER_AGENTS:
            hit = [p for p in self.bot_patterns if p in ua.lower()]
            assert not hit, f"clean user agent {ua!r} matches bot pattern(s) {hit}"
        for ua in BOT_USER_AGENTS:
            assert any(p in ua.lower() for p in self.bot_patterns), ua
        for name in UNKNOWN_EVENTS:
            known = {n.lower() for n in self.names} | {
                a.strip().lower() for al in self.aliases for a in al
            }
            assert name.strip().lower() not in known, name
        self._build_names()
        self._build_templates()

    def _build_names(self) -> None:
        vocab = list(self.names)
        self.alias_start, self.alias_count = [], []
        for al in self.aliases:
            self.alias_start.append(len(vocab))
            self.alias_count.append(len(al))
            vocab.extend(al)
        self.miscase_start = []
        for n in self.names:
            self.miscase_start.append(len(vocab))
            vocab.extend([n.lower(), n.upper(), f" {n} ", f" {n.lower()} "])
        self.unknown_start = len(vocab)
        vocab.extend(UNKNOWN_EVENTS)
        self.name_vocab = pa.array(vocab)
        self.canonical_of_vocab = np.array(
            [
                *range(len(self.names)),
                *[c for c, al in enumerate(self.aliases) for _ in al],
                *[c for c in range(len(self.names)) for _ in range(4)],
                *[-1] * len(UNKNOWN_EVENTS),
            ]
        )

    def _values(self, event: str, key: str) -> list:
        plans = ["free", "pro", "enterprise"]
        table = {
            "path": ["/", "/product", "/features", "/integrations", "/about", "/security"]
            + ["/docs/getting-started", "/customers", "/contact", "/careers"],
            "post_id": [f"post-{i}" for i in range(101, 131)],
            "asset_id": [f"ebook-{i:02d}" for i in range(1, 11)],
            "webinar_id": [f"wb-2026-{i:02d}" for i in range(1, 9)],
            "campaign_id": [f"cmp-2026-{i:02d}" for i in range(1, 21)],
            "case_study_id": [f"cs-{i:02d}" for i in range(1, 13)],
            "competitor": ["hubspot", "segment", "mixpanel", "amplitude", "braze"],
            "form_id": ["demo-main", "demo-pricing", "demo-footer"],
            "link_url": [f"{SITE}/blog/post-{i}" for i in range(101, 111)],
            "report_id": [f"rpt-{i}" for i in range(1, 16)],
            "invitee_role": ["viewer", "editor", "admin"],
            "plan": plans if event == "Pricing_Viewed" else ["pro", "enterprise"],
            "amount_usd": [588, 12000],
            "from_plan": ["free", "pro"],
            "to_plan": ["pro", "enterprise"],
        }
        if event == "Signup_Completed":
            return ["free"]
        return table[key]

    def _url(self, event: str, props: dict) -> str | None:
        urls = {
            "Page_Viewed": lambda p: SITE + p.get("path", ""),
            "Blog_Post_Viewed": lambda p: f"{SITE}/blog/{p.get('post_id', '')}",
            "Content_Downloaded": lambda p: f"{SITE}/resources/{p.get('asset_id', '')}",
            "Webinar_Registered": lambda p: f"{SITE}/webinars/{p.get('webinar_id', '')}",
            "Ad_Clicked": lambda p: f"{SITE}/lp/{p.get('campaign_id', '')}",
            "Pricing_Viewed": lambda p: f"{SITE}/pricing",
            "Case_Study_Viewed": lambda p: f"{SITE}/customers/{p.get('case_study_id', '')}",
            "Comparison_Viewed": lambda p: f"{SITE}/compare/{p.get('competitor', '')}",
            "Demo_Requested": lambda p: f"{SITE}/demo",
            "Trial_Started": lambda p: f"{SITE}/trial",
            "Signup_Completed": lambda p: f"{APP}/signup",
        }
        if event in urls:
            return urls[event](props)
        if event.startswith("Email_"):
            return None
        return f"{APP}/{event.split('_')[0].lower()}"

    def _build_templates(self) -> None:
        """Per (event, variant) a block of JSON property templates and page URLs.
        Variants: 0 clean; 1 clean Feature_Used advanced (0 is basic there);
        2 a required property missing or empty."""
        props, urls = [], []
        self.block = {}  # (code, variant) -> (start, count)
        basic = ["dashboards", "filters", "sharing", "csv_import", "alerts"]
        advanced = ["sql_editor", "predictive_scoring", "custom_models", "api_access", "audiences"]
        rng = np.random.default_rng(7)
        for code, event in enumerate(self.names):
            req = self.required[code]
            variants: dict[int, list[dict]] = {}
            if event == "Feature_Used":
                variants[0] = [{"feature": f, "feature_tier": "basic"} for f in basic]
                variants[1] = [{"feature": f, "feature_tier": "advanced"} for f in advanced]
            elif event == "App_Opened":
                variants[0] = [{"platform": p} for p in ("web", "ios", "android", "desktop")]
            else:
                combos = [{}]
                for key in req:
                    combos = [{**c, key: v} for c in combos for v in self._values(event, key)]
                if len(combos) > 40:
                    combos = [combos[i] for i in sorted(rng.choice(len(combos), 40, replace=False))]
                variants[0] = combos
            clean = [p for v in sorted(variants) for p in variants[v]]
            if req:
                broken = []
                for p in clean[:12]:
                    for j, key in enumerate(req):
                        q = dict(p)
                        if j % 2 == 0:
                            q.pop(key)
                        else:
                            q[key] = ""
                        broken.append(q)
                        q2 = dict(p)
                        q2[key] = "" if j % 2 == 0 else None
                        if q2[key] is None:
                            q2.pop(key)
                        broken.append(q2)
                variants[2] = broken
            for variant, plist in variants.items():
                self.block[(code, variant)] = (len(props), len(plist))
                for p in plist:
                    props.append(json.dumps(p, separators=(", ", ": ")))
                    urls.append(self._url(event, p) if p else self._url(event, {}))
        self.props_vocab = pa.array(props)
        self.url_vocab = pa.array(urls, type=pa.string())

    def has_required(self) -> np.ndarray:
        return np.array([bool(r) for r in self.required])


# --- the world -------------------------------------------------------------------


class World:
    """Plain attribute bag for the drawn world (person-level NumPy arrays)."""


def _span_uniform(rng, lo, hi, counts):
    """Repeat per-person [lo, hi) by counts and draw uniform times inside."""
    lo_r = np.repeat(lo, counts)
    hi_r = np.repeat(hi, counts)
    return lo_r + (rng.random(lo_r.size) * np.maximum(hi_r - lo_r, 1)).astype(np.int64)


def _build_accounts(rng, n_accounts: int, end_ms: int, w: World) -> None:
    space = len(DOMAIN_WORDS_A) * len(DOMAIN_WORDS_B) * len(TLDS)
    picks = rng.permutation(space)[: min(n_accounts, space)]
    if n_accounts > space:
        picks = np.concatenate([picks, rng.integers(0, space, n_accounts - space)])
    domains, names = [], []
    for i, p in enumerate(picks.tolist()):
        a, rest = divmod(p, len(DOMAIN_WORDS_B) * len(TLDS))
        b, t = divmod(rest, len(TLDS))
        wa, wb = DOMAIN_WORDS_A[a], DOMAIN_WORDS_B[b]
        suffix = "" if i < space else str(i // space)
        domains.append(f"{wa}-{wb}{suffix}.{TLDS[t]}")
        names.append(f"{wa.title()} {wb.title()}{(' ' + suffix) if suffix else ''}")
    icp = rng.random(n_accounts) < 0.22
    industry = rng.integers(0, len(INDUSTRIES), n_accounts)
    country = rng.choice(len(COUNTRIES), n_accounts, p=np.array(COUNTRY_WEIGHTS) / 100)
    employees = np.exp(rng.uniform(np.log(5), np.log(50_000), n_accounts)).astype(np.int64)
    per_emp = np.exp(rng.uniform(np.log(40_000), np.log(400_000), n_accounts))
    revenue = (employees * per_emp).astype(np.int64) // 1000 * 1000
    # ICP fits: Software/Financial Services, 200-4999 employees, 20M-1B revenue, US/GB.
    n_icp = int(icp.sum())
    industry[icp] = rng.integers(0, 2, n_icp)
    country[icp] = rng.choice(2, n_icp, p=[0.75, 0.25])
    employees[icp] = rng.integers(200, 5000, n_icp)
    revenue[icp] = np.clip(employees[icp] * rng.uniform(100_000, 350_000, n_icp), 2e7, 1e9).astype(
        np.int64
    )
    fit = _icp_fit(industry, employees, revenue, country)
    # Non-ICP accounts that fit by chance are pushed out of the band.
    accidental = fit & ~icp
    employees[accidental] = rng.integers(10, 150, int(accidental.sum()))
    w.acc_id = np.array([f"A{100000 + i}" for i in range(n_accounts)], dtype=object)
    w.acc_domain = np.array(domains, dtype=object)
    w.acc_name = np.array(names, dtype=object)
    w.acc_industry = industry
    w.acc_country = country
    w.acc_employees = employees
    w.acc_revenue = revenue
    w.acc_icp = _icp_fit(industry, employees, revenue, country)
    w.acc_updated_ms = end_ms - rng.integers(1, WINDOW_DAYS, n_accounts) * DAY
    w.n_accounts = n_accounts


def _icp_fit(industry, employees, revenue, country):
    icp_ind = np.isin(np.array(INDUSTRIES)[industry], ICP_INDUSTRIES)
    icp_cty = np.isin(np.array(COUNTRIES)[country], ICP_COUNTRIES)
    return (
        icp_ind
        & (employees >= 200)
        & (employees <= 4999)
        & (revenue >= 20_000_000)
        & (revenue <= 1_000_000_000)
        & icp_cty
    )


def _build_persons(rng, n_persons: int, end_ms: int, w: World, tax: Taxonomy) -> None:
    P = n_persons

    # Archetypes first (each a clear group), then ordinary kinds to fill.
    def share(frac, minimum):
        return max(minimum, int(round(P * frac)))

    plan = [
        (LEAD, HIGH_INTENT, share(0.015, 4)),
        (FREE, HIGH_INTENT, share(0.010, 3)),
        (PAID, POWER, share(0.02, 6)),
        (FREE, UPSELL, share(0.02, 6)),
        (PAID, AT_RISK, share(0.02, 6)),
        (FORMER, WIN_BACK, share(0.02, 6)),
    ]
    used = sum(c for *_, c in plan)
    rest = P - used
    base = [(VISITOR, 0.36), (LEAD, 0.14), (FREE, 0.24), (PAID, 0.17), (FORMER, 0.09)]
    counts = [int(rest * f) for _, f in base]
    counts[0] += rest - sum(counts)
    plan += [(k, NONE, c) for (k, _), c in zip(base, counts, strict=True)]
    kind = np.concatenate([np.full(c, k, np.int8) for k, _, c in plan])
    arch = np.concatenate([np.full(c, a, np.int8) for _, a, c in plan])
    order = rng.permutation(P)
    kind, arch = kind[order], arch[order]
    identified = kind != VISITOR
    is_user = kind >= FREE

    # Corporate (account) or free-mail; visitors resolve to no account.
    corporate = identified & ((arch != NONE) | (rng.random(P) < 0.8))
    acc_weight = np.exp(rng.normal(0, 1.0, w.n_accounts))
    account = np.full(P, -1, np.int64)
    account[corporate] = rng.choice(
        w.n_accounts, int(corporate.sum()), p=acc_weight / acc_weight.sum()
    )

    # Hot accounts: ICP accounts with an intent surge and 2-3 engaged, consented persons.
    icp_idx = np.flatnonzero(w.acc_icp)
    surge = np.zeros(w.n_accounts, bool)
    surge[icp_idx[rng.random(icp_idx.size) < 0.40]] = True
    non_icp = np.flatnonzero(~w.acc_icp)
    surge[non_icp[rng.random(non_icp.size) < 0.04]] = True  # surge without fit
    target_hot = surge & w.acc_icp & (rng.random(w.n_accounts) < 0.75)
    hot_idx = np.flatnonzero(target_hot)
    pool = np.flatnonzero(corporate & (arch == NONE) & np.isin(kind, [LEAD, FREE, PAID]))
    pool = rng.permutation(pool)
    hot_engaged = np.zeros(P, bool)
    k_each = rng.integers(2, 4, hot_idx.size)
    take = min(int(k_each.sum()), pool.size)
    if take < int(k_each.sum()):  # tiny worlds: fewer hot accounts
        keep = np.cumsum(k_each) <= take
        hot_idx, k_each = hot_idx[keep], k_each[keep]
        take = int(k_each.sum())
    chosen = pool[:take]
    account[chosen] = np.repeat(hot_idx, k_each)
    hot_engaged[chosen] = True
    w.acc_surge = surge

    # Countries (about 30% of persons in opt-in regions).
    p_cty = np.array(COUNTRY_WEIGHTS) / 100
    country = rng.choice(len(COUNTRIES), P, p=p_cty)
    own = (account >= 0) & (rng.random(P) < 0.9)
    country[own] = w.acc_country[account[own]]
    country_code = np.array(COUNTRIES)[country]
    opt_in = np.isin(country_code, sorted(tax.opt_in))

    # Devices: visitors and leads 1, users 1-3 (the first is where they browsed anonymously).
    n_dev = np.ones(P, np.int64)
    n_dev[is_user] = rng.choice([1, 2, 3], int(is_user.sum()), p=[0.5, 0.35, 0.15])
    dev_start = np.concatenate([[0], np.cumsum(n_dev)[:-1]])

    # Activity spans (ms).
    tmin, tmax = end_ms - WINDOW_DAYS * DAY + HOUR, end_ms - MINUTE
    rng_len = tmax - tmin
    u = rng.random(P)
    start = (tmin + u * 0.6 * rng_len).astype(np.int64)
    stop = np.full(P, tmax, np.int64)
    vis = kind == VISITOR
    start[vis] = (tmin + rng.random(int(vis.sum())) * (rng_len - DAY)).astype(np.int64)
    vlen = (np.exp(rng.uniform(np.log(0.05), np.log(30), int(vis.sum()))) * DAY).astype(np.int64)
    stop[vis] = np.minimum(start[vis] + vlen, tmax)
    early = np.isin(arch, [HIGH_INTENT, POWER, UPSELL]) | hot_engaged
    start[early] = (tmin + u[early] * 0.4 * rng_len).astype(np.int64)
    paid_like = kind == PAID
    start[paid_like] = (tmin + u[paid_like] * 0.15 * rng_len).astype(np.int64)
    # Dormant leads / free / paid users (no special flag) stop well before the end.
    # (Paying customers never go quiet without a flag: that is what at_risk means.)
    dormant = np.isin(kind, [LEAD, FREE]) & (arch == NONE) & ~hot_engaged
    dormant &= rng.random(P) < 0.3
    d_start = (tmin + rng.random(int(dormant.sum())) * (rng_len - 80 * DAY)).astype(np.int64)
    start[dormant] = d_start
    stop[dormant] = np.minimum(
        d_start + (rng.uniform(10, 60, d_start.size) * DAY).astype(np.int64), end_ms - 45 * DAY
    )
    # Former customers: cancellation; win-back ones 60-150 days ago.
    cancel = np.full(P, -1, np.int64)
    former = kind == FORMER
    wb = arch == WIN_BACK
    cancel[former] = (
        tmin + 20 * DAY + rng.random(int(former.sum())) * (rng_len - 60 * DAY - 20 * DAY)
    ).astype(np.int64)
    cancel[wb] = end_ms - (rng.uniform(60, 150, int(wb.sum())) * DAY).astype(np.int64)
    start[former] = np.minimum(
        (tmin + rng.random(int(former.sum())) * 0.1 * rng_len).astype(np.int64),
        cancel[former] - 10 * DAY,
    )
    start[former] = np.maximum(start[former], tmin)
    stop[former] = np.minimum(
        cancel[former] + (rng.uniform(0, 5, int(former.sum())) * DAY).astype(np.int64),
        end_ms - 35 * DAY,
    )
    stop[wb] = cancel[wb]
    at_risk = arch == AT_RISK
    stop[at_risk] = end_ms - 31 * DAY
    stop = np.maximum(stop, start + HOUR)

    # Identification (identify call): users log in early; leads and free users later.
    id_ms = np.full(P, -1, np.int64)
    late_id = np.isin(kind, [LEAD, FREE])
    id_ms[late_id] = (
        start[late_id] + rng.random(int(late_id.sum())) * 0.3 * (stop[late_id] - start[late_id])
    ).astype(np.int64)
    early_id = np.isin(kind, [PAID, FORMER])
    id_ms[early_id] = start[early_id] + rng.integers(0, 2 * HOUR, int(early_id.sum()))

    # Plan and lifecycle (CRM truth).
    plan_code = np.full(P, None, dtype=object)
    life = np.full(P, None, dtype=object)
    life[kind == LEAD] = np.where(
        rng.random(int((kind == LEAD).sum())) < 0.8, "lead", "opportunity"
    )
    plan_code[kind == FREE] = "free"
    life[kind == FREE] = np.where(
        rng.random(int((kind == FREE).sum())) < 0.7, "lead", "opportunity"
    )
    plan_code[kind == PAID] = np.where(
        rng.random(int((kind == PAID).sum())) < 0.7, "pro", "enterprise"
    )
    life[kind == PAID] = "customer"
    plan_code[kind == FORMER] = "free"
    life[kind == FORMER] = "former_customer"
    has_contact = corporate & ((arch != NONE) | hot_engaged | (rng.random(P) < 0.75))

    # Consent, GPC, deletion.
    protected = hot_engaged
    denied = opt_in & (rng.random(P) < 0.15) & ~protected
    marketing = ~denied & (rng.random(P) < 0.55)
    can_withdraw = identified & ~denied & ~protected & (id_ms < end_ms - 3 * DAY)
    n_withdraw = min(int(round(0.05 * P)), int(can_withdraw.sum()))
    withdraw_idx = rng.choice(np.flatnonzero(can_withdraw), n_withdraw, replace=False)
    withdrawn_ms = np.full(P, -1, np.int64)
    lo = np.maximum(id_ms[withdraw_idx], start[withdraw_idx]) + DAY
    withdrawn_ms[withdraw_idx] = lo + (
        rng.random(n_withdraw) * np.maximum(tmax - HOUR - lo, 1)
    ).astype(np.int64)
    gpc = (country_code == "US") & (rng.random(P) < 0.15)
    can_delete = np.flatnonzero(identified & ~protected)
    n_delete = min(max(1, int(round(0.01 * identified.sum()))), can_delete.size)
    delete_idx = rng.choice(can_delete, n_delete, replace=False)
    deleted = np.zeros(P, bool)
    deleted[delete_idx] = True
    deletion_ms = np.full(P, -1, np.int64)
    deletion_ms[delete_idx] = end_ms - (rng.uniform(1 / 24, 60, n_delete) * DAY).astype(np.int64)

    # Names, emails, user ids.
    first = rng.integers(0, len(FIRST_NAMES), P)
    last = rng.integers(0, len(LAST_NAMES), P)
    free_domains = [r["domain"] for r in _read_csv("free_email_domains")]
    fm = rng.integers(0, len(free_domains), P)
    emails = np.full(P, None, dtype=object)
    seen: set[str] = set()
    for i in np.flatnonzero(identified).tolist():
        f, la = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
        if account[i] >= 0:
            e = f"{f}.{la}@{w.acc_domain[account[i]]}"
        else:
            e = f"{f}{la[0]}{int(i) % 97}@{free_domains[fm[i]]}"
        if e in seen:
            local, dom = e.split("@")
            e = f"{local}{i}@{dom}"
        seen.add(e)
        emails[i] = e
    uid_num = rng.choice(90_000_000, int(is_user.sum()), replace=False) + 10_000_000
    user_ids = np.full(P, None, dtype=object)
    user_ids[is_user] = [f"U{v}" for v in uid_num.tolist()]
    contact_rank = np.cumsum(has_contact) - 1

    w.P = P
    w.kind, w.arch, w.account, w.corporate = kind, arch, account, corporate
    w.identified, w.is_user = identified, is_user
    w.hot_engaged, w.target_hot = hot_engaged, target_hot
    w.country, w.country_code, w.opt_in = country, country_code, opt_in
    w.n_dev, w.dev_start = n_dev, dev_start
    w.start, w.stop, w.id_ms, w.cancel = start, stop, id_ms, cancel
    w.plan, w.life, w.has_contact, w.contact_rank = plan_code, life, has_contact, contact_rank
    w.denied, w.marketing, w.withdrawn_ms, w.gpc = denied, marketing, withdrawn_ms, gpc
    w.deleted, w.deletion_ms = deleted, deletion_ms
    w.emails, w.user_ids = emails, user_ids
    w.job = rng.integers(0, len(JOB_TITLES), P)
    w.first = first
    w.tmin, w.tmax, w.end_ms = tmin, tmax, end_ms


def _build_devices(rng, w: World, seed: int) -> None:
    n_person_dev = int(w.n_dev.sum())
    n_kiosk = max(1, int(round(w.P / 1200)))
    n_laptop = max(2, int(round(w.P / 300)))
    owner = np.repeat(np.arange(w.P), w.n_dev)
    # Shared devices get appended after the person devices.
    w.n_kiosk, w.n_laptop = n_kiosk, n_laptop
    n_dev = n_person_dev + n_kiosk + n_laptop
    w.dev_owner = np.concatenate([owner, np.full(n_kiosk + n_laptop, -1)])
    w.dev_kiosk = np.zeros(n_dev, bool)
    w.dev_kiosk[n_person_dev : n_person_dev + n_kiosk] = True
    w.dev_laptop = np.zeros(n_dev, bool)
    w.dev_laptop[n_person_dev + n_kiosk :] = True
    w.kiosk0, w.laptop0 = n_person_dev, n_person_dev + n_kiosk
    # Person devices: web browsers or (later devices of users) often the app.
    ua = rng.integers(0, 7, n_dev)
    later = np.ones(n_dev, bool)
    later[w.dev_start] = False
    later[n_person_dev:] = False
    app = later & (rng.random(n_dev) < 0.5)
    ua[app] = rng.integers(7, len(CLEAN_USER_AGENTS), int(app.sum()))
    w.dev_ua = ua
    w.dev_uuid = _uuids(np.arange(n_dev, dtype=np.uint64), seed * 1_000 + 11)
    octets = [rng.integers(1, 255, n_dev) for _ in range(4)]
    parts = [pa.array(o).cast(pa.string()) for o in octets]
    w.dev_ip = pc.binary_join_element_wise(*parts, ".")
    w.n_devices = n_dev


# --- events skeleton ------------------------------------------------------------------


class Rows:
    """Accumulates event skeleton pieces."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, person, t, code, protect=0, advanced=None, device=None) -> None:
        person = np.asarray(person, np.int32)
        n = person.size
        if n == 0:
            return
        self.parts.append(
            {
                "person": person,
                "t": np.asarray(t, np.int64),
                "code": np.broadcast_to(np.asarray(code, np.int16), (n,)).copy(),
                "protect": np.full(n, protect, np.int8),
                "advanced": np.zeros(n, bool) if advanced is None else np.asarray(advanced, bool),
                "device": np.full(n, -1, np.int32)
                if device is None
                else np.asarray(device, np.int32),
            }
        )

    def count(self) -> int:
        return sum(p["person"].size for p in self.parts)

    def concat(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def _draw_codes(rng, tax: Taxonomy, n: int, dist: dict[str, float]) -> np.ndarray:
    names = list(dist)
    p = np.array([dist[k] for k in names], float)
    codes = np.array([tax.code[k] for k in names], np.int16)
    return codes[rng.choice(len(names), n, p=p / p.sum())]


WEB_MIX = {
    "Page_Viewed": 0.55,
    "Blog_Post_Viewed": 0.14,
    "Content_Downloaded": 0.04,
    "Webinar_Registered": 0.02,
    "Ad_Clicked": 0.05,
    "Pricing_Viewed": 0.07,
    "Case_Study_Viewed": 0.05,
    "Comparison_Viewed": 0.04,
    "Demo_Requested": 0.01,
}
EMAIL_MIX = {"Email_Opened": 0.70, "Email_Clicked": 0.28, "Email_Unsubscribed": 0.02}
PRODUCT_MIX = {
    "App_Opened": 0.35,
    "Feature_Used": 0.45,
    "Report_Exported": 0.15,
    "Teammate_Invited": 0.05,
}
HEAVY_MIX = {"App_Opened": 0.3, "Feature_Used": 0.5, "Report_Exported": 0.2}


def _special_rows(rng, w: World, tax: Taxonomy, rows: Rows) -> None:
    end, tmax = w.end_ms, w.tmax
    c = tax.code

    def window(persons, k_lo, k_hi, lo, hi, mix=None, code=None, protect=1, adv_p=0.0):
        persons = np.asarray(persons)
        k = rng.integers(k_lo, k_hi + 1, persons.size)
        t = _span_uniform(rng, np.full(persons.size, lo), np.full(persons.size, hi), k)
        n = t.size
        codes = _draw_codes(rng, tax, n, mix) if mix else np.full(n, code, np.int16)
        adv = (codes == c["Feature_Used"]) & (rng.random(n) < adv_p)
        rows.add(np.repeat(persons, k), t, codes, protect, adv)

    arch = w.arch
    hi = np.flatnonzero(arch == HIGH_INTENT)
    window(hi, 1, 3, end - 14 * DAY, tmax, code=c["Pricing_Viewed"])
    window(hi, 2, 4, end - 30 * DAY, tmax, mix={"Email_Opened": 0.6, "Email_Clicked": 0.4})
    window(hi, 1, 2, end - 30 * DAY, tmax, code=c["Case_Study_Viewed"])
    power = np.flatnonzero(arch == POWER)
    window(power, 60, 120, end - 30 * DAY, tmax, mix=HEAVY_MIX, adv_p=0.3)
    up = np.flatnonzero(arch == UPSELL)
    window(up, 3, 6, end - 7 * DAY + HOUR, tmax, code=c["Feature_Used"], adv_p=1.0)
    window(up, 2, 4, end - 7 * DAY + HOUR, tmax, code=c["App_Opened"])
    risk = np.flatnonzero(arch == AT_RISK)
    window(risk, 20, 35, end - 90 * DAY, end - 31 * DAY, mix=HEAVY_MIX, adv_p=0.15)
    almost = risk[rng.random(risk.size) < 0.3]
    window(almost, 1, 1, end - 30 * DAY, tmax, code=c["App_Opened"])
    wb = np.flatnonzero(arch == WIN_BACK)
    window(wb, 3, 8, end - 30 * DAY, tmax, mix={"Page_Viewed": 0.7, "Blog_Post_Viewed": 0.3})
    window(wb, 1, 2, end - 30 * DAY, end - 15 * DAY, code=c["Pricing_Viewed"])
    hot = np.flatnonzero(w.hot_engaged)
    window(
        hot,
        3,
        6,
        end - 30 * DAY,
        tmax,
        mix={
            "Page_Viewed": 0.4,
            "Blog_Post_Viewed": 0.25,
            "Webinar_Registered": 0.1,
            "Content_Downloaded": 0.1,
            "Case_Study_Viewed": 0.15,
        },
    )
    # Every other paying customer opens the app at least twice in the last 30 days.
    regular = np.flatnonzero((w.kind == PAID) & (arch == NONE))
    window(regular, 2, 4, end - 30 * DAY, tmax, code=c["App_Opened"])
    # Lifecycle milestones.
    signup = np.flatnonzero(w.kind == FREE)
    rows.add(signup, w.id_ms[signup] + 5_000, c["Signup_Completed"], 1)
    trial = signup[rng.random(signup.size) < 0.2]
    t = w.id_ms[trial] + (rng.uniform(1, 5, trial.size) * DAY).astype(np.int64)
    ok = t < w.stop[trial]
    rows.add(trial[ok], t[ok], c["Trial_Started"], 1)
    paid = np.flatnonzero(w.kind == PAID)
    sub = paid[rng.random(paid.size) < 0.3]
    t = w.start[sub] + (rng.random(sub.size) * (w.stop[sub] - w.start[sub]) * 0.5).astype(np.int64)
    t = np.maximum(t, w.id_ms[sub] + 1000)
    rows.add(sub, t, c["Subscription_Started"], 1)
    upg = paid[rng.random(paid.size) < 0.1]
    t = w.id_ms[upg] + (rng.random(upg.size) * (w.stop[upg] - w.id_ms[upg])).astype(np.int64)
    rows.add(upg, t, c["Plan_Upgraded"], 1)
    former = np.flatnonzero(w.kind == FORMER)
    rows.add(former, w.cancel[former], c["Subscription_Cancelled"], 1)


def _background_rows(rng, w: World, tax: Taxonomy, rows: Rows, n_background: int) -> None:
    if n_background <= 0:
        return
    P = w.P
    span_days = (w.stop - w.start) / DAY
    level = np.select(
        [w.kind == VISITOR, w.kind == LEAD, w.kind == FREE, w.kind == PAID],
        [0.5, 0.35, 0.45, 0.6],
        0.4,
    )
    streams = []
    # web: anyone, over the whole span
    streams.append(("web", 0.52, level * span_days, w.start, w.stop))
    # email: anyone with an email address, after identification
    e_lo = np.maximum(w.id_ms, w.start)
    e_w = np.where(w.identified, np.maximum(w.stop - e_lo, 0) / DAY, 0.0) * 0.25
    streams.append(("email", 0.14, e_w, e_lo, w.stop))
    # product: users, after identification, until cancellation / the drop
    p_hi = np.where(w.kind == FORMER, np.minimum(w.stop, w.cancel), w.stop)
    p_lo = np.maximum(w.id_ms, w.start)
    p_level = np.select([w.kind == PAID, w.kind == FREE, w.kind == FORMER], [1.3, 0.35, 0.6], 0.0)
    p_w = p_level * np.maximum(p_hi - p_lo, 0) / DAY
    streams.append(("product", 0.34, p_w, p_lo, p_hi))
    totals = rng.multinomial(n_background, [s[1] for s in streams])
    for (name, _, weight, lo, hi), total in zip(streams, totals, strict=True):
        weight = np.maximum(weight, 0.0)
        counts = rng.multinomial(int(total), weight / weight.sum())
        persons = np.repeat(np.arange(P), counts)
        t = _span_uniform(rng, lo, hi, counts)
        mix = {"web": WEB_MIX, "email": EMAIL_MIX, "product": PRODUCT_MIX}[name]
        codes = _draw_codes(rng, tax, t.size, mix)
        adv_p = np.where(w.kind[persons] == FREE, 0.03, 0.15)
        adv = (codes == tax.code["Feature_Used"]) & (rng.random(t.size) < adv_p)
        rows.add(persons, t, codes, 0, adv)


def _shared_device_rows(rng, w: World, tax: Taxonomy, rows: Rows) -> list[tuple[int, int]]:
    """Kiosks (>= 6 users each) and two-users-on-one-laptop pairs. Returns
    (laptop device, owner person) pairs."""
    users = np.flatnonzero(w.is_user & (w.arch == NONE) & ~w.hot_engaged)
    users = rng.permutation(users)
    mix = {"Page_Viewed": 0.4, "App_Opened": 0.3, "Feature_Used": 0.3}
    cursor = 0
    for k in range(w.n_kiosk):
        m = int(rng.integers(6, 11))
        who = users[cursor : cursor + m]
        cursor += m
        n = rng.integers(2, 5, who.size)
        lo = np.maximum(w.id_ms[who], w.start[who])
        t = _span_uniform(rng, lo, np.maximum(w.stop[who], lo + HOUR), n)
        rows.add(
            np.repeat(who, n),
            t,
            _draw_codes(rng, tax, t.size, mix),
            2,
            None,
            np.full(t.size, w.kiosk0 + k),
        )
    rest = users[cursor:]
    end = w.end_ms
    pool_a = rest[(w.id_ms[rest] < end - 70 * DAY) & (w.stop[rest] > w.id_ms[rest] + DAY)]
    pool_b = rest[(w.stop[rest] == w.tmax) & (w.id_ms[rest] < end - 20 * DAY)]
    pool_b = np.setdiff1d(pool_b, pool_a[: w.n_laptop])
    pool_b = rng.permutation(pool_b)
    pairs = []
    for k in range(min(w.n_laptop, pool_a.size, pool_b.size)):
        a, b = int(pool_a[k]), int(pool_b[k])
        dev = w.laptop0 + k
        na, nb = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        a_hi = min(int(w.stop[a]), end - 60 * DAY)
        a_lo = int(w.id_ms[a])
        ta = a_lo + (rng.random(na) * max(a_hi - a_lo, HOUR)).astype(np.int64)
        b_lo = max(int(w.id_ms[b]), end - 50 * DAY)
        tb = b_lo + (rng.random(nb) * (w.tmax - b_lo)).astype(np.int64)
        rows.add(np.full(na, a), ta, _draw_codes(rng, tax, na, mix), 2, None, np.full(na, dev))
        rows.add(np.full(nb, b), tb, _draw_codes(rng, tax, nb, mix), 2, None, np.full(nb, dev))
        pairs.append((dev, b))
    return pairs


def _pick(rng, eligible: np.ndarray, k: int) -> np.ndarray:
    idx = np.flatnonzero(eligible)
    k = min(k, idx.size)
    if k <= 0:
        return idx[:0]
    return np.sort(idx[rng.choice(idx.size, k, replace=False)])


# --- main entry point -----------------------------------------------------------------


def generate(
    out,
    n_events: int = 100_000,
    seed: int = 42,
    end_date: dt.date | str | None = None,
    progress: bool = True,
    rates: DefectRates | dict[str, float] | None = None,
) -> dict:
    """Write a landing directory (7 raw tables + `_truth/`) and return a summary."""
    t0 = time.perf_counter()
    if n_events < MIN_EVENTS:
        raise ValueError(
            f"n_events must be at least {MIN_EVENTS} (the world needs room for its groups)"
        )
    if isinstance(rates, dict) or rates is None:
        rates = DefectRates.from_overrides(rates)
    if end_date is None:
        end_date = dt.datetime.now(dt.UTC).date()
    elif isinstance(end_date, str):
        end_date = dt.date.fromisoformat(end_date)
    end_ms = (
        int(dt.datetime(end_date.year, end_date.month, end_date.day, tzinfo=dt.UTC).timestamp())
        * 1000
    )
    out = Path(out)
    rng = np.random.default_rng([seed, n_events, end_date.toordinal()])
    id_salt = int(rng.integers(0, 2**40))  # ids differ between worlds, even for equal seeds
    tax = Taxonomy()
    w = World()

    n_accounts = max(30, n_events // 300)
    n_persons = max(200, n_events // 40)
    _build_accounts(rng, n_accounts, end_ms, w)
    _build_persons(rng, n_persons, end_ms, w, tax)
    _build_devices(rng, w, id_salt)
    _log(progress, f"world: {n_accounts} accounts, {n_persons} persons, {w.n_devices} devices")

    rows = Rows()
    _special_rows(rng, w, tax, rows)
    pairs = _shared_device_rows(rng, w, tax, rows)
    n_dup = int(round(rates.duplicate_message_id * n_events))
    _background_rows(rng, w, tax, rows, n_events - n_dup - rows.count())
    ev = rows.concat()
    del rows
    N = ev["person"].size
    _log(progress, f"skeleton: {N} base events")

    person, t, code = ev["person"], ev["t"], ev["code"]
    # Only high-intent persons view pricing in the last 14 days (others' views are older).
    recent_pricing = (
        (code == tax.code["Pricing_Viewed"])
        & (t >= end_ms - 14 * DAY)
        & (w.arch[person] != HIGH_INTENT)
        & (ev["protect"] == 0)
    )
    code[recent_pricing] = tax.code["Page_Viewed"]

    email_codes = [tax.code[n] for n in EMAIL_MIX]
    is_email = np.isin(code, email_codes)
    product_codes = [tax.code[n] for n in PRODUCT_MIX] + [
        tax.code[n] for n in ("Subscription_Started", "Plan_Upgraded", "Subscription_Cancelled")
    ]
    source = np.zeros(N, np.int8)  # web
    source[np.isin(code, product_codes)] = 2
    source[code == tax.code["App_Opened"]] = 1
    source[is_email] = 3
    source[code == tax.code["Ad_Clicked"]] = 4
    # Identifiers: email rows carry the email only; others a device, plus the
    # user id once the person is identified as a product user.
    device = ev["device"]
    own = device < 0
    post_id = (w.id_ms[person] >= 0) & (t >= w.id_ms[person])
    pick_dev = np.where(post_id, (rng.random(N) * w.n_dev[person]).astype(np.int64), 0)
    device = np.where(own, w.dev_start[person] + pick_dev, device).astype(np.int32)
    device[is_email] = -1
    uid = w.is_user[person] & post_id & ~is_email
    uid[ev["protect"] == 2] = True
    has_email = is_email.copy()
    protect = ev["protect"]
    big = np.iinfo(np.int64).max
    first_t = np.full(w.P, big)
    np.minimum.at(first_t, person, t)
    dev_first = np.full(w.n_devices, big)
    has_dev = device >= 0
    np.minimum.at(dev_first, device[has_dev], t[has_dev])
    sh = np.flatnonzero(protect == 2)
    sh_key = person[sh].astype(np.int64) * w.n_devices + device[sh]
    sh_order = np.lexsort((t[sh], sh_key))
    sh_first = np.r_[True, np.diff(sh_key[sh_order]) != 0]
    sh_rows = sh[sh_order][sh_first]
    shared_first = (person[sh_rows], device[sh_rows], t[sh_rows])
    del own, pick_dev, has_dev

    # Property templates.
    variant = np.where((code == tax.code["Feature_Used"]) & ev["advanced"], 1, 0)
    starts = np.zeros((len(tax.names), 3), np.int64)
    sizes = np.ones((len(tax.names), 3), np.int64)
    for (cd, v), (s, n) in tax.block.items():
        starts[cd, v], sizes[cd, v] = s, n
    props = (starts[code, variant] + rng.random(N) * sizes[code, variant]).astype(np.int32)
    recv = t + rng.integers(50, 5_000, N)

    # --- defects ---
    defect = np.zeros(N, np.int8)
    free = np.ones(N, bool)
    r = rates

    def assign(name: str, eligible: np.ndarray, rate: float) -> np.ndarray:
        sel = _pick(rng, eligible & free, int(round(rate * n_events)))
        defect[sel] = D[name]
        free[sel] = False
        return sel

    name_idx = code.astype(np.int32)
    anon_idx = device.copy()
    uid_idx = np.where(uid, person, -1)
    email_idx = np.where(has_email, person, -1)
    ua_idx = np.where(is_email, -1, w.dev_ua[np.maximum(device, 0)]).astype(np.int16)
    bad_ts = np.full(N, -1, np.int8)
    unprotected = protect == 0
    n_dev_total, n_persons_total = w.n_devices, w.P

    sel = assign("placeholder_id", (device >= 0) & uid & (protect < 2), r.placeholder_id)
    which = rng.random(sel.size) < 0.5
    ph = rng.integers(0, len(PLACEHOLDERS), sel.size)
    anon_idx[sel[which]] = n_dev_total + ph[which]
    uid_idx[sel[~which]] = n_persons_total + ph[~which]
    sel = assign("mixed_case_email", has_email, r.mixed_case_email)
    email_variant_rows = sel
    email_idx[sel] = w.P + len(PLACEHOLDERS) + np.arange(sel.size)
    req = tax.has_required()[code]
    sel = assign("missing_required_property", unprotected & req, r.missing_required_property)
    s2, n2 = starts[code[sel], 2], sizes[code[sel], 2]
    props[sel] = s2 + (rng.random(sel.size) * n2).astype(np.int64)
    sel = assign("late_arrival", t < end_ms - DAY - 2 * MINUTE, r.late_arrival)
    room = end_ms - MINUTE - t[sel]
    recv[sel] = (
        t[sel] + DAY + (rng.random(sel.size) * (np.minimum(10 * DAY, room) - DAY)).astype(np.int64)
    )
    sel = assign("unknown_event", unprotected, r.unknown_event)
    name_idx[sel] = tax.unknown_start + rng.integers(0, len(UNKNOWN_EVENTS), sel.size)
    sel = assign("no_identifier", unprotected, r.no_identifier)
    mode = rng.integers(0, 3, sel.size)  # 0 all null, 1 anon placeholder, 2 user placeholder
    anon_idx[sel] = np.where(
        mode == 1, n_dev_total + rng.integers(0, len(PLACEHOLDERS), sel.size), -1
    )
    uid_idx[sel] = np.where(
        mode == 2, n_persons_total + rng.integers(0, len(PLACEHOLDERS), sel.size), -1
    )
    email_idx[sel] = -1
    sel = assign("unparseable_timestamp", unprotected, r.unparseable_timestamp)
    bad_ts[sel] = rng.integers(0, len(BAD_TIMESTAMPS), sel.size)
    sel = assign("future_timestamp", unprotected, r.future_timestamp)
    t[sel] = recv[sel] + (rng.uniform(1, 48, sel.size) * HOUR).astype(np.int64)
    sel = assign("bot_user_agent", unprotected, r.bot_user_agent)
    ua_idx[sel] = len(CLEAN_USER_AGENTS) + rng.integers(0, len(BOT_USER_AGENTS), sel.size)
    sel = assign("outside_retention", unprotected, r.outside_retention)
    t[sel] = end_ms - (rng.uniform(400, 700, sel.size) * DAY).astype(np.int64)
    sel = assign("legacy_alias", np.ones(N, bool), r.legacy_alias)
    al_start = np.array(tax.alias_start)[code[sel]]
    al_n = np.array(tax.alias_count)[code[sel]]
    name_idx[sel] = al_start + (rng.random(sel.size) * al_n).astype(np.int64)
    sel = assign("miscased_name", np.ones(N, bool), r.miscased_name)
    name_idx[sel] = np.array(tax.miscase_start)[code[sel]] + rng.integers(0, 4, sel.size)

    # Duplicates: exact copies of clean rows, received 1 s - 2 h later.
    dup_src = _pick(rng, (defect == 0) & (recv < end_ms - HOUR), n_dup)
    room = end_ms - MINUTE - recv[dup_src]
    dup_recv = (
        recv[dup_src]
        + 1000
        + (rng.random(dup_src.size) * (np.minimum(2 * HOUR, room) - 1000)).astype(np.int64)
    )
    # Duplicate rows are addressed through src_all (extended row -> base row);
    # only received_at and the defect differ from their source row.
    src_all = np.concatenate([np.arange(N), dup_src])
    recv_all = np.concatenate([recv, dup_recv])
    defect_all = np.concatenate([defect, np.full(dup_src.size, D["duplicate_message_id"], np.int8)])
    del recv, dup_recv
    fmt = rng.choice(4, N, p=[0.4, 0.3, 0.15, 0.15]).astype(np.int8)
    offset = rng.integers(0, len(OFFSETS), N, dtype=np.int8)
    referrer = np.where(rng.random(N) < 0.6, -1, rng.integers(0, len(REFERRERS), N, dtype=np.int8))
    referrer[source != 0] = -1
    total = src_all.size
    order = np.lexsort((src_all, recv_all))
    _log(progress, f"defects stamped: {total} raw events ({int((defect_all > 0).sum())} defective)")

    # Consent truth per row (analytics purpose, at occurred time).
    consented = ~(w.opt_in & w.denied)[person]
    consented &= ~((w.withdrawn_ms[person] >= 0) & (t >= w.withdrawn_ms[person]))
    accepted = pd_accepted(defect)  # base rows; duplicate copies are never accepted
    engaged_rows = accepted & consented & (t >= end_ms - 30 * DAY) & (t < end_ms)
    engaged_rows &= (w.account[person] >= 0) & ~w.deleted[person]
    engaged = w.account[np.unique(person[engaged_rows])]
    del engaged_rows

    # --- write ---
    for name in [*LANDING_TABLES, "_truth"]:
        if (out / name).exists():
            shutil.rmtree(out / name)
    for name in LANDING_TABLES:
        (out / name).mkdir(parents=True)
    (out / "_truth").mkdir(parents=True)

    anon_vocab = pa.concat_arrays([w.dev_uuid, pa.array(PLACEHOLDERS)])
    uid_vocab = pa.array(list(w.user_ids) + PLACEHOLDERS, type=pa.string())
    email_vocab = pa.concat_arrays(
        [
            pa.array(list(w.emails) + PLACEHOLDERS, type=pa.string()),
            _messy_emails(rng, w.emails[person[email_variant_rows]]),
        ]
    )
    ua_vocab = pa.array(CLEAN_USER_AGENTS + BOT_USER_AGENTS)
    ip_vocab = w.dev_ip
    country_vocab = pa.array(COUNTRIES)
    person_keys = pa.array([f"P{i:07d}" for i in range(w.P)])
    defect_vocab = pa.array(DEFECTS, type=pa.string())
    reason_vocab = pa.array(EXPECTED_REASON, type=pa.string())
    canonical_vocab = pa.array(tax.names)
    canon_of_name = tax.canonical_of_vocab

    ev_schema = pa.schema([(c, pa.string()) for c in LANDING_TABLES["events"]])
    label_schema = pa.schema(
        [
            ("table_name", pa.string()),
            ("message_id", pa.string()),
            ("received_at", pa.string()),
            ("defect", pa.string()),
            ("expected_reason", pa.string()),
            ("person_key", pa.string()),
            ("event_name", pa.string()),
            ("is_analytics_consented", pa.bool_()),
        ]
    )
    ev_writer = pq.ParquetWriter(out / "events" / "part-00000.parquet", ev_schema)
    label_writer = pq.ParquetWriter(out / "_truth" / "row_labels.parquet", label_schema)
    seen_dev = np.zeros(w.n_devices, bool)
    msg_salt = id_salt * 1_000 + 1
    for lo in range(0, total, CHUNK_ROWS):
        ix = order[lo : lo + CHUNK_ROWS]
        bx = src_all[ix]
        occurred = _iso_mixed(t[bx], fmt[bx], offset[bx])
        bad = bad_ts[bx] >= 0
        if bad.any():
            bad_text = _take(pa.array(BAD_TIMESTAMPS), np.where(bad, bad_ts[bx], 0))
            occurred = pc.if_else(pa.array(bad), bad_text, occurred)
        received = _iso_utc(recv_all[ix])
        msg = _uuids(bx.astype(np.uint64), msg_salt)
        dev_ix = np.where(source[bx] == 3, -1, device[bx])
        batch = pa.table(
            {
                "message_id": msg,
                "event": _take(tax.name_vocab, name_idx[bx]),
                "anonymous_id": _take(anon_vocab, anon_idx[bx]),
                "user_id": _take(uid_vocab, uid_idx[bx]),
                "email": _take(email_vocab, email_idx[bx]),
                "source": _take(pa.array(SOURCES), source[bx]),
                "occurred_at": occurred,
                "received_at": received,
                "context_ip": _take(ip_vocab, dev_ix),
                "context_user_agent": _take(ua_vocab, ua_idx[bx]),
                "context_page_url": _take(tax.url_vocab, props[bx]),
                "context_referrer": _take(pa.array(REFERRERS), referrer[bx]),
                "context_country": _take(country_vocab, w.country[person[bx]]),
                "properties": _take(tax.props_vocab, props[bx]),
            },
            schema=ev_schema,
        )
        ev_writer.write_table(batch)
        d = defect_all[ix]
        label_writer.write_table(
            pa.table(
                {
                    "table_name": pa.array(np.full(ix.size, "events")),
                    "message_id": msg,
                    "received_at": received,
                    "defect": _take(defect_vocab, d),
                    "expected_reason": _take(reason_vocab, d),
                    "person_key": _take(person_keys, person[bx]),
                    "event_name": _take(canonical_vocab, canon_of_name[name_idx[bx]]),
                    "is_analytics_consented": pa.array(consented[bx]),
                },
                schema=label_schema,
            )
        )
        acc_rows = bx[pd_accepted(d)]
        real_anon = (device[acc_rows] >= 0) & (anon_idx[acc_rows] == device[acc_rows])
        seen_dev[device[acc_rows][real_anon]] = True
        done = min(lo + CHUNK_ROWS, total)
        if done == total or (done // CHUNK_ROWS) % 4 == 0:
            _log(progress, f"events: {done}/{total} rows written")
    ev_writer.close()

    summary = {"events": total}
    summary.update(
        _write_side_tables(
            rng,
            w,
            tax,
            pairs,
            first_t,
            dev_first,
            shared_first,
            engaged,
            out,
            rates,
            id_salt,
            label_writer,
            label_schema,
            seen_dev,
            person_keys,
        )
    )
    label_writer.close()
    summary["defects"] = {
        name: int((defect_all == i).sum()) for i, name in enumerate(DEFECTS) if name is not None
    }
    summary["archetypes"] = {flag: int((w.arch == a).sum()) for a, flag in ARCHETYPE_FLAGS.items()}
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    _log(
        progress,
        f"done in {summary['seconds']} s: "
        + json.dumps({k: v for k, v in summary.items() if isinstance(v, int)}),
    )
    return summary


def pd_accepted(defect_codes: np.ndarray) -> np.ndarray:
    accepted_codes = np.array([r is None for r in EXPECTED_REASON])
    return accepted_codes[defect_codes]


def _messy_emails(rng, emails: np.ndarray) -> pa.Array:
    """Mixed-case and/or padded spellings of normalized emails."""
    arr = pa.array(list(emails), type=pa.string())
    if len(arr) == 0:
        return arr
    mode = rng.integers(0, 4, len(arr))
    upper = pc.utf8_upper(arr)
    title = pc.utf8_title(arr)
    padded = pc.binary_join_element_wise("  ", arr, " ", "")
    padded_title = pc.binary_join_element_wise(" ", title, "", "")
    return pc.choose(pa.array(mode.astype(np.int8)), upper, title, padded, padded_title)


# --- side tables: identifies, consent, CRM, intent, deletions, truth -------------------


def _side_defects(rng, n: int, spec: list[tuple[str, float]]) -> list[tuple[str, np.ndarray]]:
    """Pick source rows for extra defective copies (one defect per copy)."""
    out = []
    for name, rate in spec:
        k = int(round(rate * n))
        out.append(
            (name, np.sort(rng.choice(n, min(k, n), replace=False)) if n else np.zeros(0, int))
        )
    return out


def _write_table(path: Path, table: pa.Table) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path / "part-00000.parquet")


def _assemble_side(
    rng,
    base: dict[str, np.ndarray],
    spec: list[tuple[str, float]],
) -> dict[str, np.ndarray]:
    """Adds defective copies to a side table skeleton (identifies / consent)."""
    n = base["person"].size
    picks = _side_defects(rng, n, spec)
    src = [np.arange(n)]
    defect = [np.zeros(n, np.int8)]
    for name, sel in picks:
        if name == "mixed_case_email":
            continue
        src.append(sel)
        defect.append(np.full(sel.size, D[name], np.int8))
    src_all = np.concatenate(src)
    out = {k: v[src_all].copy() for k, v in base.items()}
    out["defect"] = np.concatenate(defect)
    m = src_all.size
    # message ids: copies that are duplicates keep the source's id; other copies get new ones.
    key = np.arange(m, dtype=np.uint64)
    dup = out["defect"] == D["duplicate_message_id"]
    key[dup] = src_all[dup].astype(np.uint64)
    out["msg_key"] = key
    out["bad_ts"] = np.full(m, -1, np.int8)
    bad = out["defect"] == D["unparseable_timestamp"]
    out["bad_ts"][bad] = rng.integers(0, len(BAD_TIMESTAMPS), int(bad.sum()))
    out["recv"] = out["t"] + rng.integers(50, 5_000, m)
    out["recv"][dup] += 1000 + rng.integers(0, HOUR, int(dup.sum()))
    noid = out["defect"] == D["no_identifier"]
    mode = rng.integers(0, 2, int(noid.sum()))
    out["anon_ph"] = np.full(m, -1, np.int64)
    out["anon_ph"][np.flatnonzero(noid)[mode == 1]] = rng.integers(
        0, len(PLACEHOLDERS), int((mode == 1).sum())
    )
    out["device"][noid] = -1
    out["uid"][noid] = False
    out["email"][noid] = False
    # mixed-case emails: in place (accepted)
    for name, sel in picks:
        if name == "mixed_case_email":
            # only rows that are not the source of a duplicate (copies stay exact)
            dup_src = np.isin(sel, key[dup].astype(np.int64))
            sel = sel[out["email"][sel] & (out["defect"][sel] == 0) & ~dup_src]
            out["defect"][sel] = D["mixed_case_email"]
    return out


def _write_side_tables(
    rng,
    w,
    tax,
    pairs,
    first_t,
    dev_first,
    shared_first,
    engaged,
    out,
    rates,
    seed,
    label_writer,
    label_schema,
    seen_dev,
    person_keys,
) -> dict:
    summary = {}
    P = w.P
    end_ms = w.end_ms
    emails_vocab = pa.array(list(w.emails) + [None], type=pa.string())
    uid_vocab = pa.array(list(w.user_ids), type=pa.string())

    def render_ids(tab):
        dev = np.where(tab["device"] >= 0, tab["device"], -1)
        anon = _take(w.dev_uuid, dev)
        ph = tab["anon_ph"]
        if (ph >= 0).any():
            anon = pc.if_else(
                pa.array(ph >= 0), _take(pa.array(PLACEHOLDERS), np.maximum(ph, 0)), anon
            )
        user = _take(uid_vocab, np.where(tab["uid"], tab["person"], -1))
        email = _take(emails_vocab, np.where(tab["email"], tab["person"], -1))
        messy = tab["defect"] == D["mixed_case_email"]
        if messy.any():
            variants = _messy_emails(rng, w.emails[tab["person"][messy]])
            idx = np.cumsum(messy) - 1
            email = pc.if_else(pa.array(messy), variants.take(pa.array(np.maximum(idx, 0))), email)
        return anon, user, email

    def render_ts(tab):
        n = tab["t"].size
        fmt = rng.choice(4, n, p=[0.4, 0.3, 0.15, 0.15])
        occ = _iso_mixed(tab["t"], fmt, rng.integers(0, len(OFFSETS), n))
        bad = tab["bad_ts"] >= 0
        if bad.any():
            occ = pc.if_else(
                pa.array(bad), _take(pa.array(BAD_TIMESTAMPS), np.maximum(tab["bad_ts"], 0)), occ
            )
        # duplicates are exact copies: copy the source's occurred_at string
        return occ, _iso_utc(tab["recv"])

    def labels(table_name, msg, received, tab):
        n = tab["t"].size
        return pa.table(
            {
                "table_name": pa.array(np.full(n, table_name)),
                "message_id": msg,
                "received_at": received,
                "defect": _take(pa.array(DEFECTS, type=pa.string()), tab["defect"]),
                "expected_reason": _take(
                    pa.array(EXPECTED_REASON, type=pa.string()), tab["defect"]
                ),
                "person_key": _take(person_keys, tab["person"]),
                "event_name": pa.nulls(n, pa.string()),
                "is_analytics_consented": pa.nulls(n, pa.bool_()),
            },
            schema=label_schema,
        )

    def fix_duplicates(tab, occ):
        """Duplicate copies carry the exact occurred_at string of their source."""
        dup = np.flatnonzero(tab["defect"] == D["duplicate_message_id"])
        if dup.size == 0:
            return occ
        src = tab["msg_key"][dup].astype(np.int64)
        idx = np.arange(tab["t"].size)
        idx[dup] = src
        return occ.take(pa.array(idx))

    # identifies
    ident = np.flatnonzero(w.identified)
    extra_dev = np.flatnonzero((w.dev_owner >= 0) & (dev_first < np.iinfo(np.int64).max))
    extra_dev = extra_dev[extra_dev != w.dev_start[w.dev_owner[extra_dev]]]
    n_rep = rng.poisson(0.8, ident.size)
    rep_p = np.repeat(ident, n_rep)
    rep_t = _span_uniform(rng, np.maximum(w.id_ms[ident], w.start[ident]), w.stop[ident], n_rep)
    sp, sd, st = shared_first
    person = np.concatenate([ident, w.dev_owner[extra_dev], rep_p, sp])
    device = np.concatenate([w.dev_start[ident], extra_dev, w.dev_start[rep_p], sd])
    t = np.concatenate([w.id_ms[ident], dev_first[extra_dev] - 1000, rep_t, st - 1000])
    order = np.lexsort((device, person, t))
    base = {
        "person": person[order],
        "device": device[order],
        "t": t[order],
        "uid": w.is_user[person[order]],
        "email": np.ones(order.size, bool),
    }
    idt = _assemble_side(
        rng,
        base,
        [
            ("duplicate_message_id", rates.identifies_duplicate_message_id),
            ("unparseable_timestamp", rates.identifies_unparseable_timestamp),
            ("no_identifier", rates.identifies_no_identifier),
            ("mixed_case_email", rates.identifies_mixed_case_email),
        ],
    )
    anon, user, email = render_ids(idt)
    occ, received = render_ts(idt)
    occ = fix_duplicates(idt, occ)
    msg = _uuids(idt["msg_key"], seed * 1_000 + 2)
    traits = []
    for p in idt["person"].tolist():
        tr = {"first_name": FIRST_NAMES[w.first[p]].title()}
        if w.plan[p] is not None:
            tr["plan"] = w.plan[p]
        tr["job_title"] = JOB_TITLES[w.job[p]]
        traits.append(json.dumps(tr))
    app_dev = (idt["device"] >= 0) & (w.dev_ua[np.maximum(idt["device"], 0)] >= 7)
    ident_table = pa.table(
        {
            "message_id": msg,
            "anonymous_id": anon,
            "user_id": user,
            "email": email,
            "traits": pa.array(traits),
            "occurred_at": occ,
            "received_at": received,
            "source": pa.array(np.where(app_dev, "app", "web")),
        }
    )
    _write_table(out / "identifies", ident_table)
    label_writer.write_table(labels("identifies", msg, received, idt))
    ok = pd_accepted(idt["defect"])
    seen_dev[idt["device"][ok & (idt["device"] >= 0)]] = True
    summary["identifies"] = ident_table.num_rows

    # consent events
    has_first = first_t < np.iinfo(np.int64).max
    optin = np.flatnonzero(w.opt_in & has_first)
    others = np.flatnonzero(~w.opt_in & has_first & (rng.random(P) < 0.1))
    wd = np.flatnonzero(w.withdrawn_ms >= 0)
    gpc = np.flatnonzero(w.gpc & has_first)
    purposes = ["analytics", "personalization", "marketing", "advertising"]
    statuses = ["granted", "denied", "withdrawn"]
    c_person = np.concatenate([optin, optin, others, wd, gpc])
    c_t = np.concatenate(
        [
            first_t[optin] - 2000,
            first_t[optin] - 2000,
            first_t[others] - 2000,
            w.withdrawn_ms[wd],
            first_t[gpc] - 1000,
        ]
    )
    c_purpose = np.concatenate(
        [
            np.zeros(optin.size),
            np.full(optin.size, 2),
            np.zeros(others.size),
            np.zeros(wd.size),
            np.full(gpc.size, 3),
        ]
    ).astype(np.int64)
    c_status = np.concatenate(
        [
            np.where(w.denied[optin], 1, 0),
            np.where(w.marketing[optin], 0, 1),
            np.zeros(others.size),
            np.full(wd.size, 2),
            np.ones(gpc.size),
        ]
    ).astype(np.int64)
    c_source = np.concatenate(
        [np.zeros(2 * optin.size + others.size), np.ones(wd.size), np.full(gpc.size, 2)]
    ).astype(np.int64)
    is_pref = c_source == 1
    order = np.lexsort((c_purpose, c_person, c_t))
    base = {
        "person": c_person[order],
        "device": np.where(is_pref, -1, w.dev_start[c_person])[order],
        "t": c_t[order],
        "uid": (is_pref & w.is_user[c_person])[order],
        "email": is_pref[order],
        "purpose": c_purpose[order],
        "status": c_status[order],
        "source": c_source[order],
    }
    cons = _assemble_side(
        rng,
        base,
        [
            ("duplicate_message_id", rates.consent_duplicate_message_id),
            ("unparseable_timestamp", rates.consent_unparseable_timestamp),
            ("no_identifier", rates.consent_no_identifier),
            ("invalid_value", rates.consent_invalid_value),
        ],
    )
    inval = np.flatnonzero(cons["defect"] == D["invalid_value"])
    bad_purpose = rng.random(inval.size) < 0.5
    purpose_vocab = pa.array([*purposes, "cookies", "tracking"])
    status_vocab = pa.array([*statuses, "pending", "maybe"])
    cons["purpose"][inval[bad_purpose]] = 4 + rng.integers(0, 2, int(bad_purpose.sum()))
    cons["status"][inval[~bad_purpose]] = 3 + rng.integers(0, 2, int((~bad_purpose).sum()))
    anon, user, email = render_ids(cons)
    occ, received = render_ts(cons)
    occ = fix_duplicates(cons, occ)
    msg = _uuids(cons["msg_key"], seed * 1_000 + 3)
    consent_table = pa.table(
        {
            "message_id": msg,
            "anonymous_id": anon,
            "user_id": user,
            "email": email,
            "purpose": purpose_vocab.take(pa.array(cons["purpose"])),
            "status": status_vocab.take(pa.array(cons["status"])),
            "occurred_at": occ,
            "received_at": received,
            "country": _take(pa.array(COUNTRIES), w.country[cons["person"]]),
            "source": pa.array(["cmp", "preference_center", "gpc"]).take(pa.array(cons["source"])),
        }
    )
    _write_table(out / "consent_events", consent_table)
    label_writer.write_table(labels("consent_events", msg, received, cons))
    ok = pd_accepted(cons["defect"])
    seen_dev[cons["device"][ok & (cons["device"] >= 0)]] = True
    summary["consent_events"] = consent_table.num_rows

    # CRM contacts
    cp = np.flatnonzero(w.has_contact)
    created = np.minimum(w.id_ms[cp], w.start[cp]) - (rng.uniform(0, 400, cp.size) * DAY).astype(
        np.int64
    )
    updated = np.where(w.kind[cp] == FORMER, w.cancel[cp], w.id_ms[cp]) + (
        rng.uniform(0, 3, cp.size) * DAY
    ).astype(np.int64)
    updated = np.minimum(np.maximum(updated, created + DAY), end_ms - HOUR)
    contact_email = pa.array(list(w.emails[cp]), type=pa.string())
    messy = rng.random(cp.size) < 0.05
    if messy.any():
        contact_email = pc.if_else(pa.array(messy), pc.utf8_title(contact_email), contact_email)
    contacts = pa.table(
        {
            "contact_id": pa.array([f"C{1_000_000 + r}" for r in w.contact_rank[cp].tolist()]),
            "account_id": pa.array(list(w.acc_id[w.account[cp]])),
            "email": contact_email,
            "job_title": pa.array([JOB_TITLES[j] for j in w.job[cp].tolist()]),
            "lifecycle_status": pa.array(list(w.life[cp]), type=pa.string()),
            "plan": pa.array(list(w.plan[cp]), type=pa.string()),
            "created_at": pa.array(_iso_date_utc(created)),
            "updated_at": pa.array(_iso_date_utc(updated)),
        }
    )
    _write_table(out / "crm_contacts", contacts)
    summary["crm_contacts"] = contacts.num_rows

    accounts = pa.table(
        {
            "account_id": pa.array(list(w.acc_id)),
            "name": pa.array(list(w.acc_name)),
            "domain": pa.array(list(w.acc_domain)),
            "industry": pa.array(np.array(INDUSTRIES)[w.acc_industry]),
            "employee_count": pa.array(w.acc_employees, pa.int64()),
            "annual_revenue_usd": pa.array(w.acc_revenue, pa.int64()),
            "country": pa.array(np.array(COUNTRIES)[w.acc_country]),
            "updated_at": pa.array(_iso_date_utc(w.acc_updated_ms)),
        }
    )
    _write_table(out / "crm_accounts", accounts)
    summary["crm_accounts"] = accounts.num_rows

    # intent signals
    A = w.n_accounts
    end_day = end_ms // DAY
    n_bg = rng.poisson(1.5, A)
    bg_acc = np.repeat(np.arange(A), n_bg)
    bg_day = end_day - rng.integers(1, WINDOW_DAYS, bg_acc.size)
    bg_int = rng.integers(5, 61, bg_acc.size)
    old = np.flatnonzero(rng.random(A) < 0.08)
    old_day = end_day - rng.integers(40, 170, old.size)
    old_int = rng.integers(70, 101, old.size)
    sg = np.flatnonzero(w.acc_surge)
    n_sg = rng.integers(3, 7, sg.size)
    sg_acc = np.repeat(sg, n_sg)
    sg_day = end_day - rng.integers(1, 14, sg_acc.size)
    sg_int = rng.integers(70, 101, sg_acc.size)
    acc = np.concatenate([bg_acc, old, sg_acc])
    day = np.concatenate([bg_day, old_day, sg_day])
    inten = np.concatenate([bg_int, old_int, sg_int])
    n_unknown = max(3, A // 10)
    n_a, n_b = len(DOMAIN_WORDS_A), len(DOMAIN_WORDS_B)
    unknown_domains = [
        f"{DOMAIN_WORDS_A[i % n_a]}-{DOMAIN_WORDS_B[i * 7 % n_b]}.org" for i in range(n_unknown)
    ]
    u_day = end_day - rng.integers(1, WINDOW_DAYS, n_unknown)
    u_int = rng.integers(5, 101, n_unknown)
    domains = list(w.acc_domain[acc]) + unknown_domains
    days = np.concatenate([day, u_day])
    order = np.lexsort((np.arange(days.size), days))
    signals = pa.table(
        {
            "signal_id": pa.array([f"S{1_000_000 + i}" for i in range(days.size)]),
            "domain": pa.array([domains[i] for i in order.tolist()]),
            "topic": pa.array(np.array(TOPICS)[rng.integers(0, len(TOPICS), days.size)]),
            "intensity": pa.array(np.concatenate([inten, u_int])[order], pa.int64()),
            "observed_on": pa.array(days[order].astype("datetime64[D]")).cast(pa.string()),
            "provider": pa.array(np.array(PROVIDERS)[rng.integers(0, len(PROVIDERS), days.size)]),
        }
    )
    _write_table(out / "intent_signals", signals)
    summary["intent_signals"] = signals.num_rows
    surge_truth = np.zeros(A, bool)
    recent_high = (inten >= 70) & (day >= end_day - 14)
    surge_truth[acc[recent_high]] = True

    # deletion requests
    dp = np.flatnonzero(w.deleted)
    via = rng.choice(3, dp.size, p=[0.4, 0.4, 0.2])  # 0 user_id, 1 email, 2 anonymous_id
    via = np.where((via == 0) & ~w.is_user[dp], 1, via)
    deletions = pa.table(
        {
            "request_id": pa.array([f"DR{100_000 + i}" for i in range(dp.size)], type=pa.string()),
            "anonymous_id": _take(w.dev_uuid, np.where(via == 2, w.dev_start[dp], -1)),
            "user_id": _take(uid_vocab, np.where(via == 0, dp, -1)),
            "email": _take(emails_vocab, np.where(via == 1, dp, -1)),
            "requested_at": pa.array(_iso_date_utc(w.deletion_ms[dp]), type=pa.string()),
        }
    )
    _write_table(out / "deletion_requests", deletions)
    summary["deletion_requests"] = deletions.num_rows

    # truth: identifiers
    laptop_owner = dict(pairs)
    devs = np.flatnonzero(seen_dev)
    dev_person = w.dev_owner[devs].copy()
    for i, d in enumerate(devs.tolist()):
        if w.dev_laptop[d]:
            dev_person[i] = laptop_owner.get(d, -1)
    shared = w.dev_kiosk[devs] | w.dev_laptop[devs]
    users = np.flatnonzero(w.is_user)
    ident = np.flatnonzero(w.identified)
    contacts_p = np.flatnonzero(w.has_contact)
    id_type = (
        ["anonymous_id"] * devs.size
        + ["user_id"] * users.size
        + ["email"] * ident.size
        + ["contact_id"] * contacts_p.size
    )
    id_value = pa.concat_arrays(
        [
            w.dev_uuid.take(pa.array(devs)),
            pa.array(list(w.user_ids[users]), type=pa.string()),
            pa.array(list(w.emails[ident]), type=pa.string()),
            pa.array(
                [f"C{1_000_000 + r}" for r in w.contact_rank[contacts_p].tolist()], type=pa.string()
            ),
        ]
    )
    id_person = np.concatenate([dev_person, users, ident, contacts_p])
    pq.write_table(
        pa.table(
            {
                "identifier_type": pa.array(id_type),
                "identifier_value": id_value,
                "person_key": _take(person_keys, id_person),
                "is_shared_device": pa.array(
                    np.concatenate([shared, np.zeros(id_person.size - devs.size, bool)])
                ),
            }
        ),
        out / "_truth" / "identifiers.parquet",
    )

    # truth: persons
    flags = {flag: pa.array(w.arch == a) for a, flag in ARCHETYPE_FLAGS.items()}
    acc_str = pa.array(list(w.acc_id) + [None], type=pa.string())
    kinds = pa.array(["visitor", "lead", "free_user", "customer", "former_customer"])
    persons = pa.table(
        {
            "person_key": person_keys,
            "account_id": acc_str.take(pa.array(np.where(w.account >= 0, w.account, A))),
            "user_id": pa.array(list(w.user_ids), type=pa.string()),
            "email": pa.array(list(w.emails), type=pa.string()),
            "contact_id": pa.array(
                [
                    f"C{1_000_000 + r}" if h else None
                    for r, h in zip(w.contact_rank.tolist(), w.has_contact.tolist(), strict=True)
                ],
                type=pa.string(),
            ),
            "kind": kinds.take(pa.array(w.kind.astype(np.int64))),
            "country": pa.array(w.country_code),
            "is_opt_in_region": pa.array(w.opt_in),
            **flags,
            "plan": pa.array(list(w.plan), type=pa.string()),
            "lifecycle_status": pa.array(list(w.life), type=pa.string()),
            "analytics_withdrawn_at": pa.array(
                w.withdrawn_ms, type=pa.int64(), mask=w.withdrawn_ms < 0
            ).cast(pa.timestamp("ms", tz="UTC")),
            "analytics_denied": pa.array(w.opt_in & w.denied),
            "marketing_granted_in_opt_in": pa.array(w.opt_in & w.marketing),
            "has_gpc": pa.array(w.gpc),
            "is_deleted": pa.array(w.deleted),
            "deletion_requested_at": pa.array(
                w.deletion_ms, type=pa.int64(), mask=w.deletion_ms < 0
            ).cast(pa.timestamp("ms", tz="UTC")),
            "is_hot_account_engager": pa.array(w.hot_engaged),
        }
    )
    pq.write_table(persons, out / "_truth" / "persons.parquet")

    # truth: accounts
    engaged_count = np.bincount(engaged, minlength=A)[:A] if engaged.size else np.zeros(A, int)
    pq.write_table(
        pa.table(
            {
                "account_id": pa.array(list(w.acc_id)),
                "domain": pa.array(list(w.acc_domain)),
                "is_icp_fit": pa.array(w.acc_icp),
                "has_intent_surge": pa.array(surge_truth),
                "engaged_persons_30d": pa.array(engaged_count, pa.int64()),
                "is_hot": pa.array(w.acc_icp & surge_truth & (engaged_count >= 2)),
            }
        ),
        out / "_truth" / "accounts.parquet",
    )
    summary["hot_accounts"] = int((w.acc_icp & surge_truth & (engaged_count >= 2)).sum())
    return summary
