"""The proxies', load balancers' and CDNs' logs: their vendors' own sample lines, and generated round trips.

Each format is read from the samples in its vendor's documentation (field
values as documented, listing paths put in), found by ``auto``, and round-
tripped by hypothesis: a line written by the documented field list, with
any agent, referrer, host and time, reads back to exactly those values.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtrack import formats
from logtrack.formats import w3c as w3c_format
from logtrack.parse.detect import detect, haproxy_captures
from logtrack.parse.fields import lines_frame, parse_batch
from logtrack.read.sources import Batch, batch_of, batches
from logtrack.read.w3c_sections import follow
from logtrack.verdicts.reasons import Skip

from conftest import docker_line, xml_counts
from sites import counts_of

PATTERN = r"^/listing/(?P<id>[0-9]+)(?:\?.*)?$"

# AWS: "Access log entries" examples for Application Load Balancers (target path put in)
ALB = [
    'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 '
    '0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/listing/1001 HTTP/1.1" "curl/7.46.0" - - '
    'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
    '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" '
    '"10.0.0.1:80" "200" "-" "-"',
    'h2 2015-11-07T18:45:33.575333Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 '
    '0.000 0.002 0.000 200 200 5 257 "GET https://www.example.com:443/listing/1002?a=b HTTP/2.0" '
    '"Mozilla/5.0 (X11)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
    'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
    '"Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2015-11-07T18:45:33.559000Z "redirect" '
    '"https://example.com:80/" "-" "10.0.0.66:9000" "200" "-" "-"',
]
# AWS: "Access log entries" examples for Classic Load Balancers (paths put in): HTTP, HTTPS, a TCP listener's line
# (no status, no request), and a request no back end answered
ELB = [
    '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 '
    '0 29 "GET http://www.example.com:80/listing/1011 HTTP/1.1" "curl/7.38.0" - -',
    '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 '
    '0 57 "GET https://www.example.com:443/listing/1012?a=b HTTP/1.1" "Mozilla/5.0 (X11)" DHE-RSA-AES128-SHA TLSv1.2',
    '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 '
    '305 "- - - " "-" - -',
    '2015-05-13T23:39:44.003Z my-loadbalancer 192.168.131.39:2818 - -1 -1 -1 503 0 0 0 '
    '"GET http://www.example.com:80/listing/1013 HTTP/1.1" "Mozilla/5.0 (X11)" - -',
]
# HAProxy configuration manual, 8.2.3 "HTTP log format", as syslog writes it to a file
HAPROXY = [
    'Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in '
    'static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /listing/1003 HTTP/1.1"',
    'Feb  6 12:14:15 localhost haproxy[14389]: 10.0.1.2:33318 [06/Feb/2009:12:14:15.101] http-in '
    'static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {www.site.example} {} "GET /x.png HTTP/1.1"',
    'Feb  6 12:14:16 localhost haproxy[14389]: Proxy http-in started.',
]
# The same request in each of HAProxy 2.6's framings (``log stdout format FMT``): rfc5424, short, timed, iso,
# priority; then its own message in each
HAPROXY_FRAMED = [
    '<134>1 2026-12-01T07:33:49.887956+00:00 - haproxy 3675 - - 127.0.0.1:48552 [01/Dec/2026:07:33:49.887] site '
    'site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 "GET /listing/123 HTTP/1.1"',
    '<6>127.0.0.1:48562 [01/Dec/2026:07:33:51.586] site site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 '
    '"GET /listing/123 HTTP/1.1"',
    '<6>2026-12-01T07:33:54.864062+00:00 127.0.0.1:50174 [01/Dec/2026:07:33:54.863] site site/<NOSRV> '
    '0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 "GET /listing/123 HTTP/1.1"',
    '2026-12-01T07:33:56.448596+00:00 127.0.0.1:50178 [01/Dec/2026:07:33:56.448] site site/<NOSRV> 0/-1/-1/-1/0 '
    '200 73 - - LR-- 1/1/0/0/0 0/0 "GET /listing/123 HTTP/1.1"',
    '<134>127.0.0.1:48568 [01/Dec/2026:07:33:53.263] site site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 '
    '"GET /listing/123 HTTP/1.1"',
    "<132>1 2026-12-01T07:33:50.198915+00:00 - haproxy 3675 - - Proxy site stopped (cumulated conns: FE: 1, BE: 0).",
    "<4>Proxy site stopped (cumulated conns: FE: 1, BE: 0).",
    "<4>2026-12-01T07:33:55.173142+00:00 Proxy site stopped (cumulated conns: FE: 1, BE: 0).",
    "2026-12-01T07:33:56.759856+00:00 Proxy site stopped (cumulated conns: FE: 1, BE: 0).",
    "<132>Proxy site stopped (cumulated conns: FE: 1, BE: 0).",
]
# A log-format of nearly every kind of variable, and lines HAProxy 2.6 wrote in it: the request and %hr with
# #XX escapes, sample fetches as they came (raw quotes) or with %{+E}'s backslashes, -, "" and nothing for none
HAPROXY_LOG_FORMAT = (
    "haproxy:Host,Referer,User-Agent log-format \"%ci:%cp [%t] [%tr] [%T] [%Tl] [%trg] [%trl] %Ts %ms %{+X}Ts %ft "
    "%b/%s %ST %B %HM|%HU|%HP|%HQ|%HV %{+Q}r %hr %hrl %{+Q}[capture.req.hdr(2)] %[capture.req.hdr(0)] "
    "%[var(txn.ua)] %{+Q}[var(txn.ua)] %{+E}HU %{+Q,+E}[capture.req.hdr(2)] %{+Q}[var(txn.host)]\"")
_HAPROXY_TIMES = ("[01/Dec/2026:07:30:24.{ms}] [01/Dec/2026:07:30:24.{ms}] [01/Dec/2026:07:30:24 +0000] "
                  "[01/Dec/2026:07:30:24 +0000] [01/Dec/2026:07:30:24 +0000] [01/Dec/2026:07:30:24 +0000] "
                  "1796110224 {ms} 6B0E7790 site site/<NOSRV> 200 73")
HAPROXY_LOGGED = [
    "127.0.0.1:57294 " + _HAPROXY_TIMES.format(ms=184) + ' GET|/listing/123?a=b|/listing/123|?a=b|HTTP/1.1 "GET '
    '/listing/123?a=b HTTP/1.1" {127.0.0.1:18555|http://portal.example/x?y=#22z#22|Mozilla/5.0 (X11; #22quoted#22 '
    '\\back [br] #7Bc#7Cd#7D #23x)} 127.0.0.1:18555 http://portal.example/x?y=#22z#22 Mozilla/5.0 (X11; '
    '#22quoted#22 \\back [br] #7Bc#7Cd#7D #23x) "Mozilla/5.0 (X11; "quoted" \\back [br] {c|d} #x)" 127.0.0.1:18555 '
    'Mozilla/5.0 (X11; "quoted" \\back [br] {c|d} #x) "Mozilla/5.0 (X11; "quoted" \\back [br] {c|d} #x)" '
    '/listing/123?a=b "Mozilla/5.0 (X11; \\"quoted\\" \\\\back [br\\] {c|d} #x)" "127.0.0.1:18555"',
    "127.0.0.1:57296 " + _HAPROXY_TIMES.format(ms=190) + ' GET|/a%22b/c#22d|/a%22b/c#22d||HTTP/1.1 "GET '
    '/a%22b/c#22d HTTP/1.1" {127.0.0.1:18555||} 127.0.0.1:18555 - - "" 127.0.0.1:18555 - "" /a%22b/c#22d "" '
    '"127.0.0.1:18555"',
    "Proxy site stopped (cumulated conns: FE: 4, BE: 0).",
]
# JSON written by a log-format, and lines HAProxy 2.6 wrote in it: read as text (a backslash in the request is
# written raw, which no JSON decoder takes: the junk requests of the live tests send some), the json
# converter's escapes decoded
HAPROXY_JSON = (
    """haproxy:Host,Referer,User-Agent log-format '{"time":"%Tl","ts":%Ts,"client":"%ci","method":"%HM","""
    """"uri":"%HU","proto":"%HV","request":"%r","status":%ST,"bytes":%B,"host":"%[capture.req.hdr(0),json(utf8s)]","""
    """"referer":"%[capture.req.hdr(1),json(utf8s)]","ua":%{+Q}[capture.req.hdr(2),json(utf8s)],"hdrs":"%hr","""
    """"tsc":"%tsc"}'""")
