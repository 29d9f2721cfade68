"""Custom formats: nginx log_format templates, JSON, and Apache LogFormat strings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from logtrack import formats
from logtrack.errors import ConfigError, LogFormatError
from logtrack.parse.fields import parse_batch
from logtrack.read.sources import batch_of
from logtrack.verdicts.reasons import Skip

NGINX_MAIN = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"'
)
NGINX_JSON = (
    '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,'
    '"bytes":$body_bytes_sent,"referer":"$http_referer","ua":"$http_user_agent","host":"$host",'
    '"rt":$request_time}'
)

# A tab-separated nginx log_format as nginx.conf writes it (in a TOML literal string, the same): \t is a tab.
NGINX_TABS = "$time_local\\t$remote_addr\\t$request\\t$status\\t$http_referer\\t$http_user_agent"

APACHE_JSON = ('{ \\"time\\":\\"%t\\", \\"remoteIP\\":\\"%a\\", \\"host\\":\\"%V\\", \\"request\\":\\"%U\\", '
               '\\"query\\":\\"%q\\", \\"method\\":\\"%m\\", \\"status\\":\\"%>s\\", '
               '\\"userAgent\\":\\"%{User-agent}i\\", \\"referer\\":\\"%{Referer}i\\" }')
NGINX_JSON_PARTS = ('{"time":"[$time_local]","request":"$request_method $request_uri $server_protocol",'
                    '"status":$status,"referer":"$http_referer","ua":"$http_user_agent"}')
NGINX_URI_ARGS = '$remote_addr [$time_local] "$request_method $uri$is_args$args" $status "$http_referer" "$http_user_agent"'


def parse(fmt: str, line: str, timezone: str | None = None, log_timezone: str | None = None) -> dict[str, object]:
    df = parse_batch(batch_of("t.log", 1, line.encode()), formats.get(fmt), timezone, log_timezone)
    return df.row(0, named=True)


CASES = [
    # nginx `main` (the commented-out example in Debian's nginx.conf)
    (NGINX_MAIN,
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 512 '
     '"https://www.zillow.com/" "Mozilla/5.0 (X11)" "10.0.0.1, 10.0.0.2"',
     {"method": "GET", "target": "/listing/42", "status": 200, "referrer": "https://www.zillow.com/",
      "user_agent": "Mozilla/5.0 (X11)", "local_day": date(2026, 11, 1)}),
    # host first, without and with a port, as the corpus' host-prefixed lines
    ('$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
     '"$http_referer" "$http_user_agent"',
     'example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "M"',
     {"vhost": "example.com", "client": "10.0.0.2, 10.0.0.1, 127.0.0.1", "target": "/ocelot"}),
    ('$host:$server_port $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
     '"$http_referer" "$http_user_agent"',
     'example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "GET /x HTTP/1.1" 200 173 "-" "-"',
     {"vhost": "example.com", "client": "unix:", "target": "/x"}),
    # a scanner's Host "a,b" or "a,": nginx's check lets a comma through, and $host logs it (a live nginx 1.22
    # answered 200 and wrote "a,b"; Apache answers 400, and logs its ServerName)
    ('$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
     '"$http_referer" "$http_user_agent"',
     'a,b 127.0.0.1 - - [30/Nov/2026:10:00:00 -0600] "GET /listing/42 HTTP/1.1" 200 3 "-" "M"',
     {"vhost": "a,b", "client": "127.0.0.1", "target": "/listing/42"}),
    ('$time_local\\t$remote_addr\\t$host\\t$request\\t$status\\t$http_user_agent',
     '30/Nov/2026:10:00:00 -0600\t127.0.0.1\ta,\tGET /listing/42 HTTP/1.1\t200\tM',
     {"vhost": "a,", "client": "127.0.0.1", "target": "/listing/42"}),
    # host_combined (the preset for nginx's '$host $remote_addr ...') and vhost_combined: commas anywhere but last
    *[(fmt, f'{host} 127.0.0.1 - - [30/Nov/2026:10:00:00 -0600] "GET /listing/42 HTTP/1.1" 200 3 "-" "M"',
       {"vhost": vhost, "client": "127.0.0.1", "target": "/listing/42"})
      for fmt, host, vhost in [("host_combined", "a,b", "a,b"), ("host_combined", ",a,,b", ",a,,b"),
                               ("vhost_combined", "a,b:443", "a,b")]],
    # method and URI logged apart, ISO 8601 time, $msec
    ('$time_iso8601 $request_method $scheme://$host$request_uri $status "$http_user_agent"',
     '2026-11-01T23:59:59-05:00 GET https://www.site.example/listing/42?a=1 200 "M"',
     {"method": "GET", "target": "/listing/42?a=1", "vhost": "www.site.example",
      "ts": datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC), "local_day": date(2026, 11, 1)}),
    ('$msec $request_method $uri$is_args$args $status',
     '1793594399.123 GET /listing/42?a=1 200',
     {"method": "GET", "target": "/listing/42?a=1",
      "ts": datetime(2026, 11, 2, 4, 39, 59, 123000, tzinfo=UTC), "local_day": date(2026, 11, 2)}),
    ('$msec $request_method $uri$is_args$args $status',
     '1793594399.123 GET /listing/42 200',
     {"target": "/listing/42"}),
    ('${remote_addr} [${time_local}] "${request}" ${status} "${http_user_agent}" $upstream_response_time',
     '::1 [01/Nov/2026:10:00:00 +0000] "GET / HTTP/2.0" 200 "curl/8" 0.001, 0.002 : 0.003',
     {"client": "::1", "user_agent": "curl/8"}),
    # JSON, escape=json
    (NGINX_JSON,
     '{"time":"2026-11-01T10:00:00-05:00","remote_addr":"203.0.113.7","request":"GET /listing/42 HTTP/1.1",'
     '"status":200,"bytes":512,"referer":"https://www.zillow.com/","ua":"Mozilla/5.0 \\"q\\"","host":"a.example",'
     '"rt":0.004}',
     {"method": "GET", "target": "/listing/42", "status": 200, "referrer": "https://www.zillow.com/",
      "user_agent": 'Mozilla/5.0 "q"', "vhost": "a.example", "local_day": date(2026, 11, 1)}),
    # JSON, escape=default: \x22 is not JSON and is read as a quote
    (NGINX_JSON,
     '{"time":"2026-11-01T10:00:00-05:00","remote_addr":"203.0.113.7","request":"GET /listing/42 HTTP/1.1",'
     '"status":200,"bytes":512,"referer":"-","ua":"Mozilla/5.0 \\x22q\\x22","host":"a.example","rt":0.004}',
     {"user_agent": 'Mozilla/5.0 "q"', "status": 200}),
    # JSON with the keys in another order and extra spaces
    (NGINX_JSON,
     '{ "status": 304, "request": "GET /listing/7 HTTP/1.1", "time": "2026-11-01T10:00:00+00:00" }',
     {"target": "/listing/7", "status": 304, "user_agent": None}),
    # Apache: custom formats
    ('%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D',
     'www.site.example 1.2.3.4 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "M" 1234',
     {"vhost": "www.site.example", "target": "/listing/42", "user_agent": "M"}),
    ('%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" \\"%{Host}i\\" %D',
     '1.2.3.4 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "M" "idx.example:8080" 1234',
     {"vhost": "idx.example:8080", "target": "/listing/42"}),
    ('%a %{%Y-%m-%d %H:%M:%S %z}t %m %U%q %H %>s %B %T',
     '1.2.3.4 2026-11-01 23:30:00 -0600 GET /listing/42?x=1 HTTP/1.1 200 5 0',
     {"method": "GET", "target": "/listing/42?x=1", "ts": datetime(2026, 11, 2, 5, 30, tzinfo=UTC),
      "local_day": date(2026, 11, 1)}),
    ('%h %{sec}t "%r" %s',
     '1.2.3.4 1793594399 "GET /x HTTP/1.1" 200',
     {"ts": datetime(2026, 11, 2, 4, 39, 59, tzinfo=UTC)}),
    ('%h %{msec}t "%r" %s',
     '1.2.3.4 1793594399123 "GET /x HTTP/1.1" 200',
     {"ts": datetime(2026, 11, 2, 4, 39, 59, 123000, tzinfo=UTC)}),
    # %<s (and %s) is the original status: the status where the format logs no final one (%>s), not beside it
    ('%h %t "%r" %<s %b',
     '1.2.3.4 [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 304 0',
     {"status": 304}),
    ('%h %t "%r" %<s %>s %b',
     '1.2.3.4 [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 404 0',
     {"status": 404}),
    ('%h %t "%r" %s %>s %b',
     '1.2.3.4 [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 404 0',
     {"status": 404}),
    ('%h %400,501{User-agent}i %!200{Referer}i %t "%r" %>s',
     '1.2.3.4 - - [01/Nov/2026:10:00:00 -0500] "GET /x HTTP/1.1" 200',
     {"target": "/x", "user_agent": "-", "referrer": "-"}),
    # Unquoted free text last in a format is the rest of the line: the whole agent, so its bot is found.
    # (Lines as real nginx 1.22 and Apache 2.4 wrote them, tests/e2e/test_real_servers.py.)
    (NGINX_TABS,
     '29/Nov/2026:19:35:21 -0600\t127.0.0.1\tGET /listing/100003 HTTP/1.1\t200\t-\t'
     'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
     {"target": "/listing/100003", "referrer": "-",
      "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}),
    # a header sent empty is logged as nothing at all: two tabs
    (NGINX_TABS,
     '29/Nov/2026:19:35:21 -0600\t127.0.0.1\tGET /listing/1 HTTP/1.1\t200\t\tMozilla/5.0 (X11)',
     {"target": "/listing/1", "referrer": "", "user_agent": "Mozilla/5.0 (X11)"}),
    (NGINX_TABS,
     '29/Nov/2026:19:35:21 -0600\t127.0.0.1\tGET /listing/1 HTTP/1.1\t200\t-\t',
     {"target": "/listing/1", "user_agent": ""}),
    # nginx's escape=none writes an absent variable as nothing ($remote_user here) where others write "-"
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
     '"$http_user_agent"',
     '127.0.0.1 -  [29/Nov/2026:19:35:21 -0600] "GET /listing/100003/ HTTP/1.1" 200 3 "" "python-requests/2.31.0"',
     {"target": "/listing/100003/", "referrer": "", "user_agent": "python-requests/2.31.0"}),
    # Apache escapes no space: an unquoted header is free text, and empty when the header was sent empty
    ('%t %h %>s %r|%{Referer}i|%{User-Agent}i',
     '[29/Nov/2026:20:49:26 -0600] 127.0.0.1 200 GET /listing/100010?q=a\\b HTTP/1.1||'
     'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
     {"target": "/listing/100010?q=a\\b", "referrer": "",
      "user_agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"}),
    # Apache LogFormats that write JSON (as guides give them): keys mapped through their directives; "[%t]" is a
    # time in its brackets, %U with %q (which holds its "?") the target; \" and \xhh as Apache escapes them
    (APACHE_JSON,
     '{ "time":"[29/Nov/2026:20:29:56 -0600]", "remoteIP":"127.0.0.1", "host":"www.site.example", '
     '"request":"/listing/100015", "query":"?q=\\xff", "method":"GET", "status":"200", '
     '"userAgent":"Mozilla/5.0 (X11; \\"quoted\\") Gecko", "referer":"https://www.trulia.com/p/\\xff\\xfe" }',
     {"target": "/listing/100015?q=\u00ff", "method": "GET", "status": 200, "vhost": "www.site.example",
      "user_agent": 'Mozilla/5.0 (X11; "quoted") Gecko', "local_day": date(2026, 11, 29)}),
    ('{ \\"@timestamp\\":\\"%{%Y-%m-%dT%H:%M:%S}t.%{msec_frac}t%{%z}t\\", \\"client\\":\\"%a\\", '
     '\\"request\\":\\"%r\\", \\"status\\":%>s, \\"bytes\\":%B, \\"agent\\":\\"%{User-Agent}i\\" }',
     '{ "@timestamp":"2026-11-29T20:29:56.540-0600", "client":"127.0.0.1", "request":"GET /listing/7 HTTP/1.1", '
     '"status":200, "bytes":3, "agent":"Mozilla/5.0" }',
     {"target": "/listing/7", "status": 200, "user_agent": "Mozilla/5.0", "local_day": date(2026, 11, 29)}),
    # JSON members holding several variables (or directives) and text: each cut by a regex of its own once
    # decoded; a line with nothing escaped is cut at its quotes, one with \" or \xHH decoded
    (NGINX_JSON_PARTS,
     '{"time":"[29/Nov/2026:20:29:56 -0600]","request":"GET /listing/100015?a=1 HTTP/1.1","status":200,'
     '"referer":"https://www.zillow.com/x","ua":"Mozilla/5.0 (X11)"}',
     {"method": "GET", "target": "/listing/100015?a=1", "status": 200, "referrer": "https://www.zillow.com/x",
      "user_agent": "Mozilla/5.0 (X11)", "ts": datetime(2026, 11, 30, 2, 29, 56, tzinfo=UTC),
      "local_day": date(2026, 11, 29)}),
    (NGINX_JSON_PARTS,
     '{"time":"[29/Nov/2026:20:29:56 -0600]","request":"HEAD /listing/100015?q=\\x22 HTTP/1.1","status":304,'
     '"referer":"","ua":"Mozilla/5.0 (X11; \\"quoted\\")"}',
     {"method": "HEAD", "target": '/listing/100015?q="', "status": 304, "referrer": "",
      "user_agent": 'Mozilla/5.0 (X11; "quoted")', "local_day": date(2026, 11, 29)}),
    # a number last, with a space before the closing brace: the space is the template's, not the value's
    ('{"time":"$time_iso8601", "request": "$request", "status": $status }',
     '{"time":"2026-11-01T10:00:00-05:00", "request": "GET /listing/42 HTTP/1.1", "status": 200 }',
     {"target": "/listing/42", "status": 200}),
    ('{"time":"$time_iso8601", "request": "$request", "status": $status }',
     '{"time":"2026-11-01T10:00:00-05:00", "request": "GET /listing/42?q=\\\" HTTP/1.1", "status": 200 }',
     {"target": '/listing/42?q="', "status": 200}),
    ('{"ts":"$msec","uri":"$uri$is_args$args","m":"$request_method","code":"$status"}',
     '{"ts":"1793594399.123","uri":"/listing/42-","m":"GET","code":"200"}',
     {"method": "GET", "target": "/listing/42", "local_day": date(2026, 11, 2)}),
    ('{ \\"when\\":\\"%t\\", \\"req\\":\\"%m %U%q %H\\", \\"code\\":%>s, '
     '\\"agent\\":\\"%{User-Agent}i\\" }',
     '{ "when":"[29/Nov/2026:20:29:56 -0600]", "req":"GET /listing/7?x=\\xff HTTP/1.1", "code":200, '
     '"agent":"Mozilla/5.0" }',
     {"method": "GET", "target": "/listing/7?x=\u00ff", "status": 200, "user_agent": "Mozilla/5.0",
      "local_day": date(2026, 11, 29)}),
    # access lines behind syslog's prefix: the traditional file format, rsyslog's RFC 3339 one, a datagram as
    # nginx sends it (<PRI>, no host), journalctl's; a preset, an nginx template, an Apache LogFormat
    ("syslog:combined",
     'Nov 29 16:25:14 web1 nginx: 203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] "GET /listing/42 HTTP/1.1" 200 5 '
     '"https://www.zillow.com/" "Mozilla/5.0 (X11)"',
     {"client": "203.0.113.7", "target": "/listing/42", "referrer": "https://www.zillow.com/",
      "user_agent": "Mozilla/5.0 (X11)", "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)}),
    ("syslog:combined",
     '2026-11-29T16:25:14.123456-06:00 web1 apache[4321]: 203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] '
     '"GET /listing/42 HTTP/1.1" 304 - "-" "Mozilla/5.0"',
     {"client": "203.0.113.7", "target": "/listing/42", "status": 304, "local_day": date(2026, 11, 29)}),
    ("syslog:combined",
     '<190>Nov  2 06:05:01 nginx: 10.0.0.2, 10.0.0.1 - - [02/Nov/2026:06:05:01 -0600] "GET /listing/42 HTTP/1.1" '
     '200 5 "-" "Mozilla/5.0"',
     {"client": "10.0.0.2, 10.0.0.1", "target": "/listing/42", "local_day": date(2026, 11, 2)}),
    ("syslog:combined",  # RFC 5424, as `logger --rfc5424` sends it: its structured data holds quotes too
     '<13>1 2026-11-30T03:48:05.385714+00:00 vm apache - - [timeQuality tzKnown="1" isSynced="0"] 203.0.113.7 - - '
     '[29/Nov/2026:16:25:14 -0600] "GET /listing/42 HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
     {"client": "203.0.113.7", "target": "/listing/42", "user_agent": "Mozilla/5.0"}),
    ('syslog:$host $remote_addr [$time_local] "$request" $status "$http_user_agent"',
     'Nov 29 16:25:14 web1 nginx[77]: www.site.example 203.0.113.7 [29/Nov/2026:16:25:14 -0600] '
     '"GET /listing/42 HTTP/1.1" 200 "Mozilla/5.0"',
     {"vhost": "www.site.example", "target": "/listing/42", "user_agent": "Mozilla/5.0"}),
    ('syslog:%v %h %t \\"%r\\" %>s \\"%{User-Agent}i\\"',
     '2026-11-29T22:25:14Z web1 httpd: www.site.example 203.0.113.7 [29/Nov/2026:16:25:14 -0600] '
     '"GET /listing/42 HTTP/1.1" 200 "Mozilla/5.0"',
     {"vhost": "www.site.example", "target": "/listing/42", "user_agent": "Mozilla/5.0"}),
    # Envoy's format strings: its time in a strftime of its own (UTC without %z), or epoch seconds; a header
    # with a fallback and a length; the referrer read where the format logs it
    ('[%START_TIME(%Y/%m/%dT%H:%M:%S.%3f)%] %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "%REQ(:METHOD)% %REQ(:PATH)% '
     '%PROTOCOL%" %RESPONSE_CODE% "%REQ(REFERER)%" "%REQ(USER-AGENT)%" "%REQ(:AUTHORITY)%"',
     '[2026/11/29T22:25:14.409] 203.0.113.7 "GET /listing/42 HTTP/1.1" 200 "https://www.zillow.com/" '
     '"Mozilla/5.0" "www.site.example"',
     {"client": "203.0.113.7", "method": "GET", "target": "/listing/42", "status": 200, "vhost": "www.site.example",
      "referrer": "https://www.zillow.com/", "ts": datetime(2026, 11, 29, 22, 25, 14, 409000, tzinfo=UTC)}),
    ('%START_TIME(%s)% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
     '"%REQ(REFERER):200%" "%REQ(USER-AGENT)%"\\n',
     '1764455114 "GET /listing/42 HTTP/2" 304 "https://www.realtor.com/x" "Mozilla/5.0 (iPhone)"',
     {"target": "/listing/42", "status": 304, "referrer": "https://www.realtor.com/x",
      "ts": datetime(2025, 11, 29, 22, 25, 14, tzinfo=UTC)}),
    ('[%START_TIME(%FT%T%z)%] "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE% "%REQ(USER-AGENT)%"',
     '[2026-11-29T16:25:14-0600] "GET /listing/42 HTTP/1.1" 200 "M"',
     {"target": "/listing/42", "user_agent": "M", "local_day": date(2026, 11, 29)}),
    # variables the table does not know are free text too: spaces in them, or nothing
    ('$remote_addr $geoip_city_name $ssl_protocol [$time_local] "$request" $status "$http_user_agent"',
     '127.0.0.1 New York  [29/Nov/2026:19:50:21 -0600] "GET /listing/5 HTTP/1.1" 200 "Mozilla/5.0"',
     {"client": "127.0.0.1", "target": "/listing/5", "user_agent": "Mozilla/5.0"}),
    ('%h %{GEOIP_CITY}e %{SSL_PROTOCOL}x %t \\"%r\\" %>s \\"%{User-Agent}i\\"',
     '127.0.0.1 New York - [29/Nov/2026:19:50:21 -0600] "GET /listing/5 HTTP/1.1" 200 "Mozilla/5.0"',
     {"client": "127.0.0.1", "target": "/listing/5", "user_agent": "Mozilla/5.0"}),
    # nginx's $uri$is_args$args: with no query string, $args is a "-" glued to the path (as nginx 1.22 wrote it)
    (NGINX_URI_ARGS,
     '127.0.0.1 [29/Nov/2026:19:50:21 -0600] "GET /listing/100027-" 200 "-" "Mozilla/5.0"',
     {"target": "/listing/100027", "method": "GET"}),
    (NGINX_URI_ARGS,
     '127.0.0.1 [29/Nov/2026:19:50:21 -0600] "GET /listing/100027?q=a-" 200 "-" "Mozilla/5.0"',
     {"target": "/listing/100027?q=a-"}),
    (NGINX_URI_ARGS,
     '127.0.0.1 [29/Nov/2026:19:50:21 -0600] "GET /listing/100027/photo.jpg-" 200 "-" "Mozilla/5.0"',
     {"target": "/listing/100027/photo.jpg"}),
    # the path as the server decoded it: "%20" a space, "%22" a quote, written escaped (nginx 1.22 and Apache 2.4
    # live: $uri, %U); a target is matched as logged, escapes and all, as one in the request line is
    (NGINX_URI_ARGS,
     '127.0.0.1 [29/Nov/2026:19:50:21 -0600] "GET /listing/100027/a b-" 200 "-" "Mozilla/5.0"',
     {"target": "/listing/100027/a b"}),
    (NGINX_URI_ARGS,
     '127.0.0.1 [29/Nov/2026:19:50:21 -0600] "GET /homes/1 Main St-100027?q=a b" 200 "-" "Mozilla/5.0"',
     {"target": "/homes/1 Main St-100027?q=a b"}),
    ('$remote_addr [$time_local] "$request_method $uri $server_protocol" $status "$http_user_agent"',
     '127.0.0.1 [29/Nov/2026:19:50:21 -0600] "GET /listing/100027/a b\\x22c HTTP/1.1" 200 "Mozilla/5.0"',
     {"target": '/listing/100027/a b\\x22c'}),
    ('%h %l %u %t \\"%m %U%q %H\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"',
     '127.0.0.1 - - [29/Nov/2026:19:50:21 -0600] "GET /listing/100027/a b\\"c?q=1 HTTP/1.1" 200 3 "-" "M"',
     {"target": '/listing/100027/a b\\"c?q=1', "method": "GET"}),
    ('%h %l %u %t \\"%m %U%q %H\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"',
     '127.0.0.1 - - [29/Nov/2026:19:50:21 -0600] "OPTIONS * HTTP/1.1" 200 - "-" "M"',
     {"target": "*", "method": "OPTIONS"}),
    # varnishncsa's %r spelled as varnishncsa defines it: the host ends where the path begins (a virtual host,
    # for [filters] vhosts); as varnishncsa 7.1 wrote it live
    ('%h %l %u %t "%m http://%{Host}i%U%q %H" %s %b "%{Referer}i" "%{User-agent}i"',
     '127.0.0.1 - - [01/Dec/2026:02:41:29 +0000] "GET http://www.site.example/listing/123?a=b HTTP/1.1" 200 335 '
     '"https://www.zillow.com/x" "Mozilla/5.0 \\"quoted\\" x"',
     {"vhost": "www.site.example", "target": "/listing/123?a=b", "method": "GET"}),
    ('%h %l %u %t "%m http://%{Host}i%U%q %H" %s %b "%{Referer}i" "%{User-agent}i"',
     '127.0.0.1 - - [01/Dec/2026:02:41:37 +0000] "GET http://WWW.Site.Example:80/listing/128 HTTP/1.1" 404 335 "-" "-"',
     {"vhost": "WWW.Site.Example:80", "target": "/listing/128"}),
    # nginx variables that never hold a space are one token: an unquoted agent beside one is read whole (as
    # nginx 1.22 wrote it live), and a list of upstreams' times is one field
    ('$http_user_agent $ssl_protocol "$time_local" $connection_requests $status '
     '"$request_method $request_uri $server_protocol" "$http_referer"',
     'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) - "30/Nov/2026:23:26:27 -0600" 1 '
     '200 "GET /listing/100008 HTTP/1.1" "https://www.realtor.com/x?a=\\x22b\\x22"',
     {"user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "target": "/listing/100008"}),
    ('[$time_local] "$request" $status $upstream_addr $upstream_response_time $http_user_agent',
     '[30/Nov/2026:23:26:27 -0600] "GET /listing/5 HTTP/1.1" 200 10.0.0.1:80, 10.0.0.2:80 : unix:/run/a.sock '
     '0.004, 0.002 : 0.001 Mozilla/5.0 (X11; Linux x86_64)',
     {"user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "target": "/listing/5"}),
    # nginx's escape=none (before the template, as log_format declares it) and Envoy write a quote inside a
    # field as it came: the field ends at the first quote after which the line still fits its format
    # (lines as nginx 1.22 wrote them live, escape=none); without escape=none such a line is damage (below)
    ('escape=none $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
     '"$http_referer" "$http_user_agent"',
     '127.0.0.1 - - [30/Nov/2026:23:18:27 -0600] "GET /listing/100003?q="x"\\ HTTP/1.1" 200 3 '
     '"https://www.realtor.com/x?a="b"" "Mozilla/5.0 (X11; rv:132.0) Gecko/20100101 Firefox/132.0"',
     {"target": '/listing/100003?q="x"\\', "referrer": 'https://www.realtor.com/x?a="b"',
      "user_agent": "Mozilla/5.0 (X11; rv:132.0) Gecko/20100101 Firefox/132.0"}),
    ('escape=none "$http_user_agent" "$request_method $request_uri $server_protocol" [$time_local] '
     '$http_referer $status',
     '"Mozilla/5.0 (X11; Linux x86_64; rv:132.0; "quoted" \\ build) Gecko/20100101 Firefox/132.0" '
     '"GET /listing/100019 HTTP/1.1" [30/Nov/2026:23:19:07 -0600] https://m.trulia.com/p/caf\u00e9 200',
     {"target": "/listing/100019", "referrer": "https://m.trulia.com/p/caf\u00e9",
      "user_agent": 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0; "quoted" \\ build) Gecko/20100101 Firefox/132.0'}),
    # ... and a last quoted field ends at the line's last quote: an agent with quotes and spaces whole, not cut
    # at its first quote followed by a space (with the rest taken for fields appended), which let a bot in
    ('escape=none $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
     '"$http_referer" "$http_user_agent"',
     '127.0.0.1 - - [30/Nov/2026:23:18:27 -0600] "GET /listing/100003 HTTP/1.1" 200 3 "-" '
     '"Mozilla/5.0 "x" (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"',
     {"target": "/listing/100003",
      "user_agent": 'Mozilla/5.0 "x" (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'}),
    # escape=json in a plain template: a quote and a backslash written \" and \\
    ('escape=json $remote_addr [$time_local] "$request" $status "$http_referer" "$http_user_agent"',
     '127.0.0.1 [30/Nov/2026:23:18:27 -0600] "GET /listing/100003?q=\\"x\\" HTTP/1.1" 200 "-" "a\\\\b"',
     {"target": '/listing/100003?q=\\"x\\"', "status": 200}),
    ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
     '"%REQ(REFERER)%" "%REQ(USER-AGENT)%" "%REQ(:AUTHORITY)%"',
     '[2026-11-29T22:25:14.409Z] "GET /listing/42?q="a" HTTP/1.1" 200 "https://www.zillow.com/"x"" '
     '"Mozilla/5.0 "quoted" x" "www.site.example"',
     {"target": '/listing/42?q="a"', "referrer": 'https://www.zillow.com/"x"', "user_agent": 'Mozilla/5.0 "quoted" x',
      "vhost": "www.site.example"}),
    # a request's and a response's trailer (%{Name}^ti, %{Name}^to: ignored fields), as Apache 2.4.71 wrote them
    ('%h %t \\"%r\\" %>s %{X-T}^ti %{Y}^to \\"%{User-Agent}i\\"',
     '127.0.0.1 [01/Dec/2026:00:34:24 -0600] "GET /listing/100001 HTTP/1.1" 200 - - "Mozilla/5.0"',
     {"target": "/listing/100001", "status": 200, "user_agent": "Mozilla/5.0"}),
    # strftime's spellings with spaces in them (%c, %r, %k), as Apache 2.4.71 wrote them (C locale)
    ('%h [%{%c}t] \\"%r\\" %>s \\"%{User-Agent}i\\"',
     '127.0.0.1 [Tue Dec  1 00:37:39 2026] "GET /listing/100001 HTTP/1.1" 200 "Mozilla/5.0"',
     {"target": "/listing/100001", "ts": datetime(2026, 12, 1, 0, 37, 39, tzinfo=UTC)}),
    ('%h [%{%x %r}t] \\"%r\\" %>s \\"%{User-Agent}i\\"',
     '127.0.0.1 [12/01/26 12:37:39 AM] "GET /listing/100001 HTTP/1.1" 200 "Mozilla/5.0"',
     {"target": "/listing/100001", "ts": datetime(2026, 12, 1, 0, 37, 39, tzinfo=UTC)}),
    ('%h [%{%Y-%m-%d %k:%M:%S}t] \\"%r\\" %>s \\"%{User-Agent}i\\"',
     '127.0.0.1 [2026-12-01  0:37:39] "GET /listing/100001 HTTP/1.1" 200 "Mozilla/5.0"',
     {"target": "/listing/100001", "ts": datetime(2026, 12, 1, 0, 37, 39, tzinfo=UTC)}),
    # mod_logio's time to the first byte ("-" as Apache 2.4.71 wrote it without LogIOTrackTTFB, or µs)
    ('%h %t \\"%r\\" %>s %^FB \\"%{User-Agent}i\\"',
     '127.0.0.1 [01/Dec/2026:00:35:55 -0600] "GET /listing/100001 HTTP/1.1" 200 - "Mozilla/5.0"',
     {"target": "/listing/100001", "user_agent": "Mozilla/5.0"}),
    ('%h %t \\"%r\\" %>s %^FB \\"%{User-Agent}i\\"',
     '127.0.0.1 [01/Dec/2026:00:35:55 -0600] "GET /listing/100001 HTTP/1.1" 200 1234 "Mozilla/5.0"',
     {"target": "/listing/100001", "user_agent": "Mozilla/5.0"}),
    # the thread's id in hex, the thread's and the process's in decimal, as Apache 2.4.71 wrote them
    ('%h %t \\"%r\\" %>s %{hextid}P %{tid}P %P \\"%{User-Agent}i\\"',
     '127.0.0.1 [01/Dec/2026:00:35:17 -0600] "GET /listing/100001 HTTP/1.1" 200 7fe6909306c0 140628244760256 26332 '
     '"Mozilla/5.0"', {"target": "/listing/100001", "user_agent": "Mozilla/5.0"}),
    # a LogFormat with \t, as httpd.conf writes a tab (mod_log_config reads \t, \n, \r and \\)
    ('%t\\t%h\\t%r\\t%>s\\t%{Referer}i\\t%{User-Agent}i',
     '[29/Nov/2026:20:49:26 -0600]\t127.0.0.1\tGET /listing/7 HTTP/1.1\t200\thttps://www.zillow.com/x\t'
     'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
     {"target": "/listing/7", "referrer": "https://www.zillow.com/x",
      "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}),
    # a request not between quotes, with fields after it that may be any token (as a live nginx 1.22 wrote
    # them): read as a request line, not cut at its first space ("GET", and every line a malformed request)
    ('$upstream_response_time $server_protocol rt=$request_time $request $http_referer "$time_local" '
     '"$http_user_agent" $status',
     '- HTTP/1.1 rt=0.000 GET /listing/100031 HTTP/1.1 https://notzillow.com/ "01/Dec/2026:03:47:49 -0600" '
     '"Mozilla/5.0 (Windows NT 10.0; Win64; x64)" 200',
     {"method": "GET", "target": "/listing/100031", "referrer": "https://notzillow.com/", "status": 200}),
    ('$status "$http_user_agent" $request $remote_addr $http_referer $remote_user $ssl_protocol "$time_local" '
     '$gzip_ratio $status',
     '200 "Mozilla/5.0 (X11; Linux x86_64; rv:132.0; \\x22quoted\\x22 \\x5C build) Gecko/20100101 Firefox/132.0" '
     'GET /listing/100028 HTTP/1.1 127.0.0.1 - john smith - "01/Dec/2026:03:47:49 -0600" - 200',
     {"method": "GET", "target": "/listing/100028", "referrer": "-", "status": 200}),
    ('$request $http_referer [$time_local] $status',  # HTTP/1.0's request without a protocol, and an absent referrer
     'GET /listing/5 - [01/Dec/2026:03:47:49 -0600] 200', {"target": "/listing/5", "referrer": "-"}),
    # an agent outside quotes with a field after it, last (as a live nginx 1.22 wrote it): the agent is whole, not
    # cut at its first space with the rest taken for fields appended after the format's last one (no bot found)
    ('$server_protocol $msec "$request_method $uri$is_args$args" $status "$sent_http_content_type" '
     '$http_user_agent $host',
     'HTTP/1.1 1796118819.846 "GET /listing/100028" 200 "text/plain" Mozilla/5.0 (compatible; Googlebot/2.1; '
     '+http://www.google.com/bot.html) www.site.example',
     {"target": "/listing/100028", "vhost": "www.site.example",
      "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}),
    # a request last after an agent, both outside quotes: the agent ends where the request line begins
    ('[$time_local] $status $http_user_agent $request',
     '[01/Dec/2026:05:31:20 -0600] 200 Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) '
     'GET /listing/100002 HTTP/2.0',
     {"target": "/listing/100002", "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}),
    ('%t %>s %{User-Agent}i %r', '[01/Dec/2026:05:31:20 -0600] 200 Mozilla/5.0 (X11; Linux x86_64) GET /listing/7',
     {"target": "/listing/7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"}),
    # An agent outside quotes before nginx's $request_method and $request_uri: they begin where a method nginx
    # reads (capitals, "_", "-") meets a target ("/..."), not at the agent's "CPU iPhone" (live nginx 1.22, a
    # random log_format probe; a Basic-auth login with a space after them)
    ('$http_user_agent $request_method $request_uri $remote_addr $remote_user "$time_local" $status $host',
     'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 '
     'GET /listing/100023 127.0.0.1 john smith "01/Dec/2026:06:17:47 -0600" 200 idx.partner.example',
     {"method": "GET", "target": "/listing/100023", "vhost": "idx.partner.example",
      "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                    "Mobile/15E148"}),
    ('%r %{Referer}i %t %>s %{User-Agent}i',  # Apache's %r alike
     'POST /listing/6 HTTP/2.0 https://www.zillow.com/a [01/Dec/2026:03:47:49 -0600] 200 Mozilla/5.0 (X11)',
     {"method": "POST", "target": "/listing/6", "referrer": "https://www.zillow.com/a", "user_agent": "Mozilla/5.0 (X11)"}),
]


@pytest.mark.parametrize(("fmt", "line", "expected"), CASES)
def test_custom_formats(fmt: str, line: str, expected: dict[str, object]) -> None:
    row = parse(fmt, line)
    assert row["reason"] is None, row
    for key, value in expected.items():
        assert row[key] == value, key


# strftime's %s, seconds since 1970, is an instant whatever zone the server or logtrack is in (it was read as a
# wall time in the reporting zone: 2026-11-02 00:00 UTC, a view of Chicago's 1 November, counted on the 2nd)
@pytest.mark.parametrize("template", ['%h [%{%s}t] "%r" %>s', '%h [%{end:%s}t] "%r" %>s', '%h %{[%s]}t "%r" %>s',
                                      '%h [%{%s}t.%{msec_frac}t] "%r" %>s'])
def test_strftime_seconds_since_1970_are_an_instant(template: str) -> None:
    fraction = ".250" if "msec_frac" in template else ""
    row = parse(template, f'1.2.3.4 [1793577600{fraction}] "GET /x HTTP/1.1" 200', "America/Chicago", None)
    assert row["ts"] == datetime(2026, 11, 2, 0, 0, 0, 250_000 if fraction else 0, tzinfo=UTC)  # Chicago's 1st


@pytest.mark.parametrize(
    ("timezone", "log_timezone", "instant"),
    [
        (None, None, datetime(2026, 11, 1, 23, 30, tzinfo=UTC)),  # no zone anywhere: UTC
        ("America/Chicago", None, datetime(2026, 11, 2, 5, 30, tzinfo=UTC)),  # the reporting zone
        ("America/Chicago", "UTC", datetime(2026, 11, 1, 23, 30, tzinfo=UTC)),  # a server that logs in UTC
        (None, "Asia/Kolkata", datetime(2026, 11, 1, 18, 0, tzinfo=UTC)),
    ],
)
def test_naive_strftime_time_is_in_the_log_zone(timezone: str | None, log_timezone: str | None,
                                                 instant: datetime) -> None:
    row = parse("%h %{%Y-%m-%d %H:%M:%S}t \"%r\" %>s", '1.2.3.4 2026-11-01 23:30:00 "GET /x HTTP/1.1" 200',
                timezone, log_timezone)
    assert row["ts"] == instant
    # the server's own date is the wall-clock one, whatever its zone
    assert row["local_day"] == (None if timezone else date(2026, 11, 1))


_LINE = '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/1 HTTP/1.1" 200 5 "-" "Mozilla/5.0"'
SKIPS = [
    # nginx's "-" for the method and target of a request it could not read, after an agent outside quotes
    ('$http_user_agent $request_method $request_uri "$time_local" $status',
     'curl/8.5.0 - - "01/Dec/2026:06:17:47 -0600" 400', Skip.NO_REQUEST),
    # lines joined by a bare CR (old Mac line ends): one line, not the first with the rest ignored as appended
    # fields (which counted one view for five, in combined and common alike)
    ("combined", "\r".join([_LINE] * 5), Skip.UNPARSABLE),
    ("common", "\r".join([_LINE] * 5), Skip.UNPARSABLE),
    (NGINX_MAIN, "\r".join([_LINE + ' "-"'] * 3), Skip.UNPARSABLE),
    # a raw quote inside a quoted field, where the server escapes quotes (nginx's default, Apache): damage
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
     '"$http_user_agent"', '127.0.0.1 - - [30/Nov/2026:23:18:27 -0600] "GET /listing/100003 HTTP/1.1" 200 3 '
     '"https://www.realtor.com/x?a="b"" "Mozilla/5.0"', Skip.UNPARSABLE),
    (NGINX_JSON, "not json", Skip.UNPARSABLE),
    (NGINX_JSON, '{"time": "2026-11-01T10:00:00+00:00", "status": 200, broken}', Skip.UNPARSABLE),
    (NGINX_JSON, '{"time": "2026-11-01T10:00:00+00:00", "status": 200}', Skip.UNPARSABLE),  # no request
    (NGINX_JSON, '{"time": "2026-13-01T10:00:00+00:00", "status": 200, "request": "GET / HTTP/1.1"}',
     Skip.BAD_TIME),
    (NGINX_JSON, '{"time": "2026-11-01T10:00:00+00:00", "status": 400, "request": ""}', Skip.NO_REQUEST),
    (NGINX_MAIN, '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "-" 408 0 "-" "-" "-"', Skip.NO_REQUEST),
    ('$msec $request_method $uri$is_args$args $status', '1793594399.123 - - 400', Skip.NO_REQUEST),
    ('$msec $request_method $uri$is_args$args $status', 'yesterday GET /x 200', Skip.UNPARSABLE),
    # ... and a field appended after such a format's last one is damage, not the agent's end
    ('$status "$request" $http_user_agent $host [$time_local]',
     '200 "GET /listing/1 HTTP/1.1" Mozilla/5.0 (X11) www.site.example [01/Dec/2026:03:47:49 -0600] 0.001',
     Skip.UNPARSABLE),
    # a request not between quotes that is no request line (nginx's "-"): read lazily, before any token
    ('$request $http_referer [$time_local] $status', '- - [01/Dec/2026:03:47:49 -0600] 400', Skip.NO_REQUEST),
]


@pytest.mark.parametrize(("fmt", "line", "reason"), SKIPS)
def test_custom_format_skips(fmt: str, line: str, reason: Skip) -> None:
    assert parse(fmt, line)["reason"] == reason.value


# A byte that is not UTF-8 (an old phone's Latin-1 agent) where each server writes it: escaped by nginx's default
# and Apache (a raw one is then damage, "invalid UTF-8"), raw by nginx's escape=json and escape=none, and Envoy.
RAW_AGENT = b"T\xe9l\xe9phone"
RAW_BYTES = [
    ("combined", b'203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/1 HTTP/1.1" 200 5 "-" "' + RAW_AGENT
     + b'"', Skip.INVALID_UTF8.value),
    (NGINX_MAIN, b'203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/1 HTTP/1.1" 200 5 "-" "' + RAW_AGENT
     + b'" "-"', Skip.INVALID_UTF8.value),
    (NGINX_JSON, b'{"time":"2026-11-01T10:00:00-05:00","remote_addr":"203.0.113.7","request":"GET /listing/1 '
     b'HTTP/1.1","status":200,"bytes":5,"referer":"","ua":"' + RAW_AGENT + b'","host":"a","rt":0.001}', None),
    (NGINX_JSON_PARTS, b'{"time":"[01/Nov/2026:10:00:00 -0500]","request":"GET /listing/1 HTTP/1.1","status":200,'
     b'"referer":"","ua":"' + RAW_AGENT + b'"}', None),
    ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
     '"%REQ(USER-AGENT)%"', b'[2026-11-01T15:00:00.000Z] "GET /listing/1 HTTP/1.1" 200 "' + RAW_AGENT + b'"', None),
]


@pytest.mark.parametrize(("fmt", "line", "reason"), RAW_BYTES)
def test_a_byte_not_utf8_is_damage_only_where_the_server_escapes_such_bytes(fmt: str, line: bytes,
                                                                            reason: str | None) -> None:
    good = b'203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/2 HTTP/1.1" 200 5 "-" "Mozilla/5.0"'
    ok = 'parses' if reason is None else reason
    df = parse_batch(batch_of("t.log", 1, line + b"\n" + line), formats.get(fmt))
    assert df.get_column("reason").to_list() == [reason, reason], ok
    if reason is None:
        assert df.get_column("target").to_list() == ["/listing/1"] * 2
        assert df.get_column("user_agent").to_list() == ["T\ufffdl\ufffdphone"] * 2
    if fmt == "combined":  # (the line beside it, UTF-8, reads as ever)
        df = parse_batch(batch_of("t.log", 1, good + b"\n" + line), formats.get(fmt))
        assert df.get_column("reason").to_list() == [None, reason]


@pytest.mark.parametrize("escape", ["none", "json"])  # (escape=json escapes no byte outside ASCII, in a plain template too)
def test_escape_none_or_json_in_nginx_conf_writes_bytes_as_they_came(tmp_path, escape: str) -> None:
    from logtrack.formats import nginx_conf

    conf = tmp_path / "nginx.conf"
    conf.write_text(f"http {{\n log_format raw escape={escape} '$remote_addr [$time_local] \"$request\" $status "
                    "\"$http_user_agent\"';\n log_format esc '$remote_addr [$time_local] \"$request\" $status "
                    "\"$http_user_agent\"';\n server { access_log /var/log/raw.log raw; }\n"
                    " server { access_log /var/log/esc.log esc; }\n}\n")  # (no f-strings: one brace each)
    logs = {log.format_name: log.format for log in nginx_conf.read(conf)}
    line = b'203.0.113.7 [01/Nov/2026:10:00:00 -0500] "GET /listing/1 HTTP/1.1" 200 "' + RAW_AGENT + b'"'
    assert parse_batch(batch_of("t.log", 1, line), logs["raw"])["reason"].to_list() == [None]
    assert parse_batch(batch_of("t.log", 1, line), logs["esc"])["reason"].to_list() == [Skip.INVALID_UTF8.value]


# A log named by a variable is every file it could be (a glob); ``${host}`` is a variable to nginx, not a block
# (read as one, the server's log was lost without a word, and the blocks after it were muddled)
@pytest.mark.parametrize(("written", "pattern"), [
    ("/l/$host.access.log", "/l/*.access.log"),
    ("/l/${host}_access.log", "/l/*_access.log"),
    ("/l/site-${server_name}.log main buffer=32k", "/l/site-*.log"),
    ('"/l/${host}.log"', "/l/*.log"),
])
def test_nginx_conf_a_log_named_by_a_variable_is_a_glob(tmp_path, written: str, pattern: str) -> None:
    from logtrack.formats import nginx_conf

    conf = tmp_path / "nginx.conf"
    conf.write_text("http {\n  log_format main '$remote_addr [$time_local] \"$request\" $status';\n"
                    f"  server {{\n    access_log {written};\n  }}\n  server {{ access_log /l/other.log; }}\n}}\n")
    read = nginx_conf.read_all(conf)
    assert [log.path for log in read.logs] == [pattern, "/l/other.log"]
    assert read.twins == {} and read.skipped == []


# A server block that names no access_log, in an http block that names none, writes to nginx's built-in log
@pytest.mark.parametrize(("http", "servers", "unlogged"), [
    ("", ["server { access_log /l/a.log; }", "server { listen 80; }"], [6]),  # (the lines: http's 4, servers' 5 on)
    ("access_log /l/all.log;", ["server { listen 80; }"], []),  # (inherited)
    ("", ["server { access_log off; }"], []),  # (no log at all)
    ("", ["server { location / { access_log /l/a.log; } }"], [5]),  # (its other requests: the built-in log)
    ("", ["server { include /nonexistent/*.conf; if ($x) { access_log /l/a.log; } }"], [5]),
    ("", ["server {\n  listen 80;\n}\n  server { access_log /l/${host}.log; }"], [5]),
])
def test_nginx_conf_servers_that_log_to_the_built_in_log(tmp_path, http: str, servers: list[str],
                                                          unlogged: list[int]) -> None:
    from logtrack.formats import nginx_conf

    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nstream { server { listen 1; } }\nhttp {\n  " + "\n  ".join([http, *servers]) + "\n}\n")
    assert nginx_conf.read_all(conf).unlogged == [f"{conf}:{n}" for n in unlogged]


# What nginx refuses (nginx -t: 'unexpected end of file, expecting ";" or "}"', 'unexpected "}"') is refused,
# naming the line: read anyway, a cut-off access_log or a block left open was taken for "no access_log here"
@pytest.mark.parametrize(("text", "line", "words"), [
    ("http {\n  access_log /l/a.log", 2, 'access_log has no ";"'),
    ("http {\n  server {\n    access_log /l/a.log;\n  }\n", 1, 'the http block has no "}"'),
    ("http {\n  server {\n    access_log /l/a.log;\n}\n", 1, 'the http block has no "}"'),  # (server's closed)
    ("http {\n  server {\n    location / {\n    }\n", 2, 'the server block has no "}"'),  # (the innermost)
    ("http { access_log /l/a.log; }\n}\n", 2, 'unexpected "}"'),
    ("http { log_format a '$status' '$request';\n access_log /l/a.log a;", 1, 'the http block has no "}"'),
])
def test_nginx_conf_that_nginx_refuses_is_refused(tmp_path, text: str, line: int, words: str) -> None:
    from logtrack.formats import nginx_conf

    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError) as raised:
        nginx_conf.read_all(conf)
    assert f"{conf}:{line}: " in raised.value.message and words in raised.value.message


def test_nginx_conf_an_included_file_must_close_its_blocks(tmp_path) -> None:
    """nginx reads each file whole: a block an included file leaves open is an error there, not closed by
    the file that included it."""
    from logtrack.formats import nginx_conf

    (tmp_path / "site.conf").write_text("server {\n  access_log /l/a.log;\n")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"http {{\n  include {tmp_path}/site.conf;\n}}\n")
    with pytest.raises(ConfigError) as raised:
        nginx_conf.read_all(conf)
    assert f"{tmp_path / 'site.conf'}:1: " in raised.value.message
    (tmp_path / "site.conf").write_text("server {\n  access_log /l/a.log;\n}\n")
    conf.write_text(f"http {{\n  include {tmp_path}/site.conf;\n}}\n")
    assert [log.path for log in nginx_conf.read_all(conf).logs] == ["/l/a.log"]


def test_nginx_conf_a_missing_include_and_an_include_loop_are_refused(tmp_path) -> None:
    """nginx refuses an include of a file that is not there (a pattern may match nothing); read anyway, the
    access_log in it was missed without a word. An include loop is named by the include that closes it."""
    from logtrack.formats import nginx_conf

    conf = tmp_path / "nginx.conf"
    conf.write_text("http {\n  include sites/*.conf;\n  include site.conf;\n}\n")  # (relative: to the config)
    with pytest.raises(ConfigError) as raised:
        nginx_conf.read_all(conf)
    assert raised.value.message == (f"{conf}:3: include {tmp_path}/site.conf: no such file, which nginx refuses "
                                    "too (the directives in it would be missed: its access_log, its log_format)")
    (tmp_path / "site.conf").write_text("server { access_log /l/a.log; }\ninclude loop.conf;\n")
    (tmp_path / "loop.conf").write_text("include site.conf;\n")
    with pytest.raises(ConfigError) as raised:
        nginx_conf.read_all(conf)
    assert "nests includes more than 20 deep: an include loop?" in raised.value.message
    assert raised.value.message.startswith(f"{tmp_path}/")
    (tmp_path / "loop.conf").write_text("")
    assert [log.path for log in nginx_conf.read_all(conf).logs] == ["/l/a.log"]


def test_json_batch_with_a_broken_line_keeps_the_others() -> None:
    good = '{"time":"2026-11-01T10:00:00+00:00","request":"GET /listing/1 HTTP/1.1","status":200}'
    text = "\n".join([good, '{"broken": }', good])
    df = parse_batch(batch_of("t.log", 1, text.encode()), formats.get(NGINX_JSON))
    assert df.get_column("reason").to_list() == [None, Skip.UNPARSABLE.value, None]
    assert df.get_column("target").to_list() == ["/listing/1", None, "/listing/1"]


# What Python's JSON decoder reads and JSON (and Polars' decoder) does not, beside good lines: each is
# skipped as not in the format, never the batch's end (a NaN once ended the run with exit 1).
NOT_JSON = [
    '"rt":NaN', '"rt":Infinity', '"rt":-Infinity', '"rt":1e999',
    '"x":' + "[" * 5000 + "]" * 5000,  # deeper than Python's stack
]


@pytest.mark.parametrize("member", NOT_JSON)
def test_json_python_reads_but_json_does_not_is_skipped(member: str) -> None:
    good = '{"time":"2026-11-01T10:00:00+00:00","request":"GET /listing/1 HTTP/1.1","status":200,"rt":0.1}'
    odd = good.replace('"rt":0.1', member)
    df = parse_batch(batch_of("t.log", 1, f"{good}\n{odd}\n{good}".encode()), formats.get(NGINX_JSON))
    assert df.get_column("reason").to_list() == [None, Skip.UNPARSABLE.value, None]


def test_a_line_polars_refuses_after_python_took_it_is_skipped_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last net: were Python's decoder to take a line Polars' refuses, the batch is decoded line by line."""
    from logtrack.parse import json_lines

    monkeypatch.setattr(json_lines, "_fitted", lambda text, paths: text)  # every line passed on as it is
    good = '{"time":"2026-11-01T10:00:00+00:00","request":"GET /listing/1 HTTP/1.1","status":200,"rt":0.1}'
    odd = good.replace('"rt":0.1', '"rt":NaN')
    df = parse_batch(batch_of("t.log", 1, f"{good}\n{odd}\n{good}".encode()), formats.get(NGINX_JSON))
    assert df.get_column("reason").to_list() == [None, Skip.UNPARSABLE.value, None]
    assert df.get_column("target").to_list() == ["/listing/1", None, "/listing/1"]


