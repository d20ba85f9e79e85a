// Runs blocking work (storage, PBKDF2) beside the shards, never on them: a
// coroutine on a shard does `co_await pool.run([&]{ ... })` and resumes on its
// own shard with the result (or the exception the work threw).
//
// Every job is counted from the moment it is queued until the coroutine that
// awaits it has been resumed and has suspended again (or finished), so that
// a count of zero means no storage work is queued, running, or about to be
// queued by a coroutine resuming from a job: shutdown waits for that.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/asio.h"
#include "core/work_counter.h"

namespace tern::core {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads) : pool_(threads) {}
  // Jobs still queued are destroyed here, and their handlers with them: a
  // handler posts its coroutine's teardown to the shard loop it came from,
  // so the pool must go before the shard loops do.
  ~BlockingPool() { stop(); }
  // Lets running jobs finish and joins the threads; queued jobs are not
  // started (call after waiting for pending() to reach zero).
  void stop() { pool_.stop(); pool_.join(); }
  // Jobs queued or running, counted as above; any thread.
  std::size_t pending() const { return pending_.count(); }

  // Not a coroutine itself: the work and the handler move into the posted
  // closures, so nothing lives in a frame that could be resumed twice.
  // R must be default-constructible (it is built before the work runs).
  // Capture by reference only: `co_await pool.run([&] { ... })`. The
  // awaiting frame outlives the work, and GCC 12 relocates by-value
  // captures of a co_await temporary bitwise, which breaks std::string.
  template <class F>
  auto run(F f) {
    using R = std::invoke_result_t<F>;
    if constexpr (std::is_void_v<R>) {
      return asio::async_initiate<decltype(use_awaitable), void(std::exception_ptr)>(
          [this, f = std::move(f)](auto handler) mutable {
            auto exec = asio::get_associated_executor(handler);
            asio::post(pool_, [f = std::move(f), h = std::move(handler), exec,
                               t = pending_.take()]() mutable {
              std::exception_ptr err;
              try { f(); } catch (...) { err = std::current_exception(); }
              asio::post(exec, [h = std::move(h), err, t = std::move(t)]() mutable { h(err); });
            });
          },
          use_awaitable);
    } else {
      return asio::async_initiate<decltype(use_awaitable), void(std::exception_ptr, R)>(
          [this, f = std::move(f)](auto handler) mutable {
            auto exec = asio::get_associated_executor(handler);
            asio::post(pool_, [f = std::move(f), h = std::move(handler), exec,
                               t = pending_.take()]() mutable {
              std::exception_ptr err;
              R result{};
              try { result = f(); } catch (...) { err = std::current_exception(); }
              asio::post(exec, [h = std::move(h), err, result = std::move(result),
                                t = std::move(t)]() mutable {
                h(err, std::move(result));
              });
            });
          },
          use_awaitable);
    }
  }

 private:
  WorkCounter pending_;
  asio::thread_pool pool_;
};

}  // namespace tern::core
