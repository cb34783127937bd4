// One HTTP request's generation, whatever API it came through (chat/completions,
// completions, Responses, Anthropic Messages): the prompt rendered and tokenized, checked
// against the limits, one engine request per choice feeding a channel, each choice's tokens
// through an OutputProcessor; then either collected (wait) or streamed by an API's writer.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/output_processor.h"
#include "server/channel.h"
#include "server/server_state.h"

namespace pangolin::server {

using json = nlohmann::json;

// The JSON text of a response (invalid UTF-8 replaced, never thrown on).
std::string dump(const json& j);

struct Choice {
    std::unique_ptr<OutputProcessor> output;
    uint64_t engine_id = 0;
    bool finished = false;
    bool stop_string = false;
    RequestResult result;
    int64_t tokens = 0;
    json logprobs = json::array();
    // completion-style logprobs
    json lp_tokens = json::array(), lp_values = json::array(), lp_top = json::array();
};

// "tool_calls", "stop" or "length" (OpenAI's names; other APIs map them).
std::string finish_reason(const Choice& c);

// Shared between the handler and the streaming provider, which httplib calls after the
// handler has returned.
struct Job {
    ServerState& st;
    RequestParams p;
    bool chat = true;
    std::string id;
    int64_t created = 0;
    int64_t n_prompt = 0;
    std::string prompt_text;
    std::vector<int32_t> prompt;
    std::shared_ptr<Channel> channel = std::make_shared<Channel>();
    std::vector<Choice> choices;
    bool stream_started = false;

    explicit Job(ServerState& s) : st(s) {}

    // Applies one event to its choice; appends the text deltas it produced.
    void apply(const ChannelEvent& ev, std::vector<OutputDelta>& deltas);
    bool all_finished() const;
    void cancel_all();
    int64_t completion_tokens() const;
    // The first failed choice's error ("" when none failed).
    std::string error() const;
};

// The conversation (chat) or the prompt (completion) as tokens, checked against the
// context. HttpError 400 for a template error; Error for a prompt that does not fit.
void build_prompt(Job& job);
// The tokens a request may generate (max_tokens or what is left of the context).
int64_t max_new_tokens(const Job& job);
// Creates each choice's output processor and submits its engine request. HttpError 503
// when the waiting queue is full (nothing stays submitted then).
void submit_choices(Job& job, const std::string& id_prefix);
// HttpError 404 unless `model` is "" or the served model's id.
void check_model(const ServerState& st, const std::string& model);
// Checks the model name, builds the prompt and submits: what every generation
// route does before it answers.
std::shared_ptr<Job> start_job(ServerState& st, RequestParams params, const std::string& id_prefix);

// Blocks until every choice finished. HttpError 503 when the server shuts down meanwhile,
// 500 when a choice failed.
void wait_for(Job& job);

// One API's server-sent events for a job. `start` runs before the first event, `event` for
// each channel event (it applies it to the job), `end` once all choices finished; each
// returns the SSE frames to send, in order.
class StreamWriter {
  public:
    virtual ~StreamWriter() = default;
    virtual std::vector<std::string> start(Job& job) = 0;
    virtual std::vector<std::string> event(Job& job, const ChannelEvent& ev) = 0;
    virtual std::vector<std::string> end(Job& job) = 0;
};

// "data: {json}\n\n" and "event: NAME\ndata: {json}\n\n".
std::string sse_data(const json& j);
std::string sse_event(const std::string& name, const json& j);

// Streams the job through the writer as text/event-stream. A failed write means the client
// went away; then, and when the server shuts down, whatever still generates is cancelled.
void stream_job(std::shared_ptr<Job> job, std::shared_ptr<StreamWriter> writer,
                httplib::Response& res);

}  // namespace pangolin::server