# Apache time directives side by side are one time: its offset read with it, whatever zone logtrack is told.
# (As Apache 2.4 wrote them with TZ=Australia/Lord_Howe; the second is the form Apache's manual gives.)
@pytest.mark.parametrize(
    ("template", "line", "utc"),
    [
        ('%h %{%Y-%m-%dT%H:%M:%S}t%{%z}t \\"%r\\" %>s',
         '127.0.0.1 2026-11-30T12:48:21+1100 "GET /listing/1 HTTP/1.1" 200', "2026-11-30 01:48:21"),
        ('%h [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] \\"%r\\" %>s',
         '127.0.0.1 [30/Nov/2026:12:48:21.042 +1100] "GET /listing/1 HTTP/1.1" 200', "2026-11-30 01:48:21.042000"),
        ('%{%d/%b/%Y %T}t.%{usec_frac}t %{%z}t %h \\"%r\\" %>s',
         '30/Nov/2026 12:48:21.000042 +1100 127.0.0.1 "GET /listing/1 HTTP/1.1" 200', "2026-11-30 01:48:21.000042"),
        ('%{sec}t.%{msec_frac}t %h \\"%r\\" %>s',
         '1796003301.042 127.0.0.1 "GET /listing/1 HTTP/1.1" 200', "2026-11-30 01:48:21.042000"),
    ],
)
def test_apache_time_directives_side_by_side_are_one_time(template: str, line: str, utc: str) -> None:
    row = parse(template, line)
    assert row["reason"] is None, row
    assert str(row["ts"].replace(tzinfo=None)) == utc


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('$remote_addr "$request"', "logs no time, status"),
        ("$remote_addr [$time_local] $status", "logs no request"),
        ('{"a": "$remote_addr", "b": "x"}', "logs no time, request, status"),
        ('{"a": 1}', "maps no key to a $variable"),
        ("%h %{foo}t %r %s", "cannot read time format %{foo}t"),
        # a directive Apache does not know, with its argument or not (Apache refuses both)
        ('%h %t "%r" %>s %Z', "Apache has no directive %Z"),
        ('%h %t "%r" %>s %{X-Id}J', "Apache has no directive %{X-Id}J"),
        ('{"t":"%t","r":"%r","s":%>s,"w":"%w"}', "Apache has no directive %w"),
        ("syslog:nonesuch", "syslog: goes before a line format"),
        ("cri:nonesuch", "cri: goes before a line format"),
        ("docker:nonesuch", "docker: goes before a line format"),
        ("docker:", "docker: goes before a line format"),
        # a JSON format behind them must still log what counting needs
        ('cri:{"a": "$remote_addr", "b": "x"}', "logs no time, request, status"),
        ('docker:{"time":"$time_iso8601","status":"$status"}', "logs no request"),
        # HAProxy: a variable it does not know (a typo), a log-format with words after its string, no request
        ("haproxy %ci [%tr] %ST %{+Q}r %Tx", "HAProxy has no log variable %Tx"),
        ('haproxy:Host log-format "%ci [%tr] %ST %{+Q}r" %hr', "log-format takes one string"),
        ("haproxy log-format %ci\\ [%tr]\\ %ST", "logs no request"),
        ("haproxy_clf:Host %ci [%tr] %ST %{+Q}r", "haproxy_clf is option httplog clf's own format"),
    ],
)
def test_format_errors(spec: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message.replace("$", r"\$").replace("{", r"\{")):
        formats.get(spec)


