"""Prometheus exposition of a queue snapshot (no ORM here: the model layer reads the numbers
from the database in bulk, this module turns them into metric families).

The figures come from job rows, not from process-local counters: Odoo runs several processes
(HTTP workers, cron workers, hosts), and any of them may answer a scrape, so every scrape
reads the shared truth. Histograms are computed from the retained job rows (the purge of old
done jobs shows as a counter reset, which ``rate()`` handles).
"""
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0)


class SnapshotCollector:
    """A custom collector over one snapshot dict (see ``finance.sync.monitor._metrics_snapshot``)."""

    def __init__(self, snapshot):
        self.s = snapshot

    def collect(self):
        s = self.s
        fam = GaugeMetricFamily("finance_sync_jobs", "Jobs in the queue by state, backend and job type",
                                labels=["state", "backend", "job_type"])
        for state, backend, job_type, count in s["jobs"]:
            fam.add_metric([state, backend, job_type], count)
        yield fam

        fam = GaugeMetricFamily("finance_sync_oldest_pending_age_seconds",
                                "Age of the oldest job ready to run (pending, eta passed), per backend", labels=["backend"])
        for backend, age in s["oldest_pending"]:
            fam.add_metric([backend], age)
        yield fam

        fam = GaugeMetricFamily("finance_sync_oldest_exception_age_seconds",
                                "Age of the oldest job in the exception queue, per backend", labels=["backend"])
        for backend, age in s["oldest_exception"]:
            fam.add_metric([backend], age)
        yield fam

        fam = GaugeMetricFamily("finance_sync_exceptions", "Jobs in the exception queue by error code and age bucket",
                                labels=["error_code", "age_bucket"])
        for code, bucket, count in s["exceptions"]:
            fam.add_metric([code, bucket], count)
        yield fam

        yield _histogram("finance_sync_job_run_seconds", "Run time of finished jobs, per job type",
                         s["run_time"], RUN_BUCKETS)
        yield _histogram("finance_sync_job_start_latency_seconds",
                         "Enqueue (or eta) to start of first attempts, per job type", s["start_latency"], LATENCY_BUCKETS)

        fam = CounterMetricFamily("finance_sync_http_calls", "HTTP exchanges with platforms (audit digests), "
                                  "by backend and status class", labels=["backend", "status_class"])
        for backend, status_class, count in s["http_calls"]:
            fam.add_metric([backend, status_class], count)
        yield fam

        fam = GaugeMetricFamily("finance_sync_breaker_state", "Circuit breaker per backend (1 for its current state)",
                                labels=["backend", "state"])
        for backend, state in s["breakers"]:
            for name in ("closed", "open", "half_open"):
                fam.add_metric([backend, name], 1.0 if state == name else 0.0)
        yield fam

        fam = GaugeMetricFamily("finance_sync_backend_last_success_timestamp_seconds",
                                "Unix time of the last job done, per backend", labels=["backend"])
        for backend, stamp in s["last_success"]:
            fam.add_metric([backend], stamp)
        yield fam

        fam = GaugeMetricFamily("finance_sync_backend_consent_expiry_timestamp_seconds",
                                "Unix time the platform consent expires (expired), per backend", labels=["backend"])
        for backend, stamp in s["consent_expiry"]:
            fam.add_metric([backend], stamp)
        yield fam

        if s.get("bank_lines_unmatched") is not None:
            yield GaugeMetricFamily("finance_sync_bank_lines_unmatched", "Bank statement lines not reconciled",
                                    value=s["bank_lines_unmatched"])
        if s.get("payment_confirmations_late") is not None:
            yield GaugeMetricFamily("finance_sync_payment_confirmations_late",
                                    "Payment batches sent without a status report past the configured hours",
                                    value=s["payment_confirmations_late"])

        fam = GaugeMetricFamily("finance_sync_worker_last_seen_seconds", "Seconds since a queue worker was last seen")
        if s.get("worker_last_seen") is not None:
            fam.add_metric([], s["worker_last_seen"])
        yield fam


def _histogram(name, doc, rows, bounds):
    """rows: (job_type, [count <= bound for each bound], total count, sum)."""
    fam = HistogramMetricFamily(name, doc, labels=["job_type"])
    for job_type, counts, total, total_sum in rows:
        buckets = [(_le(b), c) for b, c in zip(bounds, counts)] + [("+Inf", total)]
        fam.add_metric([job_type], buckets, sum_value=total_sum)
    return fam


def _le(bound):
    return repr(float(bound))


def render(snapshot):
    """The Prometheus text exposition (bytes) of ``snapshot``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry)
