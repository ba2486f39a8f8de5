#pragma once
// Runs the decider over its partitions of pulse.commands: decode, decide against the
// organisation's state, append the events to pulse.events, then commit the new state and the
// consumed offset together. Owns one thread.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/log/log.h"
#include "adapters/runtime/watermarks.h"
#include "adapters/runtime/worker.h"
#include "adapters/store/kv_store.h"
#include "commands/decider.h"
#include "domain/events.h"

namespace pulse::runtime {

struct DeciderOptions {
  // Empty: decide the given partitions. Else: join this consumer group on pulse.commands and
  // decide the partitions it assigns (Kafka; split roles). A partition taken over is first
  // brought up to what the event log says was decided (see catch_up).
  std::string group;
  // Append CommandDecided for the last command of a batch that produced no events, so that
  // the event log tells other processes which commands are decided.
  bool mark_decided = false;
  // This process's projector (the embedded log): handed each batch's events once they are
  // durable, before the write handlers waiting on their commands are told, so the handlers
  // wake once (see ProjectorRunner::apply_appended). Empty: the projector reads them back.
  std::function<void(std::vector<log::StoredRecord>)> appended;
};

class DeciderRunner {
 public:
  DeciderRunner(log::Log& log, store::KvStore& state, commands::DeciderConfig config,
                std::vector<Partition> partitions, Decisions& decisions, Deadlines& deadlines,
                DeciderOptions options = {});
  ~DeciderRunner() { stop(); }

  // Loads positions, finds what the events topic already holds, starts the thread.
  Status start();
  // Stops the thread and writes the states it has not written yet.
  void stop();

  // The next command offset of each owned partition, as committed.
  Result<int64_t> committed_offset(Partition p);
  // The partitions this runner decides now. Thread-safe.
  std::vector<Partition> owned() const {
    std::lock_guard lock(owned_mu_);
    return owned_;
  }

 private:
  Status open_reader();
  // Opens the event writers of `ps` (fencing their previous owners) and closes the others.
  Status open_writers(const std::vector<Partition>& ps);
  // The last event of partition `p` in pulse.events, if any.
  Result<std::optional<EventEnvelope>> last_event(Partition p);
  // After a failed step: a partition whose writer was fenced has a newer decider elsewhere.
  void drop_fenced();
  // Consumer group hand-overs (on the worker thread, inside a poll).
  Result<std::vector<log::Assignment>> take_over(const std::vector<Partition>& ps);
  void release(const std::vector<Partition>& ps);
  // Brings the stored state of partition `p` up to the last command the event log says was
  // decided (events of commands this node's state has not seen are evolved into it); returns
  // the next command offset to decide.
  Result<int64_t> catch_up(Partition p);
  void set_owned();
  Status load_emitted();
  void step();
  Status process(std::vector<log::StoredRecord>& batch);
  Result<commands::DeciderState*> state_of(const std::string& key);
  // A state as stored under s/<key> (absent: a new one), with its campaign queues read from
  // their own keys (a v1 state holds them inline).
  Result<commands::DeciderState> load_state(const std::string& key, std::optional<std::string> raw);
  // The writes that store `state`: its unwritten queues (each under its own key; erased ones
  // deleted) and the state without them. The caller marks the queues written() once the
  // writes are committed.
  Status stage_state(const std::string& key, commands::DeciderState& state,
                     std::vector<store::WriteOp>& ops);
  // Writes the changed states with the positions they correspond to (one WriteBatch). States
  // are written at most every kFlushInterval, not per batch: an organisation's state can be
  // large (leases, delivery windows), and what a crash loses since the last write is decided
  // again from the command log, to the same events, which are not appended twice.
  Status flush();
  // Forgets what is not written (after a failed append: the cache may be ahead of the log).
  void discard_unwritten();
  // Every owned key's next deadline, from the stored states (at start-up).
  Status load_timers();
  void reschedule(const std::string& key, const commands::DeciderState& state);
  void publish_deadlines();
  // The events of a ClockTick for partition `p` at `at`, for every key that is due.
  Result<std::vector<std::pair<std::string, Event>>> tick(Partition p, TimePoint at,
                                                          std::map<std::string, bool>& dirty);

  log::Log& log_;
  store::KvStore& state_;
  const commands::DeciderConfig config_;
  const DeciderOptions options_;
  std::vector<Partition> partitions_;  // worker thread only
  std::unique_ptr<log::Reader> reader_;
  // Per owned partition: the only writer of its events. Opened before the partition's state
  // is caught up from pulse.events, so a previous owner still deciding it (cut off from the
  // group, a zombie) can't append after that read: its appends are fenced.
  std::map<int32_t, std::unique_ptr<log::PartitionWriter>> writers_;
  std::set<int32_t> fenced_;  // partitions whose writer was fenced in the current step
  std::map<std::string, commands::DeciderState> cache_;  // by log key
  // Not yet written (see flush): changed states, and per partition the next command offset and
  // the end of this decider's appended events that they correspond to.
  std::set<std::string> unwritten_;
  std::map<int32_t, int64_t> unwritten_next_;
  std::map<int32_t, int64_t> unwritten_events_end_;
  std::chrono::steady_clock::time_point last_flush_{};
  // Per partition: the last event already in pulse.events. Re-running a command after a crash
  // re-derives its events; those at or below this are not appended twice.
  std::map<int32_t, EventSource> emitted_;
  // Per partition: (deadline ms, key) of every key with something due; worker thread only.
  std::map<int32_t, std::set<std::pair<int64_t, std::string>>> timers_;
  std::map<std::string, int64_t> deadline_of_;
  Decisions& decisions_;
  Deadlines& deadlines_;
  mutable std::mutex owned_mu_;
  std::vector<Partition> owned_;  // a copy of partitions_ for other threads
  Worker worker_;
};

}  // namespace pulse::runtime
