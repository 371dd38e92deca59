/*
 * page.c - the page's frame: head with its Content-Security-Policy, the
 * style sheet, the one script, the header and the footer
 *
 * The style sheet and the script are constants: nothing from a server
 * ever goes into them.  The policy names their SHA-256 hashes (computed
 * here, from the very bytes written), allows nothing else (default-src
 * 'none'), so an injected script, handler, style, image or frame could not
 * run or load even if escaping failed somewhere.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#ifndef PGA_VERSION
#define PGA_VERSION "0.0.0"
#endif

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
	"color:#1d2330;background:#f4f5f7}"
	"header,main,footer{max-width:1232px;margin:0 auto;padding:0 12px;box-sizing:border-box}"
	"header{padding-top:10px}h1{font-size:22px;margin:6px 0}"
	"h2{font-size:18px;margin:12px 0 8px}h3{font-size:16px;margin:22px 0 6px;"
	"border-bottom:1px solid #d5dae3}h4{font-size:14px;margin:14px 0 4px}"
	".sub{font-weight:normal;color:#5b6475;font-size:14px}"
	"section{background:#fff;padding:6px 14px 14px;margin:14px 0;border-radius:6px;"
	"box-shadow:0 1px 2px rgba(0,0,0,.1)}"
	"table{border-collapse:collapse;width:100%;table-layout:fixed;margin:4px 0 8px}"
	"th,td{padding:3px 6px;border-bottom:1px solid #e6e9ef;text-align:left;"
	"vertical-align:top;overflow-wrap:anywhere}"
	"th{background:#eef1f5;font-weight:600}"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
	"table.facts{width:auto;table-layout:auto}table.facts th{background:none;"
	"font-weight:normal;color:#5b6475}"
	"table.sortable th{cursor:pointer}"
	"table.stmts th:nth-child(1){width:28px}table.stmts th:nth-child(2){width:9%}"
	"table.stmts th:nth-child(n+3):nth-child(-n+7){width:7.5%}"
	"table.stmts th:nth-child(8){width:128px}"
	".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:10px}"
	"figure.chart{margin:0;border:1px solid #e6e9ef;border-radius:4px;padding:6px;min-width:0}"
	"figcaption{font-weight:600;margin-bottom:2px}"
	"svg.chart{width:100%;height:auto;display:block}"
	"svg text{font:11px sans-serif;fill:#5b6475}"
	"svg .yl,svg .tz,svg .xl.last{text-anchor:end}svg .xl{text-anchor:middle}"
	"svg .xl.first{text-anchor:start}svg .lg{fill:#1d2330}"
	"svg .grid{stroke:#e6e9ef;stroke-width:1}"
	"path{fill:none;stroke-width:1.6;stroke-linejoin:round}"
	"path.s0{stroke:#2563eb}circle.s0,rect.s0{fill:#2563eb}"
	"path.s1{stroke:#dc2626}circle.s1,rect.s1{fill:#dc2626}"
	"path.s2{stroke:#16a34a}circle.s2,rect.s2{fill:#16a34a}"
	"path.s3{stroke:#9333ea}circle.s3,rect.s3{fill:#9333ea}"
	"path.s4{stroke:#ea580c}circle.s4,rect.s4{fill:#ea580c}"
	"path.s5{stroke:#0891b2}circle.s5,rect.s5{fill:#0891b2}"
	"svg.spark{width:120px;height:24px;display:block}path.sp{stroke:#2563eb;stroke-width:1.2}"
	"circle.sp{fill:#2563eb}"
	"code.sql,pre.sql{font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;"
	"overflow-wrap:anywhere}"
	"pre.sql{max-height:420px;overflow:auto;background:#f3f4f6;padding:6px;margin:4px 0}"
	"details summary{cursor:pointer;color:#2563eb;font-size:12px}"
	"td.val{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}"
	".nodata{color:#6b7280;font-style:italic}.error{color:#b91c1c}"
	".warn{background:#fff7e6;border-left:3px solid #f59e0b;padding:4px 8px}"
	".note{color:#5b6475;font-size:12px}td.bad{color:#b91c1c;font-weight:600}"
	"tr.grp td{border-top:2px solid #c7cdd8}"
	"nav ul{columns:2;margin:4px 0}footer{color:#5b6475;font-size:12px;padding-bottom:20px}";

/* Sorting by a column: numbers by their data-v, the rest as text. */
static const char script[] =
	"(function(){'use strict';"
	"function key(c){var v=c.getAttribute('data-v');"
	"return v!==null&&v!==''&&!isNaN(v)?parseFloat(v):null;}"
	"document.querySelectorAll('table.sortable').forEach(function(t){"
	"if(!t.tHead||!t.tBodies.length)return;"
	"Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){"
	"th.title='sort';th.addEventListener('click',function(){"
	"var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);"
	"var d=th.getAttribute('data-dir')==='desc'?1:-1;"
	"th.setAttribute('data-dir',d>0?'asc':'desc');"
	"rows.sort(function(x,y){var a=x.cells[i],c=y.cells[i];if(!a||!c)return 0;"
	"var ka=key(a),kc=key(c);if(ka!==null&&kc!==null)return d*(ka-kc);"
	"if(ka!==null||kc!==null)return ka===null?1:-1;"
	"return d*a.textContent.localeCompare(c.textContent);});"
	"rows.forEach(function(r){b.appendChild(r);});});});});})();";

