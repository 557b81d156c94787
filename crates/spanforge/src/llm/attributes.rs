//! Attribute and metric names: the GenAI semantic conventions v1.41.0, plus spanforge's
//! cost and prompt attributes (no released convention has them yet).
//!
//! The GenAI constants of `opentelemetry-semantic-conventions` are deprecated (GenAI moved
//! to its own, unreleased, repository); these are spanforge's own, pinned to v1.41.0.
//! Use them when instrumenting a client by hand so the names match what the instrumented
//! clients emit.

// ----- spans: the call ---------------------------------------------------------------------

/// `chat`, `text_completion`, `embeddings`, `execute_tool` (see [`Operation`](super::Operation)).
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// `openai`, `anthropic`, `azure.ai.openai`, `groq`, … (the semantic-convention values).
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The model asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// The model that answered (often a dated snapshot of the requested one).
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// The provider's id of the completion.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// Why generation stopped, one entry per choice, as the provider said it (string array).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Seconds from the request to the first chunk of a streamed answer (double).
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// The conversation (session, thread) the call belongs to.
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// `text`, `json`, `image`, `speech`: the requested output format.
pub const GEN_AI_OUTPUT_TYPE: &str = "gen_ai.output.type";

// ----- spans: request parameters -----------------------------------------------------------

/// Sampling temperature (double).
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// Maximum number of output tokens (int).
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// Nucleus sampling (double).
pub const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// Top-k sampling (double, as v1.41.0 types it).
pub const GEN_AI_REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// Frequency penalty (double).
pub const GEN_AI_REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// Presence penalty (double).
pub const GEN_AI_REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// Stop sequences (string array).
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// Seed (int).
pub const GEN_AI_REQUEST_SEED: &str = "gen_ai.request.seed";
/// Number of choices asked for, when not 1 (int).
pub const GEN_AI_REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
/// `true` on streamed calls.
pub const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
/// Embedding encoding formats asked for (string array).
pub const GEN_AI_REQUEST_ENCODING_FORMATS: &str = "gen_ai.request.encoding_formats";
/// Dimensions of the returned embeddings (int).
pub const GEN_AI_EMBEDDINGS_DIMENSION_COUNT: &str = "gen_ai.embeddings.dimension.count";

// ----- spans: usage and cost ---------------------------------------------------------------

/// All input tokens, cache reads and writes included (int).
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// All output tokens, reasoning included (int).
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Input tokens read from the prompt cache (int; part of the input tokens).
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to the prompt cache (int; part of the input tokens).
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
/// Reasoning output tokens (int; part of the output tokens).
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// The call's cost in US dollars (double). Not in any released convention; this is the
/// name Langfuse, Phoenix and OpenLIT read. Absent when the model's price is unknown.
pub const GEN_AI_USAGE_COST: &str = "gen_ai.usage.cost";

// ----- spans: prompts ----------------------------------------------------------------------

/// The name of the prompt template the call was rendered from.
pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";
/// The prompt template's version, an **int** (Langfuse links prompts by integer version).
pub const GEN_AI_PROMPT_VERSION: &str = "gen_ai.prompt.version";
/// An identifier of the template itself (a hash, a database id), when it has one.
pub const GEN_AI_PROMPT_TEMPLATE_ID: &str = "gen_ai.prompt.template.id";

// ----- spans: tools ------------------------------------------------------------------------

/// The tool's name (`execute_tool` spans).
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// The id of the tool call the model made.
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// What the tool does.
pub const GEN_AI_TOOL_DESCRIPTION: &str = "gen_ai.tool.description";
/// `function`, `extension` or `datastore`.
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";
/// The arguments the tool was called with (JSON; content, opt-in).
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// What the tool returned (JSON; content, opt-in).
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";

// ----- spans: content (opt-in) ---------------------------------------------------------------

/// The chat history sent to the model (JSON, semantic-convention message shape).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// The model's answer (JSON, semantic-convention output message shape).
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// System instructions given apart from the chat history (JSON array of parts).
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// The tools offered to the model (JSON array).
pub const GEN_AI_TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";

// ----- general -----------------------------------------------------------------------------

/// Low-cardinality error class: the provider's error code, the HTTP status, `timeout`, ….
pub const ERROR_TYPE: &str = "error.type";
/// Host name of the model's API.
pub const SERVER_ADDRESS: &str = "server.address";
/// Port of the model's API (int).
pub const SERVER_PORT: &str = "server.port";

// ----- metrics -------------------------------------------------------------------------------

/// `input` or `output`, on `gen_ai.client.token.usage`.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Histogram of tokens per call, by [`GEN_AI_TOKEN_TYPE`] (unit `{token}`).
pub const METRIC_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// Histogram of call durations (unit `s`).
pub const METRIC_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Histogram of times to the first chunk of streamed calls (unit `s`).
pub const METRIC_TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
/// Counter of dollars spent (unit `{USD}`, Prometheus name `gen_ai_client_cost_total`).
pub const METRIC_COST: &str = "gen_ai.client.cost";