@pytest.mark.parametrize(("spec", "shown"), [
    (r'%h \"%r\" %{foo}t %>s', r"""'%h \"%r\" %{foo}t %>s'"""),  # as httpd.conf writes it: one backslash each
    ("%h %{foo}t 'x'", """"%h %{foo}t 'x'\""""),  # (a quote in it: Python's repr, which shows where it ends)
])
def test_a_format_in_a_message_is_shown_as_written(spec: str, shown: str) -> None:
    with pytest.raises(LogFormatError) as raised:
        formats.get(spec)
    assert raised.value.message.startswith(f"log format {shown}: cannot read time format")


def test_httpd_conf_quoting_is_the_same_format() -> None:
    a = formats.get('%h %l %u %t \\"%r\\" %>s %b')
    b = formats.get('%h %l %u %t "%r" %>s %b')
    assert a.regex == b.regex
    assert a.regex == formats.get("common").regex


def test_json_escaped_backslash_before_x_is_kept() -> None:
    fmt = '{"t":"$time_iso8601","r":"$request","s":$status,"ua":"$http_user_agent"}'
    line = '{"t":"2026-11-01T10:00:00+00:00","r":"GET / HTTP/1.1","s":200,"ua":"a\\\\x41 \\x22b\\x22"}'
    assert parse(fmt, line)["user_agent"] == 'a\\x41 "b"'


