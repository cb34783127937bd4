// Per-request adjustments of a row of logits before sampling (OpenAI/vLLM semantics), and
// log-probabilities for the response.
//
//   logit_bias          added to the named tokens' logits
//   repetition_penalty  tokens seen in the prompt or the output: positive logits ÷ p, negative × p
//   presence_penalty    output tokens: − p once
//   frequency_penalty   output tokens: − p × count
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace pangolin {

struct PenaltyParams {
    float presence = 0.0f;
    float frequency = 0.0f;
    float repetition = 1.0f;
    bool active() const { return presence != 0.0f || frequency != 0.0f || repetition != 1.0f; }
};

// Token history of one sequence, as the penalties need it.
class TokenHistory {
  public:
    void add_prompt(const std::vector<int32_t>& tokens);
    void add_output(int32_t token);
    const std::unordered_map<int32_t, int>& output_counts() const { return output_counts_; }
    const std::unordered_set<int32_t>& seen() const { return seen_; }

  private:
    std::unordered_map<int32_t, int> output_counts_;
    std::unordered_set<int32_t> seen_;
};

void apply_penalties(float* logits, int64_t n_vocab, const PenaltyParams& params,
                     const TokenHistory& history);
void apply_logit_bias(float* logits, int64_t n_vocab,
                      const std::vector<std::pair<int32_t, float>>& bias);

struct TokenLogprobs {
    float logprob = 0.0f;                        // log p(token)
    std::vector<std::pair<int32_t, float>> top;  // the top_n most likely (token, log p), best first
};
// log-softmax of the row, evaluated at `token`, plus the top_n alternatives.
TokenLogprobs compute_logprobs(const float* logits, int64_t n_vocab, int32_t token, int top_n);

}  // namespace pangolin
