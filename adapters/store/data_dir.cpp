#include "adapters/store/data_dir.h"

#include <sys/stat.h>

#include <system_error>

namespace pulse::store {

namespace fs = std::filesystem;

void create_private_files() {
  ::umask(077);
}

Status make_private(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{Errc::unavailable, "Cannot create the data directory", dir.string()};
  const auto close_up = [&](const fs::path& p) {
    const auto st = fs::symlink_status(p, ec);
    if (ec || fs::is_symlink(st)) return;
    const auto open = fs::perms::group_all | fs::perms::others_all;
    if ((st.permissions() & open) != fs::perms::none)
      fs::permissions(p, open, fs::perm_options::remove | fs::perm_options::nofollow, ec);
  };
  close_up(dir);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    close_up(it->path());
  if (ec) return Error{Errc::unavailable, "Cannot restrict the data directory", dir.string()};
  return ok_status();
}

}  // namespace pulse::store
