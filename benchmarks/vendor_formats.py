"""The proxies', load balancers' and CDNs' formats: as fast as combined, and the same counts?

    python benchmarks/vendor_formats.py [--lines 1000000] [--workdir /tmp/logtrack-bench]

Writes the generated combined log again in each vendor format logtrack
reads (Traefik, HAProxy with its captured headers, AWS ALB and ELB, CloudFront, IIS,
Caddy, Traefik JSON, Cloudflare, Google Cloud, Akamai, Azure Front Door (every tenth request
logged by origin shield too), Kubernetes' and Docker's
container logs, an Envoy format, Nginx Proxy Manager, Caddy's JSON in Kubernetes' and Docker's
container logs), the same requests with the same times,
agents and referrers, each as its vendor writes them; runs `logtrack xml`
on each (whole process, best of --repeat) and prints wall seconds, lines/s
and CPU µs a line (user + sys). Every format's XML must equal combined's,
except ALB's and ELB's, which log no referrer: their views per listing and day must.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote_plus

import polars as pl

from logtrack.formats.w3c import CLOUDFRONT_FIELDS, IIS_FIELDS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from formats import COMBINED  # noqa: E402
from run import rewritten_setup, run_measured  # noqa: E402

NAMES = ["combined", "traefik", "haproxy", "alb", "elb", "cloudfront", "w3c", "caddy", "traefik_json", "cloudflare",
         "gcp", "akamai", "azure_front_door", "cri", "docker", "envoy", "nginx_proxy_manager", "cri-caddy",
         "docker-caddy", "caddy_console"]
ENVOY_OWN = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
             '%RESPONSE_FLAGS% %DURATION% "%REQ(REFERER)%" "%REQ(USER-AGENT)%" "%REQ(:AUTHORITY)%"')
# HAProxy's captured headers, as the config names them; Envoy's own format, with a referrer in it
SPECS = {"haproxy": "haproxy:Host,Referer,User-Agent", "cri": "cri:combined", "docker": "docker:combined",
         "envoy": ENVOY_OWN, "cri-caddy": "cri:caddy", "docker-caddy": "docker:caddy"}


def rewrite(log: Path, work: Path) -> None:
    """The combined log in every vendor format (setup, not measured)."""
    lines = pl.read_csv(log, separator="\x1f", quote_char=None, has_header=False, new_columns=["line"],
                        schema={"line": pl.String})
    f = lines.select(pl.col("line").str.extract_groups(COMBINED)).unnest("line")
    f.columns = ["client", "time", "request", "status", "bytes", "referer", "ua"]

    def plain(name: str) -> pl.Expr:  # the text as the client sent it: Apache's \" undone
        return pl.col(name).str.replace_all('\\"', '"', literal=True).str.replace_all("\\\\", "\\", literal=True)

    f = f.with_columns(
        ts=pl.col("time").str.strptime(pl.Datetime("us", "UTC"), "%d/%b/%Y:%H:%M:%S %z"),
        method=pl.col("request").str.split(" ").list.get(0, null_on_oob=True),
        target=pl.col("request").str.split(" ").list.get(1, null_on_oob=True),
        proto=pl.col("request").str.split(" ").list.get(2, null_on_oob=True),
        ref=plain("referer"), agent=plain("ua"),
    ).with_columns(path=pl.col("target").str.split("?").list.get(0, null_on_oob=True),
                   query=pl.col("target").str.splitn("?", 2).struct.field("field_1"))
    lit, col = pl.lit, pl.col
    utc_wall = col("ts").dt.strftime("%d/%b/%Y:%H:%M:%S") + lit(".000")

    def hap(name: str) -> pl.Expr:
        out = col(name)
        for char, code in (("#", "#23"), ('"', "#22"), ("{", "#7B"), ("|", "#7C"), ("}", "#7D")):
            out = out.str.replace_all(char, code, literal=True)
        return out

    def form(name: str) -> pl.Expr:  # as Akamai writes agents and referrers: + for a space, %XX for the rest
        return col(name).map_batches(lambda s: pl.Series([quote_plus(v, safe="") for v in s.to_list()]),
                                     return_dtype=pl.String)

    def dash(expr: pl.Expr) -> pl.Expr:  # W3C logs write an empty value as "-"
        return pl.when(expr == "").then(lit("-")).otherwise(expr)

    def url(name: str) -> pl.Expr:
        return dash(col(name)).str.replace_all("%", "%25", literal=True).str.replace_all(" ", "%20", literal=True) \
            .str.replace_all("\t", "%09", literal=True)

    query = pl.when(col("query").is_null() | (col("query") == "")).then(lit("-")).otherwise(col("query"))
    nanos = col("ts").dt.epoch("ns").cast(pl.String)
    stamp = col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
    caddy = pl.struct(
        level=lit("info"), ts=col("ts").dt.epoch("us").cast(pl.Float64) / 1e6, logger=lit("http.log.access"),
        request=pl.struct(remote_ip=col("client"), proto=col("proto"), method=col("method"),
                          host=lit("www.example.com"), uri=col("target"),
                          headers=pl.struct(pl.concat_list(col("agent")).alias("User-Agent"),
                                            pl.concat_list(col("ref")).alias("Referer"))),
        status=col("status").cast(pl.Int64), size=col("bytes").cast(pl.Int64, strict=False),
    ).struct.json_encode()

    def afd(from_client: bool) -> pl.Expr:  # Azure Front Door's record of a request, the edge's or the shield's
        return pl.struct(
            time=col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f") + lit("0Z"), category=lit("FrontDoorAccessLog"),
            properties=pl.struct(
                httpMethod=col("method"), requestUri=lit("https://www.example.com:443") + col("target"),
                hostName=lit("www.example.com"), httpStatusCode=col("status"), clientIp=col("client"),
                userAgent=col("agent"), referer=col("ref"), isReceivedFromClient=lit(from_client)),
        ).struct.json_encode()

    lines_of = {
        "traefik": pl.concat_str(col("line"), lit(' 1 "web@docker" "http://10.0.0.2:80" 3ms')),
        "haproxy": pl.concat_str(
            col("client"), lit(":41342 ["), utc_wall, lit("] fe be/s1 0/0/1/2/3 "), col("status"), lit(" "),
            col("bytes"), lit(" - - ---- 1/1/1/1/0 0/0 {www.example.com|"), hap("ref"), lit("|"), hap("agent"),
            lit('} "'), col("request"), lit('"')),
        "alb": pl.concat_str(
            lit("https "), col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"), lit(" app/lb/50dc6c495c0c9188 "),
            col("client"), lit(":2817 10.0.0.1:80 0.000 0.001 0.000 "), col("status"), lit(" "), col("status"),
            lit(" 34 "), col("bytes"), lit(' "'), col("method"), lit(" https://www.example.com:443"),
            col("target"), lit(" "), col("proto"), lit('" "'), col("ua"),
            lit('" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:x "Root=1-58337262" "-" "-" 0 '),
            col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"),
            lit(' "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"')),
        "elb": pl.concat_str(
            col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"), lit(" my-loadbalancer "), col("client"),
            lit(":2817 10.0.0.1:80 0.000073 0.001048 0.000057 "), col("status"), lit(" "), col("status"), lit(" 0 "),
            col("bytes"), lit(' "'), col("method"), lit(" https://www.example.com:443"), col("target"), lit(" "),
            col("proto"), lit('" "'), col("ua"), lit('" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2')),
        "cloudfront": pl.concat_str(
            col("ts").dt.strftime("%Y-%m-%d\t%H:%M:%S"), lit("\tLAX1\t"), col("bytes"), lit("\t"), col("client"),
            lit("\t"), col("method"), lit("\td111111abcdef8.cloudfront.net\t"), col("path"), lit("\t"),
            col("status"), lit("\t"), url("ref"), lit("\t"), url("agent"), lit("\t"), query,
            lit("\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms\twww.example.com\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE\t"
                "Hit\tHTTP/1.1\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-")),
        "w3c": pl.concat_str(
            col("ts").dt.strftime("%Y-%m-%d %H:%M:%S"), lit(" 10.0.0.4 "), col("method"), lit(" "), col("path"),
            lit(" "), query, lit(" 443 - "), col("client"), lit(" "),
            dash(col("agent").str.replace_all(" ", "+", literal=True)), lit(" "),
            dash(col("ref").str.replace_all(" ", "+", literal=True)), lit(" "), col("status"), lit(" 0 0 46")),
        "caddy": caddy,
        # Caddy's format console: the time (wall_milli, UTC), the level, logger and message before the JSON
        "caddy_console": pl.concat_str(
            col("ts").dt.strftime("%Y/%m/%d %H:%M:%S%.3f"), lit("\tINFO\thttp.log.access.log0\thandled request\t"),
            caddy.str.replace(r'"level":"info","ts":[0-9.e+-]+,"logger":"http.log.access",', "")),
        # Caddy in a container: its JSON on stderr, as the kubelet and Docker file it
        "cri-caddy": pl.concat_str(stamp, lit(" stderr F "), caddy),
        "docker-caddy": pl.struct(log=caddy + lit("\n"), stream=lit("stderr"), time=stamp).struct.json_encode(),
        "traefik_json": pl.struct(
            col("ref").alias("request_Referer"), col("agent").alias("request_User-Agent"),  # (not identifiers)
            ClientHost=col("client"), DownstreamStatus=col("status").cast(pl.Int64),
            RequestHost=lit("www.example.com"), RequestMethod=col("method"), RequestPath=col("target"),
            RequestProtocol=col("proto"), StartUTC=col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"),
        ).struct.json_encode(),
        "cloudflare": pl.struct(
            ClientIP=col("client"), ClientRequestHost=lit("www.example.com"), ClientRequestMethod=col("method"),
            ClientRequestURI=col("target"), ClientRequestReferer=col("ref"), ClientRequestUserAgent=col("agent"),
            EdgeResponseStatus=col("status").cast(pl.Int64), EdgeStartTimestamp=nanos.cast(pl.Int64),
        ).struct.json_encode(),
        "gcp": pl.struct(
            httpRequest=pl.struct(requestMethod=col("method"),
                                  requestUrl=lit("https://www.example.com") + col("target"),
                                  status=col("status").cast(pl.Int64), userAgent=col("agent"),
                                  referer=col("ref"), remoteIp=col("client"), protocol=col("proto")),
            severity=lit("INFO"), timestamp=col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"),
        ).struct.json_encode(),
        "akamai": pl.struct(
            version=lit("1"), reqTimeSec=col("ts").dt.epoch("s").cast(pl.String), statusCode=col("status"),
            reqMethod=col("method"), reqHost=lit("www.example.com"), reqPath=col("path"), queryStr=col("query"),
            cliIP=col("client"), UA=form("agent"), referer=form("ref"),
        ).struct.json_encode(),
        # every 10th request answered by origin shield: its record too, which must not count again
        "azure_front_door": pl.concat_str(afd(True), pl.when(pl.int_range(pl.len()) % 10 == 0).then(
            lit("\n") + afd(False)).otherwise(lit(""))),
        "cri": pl.concat_str(stamp, lit(" stdout F "), col("line")),
        "docker": pl.struct(log=col("line") + lit("\n"), stream=lit("stdout"), time=stamp).struct.json_encode(),
        # (Envoy writes a header as it came; the log's own escaping is kept, so that a quote stays one field's)
        "envoy": pl.concat_str(
            lit("["), col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"), lit('] "'), col("request"), lit('" '),
            col("status"), lit(' - 3 "'), col("referer"), lit('" "'), col("ua"), lit('" "www.example.com"')),
        "nginx_proxy_manager": pl.concat_str(
            lit("["), col("time"), lit("] - 200 "), col("status"), lit(" - "), col("method"),
            lit(" https www.example.com \""), col("target"), lit('" [Client '), col("client"), lit("] [Length "),
            col("bytes"), lit('] [Gzip -] [Sent-to 10.0.0.5] "'), col("ua"), lit('" "'), col("referer"), lit('"')),
    }
    f = f.with_columns(line=lines.get_column("line"))
    for name, expr in lines_of.items():
        path = work / f"{log.stem}-{name}.log"
        body = f.select(expr.alias("line"))
        with open(path, "wb") as fh:
            if name == "cloudfront":
                fh.write(b"#Version: 1.0\n#Fields: " + CLOUDFRONT_FIELDS.encode() + b"\n")
            if name == "w3c":
                fh.write(b"#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
                         b"#Fields: " + IIS_FIELDS.encode() + b"\n")
            body.write_csv(fh, include_header=False, quote_style="never")


def views(xml: bytes) -> dict[tuple[str, str], int]:
    """Views per (day, listing) of a ViewTracking document, whatever the supplier."""
    from lxml import etree

    out: dict[tuple[str, str], int] = {}
    for view in etree.fromstring(xml).iter("View"):
        for listing in view.iter("Listing"):
            key = (view.findtext("ViewDate") or "", listing.findtext("ListingId") or "")
            out[key] = out.get(key, 0) + int(listing.findtext("ViewCount") or 0)
    return out


def main() -> None:
    args, work, log, conf, logtrack = rewritten_setup(__doc__ or "", __file__, rewrite)
    # HAProxy's time has no offset: the rewritten one is UTC, and this config says so
    utc = work / "logtrack-utc.toml"
    utc.write_text(conf.read_text().replace("[logs]\n", '[logs]\nlog_timezone = "UTC"\n', 1))
    documents = {}
    for name in NAMES:
        path = log if name == "combined" else work / f"{log.stem}-{name}.log"
        out = work / f"out-{name}.xml"
        cmd = [logtrack, "xml", str(path), "--config", str(utc), "--format", SPECS.get(name, name), "-q",
               "-o", str(out)]
        best = min(run_measured(cmd) for _ in range(args.repeat))
        documents[name] = out.read_bytes()
        print(f"{name:13} {best[0]:6.2f} s  {args.lines / best[0]:10,.0f} lines/s  "
              f"{best[3] / args.lines * 1e6:5.2f} µs CPU a line  peak RSS {best[1]:,} MiB", flush=True)
    no_referrer = ("alb", "elb")
    differ = [name for name in NAMES if name not in no_referrer and documents[name] != documents["combined"]]
    same = [name for name in no_referrer
            if views(documents[name]) == views(documents["combined"]) and views(documents[name])]
    print("identical XML from every format but alb and elb" if not differ else f"DIFFERENT XML: {', '.join(differ)}")
    print("alb, elb: the same views per day and listing (no referrer, so no supplier)" if len(same) == len(no_referrer)
          else f"{', '.join(sorted(set(no_referrer) - set(same)))}: DIFFERENT VIEWS")
    if differ or len(same) != len(no_referrer):
        sys.exit(1)


if __name__ == "__main__":
    main()
