"""The scheduled sweep (EventBridge Scheduler, every five minutes): SAM handler ``lambda/sweep.handler``.

The budget is the invocation's remaining time less a margin, so a run ends on its own before the
function times out and the next run resumes where it stopped. The sweep itself stops taking records
the longest VMS call chain of one record before the end of its budget (the VAST vendor computes it
from the store's timeouts and retries), so the margin only covers what follows the last record:
counting what is left, the summary, the metrics. An invalid configuration raises:
the scheduler retries, then sends the event to the dead-letter queue.
"""

from __future__ import annotations

from shared.api import adapter

from .observability import MetricUnit, logger, metrics

SAFETY_MARGIN_SECONDS = 10.0


def budget_seconds(context) -> float:
    """Seconds the sweep may spend: what Lambda leaves this invocation, less the safety margin."""
    return max(0.0, context.get_remaining_time_in_millis() / 1000.0 - SAFETY_MARGIN_SECONDS)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context) -> dict:
    metrics.add_metric(name="SweepRuns", unit=MetricUnit.Count, value=1)
    summary = adapter.sweep(budget_seconds(context), fail_on_errors=False)
    for name in ("revoked", "failed", "reconciled", "remaining"):
        metrics.add_metric(name=f"Sweep{name.capitalize()}", unit=MetricUnit.Count, value=summary.get(name, 0))
    metrics.add_metric(name="SweepErrors", unit=MetricUnit.Count, value=len(summary["errors"]))
    if summary["errors"]:
        raise adapter.SweepIncomplete(summary)  # the scheduler retries, then the dead-letter queue holds the event
    return summary


adapter.warm_up()
