"""The metric names that exist in a spanforge deployment (Prometheus form).

Rules and dashboards may reference only these, the recording rules defined in
collector-config/prometheus/rules/, and Prometheus' own series (up, ALERTS).
Histograms are listed by base name; _bucket, _sum and _count are derived below.
"""

# From the collector's span metrics and service-graph connectors (every service that sends traces).
SPAN_METRICS = {"traces_span_metrics_calls_total"}
SPAN_HISTOGRAMS = {"traces_span_metrics_duration_seconds"}
SERVICE_GRAPH = {"traces_service_graph_request_total", "traces_service_graph_request_failed_total"}

# Derived by the collector from LLM span attributes.
LLM_COUNTERS = {
    "spanforge_llm_cost_usd_total",
    "spanforge_llm_calls_total",
    "spanforge_llm_input_tokens_total",
    "spanforge_llm_output_tokens_total",
    "spanforge_llm_cache_read_tokens_total",
    "spanforge_llm_reasoning_tokens_total",
}

# From the Rust SDK (OTLP metrics -> collector -> Prometheus).
SDK_HISTOGRAMS = {
    "http_server_request_duration_seconds",
    "http_client_request_duration_seconds",
    "db_client_operation_duration_seconds",
    "db_client_connection_wait_time_seconds",
    "gen_ai_client_token_usage",
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "spanforge_health_probe_duration_seconds",
}
SDK_SERIES = {
    "http_server_active_requests",
    "db_client_connection_count",
    "db_client_connection_max",
    "db_client_connection_pending_requests",
    "spanforge_db_rows_read_total",
    "spanforge_db_rows_written_total",
    "gen_ai_client_cost_total",
    "spanforge_health_probe_up",
    "spanforge_exporter_spans_dropped_total",
    "spanforge_exporter_spans_failed_total",
    "spanforge_exporter_spans_exported_total",
}

# Prometheus' own series.
PROMETHEUS = {"up", "ALERTS", "ALERTS_FOR_STATE"}


def _expand(histograms):
    return {f"{h}{suffix}" for h in histograms for suffix in ("_bucket", "_sum", "_count")}


KNOWN = (
    SPAN_METRICS
    | SERVICE_GRAPH
    | LLM_COUNTERS
    | SDK_SERIES
    | PROMETHEUS
    | _expand(SPAN_HISTOGRAMS)
    | _expand(SDK_HISTOGRAMS)
)
