#include "server/output.h"

namespace pangolin::server {

struct OutputProcessor::Parsers {};

OutputProcessor::OutputProcessor(const Tokenizer& tokenizer, const OutputOptions& options)
    : tokenizer_(tokenizer), options_(options), decoder_(tokenizer), stop_(options.stop),
      parsers_(std::make_unique<Parsers>()) {}

OutputProcessor::~OutputProcessor() = default;

OutputDelta OutputProcessor::route(const std::string& text, bool final) {
    (void)final;
    OutputDelta d;
    d.content = text;
    result_.content += text;
    return d;
}

OutputDelta OutputProcessor::push(int32_t token) {
    if (stop_.stopped()) return {};
    return route(stop_.push(decoder_.push(token)), false);
}

OutputDelta OutputProcessor::finish() {
    std::string rest = stop_.stopped() ? "" : stop_.push(decoder_.flush());
    rest += stop_.flush();
    return route(rest, true);
}

std::function<void(float*, int64_t)> OutputProcessor::logits_processor() { return nullptr; }
std::function<void(int32_t)> OutputProcessor::token_acceptor() { return nullptr; }

}  // namespace pangolin::server
