"""The HTML report opened in headless Chromium, as a reader would: charts and tables render, the
console stays silent, it prints, and a screenshot is kept under the pytest tmp dir."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from planner.report.html_out import to_html
from tests.test_report_formats import bundled_inputs, example_frontier, example_plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]

# Appended to a copy of the page: measures what the browser actually laid out.
PROBE = """<script>(function(){
  var out = {title: document.title, charts: [], tables: []};
  document.querySelectorAll('svg.chart').forEach(function(s){
    var r = s.getBoundingClientRect();
    out.charts.push({cls: s.getAttribute('class'), w: r.width, h: r.height,
      marks: s.querySelectorAll('rect.bar, circle.point, polyline.series').length});
  });
  document.querySelectorAll('table').forEach(function(t){
    var r = t.getBoundingClientRect();
    out.tables.push({id: t.closest('section').id, rows: t.rows.length, w: r.width, h: r.height});
  });
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.style.display = 'none';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
})();</script>"""


def browse(tmp_path: Path, page: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{name}"
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def console(stderr: str) -> list[str]:
    """Messages the page wrote to the browser console (Chromium logs them as ...:CONSOLE...)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def probe(stdout: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r'<pre id="probe"[^>]*>(.*?)</pre>', stdout, re.S)
    assert match, "the probe did not run"
    return json.loads(match.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def test_report_renders_in_chromium_with_a_silent_console(tmp_path):
    catalog, workload = bundled_inputs()
    pages = {
        "plan": to_html(example_plan(), catalog, workload),
        "frontier": to_html(example_frontier(), catalog, workload),
    }
    jobs = {}
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html)
        probed = tmp_path / f"{name}-probe.html"  # the page plus a hidden probe; looks the same
        probed.write_text(html.replace("</body>", PROBE + "</body>"))
        jobs[name] = (
            probed,
            (
                "--window-size=1280,2400",
                f"--screenshot={tmp_path / (name + '.png')}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={tmp_path / (name + '.pdf')}",
                "--dump-dom",
            ),
        )
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><body><script>console.error('control-marker')</script></body></html>")
    jobs["control"] = (control, ("--dump-dom",))
    with ThreadPoolExecutor(max_workers=1) as pool:  # chromium launches slow each other down
        runs = {key: pool.submit(browse, tmp_path, page, key, *args) for key, (page, args) in jobs.items()}
        done = {key: future.result() for key, future in runs.items()}

    # the console check can see errors: the control page's message is caught
    assert any("control-marker" in line for line in console(done["control"].stderr))
    for key, run in done.items():
        if key != "control":
            assert console(run.stderr) == [], f"{key}: console messages {console(run.stderr)}"

    plan = probe(done["plan"].stdout)
    assert plan["title"] == "Fleet plan: state-cloud-qwen72b-serving"
    assert [c["cls"] for c in plan["charts"]] == ["chart cost-chart"]
    tables = {t["id"]: t for t in plan["tables"]}
    assert {"t-summary", "t-fleet", "t-cost-lines-usd", "t-constraints", "t-data-sources"} <= set(tables)
    assert tables["t-fleet"]["rows"] == len(example_plan().line_items) + 1
    frontier = probe(done["frontier"].stdout)
    assert [c["cls"] for c in frontier["charts"]] == ["chart frontier-chart", "chart mix-chart"]
    for chart in plan["charts"] + frontier["charts"]:
        assert chart["w"] > 800 and chart["h"] > 120 and chart["marks"] > 0, chart
    for table in plan["tables"] + frontier["tables"]:
        assert table["rows"] > 1 and table["w"] > 300 and table["h"] > 40, table

    for name in pages:
        shot = tmp_path / f"{name}.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
        pdf = (tmp_path / f"{name}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and 1 <= len(re.findall(rb"/Type\s*/Page\b", pdf)) <= 12