void
page_head(struct rctx *x)
{
	char sh[HTML_CSP_HASH_MAX], ch[HTML_CSP_HASH_MAX], a[40], b[40], now[40];

	html_csp_hash(style, sh);
	html_csp_hash(script, ch);
	fmt_time(x->since, a, sizeof(a));
	fmt_time(x->until, b, sizeof(b));
	fmt_time(x->now, now, sizeof(now));
	html_fmt(x->h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
		 " script-src %s; style-src %s; img-src 'none'; base-uri 'none';"
		 " form-action 'none'\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		 "<meta name=\"referrer\" content=\"no-referrer\">\n"
		 "<meta name=\"generator\" content=\"pga " PGA_VERSION "\">\n"
		 "<title>pga report, %s to %s</title>\n<style>", ch, sh, a, b);
	html_raw(x->h, style);
	html_fmt(x->h, "</style></head>\n<body><header><h1>pga report</h1>\n<p>Window: <b"
		 " id=\"since\" data-v=\"%" PRId64 "\">%s</b> to <b id=\"until\" data-v=\"%" PRId64
		 "\">%s</b>. Generated %s by pga " PGA_VERSION " from schema ", x->since, a,
		 x->until, b, now);
	html_text(x->h, x->o->schema ? x->o->schema : "pga");
	html_raw(x->h, ".");
	if (x->o->ncollectors > 0) {
		html_raw(x->h, " Collectors:");
		for (size_t i = 0; i < x->o->ncollectors; i++) {
			html_raw(x->h, i ? ", " : " ");
			html_text(x->h, x->o->collectors[i]);
		}
		html_raw(x->h, ".");
	}
	if (x->o->nservers > 0) {
		html_raw(x->h, " Servers:");
		for (size_t i = 0; i < x->o->nservers; i++) {
			html_raw(x->h, i ? ", " : " ");
			html_text(x->h, x->o->servers[i]);
		}
		html_raw(x->h, ".");
	}
	html_raw(x->h, "</p></header>\n<main>\n");
}

void
page_foot(struct rctx *x, const struct report_summary *sum)
{
	html_fmt(x->h, "</main>\n<footer><p>%d server section%s, %d chart%s, %d queries in %.2f s."
		 " Counters are sampled at the last snapshot of each chart interval and each value"
		 " is the difference from the sample before; a reset counts from zero. pga's own"
		 " statements (marked /* pga */ after their first word) are left out of the"
		 " rankings.</p>"
		 "</footer>\n<script>", sum->servers, sum->servers == 1 ? "" : "s", sum->charts,
		 sum->charts == 1 ? "" : "s", x->q.queries, x->q.seconds);
	html_raw(x->h, script);
	html_raw(x->h, "</script>\n</body></html>\n");
}
