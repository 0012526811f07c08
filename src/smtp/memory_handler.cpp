// The default Handler: accepts every command and keeps complete messages in a
// shared MemoryStore. Aborted messages are dropped and counted.
#include <utility>

#include "smtp/server.hpp"

namespace cordon::smtp {

void MemoryStore::add(StoredMessage message) {
  std::lock_guard lock(mutex_);
  ++count_;
  if (keep_content_) messages_.push_back(std::move(message));
}

void MemoryStore::count_abort() {
  std::lock_guard lock(mutex_);
  ++aborts_;
}

std::vector<StoredMessage> MemoryStore::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

std::size_t MemoryStore::message_count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

std::size_t MemoryStore::abort_count() const {
  std::lock_guard lock(mutex_);
  return aborts_;
}

namespace {

class BufferSink : public DataSink {
 public:
  BufferSink(std::string& buffer, bool keep) : buffer_(buffer), keep_(keep) {}
  asio::awaitable<void> write(std::string_view chunk) override {
    if (keep_) buffer_.append(chunk);
    co_return;
  }

 private:
  std::string& buffer_;
  bool keep_;
};

class MemoryHandler : public Handler {
 public:
  explicit MemoryHandler(std::shared_ptr<MemoryStore> store) : store_(std::move(store)) {}

  asio::awaitable<DataStart> on_data_begin(const SessionInfo&) override {
    pending_.clear();
    co_return DataStart{Reply::make(354, "", "End data with <CR><LF>.<CR><LF>"),
                        std::make_unique<BufferSink>(pending_, store_->keep_content())};
  }

  asio::awaitable<Reply> on_data_end(const SessionInfo& session, std::uint64_t size) override {
    StoredMessage message;
    message.session_id = session.id;
    message.helo_name = session.helo_name;
    message.sender = session.mail ? session.mail->sender : "";
    message.params = session.mail ? session.mail->params : MailParams{};
    for (const auto& r : session.recipients) message.recipients.push_back(r.recipient);
    message.tls = session.tls;
    message.size = size;
    message.content = std::exchange(pending_, {});
    store_->add(std::move(message));
    co_return Reply::make(
        250, "2.0.0", "Ok: queued as " + session.id + "." + std::to_string(session.messages + 1));
  }

  asio::awaitable<void> on_data_abort(const SessionInfo&, const Reply&) override {
    pending_.clear();
    store_->count_abort();
    co_return;
  }

 private:
  std::shared_ptr<MemoryStore> store_;
  std::string pending_;
};

}  // namespace

HandlerFactory memory_handler_factory(std::shared_ptr<MemoryStore> store) {
  return [store] { return std::make_unique<MemoryHandler>(store); };
}

}  // namespace cordon::smtp
