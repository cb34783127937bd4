#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/thread_pool.h"

using namespace pangolin;

TEST(ThreadPool, CoversEveryIndexOnce) {
    for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        for (int64_t n : {0, 1, 7, 64, 1000}) {
            for (int64_t grain : {1, 4, 16}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                pool.parallel_for(
                    n,
                    [&](int64_t b, int64_t e, int) {
                        EXPECT_EQ(b % grain, 0);
                        for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
                    },
                    grain);
                for (auto& h : hits) ASSERT_EQ(h.load(), 1);
            }
        }
    }
}

TEST(ThreadPool, ManyShortJobs) {
    ThreadPool pool(2);
    std::atomic<int64_t> sum{0};
    for (int rep = 0; rep < 2000; ++rep)
        pool.parallel_for(10, [&](int64_t b, int64_t e, int) { sum += e - b; });
    EXPECT_EQ(sum.load(), 20000);
}

TEST(ThreadPool, RunOnAllUsesEachThread) {
    ThreadPool pool(3);
    std::vector<std::atomic<int>> seen(3);
    pool.run_on_all([&](int t) { seen[size_t(t)]++; });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}
