"""Configuration: every mistake is named with its key and file before logs are read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from logtrack import config
from logtrack.config import Config, CountingRules, Settings, SupplierRule
from logtrack.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logtrack.toml"
    path.write_text(text)
    return path


def test_full_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
[logs]
format = "combined"
timezone = "America/Chicago"
[listings]
patterns = ['^/listing/(?P<id>[0-9]+)']
[[suppliers]]
name = "Zillow"
referrer = ["Zillow.com.", "trulia.com"]
[[suppliers]]
name = "IDX"
host = "idx.example.com"
[filters]
status = [200]
methods = ["get", "HEAD"]
exclude_bots = false
[viewtracking]
default_supplier = "Other"
namespace = "urn:x"
schema_location = "urn:x ViewTracking.xsd"
""")
    cfg = config.load(path)
    assert cfg == Config(
        CountingRules(
            format="combined",
            timezone="America/Chicago",
            patterns=("^/listing/(?P<id>[0-9]+)",),
            suppliers=(SupplierRule("Zillow", ("zillow.com", "trulia.com")),
                       SupplierRule("IDX", (), ("idx.example.com",))),
            status=(200,),
            methods=("GET", "HEAD"),
            exclude_bots=False,
            default_supplier="Other",
        ),
        Settings(namespace="urn:x", schema_location="urn:x ViewTracking.xsd"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[logs]\nformatt = 'combined'\n", "unknown key [logs] formatt; known keys in [logs]: format, glob, log_timezone, nginx_conf, timezone"),
        ("[log]\nformat = 'combined'\n", "unknown section [log]"),
        ("[listings]\npatterns = ['^/listing/(?P<id>[0-9]+']\n",
         "[listings] patterns[0]: invalid regular expression"),
        ("[listings]\npatterns = ['^/listing/(?P<lid>[0-9]+)']\n",
         "[listings] patterns[0]: pattern '^/listing/(?P<lid>[0-9]+)' has no group named 'id'"),
        ("[listings]\npatterns = '^/x'\n", "[listings] patterns must be an array"),
        ("[logs]\ntimezone = 'America/Chikago'\n", "[logs] timezone: unknown time zone 'America/Chikago'"),
        ("[logs]\nlog_timezone = 'Etc/Mars'\n", "[logs] log_timezone: unknown time zone 'Etc/Mars'"),
        # (an empty zone was taken as no zone: its days in each line's own offset, not the zone meant)
        ("[logs]\ntimezone = ''\n", "[logs] timezone is empty; name a zone such as 'America/Chicago' or 'UTC', "
                                      "or leave the key out"),
        ("[logs]\nlog_timezone = ' '\n", "[logs] log_timezone is empty"),
        ("[upload]\nwindow_timezone = ''\n", "[upload] window_timezone is empty"),
        # (files of the system's zone directory that zoneinfo reads and Polars does not know: exit 1 mid-run)
        ("[logs]\ntimezone = 'localtime'\n", "[logs] timezone: unknown time zone 'localtime' (the name of a file, "
                                               "not of a zone); use an IANA name such as 'America/Chicago' or "
                                               "'UTC'; `timedatectl show -p Timezone --value` prints this machine's"),
        ("[logs]\nlog_timezone = 'posixrules'\n", "[logs] log_timezone: unknown time zone 'posixrules'"),
        ("[logs]\ntimezone = 'Factory'\n", "[logs] timezone: unknown time zone 'Factory'"),
        ("[logs]\ntimezone = 'posix/America/Chicago'\n", "[logs] timezone: unknown time zone 'posix/America/Chicago'"),
        ("[upload]\nwindow_timezone = 'right/UTC'\n", "[upload] window_timezone: unknown time zone 'right/UTC'"),
        # (a zone almost right: the fix names the zone meant, or says why an offset is none)
        ("[logs]\ntimezone = 'america/chicago'\n", "[logs] timezone: unknown time zone 'america/chicago'; write it "
                                                     "'America/Chicago' (zone names are case-sensitive)"),
        ("[logs]\nlog_timezone = 'utc'\n", "[logs] log_timezone: unknown time zone 'utc'; write it 'UTC' (zone "
                                            "names are case-sensitive)"),
        ("[logs]\ntimezone = 'America/Chicago '\n", "write it 'America/Chicago' (without the spaces around it)"),
        ("[logs]\nlog_timezone = 'Z'\n", "[logs] log_timezone: unknown time zone 'Z'; write it 'UTC'"),
        ("[logs]\ntimezone = '-0600'\n", "[logs] timezone: unknown time zone '-0600'; an offset is not a zone: it "
         "has no daylight saving time, so where the clocks change, half the year's days would end an hour off; name "
         "the region's zone, such as 'America/Chicago'; for UTC-6 all year, 'Etc/GMT+6' (its sign is POSIX's, the "
         "other way round)"),
        ("[upload]\nwindow_timezone = 'UTC+5:30'\n", "[upload] window_timezone: unknown time zone 'UTC+5:30'; an "
         "offset is not a zone: it has no daylight saving time, so where the clocks change, half the year's days "
         "would end an hour off; name the region's zone, such as 'America/Chicago'"),
        ("[filters]\nstatus = [200, 999]\n", "[filters] status[1]: 999 is not an HTTP status code"),
        ("[filters]\nexclude_bots = 'yes'\n", "[filters] exclude_bots must be true or false"),
        # (no view has an empty method or one with a space, nor is it in an empty list: each counted nothing)
        ("[filters]\nmethods = []\n", "[filters] methods is empty, so no view would be counted; leave the key out "
                                        "for the default (GET), or name what counts"),
        ("[filters]\nstatus = []\n", "[filters] status is empty, so no view would be counted; leave the key out "
                                       "for the default (200 and 304)"),
        ("[filters]\nmethods = ['GET', '']\n", "[filters] methods[1]: '' is not an HTTP method; write each method "
                                                 'as requests send it, e.g. methods = ["GET"]'),
        ("[filters]\nmethods = ['G E T']\n", "[filters] methods[0]: 'G E T' is not an HTTP method"),
        ("[filters]\nmethods = [1]\n", "[filters] methods[0]: 1 is not an HTTP method"),
        ("[[suppliers]]\nreferrer = ['zillow.com']\n", "[[suppliers]] #1 has no name"),
        ("[[suppliers]]\nname = 'Z'\n", "[[suppliers]] #1 (Z) matches nothing"),
        ("[[suppliers]]\nname = 'Z'\nreferrer = ['https://zillow.com/']\n", "is not a domain name"),
        ("[[suppliers]]\nname = 'Z'\nreferrer = ['zil*ow.com']\n", "referrer: 'zil*ow.com' is not a domain name"),
        ("[[suppliers]]\nname = 'Z'\nreferrer = ['zillow..com']\n", "referrer: 'zillow..com' is not a domain name"),
        # (virtual hosts are matched whole: a wildcard there matched none, every view "Other")
        ("[[suppliers]]\nname = 'Z'\nhost = ['*.zillow.com']\n", "host: '*.zillow.com' is not a domain name; write "
         "the bare host, e.g. 'zillow.com', without scheme, port or path, each virtual host whole"),
        ("[filters]\nvhosts = ['*.site.example']\n", "[filters] vhosts: '*.site.example' is not a domain name"),
        ("[[suppliers]]\nname = 'Z'\nreferer = ['zillow.com']\n", "unknown key [[suppliers]] #1 referer"),
        # (flexmls keeps the white space: ' Zillow' a supplier beside 'Zillow', the day's views split)
        ("[[suppliers]]\nname = ' Zillow'\nreferrer = ['zillow.com']\n", "[[suppliers]] #1 name: ' Zillow' has white "
         "space at its start, which flexmls would keep as part of the supplier's name; write 'Zillow'"),
        ("[[suppliers]]\nname = '  '\nreferrer = ['zillow.com']\n", "has white space at its start, which flexmls "
         "would keep as part of the supplier's name; write \"\" for \"Other\""),
        ("[viewtracking]\ndefault_supplier = 'Other\t'\n", "[viewtracking] default_supplier: 'Other\\t' has white "
         "space at its end"),
        ("[logs\n", "invalid TOML"),
        ("[listings]\npatterns = ['^https://www.site.example/listing/(?P<id>[0-9]+)']\n",
         "[listings] patterns[0]: pattern '^https://www.site.example/listing/(?P<id>[0-9]+)' starts at the URL's "
         "scheme or host, which no request target holds; patterns are matched against the path and query"),
        ("[listings]\npatterns = ['^www\\.site\\.example/listing/(?P<id>[0-9]+)']\n", "starts at the URL's scheme"),
        ('[listings]\npatterns = ["^/x/(\\d+)"]\n', "invalid TOML: Unescaped '\\' in a string (at line 2, column 21); "
         "write a regex in single quotes, '^/listing/(?P<id>\\d+)$': TOML reads a backslash in double quotes as an "
         "escape"),
        ("[fleet]\nhost_timeout = 'a day'\n", "[fleet] host_timeout: 'a day' is not a duration"),
        ("[fleet]\ngrace = -5\n", "[fleet] grace: a duration cannot be negative"),
        # TOML's nan and inf are numbers: a wait of NaN or forever is no setting (nor one past a date's range)
        ("[fleet]\nhost_timeout = nan\n", "[fleet] host_timeout: nan is not a duration"),
        ("[fleet]\ngrace = inf\n", "[fleet] grace: inf is not a duration"),
        ("[fleet]\ngrace = '99999999999d'\n", "[fleet] grace: '99999999999d' is not a duration"),
        ("[upload]\ntimeout = nan\n", "[upload] timeout: nan is out of range; it must be a number more than 0 and "
                                       "at most 3600"),
        ("[upload]\ntimeout = 0\n", "[upload] timeout: 0 is out of range"),
        ("[upload]\nretries = -1\n", "[upload] retries: -1 is out of range; it must be a number from 0 to 100"),
        ("[upload]\nbackoff = -inf\n", "[upload] backoff: -inf is out of range"),
        ("[upload]\nendpoint = 'ftp://x/{api_key}/'\n", "[upload] endpoint is not an http:// or https:// URL"),
        # a path no file system takes: every later look at it raised ValueError (exit 1)
        ('[logs]\nnginx_conf = "a\\u0000b"\n', "[logs] nginx_conf: 'a\\x00b' holds a NUL character"),
        ('[upload]\napi_key_file = "\\u0000"\n', "[upload] api_key_file: '\\x00' holds a NUL character"),
        ('[state]\npath = "s\\u0000.db"\n', "[state] path: 's\\x00.db' holds a NUL character"),
        ('[state]\nurl = "sqlite:///s\\u0000.db"\n', "[state] url: 'sqlite:///s\\x00.db' holds a NUL character"),
        ("[fleet]\nhost = ''\n", "[fleet] host '' is not a name"),
        ("[fleet]\nhosts = 'web1'\n", "unknown key [fleet] hosts"),
        ("[state]\npath = 'a.db'\nurl = 'sqlite:////tmp/a.db'\n", "[state] has both path and url"),
        # what goes into the XML must be text XML can hold: said before the logs are read, not after
        ('[[suppliers]]\nname = "Zil\\u0003low"\nreferrer = ["zillow.com"]\n',
         "[[suppliers]] #1 name: 'Zil\\x03low' holds '\\x03', which XML cannot hold"),
        ('[viewtracking]\ndefault_supplier = "a\\u0001"\n', "[viewtracking] default_supplier: 'a\\x01' holds"),
        ('[viewtracking]\nschema_location = "x\\uFFFE.xsd"\n', "[viewtracking] schema_location: 'x\\ufffe.xsd' holds"),
        ("[viewtracking]\nnamespace = 'urn:view tracking'\n",
         "[viewtracking] namespace: 'urn:view tracking' is not a namespace URI"),
        ("[viewtracking]\nnamespace = 'ViewTracking'\n", "[viewtracking] namespace: 'ViewTracking' is not a namespace URI"),
    ],
)
def test_errors_name_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)