HAPROXY_JSON_LOGGED = [
    '{"time":"01/Dec/2026:08:05:34 +0000","ts":1796112334,"client":"127.0.0.1","method":"GET","uri":"/listing/123'
    '?a=b","proto":"HTTP/1.1","request":"GET /listing/123?a=b HTTP/1.1","status":200,"bytes":73,"host":"127.0.0.1'
    ':18561","referer":"http:\\/\\/portal.example\\/x?y=\\"z\\"","ua":"Mozilla\\/5.0 (X11; \\"quoted\\" \\\\back '
    '[br] {c|d} #x \\u00e9)","hdrs":"{127.0.0.1:18561|http://portal.example/x?y=#22z#22|Mozilla/5.0 (X11; '
    '#22quoted#22 \\back [br] #7Bc#7Cd#7D #23x #C3#A9)}","tsc":"LR--"}',
    '{"time":"01/Dec/2026:08:05:34 +0000","ts":1796112334,"client":"127.0.0.1","method":"GET","uri":"/a%22b/c#22d",'
    '"proto":"HTTP/1.1","request":"GET /a%22b/c#22d HTTP/1.1","status":200,"bytes":73,"host":"127.0.0.1:18561",'
    '"referer":"-","ua":"","hdrs":"{127.0.0.1:18561||}","tsc":"LR--"}',
]
# option httplog clf, as HAProxy 2.6 wrote it: combined's fields (its referrer and agent always ""), HAProxy's,
# then the captured headers, each quoted; a frontend that captures none
HAPROXY_CLF = [
    '127.0.0.1 - - [01/Dec/2026:08:09:07 +0000] "GET /listing/123?a=b HTTP/1.1" 200 73 "" "" 53574 391 "site" '
    '"site" "<NOSRV>" 0 -1 -1 -1 0 LR-- 1 1 0 0 0 0 0 "" "" "127.0.0.1:18562" "http://portal.example/x?y=#22z#22" '
    '"Mozilla/5.0 (X11; #22quoted#22 \\back [br] #7Bc#7Cd#7D #23x #C3#A9)" ',
    '127.0.0.1 - - [01/Dec/2026:08:09:07 +0000] "GET /x HTTP/1.1" 200 73 "" "" 53588 401 "site" "site" "<NOSRV>" '
    '0 -1 -1 -1 0 LR-- 1 1 0 0 0 0 0 "" "" "127.0.0.1:18562" "" "" ',
    '127.0.0.1 - - [01/Dec/2026:08:09:07 +0000] "GET /listing/5 HTTP/1.1" 200 73 "" "" 58166 412 "nocap" "nocap" '
    '"<NOSRV>" 0 -1 -1 -1 0 LR-- 1 1 0 0 0 0 0 "" "" ',
    "Proxy site stopped (cumulated conns: FE: 2, BE: 0).",
]
# option httpslog (TLS fields after the request), as HAProxy 2.6 wrote it; an HTTP/2 request logged with its
# absolute URL
HAPROXY_HTTPS = [
    '127.0.0.1:51782 [01/Dec/2026:08:20:47.372] site~ site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 '
    '{127.0.0.1:18564|http://portal.example/x|Mozilla/5.0} "GET https://127.0.0.1:18564/listing/123?a=b HTTP/2.0" '
    '0/0000000000000000/0/0/0 -/TLSv1.3/TLS_AES_256_GCM_SHA384',
    '127.0.0.1:51786 [01/Dec/2026:08:20:47.382] site~ site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 '
    '{127.0.0.1:18564|http://portal.example/x|Mozilla/5.0} "GET /listing/124 HTTP/1.1" '
    '0/0000000000000000/0/0/0 -/TLSv1.3/TLS_AES_256_GCM_SHA384',
]
# An HTTP and a TCP frontend (option tcplog: a connection, no request) logging to the same file, as HAProxy 2.6
# wrote it
HAPROXY_WITH_TCP = [
    '127.0.0.1:47062 [01/Dec/2026:08:35:47.717] site site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 2/1/0/0/0 0/0 '
    '"GET /listing/123 HTTP/1.1"',
    "127.0.0.1:47356 [01/Dec/2026:08:35:47.717] tcpfe tb/s1 1/0/0 66 -- 1/1/0/0/0 0/0",
    '127.0.0.1:47064 [01/Dec/2026:08:35:47.728] site site/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 2/1/0/0/0 0/0 '
    '"GET /listing/1 HTTP/1.1"',
    "127.0.0.1:47364 [01/Dec/2026:08:35:47.727] tcpfe tb/s1 1/0/0 66 -- 1/1/0/0/0 0/0",
    "Proxy tcpfe stopped (cumulated conns: FE: 2, BE: 0).",
]
CLOUDFRONT_HEADER = "#Fields: " + w3c_format.CLOUDFRONT_FIELDS
# CloudFront developer guide, "Standard log file fields" example (path put in)
CLOUDFRONT = [
    "#Version: 1.0",
    CLOUDFRONT_HEADER,
    "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/listing/1004\t200\t"
    "https://www.zillow.com/homes/\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36"
    "%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tHit\t"
    "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\twww.site.example\thttps\t23\t0.001\t-\tTLSv1.2\t"
    "ECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-",
]
# IIS 10 with its default W3C fields, then a header that changes them (logging settings changed)
IIS = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2019-06-05 00:00:00",
    "#Fields: " + w3c_format.IIS_FIELDS,
    "2019-06-05 00:00:01 10.0.0.4 GET /listing/1005 - 443 - 203.0.113.5 "
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) https://www.zillow.com/ 200 0 0 46",
    "#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status cs-host cs(User-Agent)",
    "2019-06-05 01:00:01 GET /listing/1006 a=1 200 idx.partner.example Mozilla/5.0+(X11)",
]
# Traefik: the "common" format as its docs spell it, and a JSON line with headers kept
TRAEFIK = [
    '192.168.1.10 - - [01/Nov/2026:10:00:00 +0000] "GET /listing/1007 HTTP/1.1" 200 1024 '
    '"https://www.zillow.com/" "Mozilla/5.0 (X11)" 42 "web@docker" "http://10.0.0.2:80" 3ms',
]
TRAEFIK_JSON = [json.dumps({
    "ClientAddr": "192.168.1.10:54321", "ClientHost": "192.168.1.10", "ClientPort": "54321",
    "DownstreamContentSize": 1024, "DownstreamStatus": 200, "Duration": 1234567, "OriginStatus": 200,
    "RequestAddr": "www.site.example", "RequestHost": "www.site.example", "RequestMethod": "GET",
    "RequestPath": "/listing/1008?x=1", "RequestProtocol": "HTTP/1.1", "RequestScheme": "https",
    "RouterName": "web@docker", "ServiceURL": {"Scheme": "http", "Host": "10.0.0.2:80"},
    "StartLocal": "2026-11-01T10:00:00.123456789-05:00", "StartUTC": "2026-11-01T15:00:00.123456789Z",
    "level": "info", "msg": "", "request_Referer": "https://www.realtor.com/x", "request_User-Agent": "Mozilla/5.0",
    "time": "2026-11-01T10:00:00-05:00",
})]
# Cloudflare: the Logpull/Logpush example record (fields as documented, EdgeStartTimestamp in ns)
CLOUDFLARE = [json.dumps({
    "ClientIP": "89.163.242.206", "ClientRequestHost": "www.theburritobot.com", "ClientRequestMethod": "GET",
    "ClientRequestURI": "/listing/1009", "EdgeEndTimestamp": 1506702504461999900, "EdgeResponseBytes": 69045,
    "EdgeResponseStatus": 200, "EdgeStartTimestamp": 1506702504433000200, "RayID": "3a6050bcbe121a87",
})]
CADDY = [json.dumps({
    "level": "info", "ts": 1646861401.5241024, "logger": "http.log.access", "msg": "handled request",
    "request": {"remote_ip": "127.0.0.1", "remote_port": "41342", "proto": "HTTP/2.0", "method": "GET",
                "host": "localhost", "uri": "/listing/1010", "headers": {"User-Agent": ["curl/7.82.0"],
                                                                        "Referer": ["https://www.zillow.com/"]}},
    "duration": 0.000929675, "size": 10900, "status": 200, "resp_headers": {"Server": ["Caddy"]},
})]

