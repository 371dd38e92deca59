#!/usr/bin/python3
"""report_data.py - the numbers a pga report page holds, as JSON

usage: report_data.py PAGE.html > data.json

Reads what pga report marks for machines (data-* attributes) with the
standard library's HTML parser, so tests compare the page with SQL:

  since, until        the window (microseconds)
  csp                 the Content-Security-Policy meta
  script, style       the inline script's and style's text
  scripts             how many <script> elements there are
  collectors          [{collector id: {key: value}}] from the collectors table
  servers             {section id: {
                        "charts": {chart id: [{"label", "t": [...], "v": [...]}]},
                        "points": {chart id: data-points},
                        "rankings": {ranking: [{"queryid", "userid", "dbid", key: value}]},
                        "lists": {list: [[cell text, ...], ...]},
                        "values": {list: [{key: value}, ...]},
                        "notes": {data-k: data-v},
                        "nodata": [message, ...], "errors": [message, ...]}}
"""
import json
import sys
from html.parser import HTMLParser


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = {"servers": {}, "collectors": {}, "scripts": 0, "script": "", "style": ""}
        self.server = None
        self.chart = None
        self.label = None
        self.ranking = None
        self.list = None
        self.row = None
        self.cell = None
        self.text_of = None     # "script", "style", "nodata", "error", "cell"
        self.buf = ""

    def srv(self):
        return self.out["servers"].setdefault(self.server or "", {
            "charts": {}, "points": {}, "rankings": {}, "lists": {}, "values": {},
            "notes": {}, "nodata": [], "errors": []})

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.out["csp"] = a.get("content")
        elif tag in ("script", "style"):
            self.out["scripts"] += tag == "script"
            self.text_of, self.buf = tag, ""
        elif tag == "b" and a.get("id") in ("since", "until"):
            self.out[a["id"]] = int(a["data-v"])
        elif tag == "section" and "server" in cls:
            self.server = a["id"]
            self.srv()
        elif tag == "svg" and "chart" in cls:
            self.chart = a["data-chart"]
            self.srv()["charts"][self.chart] = []
            self.srv()["points"][self.chart] = int(a["data-points"])
        elif tag == "g" and self.chart and "data-label" in a:
            self.label = a["data-label"]
        elif tag == "path" and self.chart and "data-t" in a:
            t = [int(x) for x in a["data-t"].split()]
            v = [float(x) for x in a["data-v"].split()]
            self.srv()["charts"][self.chart].append({"label": self.label, "t": t, "v": v})
        elif tag == "table" and "data-ranking" in a:
            self.ranking = a["data-ranking"]
            self.srv()["rankings"][self.ranking] = []
        elif tag == "table" and "data-list" in a:
            self.list = a["data-list"]
            if self.list == "collectors":
                pass
            else:
                self.srv()["lists"][self.list] = []
                self.srv()["values"][self.list] = []
        elif tag == "tr" and (self.ranking or self.list):
            self.row = {"cells": [], "values": {}}
            for k in ("data-queryid", "data-userid", "data-dbid", "data-toplevel", "data-collector"):
                if k in a:
                    self.row[k[5:]] = a[k]
        elif tag == "td" and self.row is not None:
            self.text_of, self.buf = "cell", ""
            if "data-k" in a:
                self.row["values"][a["data-k"]] = num(a.get("data-v"))
        elif tag == "p" and "data-k" in a:
            self.srv()["notes"][a["data-k"]] = num(a.get("data-v"))
            if "nodata" in cls:
                self.text_of, self.buf = "nodata", ""
        elif tag == "p" and ("nodata" in cls or "error" in cls):
            self.text_of, self.buf = "nodata" if "nodata" in cls else "error", ""

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.text_of == tag:
            self.out[tag] = self.buf
            self.text_of = None
        elif tag == "svg":
            self.chart = None
        elif tag == "g":
            self.label = None
        elif tag == "td" and self.text_of == "cell":
            self.row["cells"].append(self.buf.strip())
            self.text_of = None
        elif tag == "tr" and self.row is not None:
            if self.row["cells"]:
                self.finish_row()
            self.row = None
        elif tag == "table":
            self.ranking = self.list = None
        elif tag == "p" and self.text_of in ("nodata", "error"):
            self.srv()["nodata" if self.text_of == "nodata" else "errors"].append(self.buf.strip())
            self.text_of = None
        elif tag == "section" and self.server:
            self.server = None

    def finish_row(self):
        r = self.row
        if self.ranking:
            e = dict(r["values"])
            for k in ("queryid", "userid", "dbid", "toplevel"):
                e[k] = r.get(k)
            e["database"] = r["cells"][1]
            e["text"] = r["cells"][-1]
            self.srv()["rankings"][self.ranking].append(e)
        elif self.list == "collectors":
            self.out["collectors"][r["cells"][0]] = r["values"]
        elif self.list:
            self.srv()["lists"][self.list].append(r["cells"])
            self.srv()["values"][self.list].append(r["values"])

    def handle_data(self, data):
        if self.text_of:
            self.buf += data


def main():
    p = Page()
    with open(sys.argv[1], encoding="utf-8") as f:
        p.feed(f.read())
    p.close()
    json.dump(p.out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