@pytest.mark.parametrize(("written", "read"), [
    ("state.db", "{config}/state.db"),  # beside the config file, as nginx reads its own
    ("../state/state.db", "{config}/../state/state.db"),
    ("/var/lib/logtrack/state.db", "/var/lib/logtrack/state.db"),
    ("~/state.db", "{home}/state.db"),  # a home, as in a shell (was a directory "~" beside the config)
    ("~", "{home}"),
    ("~root/state.db", "/root/state.db"),
    ("x/~/state.db", "{config}/x/~/state.db"),  # (a ~ inside a path is a name)
])
def test_paths_in_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, read: str) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write(tmp_path, f'[state]\npath = "{written}"\n[upload]\napi_key_file = "{written}"\n')
    cfg = config.load(path)
    want = read.format(config=tmp_path, home=tmp_path / "home")
    assert (cfg.settings.state_path, cfg.settings.api_key_file) == (want, want)


@pytest.mark.parametrize("written", ["~/state.db", "~nosuchuser-logtrack/state.db"])
def test_a_home_that_is_not_there_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    written: str) -> None:
    monkeypatch.delenv("HOME")
    monkeypatch.setattr("pwd.getpwuid", lambda uid: (_ for _ in ()).throw(KeyError(uid)))  # (a container's user)
    path = write(tmp_path, f'[state]\npath = "{written}"\n')
    with pytest.raises(ConfigError) as err:
        config.load(path)
    home = written.split("/")[0]
    assert str(err.value) == f"{path}: [state] path: {written!r}: no home directory to put in place of {home}; " \
                             "write the whole path"


