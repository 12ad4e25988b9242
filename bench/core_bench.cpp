// Micro-benchmarks of the core pieces on the probe's per-attempt path.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/endpoint.h"
#include "core/histogram.h"

namespace {

using namespace synscope;

void histogram_record(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int64_t> dist(1'000, 10'000'000);
  std::vector<int64_t> values(4096);
  for (auto& v : values) v = dist(rng);
  core::histogram h;
  size_t i = 0;
  for (auto _ : state) {
    h.record(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(histogram_record);

void histogram_percentile(benchmark::State& state) {
  core::histogram h;
  std::mt19937_64 rng(2);
  std::exponential_distribution<double> dist(1.0 / 50'000);
  for (int i = 0; i < 100'000; ++i) h.record(static_cast<int64_t>(dist(rng)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.percentile(99.0));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(histogram_percentile);

void parse_endpoint(benchmark::State& state) {
  const std::vector<std::string> texts = {"127.0.0.1:8080", "[::1]:443", "db1.example.org:5432"};
  size_t i = 0;
  for (auto _ : state) {
    auto r = core::parse_endpoint(texts[i++ % texts.size()], {});
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse_endpoint);

}  // namespace
