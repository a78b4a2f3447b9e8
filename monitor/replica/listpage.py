"""The list pages' own scripts, for the CDE and NMPA replicas (issue 11).

The real CDE list pages (``/zdyz/listpage/<id>``) load jQuery and layui and
request their list with ``$.ajax({type: 'post', …})``; the rows are drawn into
``table.layui-table`` and layui's ``laypage`` draws the pager in
``#pageDiv`` (docs/sources.md; RSSHub ``lib/routes/cde/zdyz.ts`` posts the same
form). The NMPA column pages call ``createPageHTML(pages, current, "index",
"html")`` from a shared script that writes the pager links. These replicas
carry small stand-ins for those scripts, written for the replica (not copied
from the sites): an ``$.ajax`` over ``XMLHttpRequest`` (so a Ruishu-style hook
on ``XMLHttpRequest.open`` signs it, as on the real site), a table, and a
pager whose "下一页" link asks for the next page. A page-driven reader then
sees exactly the requests a person's browser would make.

Unverified: the live pages' exact page size, pager markup and class names
(layui's defaults ``layui-laypage-next`` / ``layui-disabled`` are assumed).
"""

from __future__ import annotations

import json

__all__ = ["cde_list_script", "nmpa_pager_script"]

_CDE = """<script>
var $ = {ajax: function (o) {
  var x = new XMLHttpRequest();
  x.open(o.type.toUpperCase(), o.url, true);
  x.setRequestHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
  x.setRequestHeader("X-Requested-With", "XMLHttpRequest");
  x.onload = function () {
    if (x.status === 200) { try { o.success(JSON.parse(x.responseText)); } catch (e) {} }
  };
  var body = [];
  for (var k in o.data) body.push(encodeURIComponent(k) + "=" + encodeURIComponent(o.data[k]));
  x.send(body.join("&"));
}};
function getRootPath() { return window.location.pathname.split("/zdyz/")[0]; }
var listUrl = getRootPath() + "/zdyz/%(api)s";
var form = %(form)s;
function esc(t) { var d = document.createElement("div"); d.textContent = t; return d.innerHTML; }
function draw(res) {
  var data = res && res.data, rows = (data && data.records) || [], html = "";
  for (var i = 0; i < rows.length; i++) {
    html += "<tr><td>" + esc(rows[i].title || "") + "</td><td>" + esc(rows[i].issueDate || "")
      + "</td></tr>";
  }
  document.getElementById("guideTable").innerHTML = html;
  var cur = (data && data.current) || 1, pages = (data && data.pages) || 1;
  var pager = document.getElementById("pageDiv");
  pager.innerHTML = '<div class="layui-laypage"><span class="layui-laypage-count">共 '
    + ((data && data.total) || 0) + ' 条</span><a href="javascript:;" class="layui-laypage-next'
    + (cur >= pages ? ' layui-disabled' : '') + '">下一页</a></div>';
  var next = pager.querySelector("a.layui-laypage-next");
  next.onclick = function () { if (cur < pages) load(cur + 1); };
}
function load(n) {
  form.pageNum = n;
  $.ajax({url: listUrl, type: "post", data: form, success: draw});
}
load(1);
</script>"""

_NMPA = """<script>
function createPageHTML(pages, current, prefix, suffix) {
  var html = "";
  if (current > 0) {
    html += '<a href="' + (current === 1 ? prefix : prefix + "_" + (current - 1)) + "." + suffix
      + '">上一页</a> ';
  }
  html += "<span>" + (current + 1) + "/" + pages + "</span> ";
  if (current + 1 < pages) html += '<a href="' + prefix + "_" + (current + 1) + "." + suffix
    + '">下一页</a>';
  document.write(html);
}
</script>"""


def cde_list_script(api: str, form: dict[str, str]) -> str:
    """The list page's script: POST ``form`` to ``/zdyz/<api>`` by XHR, draw rows and pager."""
    return _CDE % {"api": api, "form": json.dumps(form, ensure_ascii=False)}


def nmpa_pager_script() -> str:
    """The shared ``createPageHTML`` that writes the column pager (上一页 / 下一页)."""
    return _NMPA