# nginx's escape=none writes control characters raw, which JSON wants escaped: the value is the text
# as it stands, whether the quote split reads the line or (a backslash elsewhere in it) the decoder.
RAW_CONTROLS = [
    ("ua", "Mozilla/5.0\t(X11)", "Mozilla/5.0\t(X11)"),
    ("ua", "a\x01b\x1fc", "a\x01b\x1fc"),
    ("referer", "https://www.zillow.com/\x0b", "https://www.zillow.com/\x0b"),
    ("ua", 'Mozilla/5.0\t\\"x\\"', 'Mozilla/5.0\t"x"'),  # and an escaped quote: decoded
]


@pytest.mark.parametrize(("key", "written", "value"), RAW_CONTROLS)
@pytest.mark.parametrize("alone", [True, False])
def test_json_values_with_raw_control_characters_are_their_text(key: str, written: str, value: str,
                                                                  alone: bool) -> None:
    fields = {"time": "2026-11-01T10:00:00-05:00", "remote_addr": "203.0.113.7",
              "request": "GET /listing/42 HTTP/1.1", "status": 200, "bytes": 5, "referer": "-", "ua": "u",
              "host": "x.example", "rt": 0.002}
    line = "{" + ",".join(f'"{k}":' + (f'"{written}"' if k == key else json.dumps(v))
                          for k, v in fields.items()) + "}"
    # alone: the quote split takes it (no backslash in the batch: no check at all); else, with a tab after
    # it (white space, which the split cannot take), the decoder reads it, beside lines with an escape
    other = line.replace('"host":"x.example"', '"host":"x\\u002eexample"')
    text = line if alone else f"{other}\n{line}\t\n{other}"
    df = parse_batch(batch_of("t.log", 1, text.encode()), formats.get(NGINX_JSON))
    row = df.row(0 if alone else 1, named=True)
    assert row["reason"] is None, row
    assert row["referrer" if key == "referer" else "user_agent"] == value
    assert df.get_column("reason").to_list() == [None] * df.height


