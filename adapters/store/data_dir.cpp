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
  // Whether `p` is closed to group and others now (a link is left as it is).
  const auto close_up = [](const fs::path& p) {
    std::error_code e;
    const auto st = fs::symlink_status(p, e);
    if (e) return false;
    const auto open = fs::perms::group_all | fs::perms::others_all;
    if (fs::is_symlink(st) || (st.permissions() & open) == fs::perms::none) return true;
    fs::permissions(p, open, fs::perm_options::remove | fs::perm_options::nofollow, e);
    return !e;
  };
  bool closed = close_up(dir);
  for (auto it = fs::recursive_directory_iterator(dir, ec); closed && !ec && it != fs::end(it);
       it.increment(ec))
    closed = close_up(it->path());
  if (!closed || ec)
    return Error{Errc::unavailable, "Cannot restrict the data directory", dir.string()};
  return ok_status();
}

}  // namespace pulse::store
