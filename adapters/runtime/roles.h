#pragma once
// What one `pulse serve` process does (--roles api,decider,projector,dispatcher,ticker).
//   api        the REST API; keeps a full read-model replica (it projects every partition
//              itself), so any API node answers any organisation and waits for its own writes
//   projector  the read models without the API (implied by api)
//   decider    decides commands; with Kafka and split roles, deciders share the partitions of
//              pulse.commands through a consumer group (one owner per partition at a time)
//   ticker     appends ClockTicks for the partitions this node decides (needs decider), so
//              exactly one ticker acts per partition
//   dispatcher webhook delivery (implies projector: it reads the outbox from its own read
//              models). With Kafka, dispatchers share the outbox partitions through the
//              consumer group "pulse-webhook-dispatchers", each partition's delivery state
//              moving with it (pulse.webhook-deliveries); every API node answers the
//              delivery log from its copy of that topic.
// Every node serves /healthz, /readyz and /metrics.
#include <string>
#include <string_view>

#include "domain/result.h"

namespace pulse::runtime {

struct Roles {
  bool api = true;
  bool projector = true;
  bool decider = true;
  bool ticker = true;
  bool dispatcher = true;
  bool all() const { return api && projector && decider && ticker && dispatcher; }
  std::string to_string() const;
};

// "api,decider,…" (any order, no repeats); validation errors name the offending role.
Result<Roles> parse_roles(std::string_view csv);

}  // namespace pulse::runtime
