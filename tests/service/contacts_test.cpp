#include "adapters/service/contacts.h"

#include <doctest/doctest.h>

#include "adapters/service/devices.h"
#include "tests/service/fake_deps.h"

namespace pulse::service {
namespace {

using testing::kNow;
using testing::World;

const ContactListId kList{make_id(id_prefix::contact_list, kNow, 77)};

void project_list(World& w) {
  w.reads.lists[kList.value] = projections::ContactListView{kList, "Customers", 3, kNow, kNow};
}

TEST_CASE("a CSV import of more than 500 rows is one workflow: staged chunks, the last final") {
  World w;
  project_list(w);
  std::string csv = "phone,firstName\n";
  for (int i = 0; i < 1100; ++i) csv += fmt::format("+1415555{:04},C{}\n", i, i);
  csv += "not a phone,X\n";
  // One phone is already on the list.
  w.reads.contacts_of[kList.value].push_back(
      projections::ContactView{Contact{"+14155550003", "", "", "", "", {}}, kNow, kNow});
  auto report = import_csv(w.deps, w.org, kList, csv);
  REQUIRE_MESSAGE(report.ok(), report.error().details);
  CHECK(report->imported == 1099);
  CHECK(report->updated == 1);
  REQUIRE(report->rejected.size() == 1);
  CHECK(report->rejected[0].row == 1102);
  CHECK(report->contact_count == 3);  // as the read model says afterwards
  CHECK(w.log.all<UpsertContacts>().empty());
  const auto chunks = w.log.all<StageContactImport>();
  REQUIRE(chunks.size() == 3);
  for (int32_t i = 0; i < 3; ++i) {
    CHECK(chunks[i]->chunk == i);
    CHECK(chunks[i]->final_chunk == (i == 2));
    CHECK(chunks[i]->list_id == kList);
  }
  CHECK(chunks[0]->contacts.size() == 500);
  CHECK(chunks[2]->contacts.size() == 100);
  CHECK(chunks[2]->contacts.back().phone == "+14155551099");
  CHECK(is_valid_id("imp", chunks[0]->import_id));
  CHECK(chunks[0]->import_id == chunks[2]->import_id);
}

TEST_CASE("a CSV import of up to 500 rows stays one command; none when every row is refused") {
  World w;
  project_list(w);
  std::string csv = "phone\n";
  for (int i = 0; i < 500; ++i) csv += fmt::format("+1415555{:04}\n", i);
  auto report = import_csv(w.deps, w.org, kList, csv);
  REQUIRE(report.ok());
  CHECK(report->imported == 500);
  const auto upserts = w.log.all<UpsertContacts>();
  REQUIRE(upserts.size() == 1);
  CHECK(upserts[0]->contacts.size() == 500);
  CHECK_FALSE(upserts[0]->import_id.empty());
  CHECK(w.log.all<StageContactImport>().empty());
  auto refused = import_csv(w.deps, w.org, kList, "phone\nnope\n");
  REQUIRE(refused.ok());
  CHECK(refused->rejected.size() == 1);
  CHECK(w.log.appended.size() == 1);
}

TEST_CASE("a failing chunk stops the import with its error: nothing of the file is kept") {
  World w;
  project_list(w);
  std::string csv = "phone\n";
  for (int i = 0; i < 1200; ++i) csv += fmt::format("+1415555{:04}\n", i);
  w.log.outcome = [](size_t i, const Command&) -> Status {
    if (i == 1) return Error{Errc::conflict, "Contact import is not open", "imp_x was discarded"};
    return ok_status();
  };
  auto report = import_csv(w.deps, w.org, kList, csv);
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == Errc::conflict);
  CHECK(report.error().details.find("stopped after 500 of 1200 contacts: nothing of the file is "
                                    "in the list") != std::string::npos);
  // No final chunk: the decider's clock discards what was staged.
  CHECK(w.log.appended.size() == 2);
  for (const auto* c : w.log.all<StageContactImport>()) CHECK_FALSE(c->final_chunk);
}

TEST_CASE("contacts from a JSON body: 1 to 500, each valid, duplicates merged") {
  World w;
  project_list(w);
  CHECK(add_contacts(w.deps, w.org, kList, {}).error().message == "No contacts");
  std::vector<commands::RawContact> many(501, commands::RawContact{"+14155552671"});
  CHECK(add_contacts(w.deps, w.org, kList, many).error().message == "Too many contacts");
  auto bad = add_contacts(w.deps, w.org, kList, {{"+14155552671"}, {"12"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().details.starts_with("contacts[1]: "));
  CHECK(w.log.appended.empty());

  auto report = add_contacts(w.deps, w.org, kList,
                             {{"+14155552671", "Ada"}, {"+1 415 555 2671", "", "Lovelace"}});
  REQUIRE_MESSAGE(report.ok(), report.error().details);
  CHECK(report->imported == 1);  // one phone, twice in the body: merged
  const auto* cmd = w.log.appended.at(0).as<UpsertContacts>();
  REQUIRE(cmd);
  REQUIRE(cmd->contacts.size() == 1);
  CHECK(cmd->contacts[0].first_name == "Ada");
  CHECK(cmd->contacts[0].last_name == "Lovelace");
  CHECK(cmd->import_id.empty());
}

TEST_CASE("a list is created with a valid name") {
  World w;
  CHECK_FALSE(create_list(w.deps, w.org, "", {}).ok());
  CHECK(w.log.appended.empty());
  const auto id = make_id(id_prefix::contact_list, kNow, 1);
  w.reads.lists[id] = projections::ContactListView{ContactListId{id}, "VIP", 0, kNow, kNow};
  auto list = create_list(w.deps, w.org, "VIP", {});
  REQUIRE(list.ok());
  CHECK(list->id.value == id);
  CHECK(w.log.appended.at(0).as<CreateContactList>()->name == "VIP");
}

TEST_CASE("device pairing: a token whose hash is logged, then the phone registers with it") {
  World w;
  auto pairing = create_pairing(w.deps, w.org);
  REQUIRE(pairing.ok());
  CHECK(looks_like_pairing_token(pairing->token));
  CHECK(pairing->expires_at == kNow + kPairingLifetime);
  const auto* cmd = w.log.appended.at(0).as<CreatePairing>();
  REQUIRE(cmd);
  const std::string hash = cmd->token_hash;  // the log grows below: keep a copy
  CHECK(hash == "sha256(" + pairing->token + ")");

  gateway::DeviceProfile phone{"Pixel", "Pixel 8", "14", "1.0", {gateway::SimCard{0, "", "T"}}};
  auto unknown = register_device(w.deps, pairing->token, phone);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == Errc::unauthorized);

  w.reads.pairings[hash] = projections::PairingView{hash, w.org, kNow, false};
  auto registered = register_device(w.deps, pairing->token, phone);
  REQUIRE(registered.ok());
  CHECK(registered->org.value == w.org.value);
  CHECK(registered->token.starts_with("gw_"));
  const auto* reg = w.log.appended.back().as<RegisterDevice>();
  REQUIRE(reg);
  CHECK(reg->credential_hash == "sha256(" + registered->token + ")");
  CHECK(reg->name == "Pixel");
  CHECK(reg->sims.size() == 1);

  w.reads.pairings[hash].used = true;
  CHECK(register_device(w.deps, pairing->token, phone).error().code == Errc::unauthorized);
  CHECK(update_device(w.deps, w.org, reg->device_id, std::string(), {}).error().message ==
        "Invalid deviceName");
}

TEST_CASE("an inbound SMS is recorded with its sender in E.164 when it has one") {
  World w;
  const DeviceId phone{"dev_1"};
  auto error_of = [&](const InboundSms& in) {
    auto r = receive_sms(w.deps, w.org, phone, in);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(error_of({"", "hi", "", {}}) == "Invalid from");
  CHECK(error_of({"+14155552671", std::string(10001, 'x'), "", {}}) == "Message too long");
  CHECK(error_of({"+14155552671", "hi", "noon", {}}) == "Invalid receivedAt");
  CHECK(error_of({"+14155552671", "hi", "", 8}) == "Invalid simSlot");
  CHECK(w.log.appended.empty());

  w.reads.opt_outs["+14155552671"] = projections::OptOutView{"+14155552671", "", "reply", kNow};
  auto stop = receive_sms(w.deps, w.org, phone, {"+1 415 555 2671", "STOP", "", 1});
  REQUIRE(stop.ok());
  CHECK(stop->from == "+14155552671");
  CHECK(stop->opted_out);
  const auto* cmd = w.log.appended.at(0).as<ReceiveSms>();
  REQUIRE(cmd);
  CHECK(cmd->received_at == kNow);
  CHECK(cmd->sim_slot == 1);

  auto short_code = receive_sms(w.deps, w.org, phone, {"ACME", "hi", "2026-04-01T09:00:00Z", {}});
  REQUIRE(short_code.ok());
  CHECK(short_code->from == "ACME");
  CHECK_FALSE(short_code->opted_out);
}

}  // namespace
}  // namespace pulse::service
