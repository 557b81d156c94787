//! LLM cost: an embedded pricing table, model-name resolution and cost computation.