# Formats that log no method: the URI alone is the request, and every line counts as a GET.
NO_METHOD = [
    # the nginx JSON format a well-known log importer documents: $request_uri, no $request_method
    ('{"time":"$time_iso8601","remote_addr":"$remote_addr","uri":"$request_uri","status":$status,'
     '"referer":"$http_referer","ua":"$http_user_agent"}',
     '{"time":"2026-11-01T10:00:00-05:00","remote_addr":"203.0.113.7","uri":"/listing/42?a=1","status":200,'
     '"referer":"https://www.zillow.com/","ua":"Mozilla/5.0 (X11)"}',
     {"method": "GET", "target": "/listing/42?a=1", "status": 200}),
    ('$remote_addr [$time_local] "$request_uri" $status "$http_user_agent"',
     '203.0.113.7 [01/Nov/2026:10:00:00 -0500] "/listing/42" 200 "Mozilla/5.0 (X11)"',
     {"method": "GET", "target": "/listing/42", "user_agent": "Mozilla/5.0 (X11)"}),
    ('%h %t "%U%q" %>s',
     '203.0.113.7 [01/Nov/2026:10:00:00 -0500] "/listing/42?a=1" 200',
     {"method": "GET", "target": "/listing/42?a=1", "status": 200}),
]


@pytest.mark.parametrize(("fmt", "line", "expected"), NO_METHOD)
def test_a_format_without_a_method_counts_its_lines_as_gets(fmt: str, line: str,
                                                           expected: dict[str, object]) -> None:
    assert not formats.get(fmt).logs_method
    row = parse(fmt, line)
    assert row["reason"] is None, row
    assert {key: row[key] for key in expected} == expected


