#pragma once
// Opt-outs (numbers an organisation never sends to) and inbound SMS: each one a message of its
// sender's conversation, whose STOP replies add opt-outs and START replies remove them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ids.h"
#include "domain/time.h"
#include "domain/type_list.h"

namespace pulse {

// ---- commands

// POST /api/opt-outs: suppress a number for the whole organisation.
struct AddOptOut {
  static constexpr std::string_view kType = "AddOptOut";
  static constexpr int kVersion = 1;
  std::string phone;  // E.164
  std::string reason;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("reason", s.reason);
  }
};

// DELETE /api/opt-outs/{phone}.
struct RemoveOptOut {
  static constexpr std::string_view kType = "RemoveOptOut";
  static constexpr int kVersion = 1;
  std::string phone;  // E.164
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone);
  }
};

// A gateway reports an SMS its phone received (POST /api/gateway/inbound).
struct ReceiveSms {
  static constexpr std::string_view kType = "ReceiveSms";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string from;  // E.164 when it parsed as one, else as the phone reported it
  std::string body;
  TimePoint received_at;  // the phone's time
  std::optional<int32_t> sim_slot;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("from", s.from), f("body", s.body),
        f("receivedAt", s.received_at), f("simSlot", s.sim_slot);
  }
};

// POST /api/conversations/{phone}/read: the conversation's received messages are read.
struct MarkConversationRead {
  static constexpr std::string_view kType = "MarkConversationRead";
  static constexpr int kVersion = 1;
  std::string phone;  // the contact's number as its messages hold it (E.164 when it parsed)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone);
  }
};

// ---- events

struct OptOutAdded {
  static constexpr std::string_view kType = "OptOutAdded";
  static constexpr int kVersion = 1;
  std::string phone;
  std::string reason;
  std::string source;  // "api" | "reply" (a STOP reply reported by a gateway)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone), f("reason", s.reason), f("source", s.source);
  }
};

struct OptOutRemoved {
  static constexpr std::string_view kType = "OptOutRemoved";
  static constexpr int kVersion = 1;
  std::string phone;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone);
  }
};

struct SmsReceived {
  static constexpr std::string_view kType = "SmsReceived";
  static constexpr int kVersion = 1;
  DeviceId device_id;
  std::string from;
  std::string body;
  TimePoint received_at;
  std::optional<int32_t> sim_slot;
  bool stop = false;  // an opt-out keyword (STOP, UNSUBSCRIBE, …)
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("deviceId", s.device_id), f("from", s.from), f("body", s.body),
        f("receivedAt", s.received_at), f("simSlot", s.sim_slot), f("stop", s.stop);
  }
};

struct ConversationRead {
  static constexpr std::string_view kType = "ConversationRead";
  static constexpr int kVersion = 1;
  std::string phone;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("phone", s.phone);
  }
};

using OptOutCommands = Types<AddOptOut, RemoveOptOut, ReceiveSms, MarkConversationRead>;
using OptOutEvents = Types<OptOutAdded, OptOutRemoved, SmsReceived, ConversationRead>;

}  // namespace pulse
