#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "parallel/comm.h"

namespace pangolin {

namespace {

// One process: collectives are copies.
class SingleProcess : public Communicator {
  public:
    int rank() const override { return 0; }
    int size() const override { return 1; }
    void broadcast(void*, size_t, int) override {}
    void allreduce_sum(float*, size_t) override {}
    void allreduce_sum(double*, size_t) override {}
    void allreduce_max(double*, size_t) override {}
    void alltoall_counts(const std::vector<int64_t>& send, std::vector<int64_t>& recv) override {
        recv = send;
    }
    void alltoallv(const void* send, const std::vector<size_t>& send_bytes,
                   const std::vector<size_t>& send_offsets, void* recv, const std::vector<size_t>&,
                   const std::vector<size_t>& recv_offsets) override {
        std::memcpy(static_cast<uint8_t*>(recv) + recv_offsets[0],
                    static_cast<const uint8_t*>(send) + send_offsets[0], send_bytes[0]);
    }
    void allgatherv(const void* send, size_t bytes, void* recv,
                    const std::vector<size_t>&) override {
        std::memcpy(recv, send, bytes);
    }
    std::vector<double> gather_to_root(double v) override { return {v}; }
    [[noreturn]] void abort(int code, const std::string& message) override {
        std::fprintf(stderr, "error: %s\n", message.c_str());
        std::exit(code);
    }
};

}  // namespace

bool launched_by_mpi() {
    for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
        if (std::getenv(var)) return true;
    return false;
}

#if !defined(PANGOLIN_HAVE_MPI)
bool mpi_available() {
    return false;
}
std::shared_ptr<Communicator> world_communicator() {
    static std::shared_ptr<Communicator> single = std::make_shared<SingleProcess>();
    require(!launched_by_mpi(),
            "this pangolin was built without MPI support but was started by mpirun");
    return single;
}
#else
std::shared_ptr<Communicator> make_mpi_world();  // parallel/mpi_comm.cpp
bool mpi_available() {
    return true;
}
std::shared_ptr<Communicator> world_communicator() {
    static std::shared_ptr<Communicator> world =
        launched_by_mpi() ? make_mpi_world()
                          : std::shared_ptr<Communicator>(std::make_shared<SingleProcess>());
    return world;
}
#endif

}  // namespace pangolin
