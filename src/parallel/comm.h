// Collective communication between the processes (ranks) that run one model together.
// The model code uses this interface only; the MPI implementation (parallel/mpi_comm.cpp,
// Debian's OpenMPI) is chosen when the program was started by mpirun, a single-process one
// otherwise. Rank 0 drives; the other ranks follow its steps (see model/decoder.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pangolin {

// What a rank spent on communication, for the per-rank statistics.
struct CommStats {
    uint64_t bytes_sent = 0;
    uint64_t messages = 0;
    double seconds = 0;       // wall time inside collectives (including waiting for slower ranks)
    double idle_seconds = 0;  // followers: waiting for rank 0's next step (not counted above)
};

class Communicator {
  public:
    virtual ~Communicator() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    bool distributed() const { return size() > 1; }

    virtual void broadcast(void* data, size_t bytes, int root) = 0;
    virtual void allreduce_sum(float* data, size_t n) = 0;
    virtual void allreduce_sum(double* data, size_t n) = 0;
    virtual void allreduce_max(double* data, size_t n) = 0;
    // Every rank sends send_counts[r] int64 values to rank r and receives recv_counts[r].
    virtual void alltoall_counts(const std::vector<int64_t>& send_counts,
                                 std::vector<int64_t>& recv_counts) = 0;
    // Byte blocks: the block for rank r starts at send + send_offsets[r] (send_bytes[r] long);
    // what rank r sends here lands at recv + recv_offsets[r].
    virtual void alltoallv(const void* send, const std::vector<size_t>& send_bytes,
                           const std::vector<size_t>& send_offsets, void* recv,
                           const std::vector<size_t>& recv_bytes,
                           const std::vector<size_t>& recv_offsets) = 0;
    // Concatenates each rank's block (recv_bytes[r] bytes from rank r) on every rank.
    virtual void allgatherv(const void* send, size_t bytes, void* recv,
                            const std::vector<size_t>& recv_bytes) = 0;
    // Gathers one double per rank on rank 0.
    virtual std::vector<double> gather_to_root(double value) = 0;
    [[noreturn]] virtual void abort(int code, const std::string& message) = 0;

    const CommStats& stats() const { return stats_; }
    CommStats& mutable_stats() { return stats_; }

  protected:
    CommStats stats_;
};

// The communicator of this process: MPI's world when started by mpirun (MPI initialized on
// first use and finalized at exit), else a single-process one.
std::shared_ptr<Communicator> world_communicator();
// True when this process was started by mpirun/srun (checked without initializing MPI).
bool launched_by_mpi();
// Whether this build has MPI support.
bool mpi_available();

// A scope timer adding elapsed time to CommStats::seconds.
class CommTimer {
  public:
    explicit CommTimer(CommStats& stats)
        : stats_(stats), start_(std::chrono::steady_clock::now()) {}
    ~CommTimer() {
        stats_.seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

  private:
    CommStats& stats_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace pangolin