# Google Cloud: a request log entry of the external HTTP(S) load balancer as Cloud Logging exports it (the
# field list of LogEntry and its HttpRequest; values as in Google's documented sample, a listing URL put in),
# and one of Cloud Run, whose timestamp has nanoseconds
GCP = [json.dumps({
    "httpRequest": {"latency": "0.058927s", "referer": "https://www.zillow.com/homes/", "remoteIp": "198.51.100.1",
                    "requestMethod": "GET", "requestSize": "257",
                    "requestUrl": "https://www.site.example/listing/1019?x=1", "responseSize": "1467",
                    "status": 200, "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
    "insertId": "1vzs264g1u90hp5", "jsonPayload": {
        "@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
        "statusDetails": "response_sent_by_backend"},
    "logName": "projects/PROJECT_ID/logs/requests", "receiveTimestamp": "2026-11-29T22:25:15.123456789Z",
    "resource": {"labels": {"backend_service_name": "web", "project_id": "PROJECT_ID"},
                 "type": "http_load_balancer"},
    "severity": "INFO", "spanId": "7b2f2e8e61b3e26c", "timestamp": "2026-11-29T22:25:14.669794Z",
}), json.dumps({
    "httpRequest": {"latency": "0.012s", "protocol": "HTTP/1.1", "remoteIp": "203.0.113.7",
                    "requestMethod": "GET", "requestUrl": "https://web-abc123-uc.a.run.app/listing/1020",
                    "status": 304, "userAgent": "curl/8.5.0"},
    "logName": "projects/PROJECT_ID/logs/run.googleapis.com%2Frequests", "resource": {"type": "cloud_run_revision"},
    "severity": "INFO", "timestamp": "2026-11-29T22:25:16.123456789Z",
})]

# Akamai DataStream 2: its documented sample line's values as a JSON log line (a listing path put in): the
# agent and referrer form-encoded, epoch seconds, the path and query apart; and a line without the fields
# it had no value for (DataStream leaves them out), no query among them
AKAMAI = [json.dumps({
    "version": "1", "streamId": "12345", "cp": "123456", "reqId": "1239f220", "reqTimeSec": "1573840000",
    "bytes": "4995", "cliIP": "128.147.28.68", "statusCode": "206", "proto": "HTTPS", "reqHost": "test.hostname.net",
    "reqMethod": "GET", "reqPath": "/listing/1021", "reqPort": "443", "rspContentLen": "5000",
    "rspContentType": "text/html", "UA": "Mozilla%2F5.0+%28Macintosh%3B+Intel+Mac+OS+X+10_14_3%29",
    "tlsOverheadTimeMSec": "0", "tlsVersion": "TLSv1", "queryStr": "param=value", "accLang": "en-US",
    "referer": "https%3A%2F%2Ftest.referrer.net%2Fen-US%2Fdocs%2FWeb%2Ftest", "xForwardedFor": "8.47.28.38",
}), json.dumps({
    "version": "1", "streamId": "12345", "reqTimeSec": "1573840001.250", "cliIP": "2001:db8::1", "statusCode": "200",
    "reqHost": "www.site.example", "reqMethod": "GET", "reqPath": "/listing/1022", "UA": "curl%2F8.5.0",
})]

# Nginx Proxy Manager: a proxy host's lines (two upstreams tried, "502, 200"; a redirect with no upstream)
# and a redirection host's, in its own log_format strings (its include/log-proxy.conf)
NPM = [
    '[29/Nov/2026:16:25:14 -0600] HIT 502, 200 200 - GET https www.site.example "/listing/1025?x=1" '
    '[Client 203.0.113.7] [Length 5120] [Gzip 2.50] [Sent-to 10.0.0.5] "Mozilla/5.0 (X11)" '
    '"https://www.zillow.com/homes/"',
    '[29/Nov/2026:16:25:15 -0600] - - 301 - GET http www.site.example "/listing/1026" [Client 203.0.113.8] '
    '[Length 162] [Gzip -] [Sent-to 10.0.0.5] "curl/8.5.0" "-"',
]
NPM_STANDARD = [
    '[29/Nov/2026:16:25:16 -0600] 301 - GET http site.example "/listing/1027" [Client 203.0.113.9] [Length 162] '
    '[Gzip -] "Mozilla/5.0 (iPhone)" "-"',
]

# Envoy's default access log line (its documentation's example) and one with a listing path; Istio's
# (its documentation's example, from a sidecar): neither logs a referrer
ENVOY = [
    '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" '
    '"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"',
    '[2026-11-29T22:25:14.409Z] "GET /listing/1023?x=1 HTTP/1.1" 200 - 0 5120 4 3 "198.51.100.1" '
    '"Mozilla/5.0 (X11; Linux x86_64)" "84961386-6d84-929d-98bd-c5aee93b5c88" "www.site.example" "10.44.1.27:80"',
    # the client went away before a response: Envoy writes the status 0, and - for the upstream it never reached
    '[2026-11-29T22:25:14.512Z] "GET /listing/1023 HTTP/1.1" 0 DC 0 0 7 - "198.51.100.1" "Mozilla/5.0 (X11)" '
    '"9d4a1c6e-0000-4000-8000-000000000000" "www.site.example" "-"',
]
ISTIO = [
    '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" '
    '"84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
    "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.0.45.184:8000 - default",
    '[2026-11-29T22:25:15.001Z] "GET /listing/1024 HTTP/2" 200 - via_upstream - "-" 0 5120 12 11 "203.0.113.7" '
    '"Mozilla/5.0 (iPhone)" "5e0e6d1c-0000-4000-8000-000000000000" "www.site.example" "10.44.1.27:8080" '
    "outbound|80||web.default.svc.cluster.local 10.44.1.23:37660 10.44.1.23:8080 203.0.113.7:51234 "
    "www.site.example default",
]

# Kubernetes' container logs (the CRI format; its design proposal's example lines have the prefix
# "2016-10-06T00:17:09.669794202Z stdout F ", or "P" for a part of a split line): the official nginx
# image's start-up message on stdout and a [notice] on stderr, then ingress-nginx's default
# "upstreaminfo" line (combined and its own fields), an access line that CRI-O filed with the host's
# offset (access_log /dev/stderr), and a long line the runtime split in two.
CRI = [
    "2026-11-29T22:25:13.100000000Z stdout F /docker-entrypoint.sh: Configuration complete; ready for start up",
    "2026-11-29T22:25:13.998877665Z stderr F 2026/11/29 22:25:13 [notice] 1#1: start worker processes",
    '2026-11-29T22:25:14.669794202Z stdout F 203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] "GET /listing/1011 '
    'HTTP/1.1" 200 615 "https://www.zillow.com/" "Mozilla/5.0 (X11)" 73 0.001 [default-web-80] [] 10.244.0.5:80 '
    "615 0.001 200 3a9ba2cb8e8e7b8a2b2c0c1e0b1b9c1d",
    '2026-11-29T16:25:15.113242941-06:00 stderr F 203.0.113.8 - - [29/Nov/2026:16:25:15 -0600] "GET /listing/1012 '
    'HTTP/1.1" 304 0 "-" "curl/8.5.0"',
    '2026-11-29T22:25:16.000000001Z stdout P 203.0.113.9 - - [29/Nov/2026:16:25:16 -0600] "GET /listing/1013?q=aaaa',
    '2026-11-29T22:25:16.000000002Z stdout F aaaa HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11)"',
    # the official images' other news: nginx's entrypoint scripts, Apache's start-up lines; and what no
    # server writes (PHP's warning in the same container), which is damage, not news
    "2026-11-29T22:25:12.9Z stdout F 10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in "
    "/etc/nginx/conf.d/default.conf",
    "2026-11-29T22:25:13.0Z stderr F AH00558: httpd: Could not reliably determine the server's fully qualified "
    "domain name, using 10.244.0.5. Set the 'ServerName' directive globally to suppress this message",
    "2026-11-29T22:25:13.1Z stderr F [Sun Nov 29 22:25:13.123456 2026] [mpm_event:notice] [pid 1:tid 140] "
    "AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations",
    "2026-11-29T22:25:17.0Z stderr F PHP Warning:  Undefined variable $x in /var/www/html/index.php on line 3",
]

# Docker's json-file logging driver (its documentation's example line is
# {"log":"Log line is here\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}), as Go's encoder
# writes it: quotes escaped, "&", "<" and ">" as \u0026, \u003c and \u003e, nginx's own \x22 with its
# backslash escaped. The same lines as CRI's: start-up message, [notice], an access line on each stream,
# a line the daemon split in two (its first part without the closing newline).
DOCKER = [
    r'{"log":"/docker-entrypoint.sh: Configuration complete; ready for start up\n","stream":"stdout",'
    r'"time":"2026-11-29T22:25:13.1Z"}',
    r'{"log":"2026/11/29 22:25:13 [notice] 1#1: start worker processes\n","stream":"stderr",'
    r'"time":"2026-11-29T22:25:13.998877665Z"}',
    r'{"log":"203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] \"GET /listing/1016?a=1\u0026b=\u003c2\u003e HTTP/1.1\" '
    r'200 615 \"https://www.zillow.com/\" \"Mozilla/5.0 (X11)\"\n","stream":"stdout",'
    r'"time":"2026-11-29T22:25:14.669794202Z"}',
    r'{"log":"203.0.113.8 - - [29/Nov/2026:16:25:15 -0600] \"GET /listing/1017\\x22 HTTP/1.1\" 304 0 \"-\" '
    r'\"curl/8.5.0\"\n","stream":"stderr","time":"2026-11-29T22:25:15.113242941Z"}',
    r'{"log":"203.0.113.9 - - [29/Nov/2026:16:25:16 -0600] \"GET /listing/1018 HTTP/1.1\" 200 5 \"-\" '
    r'\"Mozilla/5.0 (X11)\"","stream":"stdout","time":"2026-11-29T22:25:16.000000001Z"}',
    r'{"log":" 1\n","stream":"stdout","time":"2026-11-29T22:25:16.000000002Z"}',
]

# Azure Front Door's FrontDoorAccessLog: a Standard/Premium record as a vendor's integration tests quote one
# raw (a listing path and a referrer put in), Microsoft's documented classic record (no hostName, no referer;
# isReceivedFromClient true), and origin shield's record of the same request (isReceivedFromClient false)
AZURE_FRONT_DOOR = [json.dumps({
    "time": "2022-08-29T15:03:25.4715017Z", "resourceId": "/SUBSCRIPTIONS/X/RESOURCEGROUPS/Y/PROVIDERS/MICROSOFT.CDN"
    "/PROFILES/Z", "category": "FrontDoorAccessLog", "operationName": "Microsoft.Cdn/Profiles/AccessLog/Write",
    "properties": {"trackingReference": "0PdUMYwAAAAAA35SK7dpvSZxm", "httpMethod": "GET", "httpVersion": "1.1.0.0",
                   "requestUri": "http://example.1.azurefd.net:80/listing/1031?x=1", "requestBytes": "109",
                   "responseBytes": "221", "userAgent": "curl/7.77.0", "clientIp": "1.2.3.4", "socketIp": "1.2.3.4",
                   "clientPort": "53170", "timeToFirstByte": "0.002", "timeTaken": "0.002", "requestProtocol": "HTTP",
                   "securityProtocol": "", "endpoint": "example.1.azurefd.net",
                   "rulesEngineMatchNames": ["DefaultHttpsRedirectRule"], "httpStatusCode": "200",
                   "httpStatusDetails": "200", "pop": "PAR", "cacheStatus": "CONFIG_NOCACHE", "ErrorInfo": "NoError",
                   "hostName": "www.site.example", "originUrl": "N/A", "referer": "https://www.zillow.com/",
                   "clientCountry": "France", "domain": "example.1.azurefd.net:80", "securityCipher": ""}}),
    json.dumps({"time": "2020-06-09T22:32:17.8383427Z", "category": "FrontdoorAccessLog",
                "operationName": "Microsoft.Network/FrontDoor/AccessLog/Write",
                "properties": {"trackingReference": "08Q3gXgAAAAAe0s71BET", "httpMethod": "GET", "httpVersion": "2.0",
                               "requestUri": "https://wafdemofrontdoorwebapp.azurefd.net:443/listing/1032",
                               "requestBytes": "715", "responseBytes": "380",
                               "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/85.0.531.1",
                               "clientIp": "192.0.2.5", "socketIp": "192.0.2.5", "clientPort": "52097",
                               "timeTaken": "0.003", "securityProtocol": "TLS 1.2", "rulesEngineMatchNames": [],
                               "isReceivedFromClient": True, "httpStatusCode": "304", "pop": "SJC"}}),
]
AZURE_FRONT_DOOR.append(AZURE_FRONT_DOOR[0].replace('"pop": "PAR"', '"pop": "PAR", "isReceivedFromClient": false'))

# Caddy's `format console` (a live Caddy 2.6's lines): the time, the level (coloured, even in a file), the logger
# and the message before the entry's JSON, in each of Caddy's time_formats; its own news beside them (an entry of
# another logger, and the root logger's, which has no name), and an access entry cut short.
_CADDY_ENTRY = ('{"request": {"remote_ip": "127.0.0.1", "remote_port": "38162", "proto": "HTTP/1.1", "method": "GET", '
                '"host": "www.site.example", "uri": "/listing/1040?a=b%20c", "headers": {"User-Agent": '
                '["Mozilla/5.0 (X11) \\"q\\""], "Accept": ["*/*"], "Referer": ["https://www.zillow.com/x"]}}, '
                '"user_id": "", "duration": 0.000015383, "size": 2, "status": 200, "resp_headers": {"Server": '
                '["Caddy"]}}')
CADDY_CONSOLE = [
    f"2026/11/29 22:25:14.846\t\x1b[34mINFO\x1b[0m\thttp.log.access.log0\thandled request\t{_CADDY_ENTRY}",
    f"2026/11/29 22:25:14\tERROR\thttp.log.access\thandled request\t{_CADDY_ENTRY.replace('200', '502')}",
    f"2026-11-29T16:25:14.846-0600\tINFO\thttp.log.access.log1\thandled request\t{_CADDY_ENTRY}",
    f"2026-11-29T16:25:14-06:00\tINFO\thttp.log.access.log1\thandled request\t{_CADDY_ENTRY}",
    f"29/Nov/2026:16:25:14 -0600\tINFO\thttp.log.access.log1\thandled request\t{_CADDY_ENTRY}",
    f"1795991114.846\tINFO\thttp.log.access.log1\thandled request\t{_CADDY_ENTRY}",
    "2026/11/29 22:25:13.001\t\x1b[34mINFO\x1b[0m\ttls.cache.maintenance\tstarted background certificate "
    'maintenance\t{"cache": "0xc0000f4070"}',
    "2026/11/29 22:25:13.002\tINFO\tserving initial configuration",
    f"2026/11/29 22:25:14.846\tINFO\thttp.log.access.log0\thandled request\t{_CADDY_ENTRY[:60]}",
]
# Caddy's JSON with its encoder's time_format set (the key stays "ts"): a wall time (UTC), RFC 3339 with the local
# offset (time_local), ISO 8601 as Go writes it, and the epochs in ms (with a fraction) and ns
CADDY_TIMES = [CADDY[0].replace('"ts": 1646861401.5241024', f'"ts": {ts}') for ts in (
    '"2022/03/09 21:30:01.524"', '"2022-03-09T15:30:01.524102-06:00"', '"2022-03-09T15:30:01.524-0600"',
    "1646861401524.1024", "1646861401524102400")]
_CADDY_READ = {"client": "127.0.0.1", "method": "GET", "target": "/listing/1040?a=b%20c", "vhost": "www.site.example",
               "referrer": "https://www.zillow.com/x", "user_agent": 'Mozilla/5.0 (X11) "q"', "status": 200}

# JSON access lines in a container's output. Caddy logs JSON to stderr, its own news from the same
# logger (its start-up lines as Caddy 2.7 prints them, a "tls" message) among the access lines
# (CADDY's); a split access line; and an nginx JSON log_format (escape=default, so \x22) as
# ingress-nginx's log-format-upstream writes one, under CRI's prefix and in Docker's JSON.
CADDY_NEWS = [
    '{"level":"info","ts":1646861400.1,"msg":"using provided configuration","config_file":"/etc/caddy/Caddyfile"}',
    '{"level":"info","ts":1646861400.2,"logger":"admin","msg":"admin endpoint started","address":"localhost:2019"}',
    '{"level":"info","ts":1646861400.3,"logger":"tls","msg":"cleaning storage unit","storage":"FileStorage:/data"}',
]
NGINX_JSON = ('{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,'
              '"referer":"$http_referer","ua":"$http_user_agent","host":"$host"}')
NGINX_JSON_LINE = ('{"time":"2026-11-29T16:25:14-06:00","remote_addr":"203.0.113.7","request":"GET /listing/1030 '
                   'HTTP/1.1","status":200,"referer":"https://www.zillow.com/","ua":"Mozilla/5.0 \\x22X11\\x22",'
                   '"host":"www.site.example"}')
CRI_JSON = [
    *(f"2026-11-29T22:25:13.{i}Z stderr F {news}" for i, news in enumerate(CADDY_NEWS)),
    "2026-11-29T22:25:14.669794202Z stderr F " + CADDY[0],
    "2026-11-29T22:25:15.000000001Z stderr P " + CADDY[0][:120],
    "2026-11-29T22:25:15.000000002Z stderr F " + CADDY[0][120:],
    "2026-11-29T22:25:15.1Z stderr F PHP Warning:  Undefined variable $x in /var/www/html/index.php on line 3",
]
DOCKER_JSON = [
    *(json.dumps({"log": text + "\n", "stream": "stderr", "time": "2026-11-29T22:25:13.1Z"}, separators=(",", ":"))
      for text in [*CADDY_NEWS, CADDY[0]]),
    json.dumps({"log": CADDY[0][:120], "stream": "stderr", "time": "2026-11-29T22:25:15.1Z"}, separators=(",", ":")),
    json.dumps({"log": CADDY[0][120:] + "\n", "stream": "stderr", "time": "2026-11-29T22:25:15.2Z"},
               separators=(",", ":")),
]


def rows(fmt: str, lines: list[str]) -> list[dict[str, object]]:
    """Every line's fields, read as a run reads a file (a W3C header sets the lines after it)."""
    out = []
    data = "\n".join(lines).encode()
    for batch, part in follow([batch_of("t.log", 1, data, 0, len(data) + 1)], formats.get(fmt)):
        out.extend(parse_batch(batch, part).sort("line_no").to_dicts())
    return out


@pytest.mark.parametrize(("fmt", "lines", "expected"), [
    ("alb", ALB, [
        {"method": "GET", "target": "/listing/1001", "vhost": "www.example.com:80", "status": 200,
         "user_agent": "curl/7.46.0", "ts": datetime(2018, 7, 2, 22, 23, 0, 186641, tzinfo=UTC)},
        {"target": "/listing/1002?a=b", "vhost": "www.example.com:443", "local_day": date(2015, 11, 7)},
    ]),
    ("elb", ELB, [
        {"method": "GET", "target": "/listing/1011", "vhost": "www.example.com:80", "status": 200,
         "client": "192.168.131.39:2817", "user_agent": "curl/7.38.0",
         "ts": datetime(2015, 5, 13, 23, 39, 43, 945958, tzinfo=UTC)},
        {"target": "/listing/1012?a=b", "vhost": "www.example.com:443", "user_agent": "Mozilla/5.0 (X11)"},
        {"status": 0, "reason": Skip.NO_REQUEST.value},
        {"target": "/listing/1013", "status": 503, "ts": datetime(2015, 5, 13, 23, 39, 44, 3000, tzinfo=UTC)},
    ]),
    ("haproxy:Host", HAPROXY, [
        {"client": "10.0.1.2", "vhost": "1wt.eu", "target": "/listing/1003", "status": 200,
         "ts": datetime(2009, 2, 6, 12, 14, 14, 655000, tzinfo=UTC)},
        {"vhost": "www.site.example", "target": "/x.png"},
        {"reason": Skip.NOTICE.value},
    ]),
    ("haproxy", HAPROXY_FRAMED, [
        *({"client": "127.0.0.1", "target": "/listing/123", "status": 200,
           "ts": datetime(2026, 12, 1, 7, 33, sec, ms, tzinfo=UTC)}
          for sec, ms in ((49, 887000), (51, 586000), (54, 863000), (56, 448000), (53, 263000))),
        *[{"reason": Skip.NOTICE.value}] * 5,
    ]),
    (HAPROXY_LOG_FORMAT, HAPROXY_LOGGED, [
        {"client": "127.0.0.1", "method": "GET", "target": "/listing/123?a=b", "status": 200,
         "vhost": "127.0.0.1:18555", "referrer": 'http://portal.example/x?y="z"',
         "user_agent": 'Mozilla/5.0 (X11; "quoted" \\back [br] {c|d} #x)',
         "ts": datetime(2026, 12, 1, 7, 30, 24, 184000, tzinfo=UTC)},
        {"target": '/a%22b/c"d', "referrer": "", "user_agent": "", "vhost": "127.0.0.1:18555"},
        {"reason": Skip.NOTICE.value},
    ]),
    (HAPROXY_JSON, HAPROXY_JSON_LOGGED, [
        {"client": "127.0.0.1", "method": "GET", "target": "/listing/123?a=b", "status": 200,
         "vhost": "127.0.0.1:18561", "referrer": 'http://portal.example/x?y="z"',
         "user_agent": 'Mozilla/5.0 (X11; "quoted" \\back [br] {c|d} #x \u00e9)',
         "ts": datetime(2026, 12, 1, 8, 5, 34, tzinfo=UTC)},
        {"target": '/a%22b/c"d', "referrer": "-", "user_agent": ""},
    ]),
    ("haproxy_clf:Host,Referer,User-Agent", HAPROXY_CLF, [
        {"client": "127.0.0.1", "method": "GET", "target": "/listing/123?a=b", "status": 200,
         "vhost": "127.0.0.1:18562", "referrer": 'http://portal.example/x?y="z"',
         "user_agent": 'Mozilla/5.0 (X11; "quoted" \\back [br] {c|d} #x \u00e9)',
         "ts": datetime(2026, 12, 1, 8, 9, 7, tzinfo=UTC)},
        {"target": "/x", "referrer": "", "user_agent": ""},
        {"target": "/listing/5", "referrer": None, "user_agent": None, "vhost": None},
        {"reason": Skip.NOTICE.value},
    ]),
    ("haproxy:Host,Referer,User-Agent", HAPROXY_HTTPS, [
        {"target": "/listing/123?a=b", "vhost": "127.0.0.1:18564", "referrer": "http://portal.example/x",
         "user_agent": "Mozilla/5.0", "status": 200},
        {"target": "/listing/124", "vhost": "127.0.0.1:18564"},
    ]),
    ("haproxy", HAPROXY_WITH_TCP, [
        {"target": "/listing/123", "status": 200}, {"reason": Skip.NOTICE.value},
        {"target": "/listing/1", "status": 200}, {"reason": Skip.NOTICE.value}, {"reason": Skip.NOTICE.value},
    ]),
    # a log-format whose lines start with a word (the method): one cut short is damage, not HAProxy's message
    ('haproxy log-format "%HM %HU %ST [%tr]"', ["GET /listing/1 200 [01/Dec/2026:07:30:24.184]", "GET /listing/1 20",
                                              "Proxy site stopped (cumulated conns: FE: 2, BE: 0)."], [
        {"target": "/listing/1", "status": 200}, {"reason": Skip.UNPARSABLE.value}, {"reason": Skip.NOTICE.value},
    ]),
    ("cloudfront", CLOUDFRONT, [
        {"reason": Skip.NOTICE.value}, {"reason": Skip.NOTICE.value},
        {"client": "192.0.2.100", "method": "GET", "target": "/listing/1004", "vhost": "www.site.example",
         "referrer": "https://www.zillow.com/homes/", "status": 200,
         "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/78.0.3904.108 Safari/537.36",
         "ts": datetime(2019, 12, 4, 21, 2, 31, tzinfo=UTC)},
    ]),
    ("w3c", IIS, [
        *[{"reason": Skip.NOTICE.value}] * 4,
        {"client": "203.0.113.5", "target": "/listing/1005", "referrer": "https://www.zillow.com/",
         "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "ts": datetime(2019, 6, 5, 0, 0, 1, tzinfo=UTC)},
        {"reason": Skip.NOTICE.value},
        {"target": "/listing/1006?a=1", "vhost": "idx.partner.example", "user_agent": "Mozilla/5.0 (X11)",
         "client": None},
    ]),
    ("traefik", TRAEFIK, [
        {"client": "192.168.1.10", "target": "/listing/1007", "referrer": "https://www.zillow.com/",
         "user_agent": "Mozilla/5.0 (X11)"},
    ]),
    ("traefik_json", TRAEFIK_JSON, [
        {"client": "192.168.1.10", "target": "/listing/1008?x=1", "vhost": "www.site.example", "status": 200,
         "referrer": "https://www.realtor.com/x", "user_agent": "Mozilla/5.0",
         "ts": datetime(2026, 11, 1, 15, 0, 0, 123456, tzinfo=UTC)},
    ]),
    ("cloudflare", CLOUDFLARE, [
        {"client": "89.163.242.206", "target": "/listing/1009", "vhost": "www.theburritobot.com", "status": 200,
         "referrer": None, "ts": datetime(2017, 9, 29, 16, 28, 24, 433000, tzinfo=UTC)},
    ]),
    ("caddy", CADDY, [
        {"client": "127.0.0.1", "target": "/listing/1010", "vhost": "localhost", "user_agent": "curl/7.82.0",
         "referrer": "https://www.zillow.com/", "ts": datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)},
    ]),
    ("gcp", GCP, [
        {"client": "198.51.100.1", "method": "GET", "target": "/listing/1019?x=1", "vhost": "www.site.example",
         "status": 200, "referrer": "https://www.zillow.com/homes/",
         "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
         "ts": datetime(2026, 11, 29, 22, 25, 14, 669794, tzinfo=UTC)},
        {"target": "/listing/1020", "vhost": "web-abc123-uc.a.run.app", "status": 304, "referrer": None,
         "ts": datetime(2026, 11, 29, 22, 25, 16, 123456, tzinfo=UTC)},
    ]),
    ("akamai", AKAMAI, [
        {"client": "128.147.28.68", "method": "GET", "target": "/listing/1021?param=value", "status": 206,
         "vhost": "test.hostname.net", "referrer": "https://test.referrer.net/en-US/docs/Web/test",
         "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3)",
         "ts": datetime(2019, 11, 15, 17, 46, 40, tzinfo=UTC)},
        {"client": "2001:db8::1", "target": "/listing/1022", "referrer": None, "user_agent": "curl/8.5.0",
         "ts": datetime(2019, 11, 15, 17, 46, 41, 250000, tzinfo=UTC)},
    ]),
    ("nginx_proxy_manager", NPM, [
        {"method": "GET", "target": "/listing/1025?x=1", "vhost": "www.site.example", "status": 200,
         "client": "203.0.113.7", "referrer": "https://www.zillow.com/homes/", "user_agent": "Mozilla/5.0 (X11)",
         "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},
        {"target": "/listing/1026", "status": 301, "user_agent": "curl/8.5.0"},
    ]),
    ("nginx_proxy_manager_standard", NPM_STANDARD, [
        {"method": "GET", "target": "/listing/1027", "vhost": "site.example", "status": 301,
         "client": "203.0.113.9", "user_agent": "Mozilla/5.0 (iPhone)"},
    ]),
    ("envoy", ENVOY, [
        {"method": "POST", "target": "/api/v1/locations", "vhost": "locations", "status": 204, "referrer": None,
         "user_agent": "nsq2http", "ts": datetime(2016, 4, 15, 20, 17, 0, 310000, tzinfo=UTC)},
        {"method": "GET", "target": "/listing/1023?x=1", "vhost": "www.site.example", "status": 200,
         "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
        {"target": "/listing/1023", "status": 0},  # (read, and not counted by its status: no damage)
    ]),
    ("istio", ISTIO, [
        {"method": "GET", "target": "/status/418", "vhost": "httpbin:8000", "status": 418,
         "user_agent": "curl/7.73.0-DEV", "ts": datetime(2020, 11, 25, 21, 26, 18, 409000, tzinfo=UTC)},
        {"method": "GET", "target": "/listing/1024", "vhost": "www.site.example", "status": 200,
         "user_agent": "Mozilla/5.0 (iPhone)"},
    ]),
    ("cri:combined", CRI, [
        {"reason": Skip.NOTICE.value}, {"reason": Skip.NOTICE.value},
        {"client": "203.0.113.7", "target": "/listing/1011", "status": 200, "referrer": "https://www.zillow.com/",
         "user_agent": "Mozilla/5.0 (X11)", "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},
        {"client": "203.0.113.8", "target": "/listing/1012", "status": 304, "user_agent": "curl/8.5.0"},
        # (a split line: its first part skipped as such, the line read whole at its last)
        {"reason": Skip.PART.value},
        {"client": "203.0.113.9", "target": "/listing/1013?q=aaaaaaaa", "status": 200, "user_agent": "Mozilla/5.0 (X11)",
         "ts": datetime(2026, 11, 29, 22, 25, 16, tzinfo=UTC)},
        *[{"reason": Skip.NOTICE.value}] * 3, {"reason": Skip.UNPARSABLE.value},
    ]),
    ("docker:combined", DOCKER, [
        {"reason": Skip.NOTICE.value}, {"reason": Skip.NOTICE.value},
        {"client": "203.0.113.7", "target": "/listing/1016?a=1&b=<2>", "status": 200,
         "referrer": "https://www.zillow.com/", "user_agent": "Mozilla/5.0 (X11)",
         "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},
        {"client": "203.0.113.8", "target": "/listing/1017\\x22", "status": 304, "user_agent": "curl/8.5.0"},
        # (a part that happens to end where a line may: no newline, so not read as one; the line is read
        # whole at its last part, " 1" a field after the format's)
        {"reason": Skip.PART.value},
        {"client": "203.0.113.9", "target": "/listing/1018", "status": 200, "user_agent": "Mozilla/5.0 (X11)"},
    ]),
    ("azure_front_door", AZURE_FRONT_DOOR, [
        {"client": "1.2.3.4", "method": "GET", "target": "/listing/1031?x=1", "vhost": "www.site.example",
         "status": 200, "referrer": "https://www.zillow.com/", "user_agent": "curl/7.77.0",
         "ts": datetime(2022, 8, 29, 15, 3, 25, 471501, tzinfo=UTC)},
        {"target": "/listing/1032", "vhost": None, "status": 304, "referrer": None, "client": "192.0.2.5"},
        {"reason": Skip.HOP.value, "target": "/listing/1031?x=1"},  # (origin shield's record: not counted again)
    ]),
    # a time that is no epoch, though it starts as one ("01.12.2026": 1.12 s after 1970 when cut at its dot)
    ("cloudflare", [CLOUDFLARE[0].replace("1506702504433000200", '"01.12.2026 09:53:39"')],
     [{"reason": Skip.BAD_TIME.value}]),
    ("caddy", [CADDY[0].replace("1646861401.5241024", '"01.12.2026"')], [{"reason": Skip.BAD_TIME.value}]),
    ("caddy", CADDY_TIMES, [
        {"target": "/listing/1010", "ts": datetime(2022, 3, 9, 21, 30, 1, 524000, tzinfo=UTC)},
        {"target": "/listing/1010", "ts": datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)},
        {"target": "/listing/1010", "ts": datetime(2022, 3, 9, 21, 30, 1, 524000, tzinfo=UTC)},
        {"target": "/listing/1010", "ts": datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)},
        {"target": "/listing/1010", "ts": datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)},
    ]),
    ("caddy_console", CADDY_CONSOLE, [
        {**_CADDY_READ, "ts": datetime(2026, 11, 29, 22, 25, 14, 846000, tzinfo=UTC)},  # wall_milli: UTC
        {**_CADDY_READ, "status": 502, "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},  # wall
        {**_CADDY_READ, "ts": datetime(2026, 11, 29, 22, 25, 14, 846000, tzinfo=UTC)},  # iso8601
        {**_CADDY_READ, "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},  # rfc3339
        {**_CADDY_READ, "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},  # common_log
        {**_CADDY_READ, "ts": datetime(2026, 11, 29, 22, 25, 14, 846000, tzinfo=UTC)},  # unix_seconds_float
        {"reason": Skip.NOTICE.value}, {"reason": Skip.NOTICE.value},  # Caddy's own news
        {"reason": Skip.UNPARSABLE.value},  # (an access entry cut short: damage, not news)
    ]),
    ("cri:caddy", CRI_JSON, [
        *[{"reason": Skip.NOTICE.value}] * 3,
        {"client": "127.0.0.1", "target": "/listing/1010", "vhost": "localhost", "user_agent": "curl/7.82.0",
         "referrer": "https://www.zillow.com/", "ts": datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)},
        # (a split line, read whole at its last part; what no server writes is damage, not news)
        {"reason": Skip.PART.value}, {"target": "/listing/1010", "user_agent": "curl/7.82.0"},
        {"reason": Skip.UNPARSABLE.value},
    ]),
    ("docker:caddy", DOCKER_JSON, [
        *[{"reason": Skip.NOTICE.value}] * 3,
        {"client": "127.0.0.1", "target": "/listing/1010", "vhost": "localhost", "user_agent": "curl/7.82.0",
         "referrer": "https://www.zillow.com/", "ts": datetime(2022, 3, 9, 21, 30, 1, 524102, tzinfo=UTC)},
        {"reason": Skip.PART.value}, {"target": "/listing/1010", "user_agent": "curl/7.82.0"},
    ]),
    *((f"{prefix}{NGINX_JSON}", [line], [
        {"client": "203.0.113.7", "method": "GET", "target": "/listing/1030", "status": 200,
         "vhost": "www.site.example", "referrer": "https://www.zillow.com/", "user_agent": 'Mozilla/5.0 "X11"',
         "ts": datetime(2026, 11, 29, 22, 25, 14, tzinfo=UTC)},
    ]) for prefix, line in [
        ("cri:", "2026-11-29T22:25:14.669794202Z stdout F " + NGINX_JSON_LINE),
        ("syslog:", "Nov 29 16:25:14 web1 nginx: " + NGINX_JSON_LINE),
        ("docker:", json.dumps({"log": NGINX_JSON_LINE + "\n", "stream": "stdout", "time": "2026-11-29T22:25:14Z"})),
    ]),
])
def test_vendor_samples_are_read(fmt: str, lines: list[str], expected: list[dict[str, object]]) -> None:
    got = rows(fmt, lines)
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert {key: row[key] for key in want} == want, row["line"]
        if "reason" not in want:
            assert row["reason"] is None


@pytest.mark.parametrize(("lines", "name"), [
    (ALB, "alb"),
    (ELB, "elb"),
    (HAPROXY, "haproxy:Host"),
    (HAPROXY_CLF, "haproxy_clf:Host,Referer,User-Agent"),  # (combined reads its lines too: "" for the agent)
    (HAPROXY_FRAMED, "haproxy"),
    (HAPROXY_WITH_TCP, "haproxy"),  # (TCP frontends' lines and its messages more than its requests)
    (HAPROXY_HTTPS, "haproxy:Host,Referer,User-Agent"),  # in any of HAProxy's framings, its own messages beside the requests
    (HAPROXY_FRAMED[1:2] + HAPROXY_FRAMED[-2:], "haproxy"),  # fewer requests than messages: still HAProxy's
    (CLOUDFRONT, "cloudfront"),
    (IIS, "w3c"),
    (TRAEFIK, "traefik"),
    (TRAEFIK_JSON, "traefik_json"),
    (CLOUDFLARE, "cloudflare"),
    (CADDY, "caddy"),
    (CADDY_CONSOLE, "caddy_console"),
    (CADDY_TIMES, "caddy"),
    (GCP, "gcp"),
    (AKAMAI, "akamai"),
    (AZURE_FRONT_DOOR, "azure_front_door"),
    (NPM, "nginx_proxy_manager"),
    (NPM_STANDARD, "nginx_proxy_manager_standard"),
    (ENVOY, "envoy"),
    (ISTIO, "envoy"),  # (Istio's fields after Envoy's are read as Envoy's own: the same fields, the same values)
    (["2026-11-29T22:25:15.001Z stdout F " + line for line in ISTIO], "cri:envoy"),  # a sidecar, as Kubernetes files it
    # syslog's prefix, traditional, RFC 3339 and raw, before each line
    (["Nov 29 16:25:14 web1 nginx: 203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] \"GET / HTTP/1.1\" 200 5 \"-\" \"M\"",
      "2026-11-29T16:25:15.5-06:00 web1 nginx: 203.0.113.7 - - [29/Nov/2026:16:25:15 -0600] \"GET / HTTP/1.1\" 200 5 "
      "\"-\" \"M\""], "syslog:combined"),
    (["<190>Nov 29 16:25:14 web1 apache[9]: www.site.example:443 203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] "
      "\"GET / HTTP/1.1\" 200 5 \"-\" \"M\""], "syslog:vhost_combined"),
    # a client list is no virtual host: "10.0.0.2," is not a server name, though a name may hold a comma
    (["10.0.0.2, 10.0.0.1 - - [29/Nov/2026:16:25:14 -0600] \"GET / HTTP/1.1\" 200 5 \"-\" \"M\""], "combined"),
    (["a,b 10.0.0.1 - - [29/Nov/2026:16:25:14 -0600] \"GET / HTTP/1.1\" 200 5 \"-\" \"M\""], "host_combined"),
    (CRI[:4] + CRI[2:4], "cri:combined"),  # its server's own news among the access lines
    (DOCKER[:4] + DOCKER[2:4], "docker:combined"),
    ([line.replace('"stream":"stdout",', '"stream":"stdout","attrs":{"tag":"web"},') for line in DOCKER[2:3]],
     "docker:combined"),  # with --log-opt labels=... or tag=..., Docker adds its attrs
    ([line.replace(" stdout F 203.0.113.7", " stdout F www.site.example:443 203.0.113.7") for line in CRI[2:3]],
     "cri:vhost_combined"),
    # JSON objects behind the prefix, or in Docker's log: the JSON shapes, and nginx's usual keys
    (CRI_JSON[:4] + CRI_JSON[3:4] * 4, "cri:caddy"),
    (DOCKER_JSON[:4] + DOCKER_JSON[3:4] * 4, "docker:caddy"),
    (["2026-11-29T22:25:14.1Z stdout F " + line for line in TRAEFIK_JSON], "cri:traefik_json"),
    (["Nov 29 16:25:14 web1 caddy: " + line for line in CADDY], "syslog:caddy"),
    (["2026-11-29T22:25:14.1Z stdout F " + NGINX_JSON_LINE.replace("\\x22", "")], "cri:json"),
    ([json.dumps({"log": NGINX_JSON_LINE.replace("\\x22", "") + "\n", "stream": "stdout", "time": "2026-11-29T22:25:14Z"})],
     "docker:json"),
])
def test_auto_finds_each_format(lines: list[str], name: str) -> None:
    assert detect(lines_frame(batch_of("t.log", 1, "\n".join(lines).encode())), "t.log").name == name


COMBINED = '203.0.113.{i} - - [29/Nov/2026:16:25:14 -0600] "GET /listing/{i} HTTP/1.1" 200 5 "-" "Mozilla/5.0"'


# Files judged together (``detect_files``): their lines, and whether their format is plain enough to be given
# there (True) or the file is left to ``detect`` alone (False).
TOGETHER: list[tuple[list[str], bool]] = [
    (ALB, True), (ELB, True), (TRAEFIK, True), (NPM, True), (NPM_STANDARD, True), (ENVOY, True), (ISTIO, True),
    ([COMBINED.format(i=i) for i in range(30)], True),
    ([COMBINED.format(i=i).rsplit(' "-"', 1)[0] for i in range(5)], True),  # common
    (["www.site.example:443 " + COMBINED.format(i=i) for i in range(5)], True),  # vhost_combined
    (["", "   ", COMBINED.format(i=1), "", COMBINED.format(i=2) + "\r"], True),  # blank lines, a CR
    (["", ""], True),  # nothing to judge: combined, as alone
    ([COMBINED.format(i=i) for i in range(5)] + ["junk"], False),  # most lines read, not all: pick looks on
    ([COMBINED.format(i=i).replace("29/Nov", "31/Nov") for i in range(3)] + [COMBINED.format(i=9)], False),
    (["junk", "more junk"], False),  # no format fits: refused alone, naming the candidates
    # JSON lines: the first of the shapes their keys fit, where it reads every line
    (CADDY, True), (TRAEFIK_JSON, True), (CLOUDFLARE, True), (GCP, True), (AKAMAI, True), (AZURE_FRONT_DOOR, True),
    ([NGINX_JSON_LINE.replace("\\x22", "")] * 3, True),  # nginx's usual keys: a format guessed from them
    ([*CADDY, "not JSON"], False), ([*CADDY, CADDY[0][:-1]], False),  # most lines read, not all
    (CLOUDFRONT, True), (IIS, True),  # a W3C log's header says its format
    (["#Fields: time cs-method cs-uri-stem sc-status", "00:00:01 GET /listing/1 200"], False),  # refused alone
    (HAPROXY, False), (CRI[:4], False), (DOCKER[:4], False),
    (DOCKER_JSON[:4] + DOCKER_JSON[3:4] * 4, False), (CRI_JSON[:4] + CRI_JSON[3:4] * 4, False),
    (["Nov 29 16:25:14 web1 nginx: " + COMBINED.format(i=1)], False),
]


def _each_alone(cases: list[tuple[list[str], bool]]) -> tuple[list[Batch], list[str | None]]:
    """Each case as a file's one batch, and the name of the format ``detect`` gives it alone (None: refused)."""
    from logtrack.errors import UnrecognisedError
    from logtrack.parse.detect import sample_frame

    parts = [batch_of(f"f{n}.log", 1, "\n".join(lines).encode()) for n, (lines, _) in enumerate(cases)]
    alone: list[str | None] = []
    for part in parts:
        try:
            alone.append(detect(sample_frame(part), part.source).name)
        except UnrecognisedError:
            alone.append(None)
    return parts, alone


@pytest.mark.parametrize("likely", [None, "combined", "vhost_combined", "common", "alb", "istio", "haproxy", "w3c"])
@pytest.mark.parametrize("order", [1, -1])
def test_files_judged_together_get_the_format_each_gets_alone(order: int, likely: str | None) -> None:
    """``detect_files`` gives a plain file what ``detect`` gives it alone, whatever files it is judged with
    and whatever format it expects most to be in, and leaves every other file (a prefix, Docker's JSON,
    HAProxy, a mixed sample, no fit) to ``detect``."""
    from logtrack.parse.detect import detect_files

    cases = TOGETHER[::order]
    parts, alone = _each_alone(cases)
    together = [None if fmt is None else fmt.name for fmt in detect_files(parts, likely)]
    assert together == [name if plain else None for name, (_, plain) in zip(alone, cases, strict=True)]
    assert [None if fmt is None else fmt.name for fmt in detect_files(parts[3:9], likely)] == together[3:9]


@pytest.mark.parametrize("likely", [None, "combined", "vhost_combined", "common", "alb", "istio", "haproxy", "w3c"])
@pytest.mark.parametrize("order", [1, -1])
def test_files_given_a_format_on_trust_get_it_only_where_counting_can_hold_them_to_it(order: int,
                                                                                    likely: str | None) -> None:
    """With ``trusted``, ``detect_files`` skips reading a file's first candidate: a format it gives on trust
    is what ``detect`` gives the file alone wherever that format reads every line of it (and where it does
    not, the file's counting finds the line it does not read, and the file is judged alone:
    ``e2e/test_first_hour``); any other it gives is exact, and a plain file still gets one."""
    from logtrack.parse.detect import detect_files, sample_frame, sample_lines, score

    cases = TOGETHER[::order]
    parts, alone = _each_alone(cases)
    trusted: set[int] = set()
    given = detect_files(parts, likely, trusted=trusted)
    for n, (fmt, (_, plain)) in enumerate(zip(given, cases, strict=True)):
        if n not in trusted:
            assert (fmt and fmt.name) == (alone[n] if plain else None), n
            continue
        assert fmt is not None
        lines = sample_lines(sample_frame(parts[n]))
        if score(fmt, lines).read == lines.len():  # what the counting confirms: what ``detect`` gives alone
            assert fmt.name == alone[n], n
        else:  # (counted, then judged alone: never a plain file of these, the screens do not mislead on them)
            assert not plain, n
    assert all(fmt is not None for fmt, (_, plain) in zip(given, cases, strict=True) if plain)
    assert trusted  # (the plain line formats' files, at least)


@pytest.mark.parametrize(("values", "names"), [
    (["{1wt.eu}"], ["Host"]),
    (["{www.site.example:8080|https://www.zillow.com/|Mozilla/5.0 (X11)}", "{a.example||curl/8.5.0}"],
     ["Host", "Referer", "User-Agent"]),
    (["{Mozilla/5.0 (X11)|-|https://www.zillow.com/}"], ["User-Agent", "-", "Referer"]),
    (["{1234|abc def}"], ["-", "User-Agent"]),
    (["{|}"], []),  # nothing captured that logtrack reads
    # X-Forwarded-For before the others: addresses, a list of them with a space, are neither a host nor an agent
    (["{203.0.113.7, 10.0.0.1|www.site.example|Mozilla/5.0 (X11)}", "{198.51.100.2|a.example|curl/8.5.0}",
      "{2001:db8::1|www.site.example|Mozilla/5.0 (X11)}"], ["-", "Host", "User-Agent"]),
    (["{203.0.113.7|www.site.example}", "{198.51.100.2|a.example}"], ["-", "Host"]),
    # headers before the ones logtrack reads whose values have the loose shapes: Accept (type/subtype), Cookie
    # (spaces), Origin (a URL without a path), a request id (a name without a dot)
    (["{text/html,application/xhtml+xml|a=b; c=d|https://www.site.example|0f9c2e1a-77b3-4c5e|"
      "https://www.zillow.com/x|Mozilla/5.0 (X11)|www.site.example}"] * 3,
     ["-", "-", "-", "-", "Referer", "User-Agent", "Host"]),
])
def test_haproxy_captured_headers_are_told_by_their_values(values: list[str], names: list[str]) -> None:
    prefix = '10.0.1.2:33317 [06/Feb/2009:12:14:14.655] fe be/s1 1/0/0/1/2 200 5 - - ---- 1/1/1/1/0 0/0 '
    assert haproxy_captures([f'{prefix}{v} "GET / HTTP/1.1"' for v in values]) == names


def test_a_custom_time_format_is_refused_naming_the_candidates(cli, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text('1.2.3.4 - - [2026-11-01 10:00:00] "GET /listing/1 HTTP/1.1" 200 5\n' * 20)
    good = tmp_path / "good.log"
    good.write_text('1.2.3.4 - - [01/Nov/2026:10:00:00 +0000] "GET /listing/2 HTTP/1.1" 200 5\n')
    code, out, err = cli("xml", str(log), str(good), "--listing-pattern", PATTERN)
    assert code == 4  # that file's problem; the other is counted
    assert xml_counts(out) == {("2026-11-01", "", "2"): 1}
    assert (f"logtrack: warning: {log}: no known log format fits this file: of its first 20 lines, the best "
            "candidates read common 0/20 (bad timestamp: the others)") in err


def test_a_w3c_header_mid_file_is_followed_also_when_a_run_resumes_after_it(cli, tmp_path: Path) -> None:
    log = tmp_path / "u_ex190605.log"
    log.write_text("\n".join(IIS[:5]) + "\n")
    config = tmp_path / "logtrack.toml"
    config.write_text(f"[listings]\npatterns = ['{PATTERN}']\n[[suppliers]]\nname = \"Zillow\"\n"
                      "referrer = [\"zillow.com\"]\n[[suppliers]]\nname = \"Partner\"\n"
                      "host = [\"idx.partner.example\"]\n")
    state = tmp_path / "state.db"
    run = ("run", str(log), "--config", str(config), "--state", str(state), "--no-upload")
    assert cli(*run)[0] == 0
    with log.open("a") as fh:  # IIS's settings changed: a new header, and lines in its fields
        fh.write("\n".join(IIS[5:]) + "\n")
    code, _, err = cli(*run)
    assert code == 0, err
    assert "now at line 7" in err
    with log.open("a") as fh:  # a line after the last header: the next run starts below that header
        fh.write("2019-06-05 02:00:01 GET /listing/1007 - 200 idx.partner.example Mozilla/5.0+(X11)\n")
    code, _, err = cli(*run)
    assert code == 0, err
    assert "now at line 8" in err
    want = {("2019-06-05", "Zillow", "1005"): 1, ("2019-06-05", "Partner", "1006"): 1,
            ("2019-06-05", "Partner", "1007"): 1}
    assert counts_of(state, cli) == want
    code, out, err = cli("xml", str(log), "--config", str(config), "--strict")
    assert code == 0, err
    assert xml_counts(out) == want


def test_a_header_inside_a_batch_cuts_it_at_the_right_offsets(tmp_path: Path) -> None:
    log = tmp_path / "u_ex.log"
    lines = IIS * 3
    log.write_text("\n".join(lines) + "\n")
    parts = list(follow(batches(str(log), batch_bytes=1 << 20), formats.get("w3c")))
    data = log.read_bytes()
    # cut where the fields change (line 6, and each copy's first header, 11 and 18, after the other fields),
    # not where a header says the fields already read (line 4: IIS's, the preset's own)
    assert [batch.first_line for batch, _ in parts] == [1, 6, 11, 13, 18, 20]
    fmts = [fmt for _, fmt in parts]
    assert fmts[0] == fmts[2] == fmts[4] == formats.get("w3c") and fmts[1] == fmts[3] == fmts[5] != fmts[0]
    for batch, _ in parts:  # each part ends where its last line's newline does
        assert data[:batch.end_offset].endswith(batch.data + b"\n")
    assert sum(batch.lines for batch, _ in parts) == len(lines)


def test_a_header_that_says_the_fields_again_cuts_nothing(tmp_path: Path) -> None:
    """CloudFront's header on top of every file, IIS's after a restart: the same fields go on, one batch."""
    log = tmp_path / "cf.log"
    lines = CLOUDFRONT * 3
    log.write_text("\n".join(lines) + "\n")
    fmt = detect(lines_frame(batch_of(str(log), 1, log.read_bytes())), str(log))
    parts = list(follow(batches(str(log), batch_bytes=1 << 20), fmt))
    assert len(parts) == 1 and parts[0][0].lines == len(lines) and parts[0][1] == fmt
    rows = parse_batch(parts[0][0], fmt)
    assert rows.filter(pl.col("reason").is_null()).height == 3 * sum(not line.startswith("#") for line in CLOUDFRONT)


def test_a_w3c_header_without_the_date_is_refused_by_name(cli, tmp_path: Path) -> None:
    log = tmp_path / "ex.log"
    log.write_text("#Fields: time cs-method cs-uri-stem sc-status\n00:00:01 GET /listing/1 200\n")
    code, _, err = cli("xml", str(log), "--listing-pattern", PATTERN)
    assert code == 4
    assert "log the time of day without the date (a #Fields: line); add the date field" in err


# --- round trips: a line written by the documented field list reads back exactly ---

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
hosts = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,15}\.){0,3}[a-z]{2,6}", fullmatch=True)
paths = st.from_regex(r"/[A-Za-z0-9._~/-]{0,30}", fullmatch=True)
queries = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9=&._-]{1,20}", fullmatch=True).filter(lambda q: q != "-"))  # "-": none
instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC))


