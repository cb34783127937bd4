// Token sampling: greedy (temperature 0) or temperature + top-k + top-p + min-p with a
// seeded generator. Order as in vLLM: logits are divided by the temperature, then top-k,
// top-p (nucleus) and min-p filter the distribution, which is renormalized and sampled.
// The generator is xoshiro256** seeded through splitmix64, so a seed gives the same tokens
// on every machine.
#pragma once

#include <cstdint>
#include <vector>

namespace pangolin {

struct SamplerParams {
    float temperature = 0.8f;  // ≤ 0: greedy
    int top_k = 40;            // ≤ 0: off
    float top_p = 0.95f;       // ≥ 1: off
    float min_p = 0.05f;       // ≤ 0: off
    uint64_t seed = 0;
};

class Rng {
  public:
    explicit Rng(uint64_t seed);
    uint64_t next();
    double uniform();  // [0, 1)

  private:
    uint64_t s_[4];
};

class Sampler {
  public:
    explicit Sampler(const SamplerParams& params);
    int32_t sample(const float* logits, int64_t n_vocab);
    const SamplerParams& params() const { return params_; }

  private:
    SamplerParams params_;
    Rng rng_;
    std::vector<std::pair<float, int32_t>> candidates_;
};

// Index of the largest value (the lowest index among equals).
int32_t argmax(const float* x, int64_t n);

}  // namespace pangolin
