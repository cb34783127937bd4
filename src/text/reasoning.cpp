#include "text/reasoning.h"

#include <algorithm>
#include <utility>

#include "text/tokenizer.h"

namespace pangolin {

namespace {

// std::isspace in the C locale, as llama.cpp's consume_spaces and string_strip use it.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view rstrip(std::string_view s) {
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Length of the longest suffix of `text` that is a proper prefix of `marker`.
size_t partial_marker_suffix(std::string_view text, std::string_view marker) {
    for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n)
        if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
    return 0;
}

constexpr std::pair<std::string_view, std::string_view> k_marker_pairs[] = {
    {"<think>", "</think>"},       // DeepSeek-R1 and distills, Qwen3, QwQ, DeepSeek-V3.1
    {"[unused16]", "[unused17]"},  // openPangu
};

}  // namespace

ReasoningFormat detect_reasoning_format(const std::function<bool(std::string_view)>& is_token,
                                        std::string_view rendered_prompt) {
    const std::string_view tail = rstrip(rendered_prompt);
    const auto ends_open = [&](std::string_view open) {
        return tail.size() >= open.size() && tail.substr(tail.size() - open.size()) == open;
    };
    // A pair counts when both markers are tokens, or when the prompt opens its block (a
    // vocabulary that spells the markers in pieces).
    const std::pair<std::string_view, std::string_view>* chosen = nullptr;
    for (const auto& pair : k_marker_pairs) {
        const bool opened = ends_open(pair.first);
        if (!opened && (!is_token(pair.first) || !is_token(pair.second))) continue;
        const bool mentioned = opened ||
                               rendered_prompt.find(pair.first) != std::string_view::npos ||
                               rendered_prompt.find(pair.second) != std::string_view::npos;
        if (!chosen || mentioned) chosen = &pair;
        if (mentioned) break;
    }
    ReasoningFormat format;
    if (!chosen) return format;
    format.open = std::string(chosen->first);
    format.close = std::string(chosen->second);
    format.starts_in_reasoning = ends_open(format.open);
    return format;
}

ReasoningFormat detect_reasoning_format(const Tokenizer& tokenizer,
                                        std::string_view rendered_prompt) {
    return detect_reasoning_format(
        [&](std::string_view text) { return tokenizer.find_token(text).has_value(); },
        rendered_prompt);
}

ReasoningSplitter::ReasoningSplitter(ReasoningFormat format) : format_(std::move(format)) {
    if (!format_.enabled())
        phase_ = Phase::Content;
    else
        phase_ = format_.starts_in_reasoning ? Phase::Opening : Phase::Start;
}

ReasoningDelta ReasoningSplitter::push(std::string_view text) {
    ReasoningDelta out;
    feed(text, out);
    return out;
}

void ReasoningSplitter::feed(std::string_view text, ReasoningDelta& out) {
    held_.append(text);
    for (;;) {
        switch (phase_) {
            case Phase::Start:
            case Phase::Opening: {
                const size_t first = held_.find_first_not_of(" \t\n\r\f\v");
                if (first == std::string::npos) return;  // only whitespace so far
                const std::string_view rest = std::string_view(held_).substr(first);
                if (rest.substr(0, format_.open.size()) == format_.open) {
                    held_.erase(0, first + format_.open.size());
                    phase_ = Phase::Reasoning;
                    continue;
                }
                if (rest.size() < format_.open.size() &&
                    std::string_view(format_.open).substr(0, rest.size()) == rest)
                    return;  // may still become the open marker
                if (phase_ == Phase::Start) {
                    phase_ = Phase::Content;
                    continue;  // no reasoning block: everything, leading whitespace too, is content
                }
                phase_ = Phase::Reasoning;
                continue;
            }
            case Phase::Reasoning:
                feed_reasoning(out);
                if (phase_ == Phase::Reasoning) return;
                continue;
            case Phase::AfterClose: {
                const size_t first = held_.find_first_not_of(" \t\n\r\f\v");
                if (first == std::string::npos) {
                    held_.clear();
                    return;
                }
                held_.erase(0, first);
                phase_ = Phase::Content;
                continue;
            }
            case Phase::Content:
                out.content += held_;
                held_.clear();
                return;
        }
    }
}

void ReasoningSplitter::feed_reasoning(ReasoningDelta& out) {
    const size_t close = held_.find(format_.close);
    if (close != std::string::npos) {
        emit_reasoning(rstrip(std::string_view(held_).substr(0, close)), out);
        held_.erase(0, close + format_.close.size());
        phase_ = Phase::AfterClose;
        return;
    }
    // Hold a suffix that may be the start of the close marker, and the whitespace before it
    // (dropped if the block closes right after it).
    size_t end = held_.size() - partial_marker_suffix(held_, format_.close);
    while (end > 0 && is_space(held_[end - 1])) --end;
    emit_reasoning(std::string_view(held_).substr(0, end), out);
    held_.erase(0, end);
}

void ReasoningSplitter::emit_reasoning(std::string_view text, ReasoningDelta& out) {
    if (!reasoning_started_) {
        while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
        if (text.empty()) return;
        reasoning_started_ = true;
    }
    out.reasoning.append(text);
}

ReasoningDelta ReasoningSplitter::flush() {
    ReasoningDelta out;
    switch (phase_) {
        case Phase::Start:  // whitespace and maybe an unfinished open marker: plain text
            out.content = std::move(held_);
            phase_ = Phase::Content;
            break;
        case Phase::Opening:
        case Phase::Reasoning:  // unclosed block: the rest is reasoning, stripped
            emit_reasoning(rstrip(held_), out);
            break;
        case Phase::AfterClose:
        case Phase::Content:
            break;
    }
    held_.clear();
    return out;
}

}  // namespace pangolin