def _target(path: str, query: str | None) -> str:
    return path + (f"?{query}" if query else "")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts, separator=st.sampled_from(["\t", " "]))
def test_w3c_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str, referrer: str,
                        host: str, separator: str) -> None:
    when = when.replace(microsecond=0)
    if separator == "\t":  # CloudFront: agents and referrers percent-encoded
        ua, ref = quote(agent, safe="/;:(),"), quote(referrer, safe="/:")
    else:  # IIS: a space in a value written as +; a + of the client's own cannot be told from it
        agent, referrer = agent.replace("+", "-"), referrer.replace("+", "-")
        ua, ref = agent.replace(" ", "+"), referrer.replace(" ", "+")
        if any(c.isspace() for c in ua + ref):
            return  # IIS writes no other white space: such a value cannot come from it
    values = {"date": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M:%S"), "cs-method": "GET",
              "cs-uri-stem": path, "cs-uri-query": query or "-", "sc-status": str(status), "cs(User-Agent)": ua,
              "cs(Referer)": ref, "cs-host": host, "c-ip": "192.0.2.1", "time-taken": "15"}
    order = ["date", "time", "c-ip", "cs-method", "cs-host", "cs-uri-stem", "cs-uri-query", "sc-status",
             "cs(Referer)", "cs(User-Agent)", "time-taken"]
    lines = ["#Fields: " + " ".join(order), separator.join(values[k] for k in order)]
    fmt = "cloudfront" if separator == "\t" else "w3c"
    row = rows(fmt, lines)[1]
    assert row["reason"] is None, row["line"]
    assert (row["target"], row["status"], row["vhost"], row["ts"]) == (_target(path, query), status, host, when)
    assert (row["user_agent"], row["referrer"]) == (agent, referrer)


