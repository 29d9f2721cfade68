"""The same log in four formats: is every custom-format path as fast, and as exact?

    python benchmarks/formats.py [--lines 1000000] [--workdir /tmp/logtrack-bench]

Writes the generated combined log again as nginx's `main` format, as nginx
JSON (escape=json) and as an Apache LogFormat with `%{Host}i %D`, runs
`logtrack xml` on each (whole process, best of --repeat), and checks that
all four documents are identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import rewritten_setup, run_measured  # noqa: E402

QUOTED = r'((?:[^"\\]|\\.)*)'
COMBINED = (rf'^(\S+) \S+ \S+ \[([^\]]+)\] "{QUOTED}" (\S+) (\S+) "{QUOTED}" "{QUOTED}"$')
FORMATS = {
    "combined": "combined",
    "nginx main": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                  '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"',
    "nginx JSON": '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request",'
                  '"status":$status,"referer":"$http_referer","ua":"$http_user_agent"}',
    "Apache LogFormat": '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %{Host}i %D',
}


def rewrite(log: Path, work: Path) -> dict[str, Path]:
    """The combined log written in each format (setup, not measured)."""
    lines = pl.read_csv(log, separator="\x1f", quote_char=None, has_header=False, new_columns=["line"],
                        schema={"line": pl.String})
    f = lines.select(pl.col("line").str.extract_groups(COMBINED)).unnest("line")
    f.columns = ["client", "time", "request", "status", "bytes", "referer", "ua"]
    if f.get_column("client").null_count():
        sys.exit("the generated log has lines this script cannot rewrite")
    out = {"combined": log}
    main = pl.concat_str(pl.col("client"), pl.lit(" - - ["), pl.col("time"), pl.lit('] "'), pl.col("request"),
                         pl.lit('" '), pl.col("status"), pl.lit(" "), pl.col("bytes"), pl.lit(' "'),
                         pl.col("referer"), pl.lit('" "'), pl.col("ua"), pl.lit('" "-"'))
    apache = pl.concat_str(pl.col("client"), pl.lit(" - - ["), pl.col("time"), pl.lit('] "'), pl.col("request"),
                           pl.lit('" '), pl.col("status"), pl.lit(" "), pl.col("bytes"), pl.lit(' "'),
                           pl.col("referer"), pl.lit('" "'), pl.col("ua"), pl.lit('" www.example.com 1234'))
    # JSON holds the text as the server saw it: the \" escapes of the text formats are undone.
    def plain(name: str) -> pl.Expr:
        return pl.col(name).str.replace_all('\\"', '"', literal=True)

    iso = pl.col("time").str.strptime(pl.Datetime("us", "UTC"), "%d/%b/%Y:%H:%M:%S %z")
    offset = pl.col("time").str.slice(-5)
    json_line = pl.struct(
        time=(iso.dt.replace_time_zone(None) + pl.duration(
            hours=offset.str.slice(0, 3).cast(pl.Int32), minutes=offset.str.slice(3, 2).cast(pl.Int32)
            * pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
        )).dt.strftime("%Y-%m-%dT%H:%M:%S") + offset.str.slice(0, 3) + ":" + offset.str.slice(3, 2),
        remote_addr=pl.col("client"), request=plain("request"), status=pl.col("status").cast(pl.Int64),
        referer=plain("referer"), ua=plain("ua"),
    ).struct.json_encode()
    for name, expr in (("nginx main", main), ("nginx JSON", json_line), ("Apache LogFormat", apache)):
        path = _rewritten(log, work, name)
        f.select(expr.alias("line")).write_csv(path, include_header=False, quote_style="never")
        out[name] = path
    return out


def _rewritten(log: Path, work: Path, name: str) -> Path:
    return work / f"{log.stem}-{name.replace(' ', '-')}.log"


def main() -> None:
    args, work, log, conf, logtrack = rewritten_setup(__doc__ or "", __file__, rewrite)
    documents = {}
    for name in FORMATS:
        path = log if name == "combined" else _rewritten(log, work, name)
        out = work / f"out-{name.replace(' ', '-')}.xml"
        cmd = [logtrack, "xml", str(path), "--config", str(conf), "--format", FORMATS[name], "-q", "-o", str(out)]
        best = min(run_measured(cmd) for _ in range(args.repeat))
        documents[name] = out.read_bytes()
        print(f"{name:18} {best[0]:6.2f} s  {args.lines / best[0]:10,.0f} lines/s  peak RSS {best[1]:,} MiB",
              flush=True)
    same = len(set(documents.values())) == 1
    print("identical XML from all formats" if same else "THE FORMATS GAVE DIFFERENT XML")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
