"""One working call per MCP tool against the `sample_workspace` fixture (repository ``sample``).

The protocol tests call every listed tool with these arguments and fail if a tool has none:
when you add a tool, add its example here.
"""

from __future__ import annotations

from typing import Any

TOOL_EXAMPLES: dict[str, dict[str, Any]] = {
    "get_dora": {"period": "last_90_days", "repo": "sample"},
    "list_deployments": {"period": "last_90_days", "limit": 3},
    "list_incidents": {"period": "last_90_days"},
    "get_activity": {"from": "14d", "to": "now", "type": "commit", "limit": 5},
    "get_contributor_summary": {"contributor": "ada@example.com", "period": "last_90_days"},
    "list_repositories": {},
    "sync": {"repo": "sample"},
    "forecast_delivery": {"items": 10, "repo": "sample"},
    "forecast_backlog": {"backlog_size": 20, "repo": "sample"},
    "score_pr_risk": {"repo": "sample", "commit": "HEAD"},
    "list_risky_changes": {"period": "last_90_days", "repo": "sample", "limit": 5},
    "get_flow_metrics": {"period": "last_90_days", "repo": "sample"},
    "get_review_metrics": {"period": "last_30_days"},
    "get_value_stream": {"from": "90d", "to": "now"},
    "list_pull_requests": {"state": "all", "period": "last_30_days", "limit": 5},
    "list_stuck_pull_requests": {"min_hours": 12},
    "list_teams": {},
    "get_changelog": {"limit": 2, "repo": "sample", "items_per_entry": 3},
    "get_scorecard": {"repo": "sample", "period": "last_90_days"},
    "get_metric_series": {"metric": "lead_time", "period": "last_90_days", "repo": "sample"},
    "get_insights": {"repo": "sample", "limit": 5},
    "get_benchmarks": {"year": 2024, "repo": "sample"},
    "generate_report": {"audience": "team", "period": "last_30_days", "format": "slack", "repo": "sample"},
    "get_report": {"report_id": "latest"},
    "create_custom_metric": {"slug": "p90-lead-time", "label": "P90 Lead Time", "source": "lead_times",
                             "aggregation": "p90", "repo": "sample"},
    "list_custom_metrics": {},
    "query_custom_metric": {"slug": "p90-lead-time", "days": 90},
    "create_alert": {"metric": "change_failure_rate", "condition": {"operator": "gt", "threshold": 50},
                     "window": "7d", "severity": "high", "repo": "sample",
                     "actions": [{"type": "notify_webhook", "url": "http://127.0.0.1:9/hook", "secret": "whsec_test"}]},
    "list_alerts": {},
    # create_alert's example answers this id (derived from its definition), and the tools run in name order
    "delete_alert": {"alert_id": "alrt_a5975b41cdba74c0"},
    "get_health": {"repo": "sample", "period": "last_90_days"},
    "get_risk_signals": {"repo": "sample", "period": "last_90_days"},
    "get_ai_impact": {"period": "last_90_days", "repo": "sample"},
}
