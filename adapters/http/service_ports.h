#pragma once
// The service layer's ports (adapters/service/ports.h) over the running server: commands go to
// the log and are awaited through the watermarks, reads go to the RocksDB read models, secrets
// come from OpenSSL.
#include "adapters/app.h"
#include "adapters/http/api_server.h"
#include "adapters/service/login_guard.h"
#include "adapters/service/ports.h"

namespace pulse::http {

// Appends `cmd` and waits until its outcome is projected (read-your-writes): the rejection when
// the decider refused it, 503 when it was not applied within options.write_wait.
Status execute_command(App& app, const ServerOptions& options, const CommandEnvelope& cmd);

// Owns the adapters behind service::Deps for one server; outlives every request.
class ServicePorts {
 public:
  // Password hashes run on `logins`' hash pool.
  ServicePorts(App& app, const ServerOptions& options, service::LoginGuard& logins);
  ServicePorts(const ServicePorts&) = delete;
  ServicePorts& operator=(const ServicePorts&) = delete;
  ~ServicePorts();

  const service::Deps& deps() const { return deps_; }
  service::Secrets& secrets();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  service::Deps deps_;
};

}  // namespace pulse::http