@pytest.mark.parametrize(("written", "read"), [
    ("zillow.com", "zillow.com"),
    ("WWW.Zillow.COM.", "www.zillow.com"),
    ("*.zillow.com", "zillow.com"),  # (a domain stands for every host under it already; the wildcard matched none)
    (".zillow.com", "zillow.com"),  # (as nginx's server_name and a cookie's domain write it)
    ("b\u00fccher.example", "xn--bcher-kva.example"),  # as a browser sends an international name in a Referer
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("_partner.example", "_partner.example"),
])
def test_referrer_domains_as_the_logs_hold_them(tmp_path: Path, written: str, read: str) -> None:
    path = write(tmp_path, f"[[suppliers]]\nname = 'Z'\nreferrer = ['{written}']\n")
    assert config.load(path).rules.suppliers == (SupplierRule("Z", (read,)),)
    flagged = Config().with_overrides(suppliers=[f"Z={written}"])
    assert flagged.rules.suppliers == (SupplierRule("Z", (read,)),)

def test_a_config_not_utf8_is_said_by_line_and_a_byte_order_mark_is_no_error(tmp_path: Path) -> None:
    """TOML is UTF-8: a file saved in Latin-1 was a traceback (exit 1); Notepad's byte order mark, a TOML error."""
    path = tmp_path / "logtrack.toml"
    path.write_bytes(b"[listings]\npatterns = ['^/listing/(?P<id>[0-9]+)']\n[[suppliers]]\nname = 'Caf\xe9'\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: line 4 is not UTF-8 text \(byte 0xe9\); "
                                          "save the file as UTF-8"):
        config.load(path)
    path.write_bytes(b"\xef\xbb\xbf[listings]\npatterns = ['^/listing/(?P<id>[0-9]+)']\n")
    assert config.load(path).rules.patterns == ("^/listing/(?P<id>[0-9]+)",)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist; create it with `logtrack init .*nope\.toml`"):
        config.load(tmp_path / "nope.toml")


