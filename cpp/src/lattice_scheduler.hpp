// Splits the walk over the subset lattice into tasks that worker threads take in any order while results stay
// bit-identical. Internal header.
//
// The lattice is walked as a tree: the children of a chosen set A add one element j > max(A), so every subset is
// reached once, along one fixed path. Tasks are the nodes with |A| < depth (that node only) and the nodes with
// |A| = depth (that node and its whole subtree). Each task rebuilds its node from the root along the same fixed
// path and accumulates into its own row of per-size sums; rows are added in task order at the end.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "mdmsched/entropy.hpp"

namespace mdmsched::detail {

struct LatticeTask {
    std::vector<int> chosen;  // increasing
    bool subtree;
};

inline std::vector<LatticeTask> lattice_tasks(int n, int depth) {
    std::vector<LatticeTask> tasks;
    std::vector<int> chosen;
    // Depth-first over chosen sets of size <= depth, in the tree's canonical order.
    auto visit = [&](auto&& self, int next) -> void {
        const bool full_depth = static_cast<int>(chosen.size()) == depth;
        tasks.push_back({chosen, full_depth});
        if (full_depth) return;
        for (int j = next; j < n; ++j) {
            chosen.push_back(j);
            self(self, j + 1);
            chosen.pop_back();
        }
    };
    visit(visit, 0);
    return tasks;
}

// Shared state the workers report into; the calling thread watches it and may cancel.
struct WalkControl {
    std::atomic<bool> cancel{false};
    std::atomic<std::uint64_t> done{0};
};

inline unsigned resolve_threads(unsigned threads) {
    if (threads == 0) threads = std::thread::hardware_concurrency();
    return threads == 0 ? 1u : threads;
}

// Runs run_task(worker_index, task_index, control) for every task on `threads` workers; the calling thread polls
// `monitor` with done/total about every 100 ms and with 1.0 once all tasks are done. Rethrows the first worker
// exception; throws Cancelled if asked.
template <typename RunTask>
void run_tasks(std::size_t task_count, unsigned threads, double total, const Monitor& monitor, RunTask&& run_task) {
    WalkControl control;
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex mutex;
    std::condition_variable finished_cv;
    unsigned finished = 0;
    const unsigned workers =
        static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(threads, task_count)));
    auto worker = [&](unsigned index) {
        try {
            for (std::size_t t = next++; t < task_count && !control.cancel.load(std::memory_order_relaxed); t = next++)
                run_task(index, t, control);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!error) error = std::current_exception();
            control.cancel = true;
        }
        std::lock_guard<std::mutex> lock(mutex);
        ++finished;
        finished_cv.notify_all();
    };
    std::vector<std::thread> pool;
    try {
        for (unsigned i = 0; i < workers; ++i) pool.emplace_back(worker, i);
    } catch (...) {
        control.cancel = true;
        for (auto& th : pool) th.join();
        throw;
    }
    bool cancelled = false;
    {
        std::unique_lock<std::mutex> lock(mutex);
        while (finished < pool.size()) {
            finished_cv.wait_for(lock, std::chrono::milliseconds(100));
            if (monitor && finished < pool.size() && !cancelled) {
                lock.unlock();
                const double fraction = total > 0 ? static_cast<double>(control.done.load()) / total : 0.0;
                if (!monitor(fraction < 1.0 ? fraction : 1.0)) {
                    cancelled = true;
                    control.cancel = true;
                }
                lock.lock();
            }
        }
    }
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
    // A walk shorter than one polling interval never reported; one last report of 1.0 (on the calling thread) means
    // the monitor always runs, so a progress callable that raises is heard even then (issue 28).
    if (!cancelled && monitor && !monitor(1.0)) cancelled = true;
    if (cancelled) throw Cancelled();
}

// The whole walk: tasks over `threads` walkers (make_walker(subset_out) builds one; a walker's run(task, sums,
// control) walks one task), then the per-task sums added in task order so the result is the same for any thread count.
template <typename MakeWalker>
LatticeResult walk_lattice(std::size_t n, bool keep_subsets, unsigned threads, double total, const Monitor& monitor,
                           MakeWalker&& make_walker) {
    LatticeResult result;
    if (keep_subsets) result.subset_entropy.assign(std::size_t{1} << n, 0.0);
    const auto tasks = lattice_tasks(static_cast<int>(n), n >= 3 ? 2 : 0);
    std::vector<double> sums(tasks.size() * (n + 1), 0.0);
    const unsigned workers = resolve_threads(threads);
    using Walker = decltype(make_walker(static_cast<double*>(nullptr)));
    std::vector<Walker> walkers;
    walkers.reserve(workers);
    for (unsigned i = 0; i < workers; ++i)
        walkers.push_back(make_walker(keep_subsets ? result.subset_entropy.data() : nullptr));
    run_tasks(tasks.size(), workers, total, monitor, [&](unsigned worker, std::size_t t, WalkControl& control) {
        walkers[worker].run(tasks[t], sums.data() + t * (n + 1), control);
    });
    result.size_sums.assign(n + 1, 0.0);
    for (std::size_t t = 0; t < tasks.size(); ++t)
        for (std::size_t m = 0; m <= n; ++m) result.size_sums[m] += sums[t * (n + 1) + m];
    return result;
}

}  // namespace mdmsched::detail
