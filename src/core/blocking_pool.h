// Runs blocking work (storage, PBKDF2) beside the shards, never on them: a
// coroutine on a shard does `co_await pool.run([&]{ ... })` and resumes on its
// own shard with the result (or the exception the work threw).
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/asio.h"

namespace tern::core {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads) : pool_(threads) {}
  ~BlockingPool() { pool_.join(); }
  void stop() { pool_.stop(); pool_.join(); }

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
            asio::post(pool_, [f = std::move(f), h = std::move(handler), exec]() mutable {
              std::exception_ptr err;
              try { f(); } catch (...) { err = std::current_exception(); }
              asio::post(exec, [h = std::move(h), err]() mutable { h(err); });
            });
          },
          use_awaitable);
    } else {
      return asio::async_initiate<decltype(use_awaitable), void(std::exception_ptr, R)>(
          [this, f = std::move(f)](auto handler) mutable {
            auto exec = asio::get_associated_executor(handler);
            asio::post(pool_, [f = std::move(f), h = std::move(handler), exec]() mutable {
              std::exception_ptr err;
              R result{};
              try { result = f(); } catch (...) { err = std::current_exception(); }
              asio::post(exec, [h = std::move(h), err, result = std::move(result)]() mutable {
                h(err, std::move(result));
              });
            });
          },
          use_awaitable);
    }
  }

 private:
  asio::thread_pool pool_;
};

}  // namespace tern::core