@pytest.mark.parametrize("fmt", [NGINX_MAIN, NGINX_JSON, "combined", "%h %t %m %U %>s"])
def test_formats_with_a_method_say_so(fmt: str) -> None:
    assert formats.get(fmt).logs_method


T, S = formats.TIME, formats.STATUS


# Where the compiler finds captures it can slice instead of capture (formats.Slice), and where not:
# (field, start, width) of every piece's slices, in order.
@pytest.mark.parametrize(("spec", "slices"), [
    ("combined", [(T, -28, 26), (S, 1, 3)]),  # the time from the end ("] " after it), the status after " "
    ("common", [(T, -28, 26), (S, 1, 3)]),
    ("vhost_combined", [(T, -28, 26), (S, 1, 3)]),
    (NGINX_MAIN, [(T, -28, 26), (S, 1, 3)]),
    ('%{X-Forwarded-For}i %t "%r" %>s', [(T, -28, 26), (S, 1, 3)]),  # a list of any width before it
    ('%h %{%Y-%m-%d %H:%M:%S}t "%r" %>s', [(T, -20, 19), (S, 1, 3)]),  # a strftime time of fixed width
    ('%h %{%d/%b/%Y %Z}t "%r" %>s', [(S, 1, 3)]),  # a zone name is of any width: captured
    ('%t %h "%r" %>s %b', [(T, 1, 26), (S, 1, 3)]),  # fixed text before it: from the start
    ('$remote_addr $msec "$request" $status', [(S, 1, 3)]),  # an epoch is of any width
    ('%h %t "%r" %>s%b', [(T, -28, 26), (S, 1, 3)]),  # text of any width after it: from the start
    (NGINX_JSON, [(S, 1, 3)]),  # ":200," between two quoted keys
])
def test_captures_are_sliced_where_their_place_is_fixed(spec: str, slices: list[tuple[str, int, int]]) -> None:
    segments = formats.get(spec).segments or ()
    assert [(c.field, c.start, c.width) for seg in segments for c in seg.slices] == slices