def _haproxy_encoded(value: str) -> str:
    return "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"#{|}' else "".join(f"#{b:02X}" for b in c.encode())
                   for c in value)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts, prefix=st.sampled_from(["", "<134>Nov 29 16:25:14 haproxy[25853]: ",
                                           "Nov  9 16:25:14 lb1 haproxy[1]: ",
                                           "2026-11-29T16:25:14.123456+00:00 lb1 haproxy[1]: "]))
def test_haproxy_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str, referrer: str,
                            host: str, prefix: str) -> None:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S.") + f"{when.microsecond // 1000:03d}"
    captures = "|".join(_haproxy_encoded(v) for v in (host, referrer, agent))
    line = (f'{prefix}192.0.2.1:33317 [{stamp}] fe be/s1 10/0/30/69/109 {status} 2750 - - ---- 1/1/1/1/0 0/0 '
            f'{{{captures}}} "GET {_target(path, query)} HTTP/1.1"')
    row = rows("haproxy:Host,Referer,User-Agent", [line])[0]
    assert row["reason"] is None, line
    assert (row["target"], row["status"], row["client"]) == (_target(path, query), status, "192.0.2.1")
    assert (row["vhost"], row["referrer"], row["user_agent"]) == (host, referrer, agent)
    assert row["ts"] == when.replace(microsecond=when.microsecond // 1000 * 1000)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, host=hosts,
       method=st.sampled_from(["GET", "HEAD", "POST"]))
def test_alb_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str, host: str,
                        method: str) -> None:
    agent = agent.replace("\\", "/").replace('"', "'")  # ALB writes no quote or backslash unescaped
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    line = (f'https {stamp} app/lb/50dc 192.0.2.1:2817 10.0.0.1:80 0.000 0.001 0.000 {status} 200 34 366 '
            f'"{method} https://{host}:443{_target(path, query)} HTTP/1.1" "{agent}" ECDHE TLSv1.2 arn:x "Root=1" '
            f'"{host}" "-" 0 {stamp} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"')
    row = rows("alb", [line])[0]
    assert row["reason"] is None, line
    assert (row["method"], row["target"], row["status"], row["ts"]) == (method, _target(path, query), status, when)
    assert (row["vhost"], row["user_agent"]) == (f"{host}:443", agent)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts, unit=st.sampled_from(["unixnano", "unix", "unixms", "rfc3339"]))
