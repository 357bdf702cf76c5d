// parallel_map(n, fn): {fn(0), …, fn(n − 1)} computed on up to max_threads threads (file
// decoding: images, masks). An exception thrown by fn is rethrown here, the one of the lowest
// index first, after every thread has finished, so a bad file never leaves a thread running.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace gs {

template <class T, class F>
std::vector<T> parallel_map(size_t n, F fn, size_t max_threads = 8) {
  std::vector<T> results(n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < n; i = next++) {
      try {
        results[i] = fn(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const size_t hardware = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = std::min({n, max_threads, hardware});
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

}  // namespace gs