# Caddy 2's JSON access log (its `log` directive with `format json`), lines as Caddy 2.6 writes them.
CADDY_LINE = ('{"level":"info","ts":1793548800.1234567,"logger":"http.log.access","msg":"handled request",'
              '"request":{"remote_ip":"203.0.113.7","remote_port":"41342","proto":"HTTP/1.1","method":"GET",'
              '"host":"www.site.example","uri":"/listing/42?a=1","headers":{"User-Agent":["Mozilla/5.0 \\"x\\""],'
              '"Referer":["https://www.zillow.com/"],"Accept":["*/*"]}},"user_id":"","duration":0.0009,'
              '"size":2,"status":200,"resp_headers":{"Server":["Caddy"]}}')


def test_caddy_lines_are_read() -> None:
    row = parse("caddy", CADDY_LINE)
    assert row["reason"] is None, row
    assert {k: row[k] for k in ("method", "target", "vhost", "client", "referrer", "user_agent", "status")} == {
        "method": "GET", "target": "/listing/42?a=1", "vhost": "www.site.example", "client": "203.0.113.7",
        "referrer": "https://www.zillow.com/", "user_agent": 'Mozilla/5.0 "x"', "status": 200}
    assert row["ts"] == datetime(2026, 11, 1, 16, 0, 0, 123456, tzinfo=UTC)  # 1793548800 s; the fraction cut at µs