def test_cloudflare_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str,
                               referrer: str, host: str, unit: str) -> None:
    micros = int((when - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    stamp: object = {"unixnano": micros * 1000, "unix": micros // 1_000_000, "unixms": micros // 1000,
                     "rfc3339": when.astimezone(timezone(timedelta(hours=-5))).isoformat()}[unit]
    expected = {"unixnano": when, "rfc3339": when, "unix": when.replace(microsecond=0),
                "unixms": when.replace(microsecond=when.microsecond // 1000 * 1000)}[unit]
    line = json.dumps({"ClientIP": "192.0.2.1", "ClientRequestHost": host, "ClientRequestMethod": "GET",
                       "ClientRequestURI": _target(path, query), "ClientRequestReferer": referrer,
                       "ClientRequestUserAgent": agent, "EdgeResponseStatus": status, "EdgeStartTimestamp": stamp})
    row = rows("cloudflare", [line])[0]
    assert row["reason"] is None, line
    assert (row["target"], row["status"], row["ts"], row["vhost"]) == (_target(path, query), status, expected, host)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts, scheme=st.sampled_from(["http", "https"]))
def test_gcp_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str, referrer: str,
                        host: str, scheme: str) -> None:
    line = json.dumps({"httpRequest": {"remoteIp": "192.0.2.1", "requestMethod": "GET",
                                       "requestUrl": f"{scheme}://{host}{_target(path, query)}", "status": status,
                                       "referer": referrer, "userAgent": agent},
                       "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "789Z"})
    row = rows("gcp", [line])[0]
    assert row["reason"] is None, line
    assert (row["target"], row["status"], row["ts"], row["vhost"]) == (_target(path, query), status, when, host)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts)
def test_akamai_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str, referrer: str,
                           host: str) -> None:
    seconds = int((when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    values = {"reqTimeSec": f"{seconds}.{when.microsecond // 1000:03d}", "statusCode": str(status), "reqMethod": "GET",
              "reqPath": path, "reqHost": host, "cliIP": "192.0.2.1",
              "UA": quote_plus(agent, safe=""), "referer": quote_plus(referrer, safe="")}
    line = json.dumps(values | ({"queryStr": query} if query else {}))
    row = rows("akamai", [line])[0]
    assert row["reason"] is None, line
    assert (row["target"], row["status"], row["vhost"]) == (_target(path, query), status, host)
    assert row["ts"] == when.replace(microsecond=when.microsecond // 1000 * 1000)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)

@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts, shield=st.booleans())
def test_azure_front_door_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str,
                                     referrer: str, host: str, shield: bool) -> None:
    line = json.dumps({"time": when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "1Z", "category": "FrontDoorAccessLog",
                       "properties": {"httpMethod": "GET", "requestUri": f"https://{host}:443{_target(path, query)}",
                                      "userAgent": agent, "clientIp": "192.0.2.1", "httpStatusCode": str(status),
                                      "hostName": host, "referer": referrer, "isReceivedFromClient": not shield}})
    row = rows("azure_front_door", [line])[0]
    assert row["reason"] == (Skip.HOP.value if shield else None), line
    assert (row["target"], row["status"], row["ts"], row["vhost"]) == (_target(path, query), status, when, host)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts)
def test_traefik_json_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str,
                                 referrer: str, host: str) -> None:
    line = json.dumps({"ClientHost": "192.0.2.1", "DownstreamStatus": status, "RequestHost": host,
                       "RequestMethod": "GET", "RequestPath": _target(path, query),
                       "StartUTC": when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z",
                       "request_Referer": referrer, "request_User-Agent": agent})
    row = rows("traefik_json", [line])[0]
    assert row["reason"] is None, line
    assert (row["target"], row["status"], row["ts"], row["vhost"]) == (_target(path, query), status, when, host)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)


