"""The trend of servers needing action over the last runs, drawn as inline SVG bars (no
external resource, readable in grey print) with its values in words beside it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from remediate.report.reporter import TrendPoint
from remediate.report.status_view import NEEDS_ACTION, host_standing
from remediate.rules.findings import NON_COMPLIANT
from remediate.rules.results import AuditRun

TREND_RUNS = 12
"""Runs the trend chart shows, the newest last."""


def trend_point(run: AuditRun) -> TrendPoint:
    """This run's point: servers needing action of the servers audited."""
    needing = sum(host_standing(r) == NEEDS_ACTION for r in run.results)
    return TrendPoint(run.run_id, run.started, needing, len(run.results))


def trend_point_from_document(document: dict[str, Any]) -> TrendPoint:
    """The trend point of a stored run document (as `History.document` returns it)."""
    action = {s.value for s in NON_COMPLIANT}
    hosts = document.get("hosts") or []
    needing = sum(
        any(f.get("status") in action for f in host.get("findings") or []) for host in hosts
    )
    return TrendPoint(str(document.get("run_id", "")), _started(document), needing, len(hosts))


def _started(document: dict[str, Any]) -> datetime:
    """When the stored run started, in UTC; a document without a readable time sorts first."""
    try:
        moment = datetime.fromisoformat(str(document.get("started")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def trend_chart(run: AuditRun, trend: Sequence[TrendPoint]) -> dict[str, Any] | None:
    """The bar chart's geometry and its text alternative; None with fewer than two runs."""
    points = {p.run_id: p for p in trend}
    points[run.run_id] = trend_point(run)
    shown = sorted(points.values(), key=lambda p: p.started)[-TREND_RUNS:]
    if len(shown) < 2:
        return None
    width, height, top, bottom, left = 640, 170, 22, 34, 34
    scale = max(max(p.hosts for p in shown), 1)
    slot = (width - left) / len(shown)
    plot = height - top - bottom
    # Runs of a day (hourly cron, a demo run twice) are told apart by their time.
    days = [f"{p.started:%m-%d}" for p in shown]
    tick = "%H:%M" if len(set(days)) < len(days) else "%m-%d"
    bars = []
    for index, point in enumerate(shown):
        bar = round(plot * point.needs_action / scale, 1)
        x = round(left + index * slot + slot * 0.2, 1)
        bars.append(
            {
                "x": x,
                "y": round(top + plot - bar, 1),
                "width": round(slot * 0.6, 1),
                "height": bar,
                "middle": round(x + slot * 0.3, 1),
                "label": f"{point.needs_action}/{point.hosts}",
                "date": point.started.strftime(tick),
                "when": f"{point.started:%Y-%m-%d %H:%M}",
                "run_id": point.run_id,
                "needs_action": point.needs_action,
                "hosts": point.hosts,
                "current": point.run_id == run.run_id,
            }
        )
    return {
        "width": width,
        "height": height,
        "axis_y": top + plot,
        "left": left,
        "top": top,
        "scale": scale,
        "bars": bars,
    }