@pytest.mark.parametrize("line", [
    CADDY_LINE.replace('"request":{', '"request":"GET / HTTP/1.1","r":{'),  # a request that is no object
    CADDY_LINE.replace('"User-Agent":["Mozilla/5.0 \\"x\\""]', '"User-Agent":[{"a":1}]'),  # an object in a list
    CADDY_LINE.replace('"ts":1793548800.1234567', '"ts":{"s":1}'),
])
def test_a_json_line_of_another_shape_is_skipped_not_a_crash(line: str) -> None:
    batch = batch_of("t.log", 1, f"{CADDY_LINE}\n{line}\n{CADDY_LINE}".encode())
    reasons = parse_batch(batch, formats.get("caddy")).get_column("reason").to_list()
    assert reasons == [None, Skip.UNPARSABLE.value, None]


def test_an_nginx_json_format_on_lines_with_objects_skips_them() -> None:
    # "request" holds an object on the second line: the text nginx's $request would be is not there
    good = '{"time":"2026-11-01T10:00:00+00:00","request":"GET /listing/1 HTTP/1.1","status":200}'
    odd = '{"time":"2026-11-01T10:00:00+00:00","request":{"uri":"/listing/1"},"status":200}'
    df = parse_batch(batch_of("t.log", 1, f"{good}\n{odd}".encode()), formats.get(NGINX_JSON))
    assert df.get_column("reason").to_list() == [None, Skip.UNPARSABLE.value]


def test_haproxy_headers_may_be_spaced_and_a_log_format_follows_them() -> None:
    named = formats.get("haproxy:Host,Referer,User-Agent")
    assert formats.get("haproxy:Host, Referer , User-Agent").regex == named.regex
    assert formats.get("haproxy:Host, Referer , User-Agent").captured == named.captured
    # option httplog's string as a log-format, bare or as haproxy.cfg writes it, is option httplog
    for spec in (f"haproxy:Host,Referer,User-Agent {formats.haproxy.HTTPLOG}",
                 f'haproxy:Host, Referer, User-Agent log-format "{formats.haproxy.HTTPLOG}"'):
        assert (formats.get(spec).regex, formats.get(spec).captured) == (named.regex, named.captured)