ENVOY_OWN = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
             '%RESPONSE_FLAGS% %DURATION% "%REQ(REFERER)%" "%REQ(USER-AGENT)%" "%REQ(:AUTHORITY)%"')


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts)
def test_envoy_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str, referrer: str,
                          host: str) -> None:
    # Envoy writes values raw: a quote or backslash of the client's own makes a line no format can cut surely
    agent, referrer = agent.replace('"', "'").replace("\\", "/"), referrer.replace('"', "'").replace("\\", "/")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    line = (f'[{stamp}] "GET {_target(path, query)} HTTP/1.1" {status} - 3 "{referrer}" "{agent}" "{host}"')
    row = rows(ENVOY_OWN, [line])[0]
    assert row["reason"] is None, line
    assert (row["target"], row["status"], row["vhost"]) == (_target(path, query), status, host)
    assert row["ts"] == when.replace(microsecond=when.microsecond // 1000 * 1000)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)

def _nginx_escaped(value: str) -> str:
    """``value`` as nginx's escape=default writes it: a quote, a backslash and bytes outside printable ASCII
    as ``\\xHH``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02X}" for b in value.encode())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       stream=st.sampled_from(["stdout", "stderr"]), runtime=st.sampled_from(["cri", "docker"]))
def test_container_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str,
                              referrer: str, stream: str, runtime: str) -> None:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    ua, ref = _nginx_escaped(agent), _nginx_escaped(referrer)
    line = f'192.0.2.1 - - [{stamp}] "GET {_target(path, query)} HTTP/1.1" {status} 5 "{ref}" "{ua}"'
    if runtime == "cri":
        wrapped = f"{when.strftime('%Y-%m-%dT%H:%M:%S.%f')}123Z {stream} F {line}"
    else:  # as Go's encoder writes it: &, < and > escaped too
        wrapped = docker_line(line + "\n", stream)
    row = rows(f"{runtime}:combined", [wrapped])[0]
    assert row["reason"] is None, wrapped
    assert (row["target"], row["status"], row["ts"]) == (_target(path, query), status, when.replace(microsecond=0))
    assert (row["referrer"], row["user_agent"]) == (ref, ua)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(when=instants, path=paths, query=queries, status=st.integers(100, 599), agent=text, referrer=text,
       host=hosts, runtime=st.sampled_from(["cri", "docker", "syslog"]))
def test_json_in_a_container_round_trip(when: datetime, path: str, query: str | None, status: int, agent: str,
                                        referrer: str, host: str, runtime: str) -> None:
    seconds = (when - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(seconds=1)
    line = json.dumps({"level": "info", "ts": seconds, "logger": "http.log.access.log0", "msg": "handled request",
                       "request": {"remote_ip": "192.0.2.1", "method": "GET", "host": host,
                                   "uri": _target(path, query),
                                   "headers": {"User-Agent": [agent], "Referer": [referrer]}}, "status": status})
    wrapped = {"cri": f"2026-11-29T22:25:14.123456789Z stderr F {line}",
               "syslog": f"Nov 29 16:25:14 web1 caddy[77]: {line}",
               "docker": json.dumps({"log": line + "\n", "stream": "stderr", "time": "2026-11-29T22:25:14.1Z"})}[runtime]
    row = rows(f"{runtime}:caddy", [wrapped])[0]
    assert row["reason"] is None, wrapped
    assert (row["target"], row["status"], row["vhost"]) == (_target(path, query), status, host)
    assert abs(row["ts"] - when) <= timedelta(microseconds=1)  # (a float's seconds)
    assert (row["referrer"], row["user_agent"]) == (referrer, agent)


def test_a_bad_header_mid_file_stops_that_file_only(cli, tmp_path: Path) -> None:
    log = tmp_path / "u_ex.log"
    log.write_text("\n".join([*IIS[:5], "#Fields: time cs-method cs-uri-stem sc-status", "00:00:01 GET /x 200"]) + "\n")
    other = tmp_path / "other.log"
    other.write_text("\n".join(IIS) + "\n")
    code, out, err = cli("xml", str(log), str(other), "--listing-pattern", PATTERN)
    assert code == 4
    assert f"{log}:6: W3C fields 'time cs-method cs-uri-stem sc-status' log the time of day without the date" in err
    assert xml_counts(out) == {("2019-06-05", "", "1005"): 2, ("2019-06-05", "", "1006"): 1}


SAMPLES = [*ALB, *ELB, *HAPROXY, *CLOUDFRONT, *IIS, *TRAEFIK, *TRAEFIK_JSON, *CLOUDFLARE, *CADDY, *GCP, *AKAMAI, *AZURE_FRONT_DOOR, *NPM, *NPM_STANDARD, *ENVOY, *ISTIO, *CRI, *DOCKER,
           *CRI_JSON, *DOCKER_JSON,
           '1.2.3.4 - - [01/Nov/2026:10:00:00 +0000] "GET /listing/2 HTTP/1.1" 200 5 "-" "M"']


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SAMPLES), st.integers(0, 400), st.integers(0, 400),
                          st.text(max_size=8)), min_size=1, max_size=30))
def test_no_file_under_auto_is_a_bug(edits: list[tuple[str, int, int, str]]) -> None:
    """Spliced and cut lines of every format: auto takes one or refuses by name, and reading never fails."""
    from logtrack.errors import LogtrackError

    lines = [line[:a] + junk + line[b:] for line, a, b, junk in edits]
    data = "\n".join(lines).encode()
    try:
        fmt = detect(lines_frame(batch_of("t.log", 1, data)), "t.log")
        for batch, part in follow([batch_of("t.log", 1, data, 0, len(data) + 1)], fmt):
            assert parse_batch(batch, part).height == batch.lines
    except LogtrackError:
        pass  # refused, by name: a person's to fix, not a bug


def test_haproxy_named_without_its_captured_headers_says_which_they_are(cli, tmp_path: Path) -> None:
    log = tmp_path / "haproxy.log"
    log.write_text("\n".join(HAPROXY) + "\n")
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN, "--format", "haproxy")
    assert code == 0, err
    assert xml_counts(out) == {("2009-02-06", "", "1003"): 1}
    assert 'they look like Host: set [logs] format = "haproxy:Host" (or --format)' in err


@pytest.mark.parametrize(("name", "lines", "runtime"), [("0.log", CRI_JSON, "cri"),
                                                     ("abc123-json.log", DOCKER_JSON, "docker")])
def test_caddy_in_a_container_is_found_and_counted(cli, tmp_path: Path, name: str, lines: list[str],
                                                   runtime: str) -> None:
    """Caddy's stderr as the runtime files it, under ``auto``: its access lines count, its own news is said as such."""
    browser = [line.replace("curl/7.82.0", "Mozilla/5.0 (X11; Linux x86_64)") for line in lines[3:4]]
    log = tmp_path / name
    log.write_text("\n".join([*lines, *browser * 2]) + "\n")
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN)
    assert code == 0, err
    assert xml_counts(out) == {("2022-03-09", "", "1010"): 2}  # (curl's is a bot's)
    assert f"{log}: format {runtime}:caddy" in err
    assert "3 no request: a log header or the server's own message" in err


