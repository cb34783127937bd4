// OpenMPI implementation of Communicator. Errors are returned (MPI_ERRORS_RETURN) and turned
// into a clear message followed by MPI_Abort, so a rank that fails or loses its peers ends
// the whole job instead of leaving the others waiting in a collective.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/error.h"
#include "parallel/comm.h"

namespace pangolin {

namespace {

class MpiWorld : public Communicator {
  public:
    MpiWorld() {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            int provided = 0;
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED,
                            &provided);  // one thread at a time, any thread
            std::atexit([] {
                int finalized = 0;
                MPI_Finalized(&finalized);
                if (!finalized) MPI_Finalize();
            });
        }
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }

    void broadcast(void* data, size_t bytes, int root) override {
        CommTimer t(stats_);
        for (size_t off = 0; off < bytes;) {
            const int n =
                int(std::min<size_t>(bytes - off, size_t(std::numeric_limits<int>::max())));
            check(MPI_Bcast(static_cast<uint8_t*>(data) + off, n, MPI_BYTE, root, MPI_COMM_WORLD),
                  "broadcast");
            off += size_t(n);
        }
        if (rank_ == root) count(bytes * size_t(size_ - 1));
    }
    void allreduce_sum(float* data, size_t n) override {
        CommTimer t(stats_);
        check(MPI_Allreduce(MPI_IN_PLACE, data, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
              "all-reduce");
        count(n * 4);
    }
    void allreduce_sum(double* data, size_t n) override {
        CommTimer t(stats_);
        check(MPI_Allreduce(MPI_IN_PLACE, data, int(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
              "all-reduce");
        count(n * 8);
    }
    void allreduce_max(double* data, size_t n) override {
        CommTimer t(stats_);
        check(MPI_Allreduce(MPI_IN_PLACE, data, int(n), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
              "all-reduce");
        count(n * 8);
    }
    void alltoall_counts(const std::vector<int64_t>& send, std::vector<int64_t>& recv) override {
        CommTimer t(stats_);
        recv.assign(size_t(size_), 0);
        check(
            MPI_Alltoall(send.data(), 1, MPI_INT64_T, recv.data(), 1, MPI_INT64_T, MPI_COMM_WORLD),
            "all-to-all");
        count(size_t(size_ - 1) * 8);
    }
    void alltoallv(const void* send, const std::vector<size_t>& send_bytes,
                   const std::vector<size_t>& send_offsets, void* recv,
                   const std::vector<size_t>& recv_bytes,
                   const std::vector<size_t>& recv_offsets) override {
        CommTimer t(stats_);
        const size_t ranks = static_cast<size_t>(size_);
        std::vector<int> sc(ranks), so(ranks), rc(ranks), ro(ranks);
        size_t sent = 0;
        for (int r = 0; r < size_; ++r) {
            require(send_bytes[size_t(r)] < size_t(std::numeric_limits<int>::max()) &&
                        send_offsets[size_t(r)] < size_t(std::numeric_limits<int>::max()) &&
                        recv_offsets[size_t(r)] < size_t(std::numeric_limits<int>::max()),
                    "all-to-all message too large (over 2 GiB)");
            sc[size_t(r)] = int(send_bytes[size_t(r)]);
            so[size_t(r)] = int(send_offsets[size_t(r)]);
            rc[size_t(r)] = int(recv_bytes[size_t(r)]);
            ro[size_t(r)] = int(recv_offsets[size_t(r)]);
            if (r != rank_) sent += send_bytes[size_t(r)];
        }
        check(MPI_Alltoallv(send, sc.data(), so.data(), MPI_BYTE, recv, rc.data(), ro.data(),
                            MPI_BYTE, MPI_COMM_WORLD),
              "all-to-all");
        count(sent);
    }
    void allgatherv(const void* send, size_t bytes, void* recv,
                    const std::vector<size_t>& recv_bytes) override {
        CommTimer t(stats_);
        const size_t ranks = static_cast<size_t>(size_);
        std::vector<int> rc(ranks), ro(ranks);
        size_t off = 0;
        for (int r = 0; r < size_; ++r) {
            rc[size_t(r)] = int(recv_bytes[size_t(r)]);
            ro[size_t(r)] = int(off);
            off += recv_bytes[size_t(r)];
        }
        check(MPI_Allgatherv(send, int(bytes), MPI_BYTE, recv, rc.data(), ro.data(), MPI_BYTE,
                             MPI_COMM_WORLD),
              "all-gather");
        count(bytes * size_t(size_ - 1));
    }
    std::vector<double> gather_to_root(double v) override {
        std::vector<double> all(static_cast<size_t>(size_));
        check(MPI_Gather(&v, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD),
              "gather");
        return all;
    }
    [[noreturn]] void abort(int code, const std::string& message) override {
        std::fprintf(stderr, "error: rank %d: %s\n", rank_, message.c_str());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
        std::exit(code);
    }

  private:
    void count(size_t bytes) {
        stats_.bytes_sent += bytes;
        ++stats_.messages;
    }
    void check(int rc, const char* what) {
        if (rc == MPI_SUCCESS) return;
        char msg[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, msg, &len);
        abort(1, str_cat(what, " between ranks failed (a rank died or the network failed): ",
                         std::string(msg, size_t(len))));
    }
    int rank_ = 0, size_ = 1;
};

}  // namespace

std::shared_ptr<Communicator> make_mpi_world() {
    return std::make_shared<MpiWorld>();
}

}  // namespace pangolin
