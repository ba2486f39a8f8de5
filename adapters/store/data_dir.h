#pragma once
// A data directory only its owner can read: the log, the views and the state hold password and
// API key hashes, webhook secrets and every message body, so directories are 0700 and files 0600.
#include <filesystem>

#include "domain/result.h"

namespace pulse::store {

// From now on this process creates directories 0700 and files 0600 (umask 077): RocksDB, the log
// and every file written beside them inherit it.
void create_private_files();

// Creates `dir` if missing and takes group and other permissions off it and everything below it
// (a directory written by an older version, or copied with another umask). Links are not followed.
Status make_private(const std::filesystem::path& dir);

}  // namespace pulse::store
