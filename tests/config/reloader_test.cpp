// config::Reloader: a reload reads the file off the I/O thread and applies
// it there; a bad file is refused and counted, the old configuration
// staying; the embedded default has nothing to reload.
#include "config/reloader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

namespace cordon::config {
namespace {

namespace fs = std::filesystem;

class ReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cordon-reloader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "cordon.yaml").string();
    write(policies(1));
    started_ = load_config_file(path_).value();
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    guard_.reset();
    io_thread_.join();
    fs::remove_all(dir_);
  }

  std::string policies(int n) const {
    std::string text = "data_dir: " + (dir_ / "data").string() +
                       "\nprevent:\n  listen: 127.0.0.1:10025\npolicies:\n";
    for (int i = 0; i < n; ++i)
      text += "  - name: P" + std::to_string(i) + "\n    match: {any: [{keywords: [k" +
              std::to_string(i) + "]}]}\n";
    return text;
  }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  std::uint64_t reloads(const char* result) {
    return metrics_
        .counter("cordon_config_reloads_total", "Configuration reloads",
                 std::string("result=\"") + result + "\"")
        .value();
  }

  fs::path dir_;
  std::string path_;
  std::shared_ptr<const Config> started_;
  util::Metrics metrics_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread io_thread_;
};

TEST_F(ReloaderTest, AGoodFileIsAppliedOnTheIoThreadAndABadOneRefused) {
  std::vector<std::size_t> applied;
  std::vector<bool> on_io_thread;
  Reloader reloader(io_, path_, started_, metrics_, [&](const std::shared_ptr<const Config>& c) {
    applied.push_back(c->policies.size());
    on_io_thread.push_back(io_.get_executor().running_in_this_thread());
  });
  EXPECT_TRUE(reloader.has_file());

  write(policies(3));
  auto ok = reloader.reload_and_wait();
  ASSERT_TRUE(ok.has_value()) << ok.error();
  EXPECT_EQ(applied, std::vector<std::size_t>{3});
  EXPECT_EQ(on_io_thread, std::vector<bool>{true});
  EXPECT_EQ(reloads("ok"), 1u);

  write("policies:\n  - name: broken\n    match: {any: [{regex: '(' }]}\n");
  auto refused = reloader.reload_and_wait();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().rfind(path_ + ":", 0), 0u) << refused.error();
  EXPECT_EQ(applied.size(), 1u);  // the old configuration stays in force
  EXPECT_EQ(reloads("refused"), 1u);

  // start(): the outcome comes back on the I/O thread.
  write(policies(2));
  std::promise<bool> done;
  reloader.start([&](Status<std::string> outcome) {
    done.set_value(outcome.has_value() && io_.get_executor().running_in_this_thread());
  });
  EXPECT_TRUE(done.get_future().get());
  EXPECT_EQ(applied, (std::vector<std::size_t>{3, 2}));
}

TEST_F(ReloaderTest, TheEmbeddedDefaultHasNothingToReload) {
  bool applied = false;
  Reloader reloader(io_, std::nullopt, started_, metrics_,
                    [&](const std::shared_ptr<const Config>&) { applied = true; });
  EXPECT_FALSE(reloader.has_file());
  auto outcome = reloader.reload_and_wait();
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), kNothingToReload);
  std::promise<std::string> done;
  reloader.start([&](Status<std::string> o) { done.set_value(o ? "" : o.error()); });
  EXPECT_EQ(done.get_future().get(), kNothingToReload);
  EXPECT_FALSE(applied);
}

}  // namespace
}  // namespace cordon::config