def _apache_escaped(value: str) -> str:
    """``value`` as Apache writes it: a quote and a backslash with a backslash before, bytes outside
    printable ASCII as ``\\xhh``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else "\\" + chr(b) if b in b'"\\' else f"\\x{b:02x}"
                   for b in value.encode())


docker_texts = st.one_of(
    st.builds(lambda when, path, query, status, agent, referrer, apache: (
        f'192.0.2.1 - - [{when.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET {_target(path, query)} HTTP/1.1" '
        + (f'{status} 5 "{_apache_escaped(referrer)}" "{_apache_escaped(agent)}"' if apache else
           f'{status} 5 "{_nginx_escaped(referrer)}" "{_nginx_escaped(agent)}"') + "\n"),
        instants, paths, queries, st.integers(100, 599), text, text, st.booleans()),
    st.sampled_from([
        "/docker-entrypoint.sh: Configuration complete; ready for start up\n",  # the image's own news
        "2026/11/29 22:25:13 [notice] 1#1: signal process started\n",
        '192.0.2.1 - - [29/Nov/2026:16:25:14 +0000] "GET /listing/1 HTTP/1.1" 200 5 "-" "cut here',  # a part
        "\n",  # a blank line
        'a "stray" quote\n',
        '192.0.2.1 - - [29/Nov/2026:16:25:14 +0000] "GET /a HTTP/1.1" 200 5 "-" "M"\r\n',  # CRLF
        '192.0.2.1 - - [29/Nov/2026:16:25:14 +0000] "GET /a HTTP/1.1" 200 5 "-" "M" "extra" "more"\n',
    ]),
    text.map(lambda t: t + "\n"),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(docker_texts, min_size=1, max_size=12))
def test_docker_texts_cut_at_their_quotes_read_as_the_line_regex_reads_them(texts: list[str]) -> None:
    """The quote split of Docker's decoded texts (``LogFormat.inner``) gives every line the fields and reason
    that decoding each line and cutting it by the line regex gives: the slower path, which it replaces."""
    lines = [docker_line(t) for t in texts]
    fmt = formats.get("docker:combined")
    assert fmt.inner is not None
    batch = batch_of("t.log", 1, "\n".join(lines).encode())
    fast = parse_batch(batch, fmt).sort("line_no")
    slow = parse_batch(batch, replace(fmt, inner=None)).sort("line_no")
    # (``line`` is null on a line the split cut, as on any format's: only the lines it leaves need their text)
    assert sorted(fast.columns) == sorted(slow.columns)
    assert fast.drop("line").to_dicts() == slow.select(fast.drop("line").columns).to_dicts()
    assert all(a in (None, b) for a, b in zip(fast.get_column("line"), slow.get_column("line"), strict=True))