def test_overrides_replace_lists() -> None:
    base = Config(CountingRules(patterns=("^/a/(?P<id>1)",), suppliers=(SupplierRule("A", ("a.com",)),)))
    cfg = base.with_overrides(
        format="common",
        timezone="UTC",
        patterns=["^/b/(?P<id>[0-9]+)"],
        suppliers=["Zillow=zillow.com, trulia.com"],
    )
    assert cfg.rules.format == "common"
    assert cfg.rules.timezone == "UTC"
    assert cfg.rules.patterns == ("^/b/(?P<id>[0-9]+)",)
    assert cfg.rules.suppliers == (SupplierRule("Zillow", ("zillow.com", "trulia.com")),)
    assert base.with_overrides() is base


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"supplier": "Zillow"}, "--supplier 'Zillow' is not NAME=DOMAIN[,DOMAIN]"),
        ({"supplier": "Zillow="}, "is not NAME=DOMAIN"),
        ({"pattern": "(?P<id>"}, "--listing-pattern '(?P<id>': invalid regular expression"),
        # (as typed: its backslash single, where Python's repr showed two, a pattern other than the one given)
        ({"pattern": r"^/listing/(\d+)"},
         r"--listing-pattern '^/listing/(\d+)': pattern '^/listing/(\d+)' has no group named 'id'"),
        ({"pattern": r"^/l'x/(\d+)"}, r"""--listing-pattern "^/l'x/(\\d+)": pattern"""),  # (no quote to put round it)
        ({"timezone": "Mars/Base"}, "--timezone: unknown time zone 'Mars/Base'"),
        ({"timezone": "localtime"}, "--timezone: unknown time zone 'localtime' (the name of a file"),
        ({"timezone": ""}, "--timezone is empty"),
        ({"supplier": "Z\x01=zillow.com"}, "--supplier 'Z\\x01=zillow.com': 'Z\\x01' holds '\\x01', which XML cannot hold"),
    ],
)
def test_bad_flags(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Config().with_overrides(
            timezone=kwargs.get("timezone"),
            patterns=[kwargs["pattern"]] if "pattern" in kwargs else [],
            suppliers=[kwargs["supplier"]] if "supplier" in kwargs else [],
        )


def test_every_zone_the_check_takes_is_one_polars_knows() -> None:
    """The check asks zoneinfo (the system's files) and Polars has its own names: every name of the system's
    zone directory the check lets through must be one Polars takes, or a run fails on its first line's day."""
    import os
    from zoneinfo import TZPATH

    import polars as pl

    from logtrack.config.checks import check_timezone

    root = next(p for p in TZPATH if os.path.isdir(p))
    names = {os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files}
    taken = []
    for name in sorted(names):
        try:
            taken.append(check_timezone(name, "zone"))
        except ConfigError:
            continue
        pl.Series([0], dtype=pl.Datetime("us")).dt.replace_time_zone(name)  # (raises for a name it does not know)
    assert {"America/Chicago", "UTC", "US/Central", "EST5EDT"} <= set(taken) and len(taken) > 400


def test_every_counting_rule_is_in_the_signature_and_no_setting_is() -> None:
    """The state's guard is the whole rules object: a rule added later cannot slip past it."""
    from dataclasses import fields, replace

    base = CountingRules(patterns=("^/a/(?P<id>1)",), suppliers=(SupplierRule("A", ("a.com",)),))
    other = {"format": "common", "timezone": "UTC", "log_timezone": "UTC", "patterns": ("^/b/(?P<id>1)",),
             "suppliers": (SupplierRule("A", ("b.com",)),), "status": (200,), "methods": ("HEAD",),
             "exclude_bots": False, "default_supplier": "X", "vhosts": ("www.site.example",)}
    assert set(other) == {f.name for f in fields(CountingRules)}  # a new rule needs a line here, too
    for name, value in other.items():
        assert replace(base, **{name: value}).signature() != base.signature(), name
    assert replace(base, status=(304, 200)).signature() == replace(base, status=(200, 304)).signature()
    settings = Config(base, Settings(window="01:00-02:00", state_path="/x"))
    assert settings.rules.signature() == Config(base).rules.signature()


@pytest.mark.parametrize(
    ("text", "fleet"),
    [
        ("", config.Fleet()),
        ("[fleet]\nhost = 'web1'\nsite = 'broker-a'\n", config.Fleet(site="broker-a", host="web1")),
        ("[fleet]\nhost_timeout = 12\ngrace = 1\n", config.Fleet(host_timeout=12 * 3600.0, grace=60.0)),
        ("[fleet]\nhost_timeout = '2d'\ngrace = '90s'\n", config.Fleet(host_timeout=2 * 86400.0, grace=90.0)),
        ("[fleet]\nhost_timeout = '90m'\n", config.Fleet(host_timeout=5400.0)),
    ],
)
def test_fleet_settings(tmp_path: Path, text: str, fleet: config.Fleet) -> None:
    loaded = config.load(write(tmp_path, text))
    assert loaded.settings.fleet == fleet
    assert loaded.rules.signature() == config.load(write(tmp_path, "")).rules.signature()  # settings, not rules


@pytest.mark.parametrize(
    ("text", "path", "url"),
    [
        ("sqlite:////var/lib/logtrack/state.db", "/var/lib/logtrack/state.db", None),
        ("sqlite:///var/lib/logtrack/state.db", "/var/lib/logtrack/state.db", None),
        ("state.db", "state.db", None),
        ("postgresql://logtrack@db.internal/logtrack?sslmode=verify-full", None,
         "postgresql://logtrack@db.internal/logtrack?sslmode=verify-full"),
        ("postgres:///logtrack?host=/run/postgresql", None, "postgres:///logtrack?host=/run/postgresql"),
    ],
)
def test_state_locations(text: str, path: str | None, url: str | None) -> None:
    from logtrack.state.locate import parse

    where = parse(text)
    assert (str(where.path) if where.path else None, where.url) == (path, url)


@pytest.mark.parametrize("text", ["mysql://x/y", "sqlite://", "postgresql://u:pw@h/db", "postgresql:///db?password=pw"])
def test_state_locations_refused(text: str) -> None:
    from logtrack.state.locate import parse

    with pytest.raises(ConfigError) as err:
        parse(text)
    assert "pw" not in str(err.value)


@pytest.mark.parametrize(("timezone", "window", "said"), [
    ("EST", "America/Chicago", ["'EST' is UTC-05:00 all year", "write 'America/New_York'", "'Etc/GMT+5'"]),
    ("MST", "America/Chicago", ["'MST' is UTC-07:00 all year", "'America/Denver'", "America/Phoenix"]),
    ("America/Chicago", "EST", ["[upload] window_timezone 'EST' is UTC-05:00 all year"]),
    ("America/New_York", "America/Chicago", []),
    ("HST", "America/Chicago", []),  # Hawaii keeps HST all year: its clock
    ("EST5EDT", "America/Chicago", []),  # with daylight saving time
    ("Etc/GMT+5", "America/Chicago", []),  # one offset, on purpose
    (None, "America/Chicago", []),
])
def test_a_zone_that_keeps_one_offset_where_a_clock_was_meant_is_said(timezone: str | None, window: str,
                                                                      said: list[str]) -> None:
    """"EST" reads as New York's clock but keeps UTC-05:00 all year: a summer's views of the hour after
    midnight went on the day before, without a word. Valid, so a warning, not an error."""
    doubts = Config(CountingRules(timezone=timezone), Settings(window_timezone=window)).doubts()
    assert len(doubts) == (1 if said else 0)
    for words in said:
        assert words in doubts[0]


Z, Y = "Zillow", "Realtor"


@pytest.mark.parametrize(("rules", "said"), [
    ([SupplierRule(Z, ("zillow.com",)), SupplierRule(Y, ("zillow.com", "realtor.com"))],
     ["[[suppliers]] #2 (Realtor) referrer 'zillow.com' never decides: #1 (Zillow) takes it first (the first "
      "matching rule wins); take it out of one of them, or put the rule meant first"]),
    ([SupplierRule(Z, ("zillow.com",)), SupplierRule(Y, ("www.zillow.com",))],
     ["[[suppliers]] #2 (Realtor) referrer 'www.zillow.com' never decides: #1 (Zillow) takes every host under "
      "'zillow.com' first"]),
    ([SupplierRule(Z, (), ("a.example",)), SupplierRule("", ("b.example",), ("a.example",))],
     ["[[suppliers]] #2 (Other) host 'a.example' never decides: #1 (Zillow) takes it first"]),
    ([SupplierRule(Z, ("www.zillow.com",)), SupplierRule(Y, ("zillow.com",))], []),  # the subdomain first: meant
    ([SupplierRule(Z, ("zillow.com",)), SupplierRule(Z, ("www.zillow.com", "trulia.com"))], []),  # one supplier
    ([SupplierRule(Z, ("zillow.com",)), SupplierRule(Y, ("myzillow.com",))], []),  # not under it
    ([SupplierRule(Z, (), ("zillow.com",)), SupplierRule(Y, ("zillow.com",))], []),  # a host is not a referrer
])
def test_a_supplier_rule_an_earlier_one_always_takes_first_is_said(rules: list[SupplierRule],
                                                                   said: list[str]) -> None:
    """The first matching rule wins, so a domain listed again under another supplier counted nothing there,
    without a word. Valid, so a warning."""
    doubts = Config(CountingRules(suppliers=tuple(rules))).doubts()
    assert len(doubts) == len(said), doubts
    for doubt, words in zip(doubts, said, strict=True):
        assert words in doubt

