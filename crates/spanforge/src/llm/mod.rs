//! LLM instrumentation: GenAI spans and metrics, usage and cost, instrumented clients.
